/**
 * The command line both runtimes share (`deno task start`, the npm package's `xmpp-websocket`):
 * options parsed over the environment, the gateway in front of `--upstream` or the embedded
 * server when no upstream is given, SIGINT/SIGTERM draining the sessions over `--drain` ms, and
 * SIGHUP (where the binding has it) reading certificates and accounts again. The binding lends
 * what touches its runtime: printing, signals, files, its listeners; this file names no runtime
 * global.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseUpstream } from "./command.ts";
 * assertEquals(parseUpstream("xmpp.example:5223"), { hostname: "xmpp.example", port: 5223 });
 * ```
 * @module
 */

import type { GatewayOptions, ParseOutcome } from "./options.ts";
import { parsePairs } from "./options.ts";
import type { BoundLoggerFactory, Logger } from "./log.ts";
import {
  listenUrl,
  readOptionFile,
  readTls,
  reloadCertificate,
  type TextFileReader,
} from "./files.ts";
import type { UpstreamTls } from "../gateway/types.ts";
import type { ForwardedHeader } from "../http/forwarded.ts";

/** The signals the command handles. */
export type CommandSignal = "SIGINT" | "SIGTERM" | "SIGHUP";

/** What the command needs of a running server (the gateway's or the embedded one). */
export interface CommandServer {
  /** Live sessions, for the shutdown log line. */
  readonly liveCount: number;
  /** Settles once the server has stopped. */
  readonly finished: Promise<void>;
  /** Ends every stream (with a see-other-host to `seeOtherUri` if given) within `windowMs`. */
  drain(windowMs: number, seeOtherUri?: string): Promise<void>;
  /** Reads the server's files again (the embedded server's); absent on the gateway. */
  reload?(): Promise<void>;
  /** Replaces the TLS certificate; resolves `false` where the layer cannot (absent: cannot). */
  replaceCertificate?(cert: string, key: string): Promise<boolean>;
}

/** What a runtime binding lends to {@link runCommand}. */
export interface CommandBinding {
  /** The command's name, in messages and in `--help`'s usage line. */
  readonly command: string;
  /** Splits and checks the arguments (each binding has its `parseArgs`). */
  readonly parse: (
    args: readonly string[],
    env: Readonly<Record<string, string | undefined>>,
  ) => ParseOutcome;
  /** The help text (`--help`). */
  readonly helpText: () => string;
  /** Writes to stdout. */
  readonly print: (text: string) => void;
  /** Writes to stderr. */
  readonly printError: (text: string) => void;
  /** The binding's logger factory (stderr, wall clock). */
  readonly createLogger: BoundLoggerFactory;
  /** Reads option files (certificates, CA). */
  readonly readTextFile: TextFileReader;
  /** Starts the embedded server with the options. */
  readonly startEmbedded: (options: GatewayOptions, log: Logger) => Promise<CommandServer>;
  /** Starts the gateway with the options {@link gatewayCommandOptions} builds. */
  readonly serveGateway: (
    options: GatewayCommandOptions,
    parsed: GatewayOptions,
  ) => Promise<CommandServer>;
  /** Adds a signal handler; returns a function that removes it. */
  readonly onSignal: (signal: CommandSignal, handler: () => void) => () => void;
  /** Whether SIGHUP exists and reloads (not on Windows, not on Node). */
  readonly hangup: boolean;
  /** Runs once the options are known, before anything starts (a warning to log, say). */
  readonly beforeStart?: (options: GatewayOptions, log: Logger) => void;
}

/**
 * The gateway settings the command line gives, the same on every runtime (each binding adds its
 * listener's own).
 */
export interface GatewayCommandOptions {
  /** The interface to listen on. */
  readonly hostname: string;
  /** The port to listen on. */
  readonly port: number;
  /** The WebSocket path. */
  readonly path: string;
  /** The XMPP domains served. */
  readonly domains: readonly string[];
  /** `host:port`, or `srv` for DNS SRV lookups. */
  readonly upstream: { readonly hostname: string; readonly port: number } | "srv";
  /** `--upstream-tls`. */
  readonly upstreamTls: UpstreamTls;
  /** `--upstream-ca-file`'s certificates. */
  readonly upstreamCaCerts?: readonly string[];
  /** `--upstream-server-name`. */
  readonly upstreamServerName?: string;
  /** `--upstream-connect-timeout`. */
  readonly connectTimeoutMs: number;
  /** `--proxy-protocol`. */
  readonly proxyProtocol: "off" | "v1" | "v2";
  /** `--see-other-host` pairs. */
  readonly seeOtherHost: Readonly<Record<string, string>>;
  /** `--origin`. */
  readonly allowedOrigins?: readonly string[];
  /** Not `--deny-missing-origin`. */
  readonly allowMissingOrigin: boolean;
  /** `--cert`'s PEM. */
  readonly cert?: string;
  /** `--key`'s PEM. */
  readonly key?: string;
  /** `--secure`. */
  readonly secure?: true;
  /** `--trusted-proxy`. */
  readonly trustedProxies: readonly string[];
  /** `--forwarded-header`. */
  readonly forwardedHeader: ForwardedHeader;
  /** `--public-url`. */
  readonly publicUrl?: string;
  /** `--metrics-allow`. */
  readonly metricsAllow: readonly string[];
  /** Limits on client messages. */
  readonly clientLimits: { readonly maxBytes: number; readonly maxDepth: number };
  /** Limits on upstream elements. */
  readonly upstreamLimits: { readonly maxBytes: number; readonly maxDepth: number };
  /** `--max-buffered-elements`. */
  readonly maxBufferedElements: number;
  /** `--max-auth-failures`. */
  readonly maxAuthFailures: number;
  /** `--legacy-framing`. */
  readonly legacyFraming: boolean;
  /** `--ping-interval`. */
  readonly pingIntervalMs: number;
  /** `--open-timeout`. */
  readonly openTimeoutMs: number;
  /** `--close-timeout`. */
  readonly closeTimeoutMs: number;
  /** The logger. */
  readonly log: Logger;
  /** Logs the URL once listening. */
  readonly onListen: (addr: { readonly hostname: string; readonly port: number }) => void;
}

