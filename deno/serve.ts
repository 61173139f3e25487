/**
 * An RFC 7395 (XMPP over WebSocket) endpoint on `Deno.serve` and `Deno.upgradeWebSocket`.
 *
 * The adapter only routes HTTP requests and wires sockets to core sessions; the core decides
 * every XMPP message and close code. Keepalive: Deno's `idleTimeout` (set to twice
 * `pingIntervalMs`) makes the server send a WebSocket Ping after `pingIntervalMs` without any
 * frame from the client, and close with 1001 when nothing arrives in the next `pingIntervalMs`.
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

import { LiveConnections } from "./_live_connections.ts";
import { endpointSettings } from "./_endpoint_settings.ts";
import type { ServeXmppOptions, XmppServer } from "./_types.ts";
import {
  checkUpgrade,
  clientAddress,
  diagnosticPage,
  isWebSocketUpgrade,
  textResponse,
} from "./_handshake.ts";

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
  const { path, pingIntervalMs, secure, policy, trusted } = settings;
  const tls = options.cert !== undefined && options.key !== undefined
    ? { cert: options.cert, key: options.key }
    : {};
  const fallback = options.handler ?? (() => textResponse(404, "Not Found\n"));
  const live = new LiveConnections();
  let accepting = true;

  const handle = (request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) => {
    if (new URL(request.url).pathname !== path) return fallback(request, info);
    if (!isWebSocketUpgrade(request)) {
      if (request.method === "GET" || request.method === "HEAD") return diagnosticPage();
      return textResponse(405, "Method Not Allowed: use GET\n", { allow: "GET, HEAD" });
    }
    if (!accepting) return textResponse(503, "Service Unavailable: shutting down\n");
    const decision = checkUpgrade(request, policy);
    if (!decision.ok) return textResponse(decision.status, decision.text);
    const client = clientAddress(request, info.remoteAddr, trusted); // unreadable once upgraded
    let upgrade: Deno.WebSocketUpgrade;
    try {
      upgrade = Deno.upgradeWebSocket(request, {
        protocol: decision.protocol,
        idleTimeout: (pingIntervalMs * 2) / 1000,
      });
    } catch (error) {
      return textResponse(400, `Bad Request: ${error instanceof Error ? error.message : error}\n`);
    }
    live.adopt(upgrade.socket, { client, local: server.addr, secure }, settings, options.attach);
    return upgrade.response;
  };

  const endStreams = () => live.shutdownAll();
  options.signal?.addEventListener("abort", endStreams, { once: true });
  const server = Deno.serve({
    port: options.port ?? 5280,
    ...(options.hostname !== undefined ? { hostname: options.hostname } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
    onListen: options.onListen ?? (() => {}),
    ...tls,
  }, handle);
  const finished = server.finished.then(async () => {
    options.signal?.removeEventListener("abort", endStreams);
    await live.settled();
  });
  return {
    server,
    addr: server.addr,
    connections: live.connections,
    finished,
    get liveCount() {
      return live.size;
    },
    async shutdown() {
      accepting = false;
      endStreams();
      await server.shutdown();
      await finished;
    },
    async drain(windowMs: number, seeOtherUri?: string) {
      accepting = false;
      await live.shutdownSpread(windowMs, seeOtherUri);
      await server.shutdown();
      await finished;
    },
  };
}
