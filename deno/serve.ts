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

import { createSession, type SessionConfig } from "../core/mod.ts";
import { Connection } from "./_connection.ts";
import type { ServeXmppOptions, XmppServer } from "./_types.ts";
import {
  checkUpgrade,
  diagnosticPage,
  isWebSocketUpgrade,
  normalizeOrigins,
  type OriginPolicy,
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
  const path = options.path ?? "/xmpp-websocket";
  const pingIntervalMs = options.pingIntervalMs ?? 25_000;
  if (!(pingIntervalMs >= 0 && pingIntervalMs < 60_000)) {
    throw new RangeError(
      `Invalid pingIntervalMs ${pingIntervalMs}: expected 0 (off) or a positive number of ms below 60 000`,
    );
  }
  if ((options.cert === undefined) !== (options.key === undefined)) {
    throw new RangeError("Invalid TLS options: give both 'cert' and 'key', or neither");
  }
  const tls = options.cert !== undefined && options.key !== undefined
    ? { cert: options.cert, key: options.key }
    : {};
  const secure = options.secure ?? options.cert !== undefined;
  const config: SessionConfig = { ...options.session, role: "server", transport: "websocket" };
  createSession(config); // throws RangeError on a bad session configuration, before listening
  const policy: OriginPolicy = {
    allowedOrigins: options.allowedOrigins && normalizeOrigins(options.allowedOrigins),
    allowMissingOrigin: options.allowMissingOrigin ?? true,
  };
  const application = options.application ?? {};
  const fallback = options.handler ?? (() => textResponse(404, "Not Found\n"));
  const connections = new Set<Connection>();

  const handle = (request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) => {
    if (new URL(request.url).pathname !== path) return fallback(request, info);
    if (!isWebSocketUpgrade(request)) {
      if (request.method === "GET" || request.method === "HEAD") return diagnosticPage();
      return textResponse(405, "Method Not Allowed: use GET\n", { allow: "GET, HEAD" });
    }
    const decision = checkUpgrade(request, policy);
    if (!decision.ok) return textResponse(decision.status, decision.text);
    const remoteAddr = formatAddr(info.remoteAddr); // unreadable once upgraded
    let upgrade: Deno.WebSocketUpgrade;
    try {
      upgrade = Deno.upgradeWebSocket(request, {
        protocol: decision.protocol,
        idleTimeout: (pingIntervalMs * 2) / 1000,
      });
    } catch (error) {
      return textResponse(400, `Bad Request: ${error instanceof Error ? error.message : error}\n`);
    }
    const conn = new Connection(upgrade.socket, application, config, remoteAddr, secure);
    connections.add(conn);
    conn.ended.then(() => connections.delete(conn));
    return upgrade.response;
  };

  const endStreams = () => {
    for (const conn of connections) conn.fail("system-shutdown");
  };
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
    while (connections.size > 0) await Promise.all([...connections].map((conn) => conn.ended));
  });
  return {
    server,
    addr: server.addr,
    connections,
    finished,
    async shutdown() {
      endStreams();
      await server.shutdown();
      await finished;
    },
  };
}

function formatAddr(addr: Deno.NetAddr): string {
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}
