/**
 * The command line on Node: the `xmpp-websocket` command of the npm package (built by
 * `scripts/build_npm.sh`). It takes the options of `deno task start` (the same table,
 * `deno/options.ts`: every flag also reads its environment variable) and runs the gateway in front
 * of `--upstream`, or the embedded XMPP server when no upstream is given. SIGINT and SIGTERM drain
 * the sessions over `--drain` ms, then stop. The WebSocket layer on Node is always the `ws`
 * package: `--websocket-layer strict` and `--header-timeout` apply to Deno only (a warning says so).
 *
 * @example
 * ```ts ignore
 * import process from "node:process";
 * import { main } from "./main.ts";
 * process.exitCode = await main(process.argv.slice(2), process.env);
 * ```
 * @module
 */

import process from "node:process";
import { type GatewayOptions, helpText, parseOptions, parsePairs } from "./options.ts";
import type { Logger } from "../core/endpoint/log.ts";
import { createLogger } from "./_runtime.ts";
import { serveGatewayNode } from "./gateway.ts";
import type { XmppNodeServer } from "./_types.ts";
import { startEmbedded } from "./embedded.ts";
import { listenUrl, readFile, readTls } from "./_files.ts";

/** The name of the command, as npm installs it. */
export const COMMAND = "xmpp-websocket";

/**
 * Runs the program; resolves with the exit code (0 after a clean shutdown or `--help`, 2 on bad
 * options or a failed start).
 *
 * @example
 * ```ts
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
      console.log(helpText().replace("Usage: deno task start", `Usage: ${COMMAND}`));
      return 0;
    }
    console.error(`${COMMAND}: ${parsed.error}`);
    return 2;
  }
  const options = parsed.options;
  const log = createLogger(options.logLevel as "info", options.logFormat as "text");
  if (options.websocketLayer === "strict") {
    log("warn", "--websocket-layer strict is Deno's; on Node the ws package is the layer");
  }
  let server: XmppNodeServer;
  try {
    server = options.upstream === ""
      ? await startEmbedded(options, log)
      : await startGatewayNode(options, log);
  } catch (error) {
    console.error(`${COMMAND}: ${error instanceof Error ? error.message : error}`);
    return 2;
  }
  let stopping = false;
  const stop = () => {
    if (stopping) return; // a second signal while draining changes nothing
    stopping = true;
    log("info", "shutting down", { drainMs: options.drain, sessions: server.liveCount });
    void server.drain(options.drain, options.shutdownRedirect || undefined);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  await server.finished;
  process.off("SIGINT", stop);
  process.off("SIGTERM", stop);
  log("info", "stopped");
  return 0;
}

async function startGatewayNode(options: GatewayOptions, log: Logger): Promise<XmppNodeServer> {
  const upstream = parseUpstream(options.upstream);
  const tls = await readTls(options);
  const caCerts = options.upstreamCaFile
    ? [await readFile(options.upstreamCaFile, "--upstream-ca-file")]
    : undefined;
  return await serveGatewayNode({
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
    log,
    onListen: (addr) =>
      log("info", "gateway listening", {
        url: listenUrl(addr, options.path, tls.cert !== undefined),
        upstream: options.upstream,
        domains: options.domains.join(","),
      }),
  });
}

/**
 * `host:port` (default port 5222, IPv6 in brackets) or `srv`.
 *
 * @example
 * ```ts
 * import { parseUpstream } from "./main.ts";
 * console.log(parseUpstream("[::1]:5223")); // { hostname: "::1", port: 5223 }
 * ```
 */
export function parseUpstream(value: string): { hostname: string; port: number } | "srv" {
  if (value === "srv") return "srv";
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(value);
  if (match === null) throw new Error(`--upstream: expected host:port or 'srv', got '${value}'`);
  return { hostname: match[1]!.replace(/^\[|\]$/g, ""), port: match[2] ? Number(match[2]) : 5222 };
}
