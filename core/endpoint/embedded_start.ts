/**
 * Starts the embedded XMPP server behind the WebSocket endpoint: what `deno task start` and the
 * npm package's `xmpp-websocket` command run when no `--upstream` is given. Runtime-neutral: each
 * binding (`deno/embedded.ts`, `node_adapter/embedded.ts`) passes its effects, its file reader,
 * its `serveXmpp` and, on Deno, the demo page. Demo accounts (with fresh random passwords)
 * are created and printed when no account is configured; they have each other as contacts.
 * Besides the endpoint: discovery, `/healthz` (503 while draining), `/metrics` (the hub's
 * counters and gauges) and, with `--demo-page`, the chat page at `/`. `reload()` (SIGHUP)
 * reads the accounts file and the certificate again without ending any session.
 *
 * @module
 */

import { endpointLimits, type GatewayOptions } from "./options.ts";
import type { Logger } from "./log.ts";
import type { EndpointOptions, EndpointServer } from "./types.ts";
import { embeddedServer, type EmbeddedServerOptions } from "./embedded.ts";
import { loadAccounts } from "./accounts.ts";
import { publicWebSocketUrl, webHandler } from "./web.ts";
import { trustPolicy } from "../http/forwarded.ts";
import { addressList, isLoopbackAddress } from "../http/ip.ts";
import { listenUrl, readTls, reloadCertificate, type TextFileReader } from "./files.ts";
import { HubMetrics, renderEndpointStats } from "./metrics.ts";
import { Readiness } from "./health.ts";
import type { Runtime } from "./runtime.ts";

/** What a runtime's endpoint must offer the embedded server. */
export interface EmbeddedEndpoint extends Omit<EndpointServer, "replaceCertificate" | "draining"> {
  /** Whether the endpoint drains (`/healthz` says so); absent where the runtime does not tell. */
  readonly draining?: boolean;
  /** See `EndpointServer.replaceCertificate`; absent where the runtime cannot. */
  replaceCertificate?(cert: string, key: string): Promise<boolean>;
}

/** The options the start-up gives the runtime's `serveXmpp`. */
export interface EmbeddedServeOptions extends Omit<EndpointOptions, "attach"> {
  readonly hostname: string;
  readonly port: number;
  /** The strict layer's settings and the layer asked for (runtimes with one choice ignore them). */
  readonly websocketLayer: string;
  readonly strictLayer: { readonly headerTimeoutMs: number; readonly closeTimeoutMs: number };
  /** Discovery, `/healthz`, `/metrics` and the demo page. */
  readonly handler: (
    request: Request,
    info?: { readonly remoteAddr: { readonly hostname: string; readonly port: number } },
  ) => Response | Promise<Response>;
  readonly onListen: (addr: { readonly hostname: string; readonly port: number }) => void;
}

/** The page served at `/` (the runtime's demo page, if it has one). */
export type DemoPageFactory = (page: {
  readonly websocketUrl: string | ((request: Request) => string);
  readonly domain: string;
  readonly usernames: readonly string[];
}) => Promise<(request: Request) => Response | undefined>;

/** The runtime's pieces. */
export interface EmbeddedRuntime<S extends EmbeddedEndpoint> {
  /** The runtime's effects. */
  readonly runtime: Runtime;
  /** Reads the accounts file and the certificate. */
  readonly readTextFile: TextFileReader;
  /** The runtime's endpoint (`serveXmpp` or `serveXmppNode`). */
  readonly serve: (options: EmbeddedServeOptions) => S | Promise<S>;
  /** Writes a line for the operator (the demo passwords, the page's URL): stdout. */
  readonly print: (line: string) => void;
  /** The demo page, where the runtime has one. */
  readonly demoPage?: DemoPageFactory;
}

/** A running embedded server that can reload its files. */
export type EmbeddedRunning<S extends EmbeddedEndpoint> = S & {
  /**
   * Reads the accounts (`--accounts-file` and `--account`) and the certificate (`--cert`,
   * `--key`) again: new logins use the new accounts, new connections the new certificate (see
   * `XmppServer.replaceCertificate` for the native layer); open sessions go on. Never rejects:
   * what failed is logged, and the old configuration stays.
   */
  reload(): Promise<void>;
};

