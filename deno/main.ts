/**
 * The command line: `deno task start [options]` runs the gateway in front of `--upstream`, or
 * in front of the embedded server when no upstream is given. Every option also reads an
 * environment variable (see `--help` and the README's table).
 *
 * @example
 * ```ts ignore
 * import { main } from "./main.ts";
 * Deno.exit(await main(["--help"], {}));
 * ```
 * @module
 */

import {
  endpointLimits,
  type GatewayOptions,
  helpText,
  parseOptions,
  parsePairs,
} from "./options.ts";
import { serveGateway } from "./gateway.ts";
import type { Logger } from "../core/endpoint/log.ts";
import { createLogger } from "./_runtime.ts";
import type { XmppServer } from "./_types.ts";
import { startEmbedded } from "./embedded.ts";
import { listenUrl, readFile, readTls } from "./_files.ts";

/**
 * Runs the program; resolves with the exit code (0 after a clean shutdown, 2 on bad options).
 *
 * @example
 * ```ts ignore
 * import { main } from "./main.ts";
 * console.log(await main(["--port", "nope"], {})); // 2 (and a message on stderr)
 * ```
 */
export async function main(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  const parsed = parseOptions(args, env);
  if (!parsed.ok) {
    if (parsed.help) {
      console.log(helpText());
      return 0;
    }
    console.error(`xmpp-websocket: ${parsed.error}`);
    return 2;
  }
  const options = parsed.options;
  const log = createLogger(options.logLevel as "info", options.logFormat as "text");
  // A SIGHUP while starting (its default action ends the process) waits for the server.
  const hangup = Deno.build.os !== "windows";
  let early = false;
  const earlyHangup = () => void (early = true);
  if (hangup) Deno.addSignalListener("SIGHUP", earlyHangup);
  let server: XmppServer;
  try {
    server = options.upstream === ""
      ? await startEmbedded(options, log)
      : await startGateway(options, log);
  } catch (error) {
    if (hangup) Deno.removeSignalListener("SIGHUP", earlyHangup);
    console.error(`xmpp-websocket: ${error instanceof Error ? error.message : error}`);
    return 2;
  }
  let stopping = false;
  const stop = () => {
    if (stopping) return; // a second signal while draining changes nothing
    stopping = true;
    log("info", "shutting down", { drainMs: options.drain, sessions: server.liveCount });
    void server.drain(options.drain, options.shutdownRedirect || undefined);
  };
  // SIGHUP: certificates (and the embedded server's accounts file) are read again; no session
  // ends. One reload at a time; a signal during one runs another after it.
  let reloading: Promise<void> | undefined;
  let again = false;
  const reload = () => {
    if (stopping) return;
    if (reloading) return void (again = true);
    log("info", "reloading (SIGHUP)");
    reloading = ("reload" in server ? (server as { reload(): Promise<void> }).reload() : reloadTls(
      server,
      options,
      log,
    )).finally(() => {
      reloading = undefined;
      if (again) {
        again = false;
        reload();
      }
    });
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  if (hangup) {
    Deno.addSignalListener("SIGHUP", reload);
    Deno.removeSignalListener("SIGHUP", earlyHangup);
    if (early) reload();
  }
  await server.finished;
  await reloading;
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
  if (hangup) Deno.removeSignalListener("SIGHUP", reload);
  log("info", "stopped");
  return 0;
}

async function startGateway(options: GatewayOptions, log: Logger): Promise<XmppServer> {
  const upstream = parseUpstream(options.upstream);
  const tls = await readTls(options);
  const caCerts = options.upstreamCaFile
    ? [await readFile(options.upstreamCaFile, "--upstream-ca-file")]
    : undefined;
  return serveGateway({
    hostname: options.host,
    port: options.port,
    path: options.path,
    domains: options.domains,
    upstream,
    upstreamTls: options.upstreamTls as "optional",
    ...(caCerts ? { upstreamCaCerts: caCerts } : {}),
    ...(options.upstreamServerName ? { upstreamServerName: options.upstreamServerName } : {}),
    connectTimeoutMs: options.upstreamConnectTimeout,
    proxyProtocol: options.proxyProtocol as "off",
    seeOtherHost: parsePairs(options.seeOtherHost),
    ...(options.origin.length > 0 ? { allowedOrigins: options.origin } : {}),
    allowMissingOrigin: !options.denyMissingOrigin,
    ...tls,
    ...(options.secure ? { secure: true } : {}),
    trustedProxies: options.trustedProxy,
    forwardedHeader: options.forwardedHeader as "x-forwarded-for",
    ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
    metricsAllow: options.metricsAllow,
    clientLimits: { maxBytes: options.maxMessageBytes, maxDepth: options.maxDepth },
    upstreamLimits: { maxBytes: options.maxUpstreamElementBytes, maxDepth: options.maxDepth },
    maxBufferedElements: options.maxBufferedElements,
    legacyFraming: options.legacyFraming,
    pingIntervalMs: options.pingInterval,
    openTimeoutMs: options.openTimeout,
    closeTimeoutMs: options.closeTimeout,
    websocketLayer: options.websocketLayer as "strict",
    strictLayer: { headerTimeoutMs: options.headerTimeout, closeTimeoutMs: options.closeTimeout },
    ...endpointLimits(options),
    log,
    onListen: (addr) =>
      log("info", "gateway listening", {
        url: listenUrl(addr, options, tls.cert !== undefined),
        upstream: options.upstream,
        domains: options.domains.join(","),
      }),
  });
}

/** The gateway's reload: the certificate only (see `XmppServer.replaceCertificate`). */
async function reloadTls(server: XmppServer, options: GatewayOptions, log: Logger): Promise<void> {
  if (!options.cert) return;
  try {
    const tls = await readTls(options);
    if (await server.replaceCertificate(tls.cert!, tls.key!)) log("info", "certificate reloaded");
    else {
      log(
        "warn",
        "certificate not reloaded: the native WebSocket layer cannot change it without closing every connection; restart, or use --websocket-layer strict",
      );
    }
  } catch (error) {
    log("error", "certificate not reloaded", {
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

function parseUpstream(value: string): { hostname: string; port: number } | "srv" {
  if (value === "srv") return "srv";
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(value);
  if (match === null) throw new Error(`--upstream: expected host:port or 'srv', got '${value}'`);
  return { hostname: match[1]!.replace(/^\[|\]$/g, ""), port: match[2] ? Number(match[2]) : 5222 };
}

if (import.meta.main) Deno.exit(await main(Deno.args, Deno.env.toObject()));
