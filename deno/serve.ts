/**
 * An RFC 7395 (XMPP over WebSocket) endpoint on `Deno.serve` and `Deno.upgradeWebSocket`.
 *
 * The adapter only routes HTTP requests and wires sockets to core sessions; the core decides
 * every XMPP message and close code. Keepalive: Deno's `idleTimeout` (set to twice
 * `pingIntervalMs`) makes the server send a WebSocket Ping after `pingIntervalMs` without any
 * frame from the client, and close with 1001 when nothing arrives in the next `pingIntervalMs`.
 * Admission control (`core/http/admission.ts`) decides each upgrade before it happens: a refusal
 * is a 503 with `Retry-After`.
 *
 * @example
 * ```ts ignore
 * import { serveXmpp } from "./serve.ts";
 * const { finished } = serveXmpp({
 *   port: 5280,
 *   session: { domains: ["localhost"] },
 *   application: { onElement: (conn, element) => conn.send(element) },
 * });
 * await finished;
 * ```
 * @module
 */

import { LiveConnections } from "../core/endpoint/live_connections.ts";
import { type EndpointSettings, endpointSettings } from "../core/endpoint/settings.ts";
import { DEFAULT_XML_LIMITS } from "../core/mod.ts";
import { DENO_RUNTIME } from "./_runtime.ts";
import { serveStrict, type StrictServeOptions, type StrictUpgrade } from "./strict/listener.ts";
import type { EndpointOptions, ServeXmppOptions, XmppServer } from "./_types.ts";
import {
  checkUpgrade,
  clientAddress,
  diagnosticPage,
  isWebSocketUpgrade,
  textResponse,
} from "../core/http/upgrade.ts";

/**
 * Starts an RFC 7395 endpoint. Throws `RangeError` on invalid options.
 *
 * A plain GET on `path` gets a short HTML page; an upgrade from an origin outside
 * `allowedOrigins` gets 403; an upgrade that does not offer the `xmpp` subprotocol gets 400 with
 * an explanation (never a 101, rules #2 and #3); other paths go to `handler`.
 *
 * @example
 * ```ts
 * import { serveXmpp } from "./serve.ts";
 * const xmpp = serveXmpp({ hostname: "127.0.0.1", port: 0, session: { domains: ["localhost"] } });
 * console.log(`ws://127.0.0.1:${xmpp.addr.port}/xmpp-websocket`);
 * await xmpp.shutdown();
 * ```
 */