/**
 * `host:port` (default port 5222, IPv6 in brackets) or `srv`; throws an `Error` naming
 * `--upstream` otherwise.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseUpstream } from "./command.ts";
 * assertEquals(parseUpstream("[::1]:5223"), { hostname: "::1", port: 5223 });
 * assertEquals(parseUpstream("srv"), "srv");
 * ```
 */
export function parseUpstream(value: string): { hostname: string; port: number } | "srv" {
  if (value === "srv") return "srv";
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(value);
  if (match === null) throw new Error(`--upstream: expected host:port or 'srv', got '${value}'`);
  return { hostname: match[1]!.replace(/^\[|\]$/g, ""), port: match[2] ? Number(match[2]) : 5222 };
}

/**
 * The gateway settings of the parsed command line, with the certificate and CA files read;
 * rejects with a message naming the option at fault.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseArgs } from "@std/cli";
 * import { gatewayCommandOptions } from "./command.ts";
 * import { parseOptions } from "./options.ts";
 * const parsed = parseOptions(["--upstream", "127.0.0.1:5222"], {}, parseArgs);
 * if (!parsed.ok) throw new Error("bad options");
 * const settings = await gatewayCommandOptions(parsed.options, () => {}, () => Promise.reject());
 * assertEquals(settings.upstream, { hostname: "127.0.0.1", port: 5222 });
 * ```
 */
export async function gatewayCommandOptions(
  options: GatewayOptions,
  log: Logger,
  read: TextFileReader,
): Promise<GatewayCommandOptions> {
  const upstream = parseUpstream(options.upstream);
  const tls = await readTls(options, read);
  const caCerts = options.upstreamCaFile
    ? [await readOptionFile(options.upstreamCaFile, "--upstream-ca-file", read)]
    : undefined;
  return {
    hostname: options.host,
    port: options.port,
    path: options.path,
    domains: options.domains,
    upstream,
    upstreamTls: options.upstreamTls as UpstreamTls,
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
    forwardedHeader: options.forwardedHeader as ForwardedHeader,
    ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
    metricsAllow: options.metricsAllow,
    clientLimits: { maxBytes: options.maxMessageBytes, maxDepth: options.maxDepth },
    upstreamLimits: { maxBytes: options.maxUpstreamElementBytes, maxDepth: options.maxDepth },
    maxBufferedElements: options.maxBufferedElements,
    maxAuthFailures: options.maxAuthFailures,
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
  };
}

/**
 * Runs the command; resolves with the exit code (0 after a clean shutdown or `--help`, 2 on bad
 * options or a failed start).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { runCommand } from "./command.ts";
 * const errors: string[] = [];
 * const code = await runCommand({
 *   command: "demo", parse: () => ({ ok: false, help: false, error: "--port: bad" }),
 *   helpText: () => "", print: () => {}, printError: (text) => errors.push(text),
 *   createLogger: () => () => {}, readTextFile: () => Promise.reject(),
 *   startEmbedded: () => Promise.reject(), serveGateway: () => Promise.reject(),
 *   onSignal: () => () => {}, hangup: false,
 * }, ["--port", "x"], {});
 * assertEquals([code, errors], [2, ["demo: --port: bad"]]);
 * ```
 */
export async function runCommand(
  binding: CommandBinding,
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  const parsed = binding.parse(args, env);
  if (!parsed.ok) {
    if (parsed.help) {
      binding.print(binding.helpText());
      return 0;
    }
    binding.printError(`${binding.command}: ${parsed.error}`);
    return 2;
  }
  const options = parsed.options;
  const log = binding.createLogger(options.logLevel as "info", options.logFormat as "text");
  binding.beforeStart?.(options, log);
  // A SIGHUP while starting (its default action ends the process) waits for the server.
  let early = false;
  const removeEarly = binding.hangup
    ? binding.onSignal("SIGHUP", () => void (early = true))
    : () => {};
  let server: CommandServer;
  try {
    server = options.upstream === ""
      ? await binding.startEmbedded(options, log)
      : await binding.serveGateway(
        await gatewayCommandOptions(options, log, binding.readTextFile),
        options,
      );
  } catch (error) {
    removeEarly();
    binding.printError(`${binding.command}: ${error instanceof Error ? error.message : error}`);
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
    reloading = (server.reload ? server.reload() : reloadTls(server, options, log, binding))
      .finally(() => {
        reloading = undefined;
        if (again) {
          again = false;
          reload();
        }
      });
  };
  const removers = [binding.onSignal("SIGINT", stop), binding.onSignal("SIGTERM", stop)];
  if (binding.hangup) {
    removers.push(binding.onSignal("SIGHUP", reload));
    removeEarly();
    if (early) reload();
  }
  await server.finished;
  await reloading;
  for (const remove of removers) remove();
  log("info", "stopped");
  return 0;
}

/** The gateway's reload: the certificate only (see `EndpointServer.replaceCertificate`). */
async function reloadTls(
  server: CommandServer,
  options: GatewayOptions,
  log: Logger,
  binding: { readonly readTextFile: TextFileReader },
): Promise<void> {
  if (options.cert) await reloadCertificate(server, options, log, binding.readTextFile);
}
