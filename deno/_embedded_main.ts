/**
 * Starts the embedded XMPP server behind the WebSocket endpoint: the default of
 * `deno task start` when no `--upstream` is given. Demo accounts (with fresh random passwords)
 * are created and printed when no account is configured; they have each other as contacts.
 * Besides the endpoint: discovery, `/healthz` (503 while draining), `/metrics` (the hub's
 * counters and gauges) and, with `--demo-page`, the chat page at `/`. `reload()` (SIGHUP)
 * reads the accounts file and the certificate again without ending any session.
 *
 * @module
 */

import { endpointLimits, type GatewayOptions } from "./options.ts";
import type { Logger } from "./_log.ts";
import type { XmppServer } from "./_types.ts";
import { embeddedServer, type EmbeddedServerOptions, loadAccounts } from "./embedded.ts";
import { serveXmpp } from "./serve.ts";
import { publicWebSocketUrl, webHandler } from "./_web.ts";
import { trustPolicy } from "../core/http/forwarded.ts";
import { addressList, isLoopbackAddress } from "../core/http/ip.ts";
import { listenUrl, readTls } from "./_files.ts";
import { HubMetrics, renderEndpointStats } from "./_metrics.ts";
import { Readiness } from "./_health.ts";

/** A running embedded server that can reload its files. */
export interface EmbeddedRunning extends XmppServer {
  /**
   * Reads the accounts (`--accounts-file` and `--account`) and the certificate (`--cert`,
   * `--key`) again: new logins use the new accounts, new connections the new certificate (see
   * `XmppServer.replaceCertificate` for the native layer); open sessions go on. Never rejects:
   * what failed is logged, and the old configuration stays.
   */
  reload(): Promise<void>;
}

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
 * import { hubSettings } from "./_embedded_main.ts";
 * import { parseOptions } from "./options.ts";
 * const parsed = parseOptions(["--stanza-rate", "5"], {});
 * if (parsed.ok) console.log(hubSettings(parsed.options).rate); // { perSecond: 5, burst: 100 }
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
export async function startEmbedded(
  options: GatewayOptions,
  log: Logger,
): Promise<EmbeddedRunning> {
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
  });
  const tls = await readTls(options);
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
      });
    } catch (error) {
      const key = /^Invalid (\w+)/.exec((error as Error).message)?.[1];
      throw key && HUB_FLAGS[key]
        ? new Error(`${HUB_FLAGS[key]}: ${(error as Error).message}`)
        : error;
    }
  })();
  const readiness = new Readiness();
  const demoPage = demoPageOn(options) ? await import("./demo/page.ts") : undefined;
  const bundle = demoPage ? (await import("./demo/_bundle.ts")).CLIENT_BUNDLE : "";
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
  const websocketUrl = publicWebSocketUrl(secure, path, options.publicUrl || undefined);
  const server: XmppServer = serveXmpp({
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
    websocketLayer: options.websocketLayer as "strict",
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
      ...(demoPage
        ? {
          page: demoPage.demoPage({
            websocketUrl,
            domain,
            usernames: demo.map((d) => d.username),
            bundle,
          }),
        }
        : {}),
    }),
    onListen: (addr) => {
      log("info", "embedded XMPP server listening", {
        url: listenUrl(addr, options, tls.cert !== undefined),
        domain,
      });
      for (const { username, password } of demo) {
        console.log(`demo account: ${username}@${domain}  password: ${password}`);
      }
      if (demoPage) {
        const page = listenUrl(addr, options, tls.cert !== undefined)
          .replace(/^ws/, "http").slice(0, -options.path.length || undefined);
        console.log(`demo page: ${page}/`);
      }
    },
  });
  readiness.attach(server);
  server.finished.then(() => app.stop());
  const reload = async () => {
    if (options.accountsFile) {
      try {
        const loaded = await loadAccounts({ users: options.account, file: options.accountsFile });
        app.replaceAccounts(loaded.accounts);
        log("info", "accounts reloaded", { accounts: loaded.accounts.length });
      } catch (error) {
        log("error", "accounts not reloaded", { error: errorText(error) });
      }
    }
    if (tls.cert !== undefined) {
      try {
        const fresh = await readTls(options);
        if (await server.replaceCertificate(fresh.cert!, fresh.key!)) {
          log("info", "certificate reloaded");
        } else {
          log(
            "warn",
            "certificate not reloaded: the native WebSocket layer cannot change it without closing every connection; restart, or use --websocket-layer strict",
          );
        }
      } catch (error) {
        log("error", "certificate not reloaded", { error: errorText(error) });
      }
    }
  };
  return Object.assign(server, { reload });
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