/** Hub settings and the flag of each, for messages. */
const HUB_FLAGS: Readonly<Record<string, string>> = {
  maxAuthAttempts: "--max-auth-attempts",
  loginTimeoutMs: "--login-timeout",
  hibernationMs: "--hibernation",
  maxUnacked: "--max-unacked",
  login:
    "--auth-failures-per-address/--auth-failures-per-account/--auth-failure-window/--auth-max-backoff",
  rate: "--stanza-rate/--stanza-burst",
  maxConnections: "--max-xmpp-connections",
  maxSessions: "--max-sessions",
  maxSessionsPerAccount: "--max-sessions-per-account",
  pingIntervalMs: "--xmpp-ping-interval",
  pingTimeoutMs: "--xmpp-ping-timeout",
  maxRosterItems: "--max-roster-items",
  maxRosterNameLength: "--max-roster-name-length",
  maxRosterGroups: "--max-roster-groups",
  maxRosterGroupLength: "--max-roster-group-length",
  maxDirectedPresences: "--max-directed-presences",
  maxThrottled: "--max-throttled",
  maxUnackedBytes: "--max-unacked-bytes",
};

/**
 * The hub's limits from the options (each has a flag and an environment variable).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseArgs } from "@std/cli";
 * import { hubSettings } from "./embedded_start.ts";
 * import { parseOptions } from "./options.ts";
 * const parsed = parseOptions(["--stanza-rate", "5"], {}, parseArgs);
 * assertEquals(parsed.ok && hubSettings(parsed.options).rate, { perSecond: 5, burst: 100 });
 * ```
 */
export function hubSettings(
  options: GatewayOptions,
): Omit<EmbeddedServerOptions, "accounts" | "domain" | "log" | "contacts" | "onStep"> {
  return {
    maxAuthAttempts: options.maxAuthAttempts,
    loginTimeoutMs: options.loginTimeout,
    hibernationMs: options.hibernation,
    maxUnacked: options.maxUnacked,
    rate: { perSecond: options.stanzaRate, burst: options.stanzaBurst },
    maxConnections: options.maxXmppConnections,
    maxSessions: options.maxSessions,
    maxSessionsPerAccount: options.maxSessionsPerAccount,
    pingIntervalMs: options.xmppPingInterval,
    pingTimeoutMs: options.xmppPingTimeout,
    maxRosterItems: options.maxRosterItems,
    maxRosterNameLength: options.maxRosterNameLength,
    maxRosterGroups: options.maxRosterGroups,
    maxRosterGroupLength: options.maxRosterGroupLength,
    maxDirectedPresences: options.maxDirectedPresences,
    maxThrottled: options.maxThrottled,
    maxUnackedBytes: options.maxUnackedBytes,
    loginLimits: {
      maxFailuresPerAddress: options.authFailuresPerAddress,
      maxFailuresPerAccount: options.authFailuresPerAccount,
      windowMs: options.authFailureWindow,
      maxBackoffMs: options.authMaxBackoff,
    },
  };
}

/** `--demo-page`: on, off, or (auto) on when listening on loopback only. */
function demoPageOn(options: GatewayOptions): boolean {
  if (options.demoPage !== "auto") return options.demoPage === "on";
  return options.host === "localhost" || isLoopbackAddress(options.host.replace(/^\[|\]$/g, ""));
}

/**
 * Starts the embedded server with the command-line options; rejects with a message naming the
 * option on bad configuration.
 */