export function serveXmpp(options: ServeXmppOptions = {}): XmppServer {
  const settings = endpointSettings(options);
  const { path, pingIntervalMs, secure, policy, trusted, admission } = settings;
  const fallback = options.handler ?? (() => textResponse(404, "Not Found\n"));
  const live = new LiveConnections(DENO_RUNTIME);
  // Deno's sockets (native or strict) have the web-standard surface the drivers use.
  const attach = options.attach as EndpointOptions["attach"];
  let accepting = true;

  /** The answer to a request, or the accepted upgrade (shared by both WebSocket layers). */
  const route = (
    request: Request,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
    httpVersion?: string,
  ): Response | Promise<Response> | StrictUpgrade => {
    if (new URL(request.url).pathname !== path) return fallback(request, info);
    if (!isWebSocketUpgrade(request)) {
      if (request.method === "GET" || request.method === "HEAD") return diagnosticPage();
      return textResponse(405, "Method Not Allowed: use GET\n", { allow: "GET, HEAD" });
    }
    if (!accepting) return textResponse(503, "Service Unavailable: shutting down\n");
    const decision = checkUpgrade(request, policy, httpVersion);
    if (!decision.ok) return textResponse(decision.status, decision.text, decision.headers);
    const client = clientAddress(request, info.remoteAddr, trusted); // unreadable once upgraded
    const admitted = admission.admit(client.hostname, DENO_RUNTIME.now());
    if (!admitted.ok) {
      return textResponse(503, `Service Unavailable: too many connections (${admitted.reason})\n`, {
        "retry-after": String(admitted.retryAfterSeconds),
      });
    }
    const peer = { client, local: listening.addr, secure };
    return {
      protocol: decision.protocol,
      adopt: (socket) => void live.adopt(socket, peer, settings, attach, admitted.ticket),
      abandon: () => admission.release(admitted.ticket, DENO_RUNTIME.now()),
    };
  };

  const handle = (request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) => {
    const routed = route(request, info);
    if (routed instanceof Response || routed instanceof Promise) return routed;
    let upgrade: Deno.WebSocketUpgrade;
    try {
      upgrade = Deno.upgradeWebSocket(request, {
        protocol: routed.protocol,
        idleTimeout: (pingIntervalMs * 2) / 1000,
      });
    } catch (error) {
      routed.abandon?.();
      return textResponse(400, `Bad Request: ${error instanceof Error ? error.message : error}\n`);
    }
    routed.adopt(upgrade.socket);
    return upgrade.response;
  };

  const endStreams = () => live.shutdownAll();
  options.signal?.addEventListener("abort", endStreams, { once: true });
  const listening = (options.websocketLayer ?? DEFAULT_WEBSOCKET_LAYER) === "strict"
    ? strictListener(options, settings, (request, info) => route(request, info, info.httpVersion))
    : nativeListener(options, handle);
  const finished = listening.finished.then(async () => {
    options.signal?.removeEventListener("abort", endStreams);
    await live.settled();
  });
  return {
    ...(listening.server ? { server: listening.server } : {}),
    addr: listening.addr,
    connections: live.connections,
    finished,
    get liveCount() {
      return live.size;
    },
    get draining() {
      return !accepting;
    },
    async replaceCertificate(cert: string, key: string) {
      if (!listening.replaceCertificate) return false;
      await listening.replaceCertificate(cert, key);
      return true;
    },
    endpointStats: () => live.stats(admission),
    async shutdown() {
      accepting = false;
      endStreams();
      await listening.shutdown();
      await finished;
    },
    async drain(windowMs: number, seeOtherUri?: string) {
      accepting = false;
      await live.shutdownSpread(windowMs, seeOtherUri);
      await listening.shutdown();
      await finished;
    },
  };
}

/** The WebSocket layer used when the options do not choose one. */
export const DEFAULT_WEBSOCKET_LAYER: "strict" | "native" = "native";

interface Listening {
  readonly server?: Deno.HttpServer<Deno.NetAddr>;
  readonly addr: Deno.NetAddr;
  readonly finished: Promise<void>;
  shutdown(): Promise<void>;
  /** The strict layer only: `Deno.serve` cannot change certificates without dropping sockets. */
  replaceCertificate?(cert: string, key: string): Promise<void>;
}

function nativeListener(
  options: ServeXmppOptions,
  handle: Deno.ServeHandler<Deno.NetAddr>,
): Listening {
  const tls = options.cert !== undefined && options.key !== undefined
    ? { cert: options.cert, key: options.key }
    : {};
  const server = Deno.serve({
    port: options.port ?? 5280,
    ...(options.hostname !== undefined ? { hostname: options.hostname } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
    onListen: options.onListen ?? (() => {}),
    ...tls,
  }, handle);
  return {
    server,
    addr: server.addr,
    finished: server.finished,
    shutdown: () => server.shutdown(),
  };
}

function strictListener(
  options: ServeXmppOptions,
  settings: EndpointSettings,
  route: StrictServeOptions["route"],
): Listening {
  const strict = serveStrict({
    ...options.strictLayer,
    closeTimeoutMs: options.strictLayer?.closeTimeoutMs ?? settings.config.closeTimeoutMs ?? 5_000,
    port: options.port ?? 5280,
    ...(options.hostname !== undefined ? { hostname: options.hostname } : {}),
    ...(options.cert !== undefined ? { cert: options.cert } : {}),
    ...(options.key !== undefined ? { key: options.key } : {}),
    maxMessageBytes: settings.config.limits?.maxBytes ?? DEFAULT_XML_LIMITS.maxBytes,
    pingIntervalMs: settings.pingIntervalMs,
    ...(options.onListen !== undefined ? { onListen: options.onListen } : {}),
    route,
  });
  const stop = () => void strict.shutdown();
  options.signal?.addEventListener("abort", stop, { once: true });
  if (options.signal?.aborted) stop();
  strict.finished.then(() => options.signal?.removeEventListener("abort", stop));
  const tls = options.cert !== undefined && options.key !== undefined;
  return tls ? strict : { addr: strict.addr, finished: strict.finished, shutdown: strict.shutdown };
}