export async function startEmbedded<S extends EmbeddedEndpoint>(
  options: GatewayOptions,
  log: Logger,
  binding: EmbeddedRuntime<S>,
): Promise<EmbeddedRunning<S>> {
  const { runtime, readTextFile, print } = binding;
  const domain = options.domains[0] ?? "localhost";
  if (options.domains.length > 1) {
    log("warn", "the embedded server serves one domain", {
      using: domain,
      ignored: options.domains.slice(1).join(","),
    });
  }
  const { accounts, demo } = await loadAccounts({
    users: options.account,
    file: options.accountsFile,
    readTextFile,
  }, runtime);
  const tls = await readTls(options, readTextFile);
  const metrics = new HubMetrics();
  const settings = hubSettings(options);
  const app = ((): ReturnType<typeof embeddedServer> => {
    try {
      return embeddedServer({
        ...settings,
        domain,
        accounts,
        contacts: demo.map((d) => d.username),
        onStep: (input, outputs) => metrics.observe(input, outputs),
        log: (e) => hubLog(e),
      }, runtime);
    } catch (error) {
      const key = /^Invalid (\w+)/.exec((error as Error).message)?.[1];
      throw key && HUB_FLAGS[key]
        ? new Error(`${HUB_FLAGS[key]}: ${(error as Error).message}`)
        : error;
    }
  })();
  const readiness = new Readiness();
  const websocketUrl = publicWebSocketUrl(
    options.secure || tls.cert !== undefined,
    options.path,
    options.publicUrl || undefined,
  );
  const page = demoPageOn(options) && binding.demoPage
    ? await binding.demoPage({
      websocketUrl,
      domain,
      usernames: demo.map((d) => d.username),
    })
    : undefined;
  function hubLog(e: Parameters<NonNullable<EmbeddedServerOptions["log"]>>[0]): void {
    log(e.level, e.event, {
      ...(e.connId ? { conn: e.connId } : {}),
      ...(e.jid ? { jid: e.jid } : {}),
      ...(e.text ? { detail: e.text } : {}),
    });
  }
  const secure = options.secure || tls.cert !== undefined;
  const path = options.path;
  const trust = trustPolicy(options.trustedProxy, options.forwardedHeader);
  const metricsAllow = addressList(options.metricsAllow);
  const server: S = await binding.serve({
    hostname: options.host,
    port: options.port,
    path,
    ...tls,
    secure,
    ...(options.origin.length > 0 ? { allowedOrigins: options.origin } : {}),
    allowMissingOrigin: !options.denyMissingOrigin,
    trustedProxies: options.trustedProxy,
    forwardedHeader: trust.header,
    pingIntervalMs: options.pingInterval,
    websocketLayer: options.websocketLayer,
    strictLayer: { headerTimeoutMs: options.headerTimeout, closeTimeoutMs: options.closeTimeout },
    ...endpointLimits(options),
    session: {
      domains: [domain],
      limits: { maxBytes: options.maxMessageBytes, maxDepth: options.maxDepth },
      openTimeoutMs: options.openTimeout,
      closeTimeoutMs: options.closeTimeout,
    },
    application: app,
    handler: webHandler({
      websocketUrl,
      metricsAllow,
      trust,
      metrics: () =>
        metrics.render(app.hub, server.liveCount) + renderEndpointStats(server.endpointStats()),
      health: () => readiness.report(),
      ...(page ? { page } : {}),
    }),
    onListen: (addr) => {
      log("info", "embedded XMPP server listening", {
        url: listenUrl(addr, options.path, tls.cert !== undefined),
        domain,
      });
      for (const { username, password } of demo) {
        print(`demo account: ${username}@${domain}  password: ${password}`);
      }
      if (page) {
        const url = listenUrl(addr, options.path, tls.cert !== undefined)
          .replace(/^ws/, "http").slice(0, -options.path.length || undefined);
        // JSON logs stay JSON (every stdout line a record); text mode prints the URL plainly.
        if (options.logFormat === "json") log("info", "demo page", { url: `${url}/` });
        else print(`demo page: ${url}/`);
      }
    },
  });
  readiness.attach(server);
  server.finished.then(() => app.stop());
  const reload = async () => {
    if (options.accountsFile) {
      try {
        const loaded = await loadAccounts(
          { users: options.account, file: options.accountsFile, readTextFile },
          runtime,
        );
        app.replaceAccounts(loaded.accounts);
        log("info", "accounts reloaded", { accounts: loaded.accounts.length });
      } catch (error) {
        log("error", "accounts not reloaded", { error: errorText(error) });
      }
    }
    if (tls.cert !== undefined) await reloadCertificate(server, options, log, readTextFile);
  };
  return Object.assign(server, { reload });
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
