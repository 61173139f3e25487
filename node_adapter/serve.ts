/**
 * An RFC 7395 (XMPP over WebSocket) endpoint on Node: `node:http` / `node:https` and the `ws`
 * package. It mirrors `deno/serve.ts`: the same handshake decisions (the pure helpers of
 * `deno/_handshake.ts`), the same connection driver (`deno/_connection.ts`, which needs only the
 * web-standard WebSocket surface that `ws` implements) and the same application API. The core
 * decides every XMPP message and close code.
 *
 * Keepalive: after `pingIntervalMs` without any frame from the client, a WebSocket Ping; when
 * nothing (no Pong) arrives in the next `pingIntervalMs`, the connection is terminated.
 *
 * @example
 * ```ts ignore
 * import { serveXmppNode } from "./serve.ts";
 * const xmpp = await serveXmppNode({
 *   port: 5280,
 *   session: { domains: ["localhost"] },
 *   application: { onElement: (conn, element) => conn.send(element) },
 * });
 * await xmpp.finished;
 * ```
 * @module
 */

import { createServer as createHttpServer, type IncomingMessage } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
// @ts-types="@types/ws"
import { type WebSocket as WsSocket, WebSocketServer } from "ws";
import { DEFAULT_XML_LIMITS } from "../core/mod.ts";
import type { AdmissionTicket } from "../core/http/admission.ts";
import { NODE_RUNTIME } from "./_runtime.ts";
import { LiveConnections } from "../core/endpoint/live_connections.ts";
import { endpointSettings } from "../core/endpoint/settings.ts";
import {
  checkUpgrade,
  clientAddress,
  diagnosticPage,
  isWebSocketUpgrade,
  textResponse,
  XMPP_SUBPROTOCOL,
} from "../core/http/upgrade.ts";
import type { EndpointOptions, PeerInfo, SocketLike } from "../core/endpoint/types.ts";
import type {
  NetAddress,
  NodeHandlerInfo,
  ServeXmppNodeOptions,
  XmppNodeServer,
} from "./_types.ts";
import { peerAddress, toRequest, writeRawResponse, writeResponse } from "./_http.ts";

/**
 * Starts an RFC 7395 endpoint and resolves once it listens. Throws `RangeError` on invalid
 * options; rejects when the port cannot be bound.
 *
 * A plain GET on `path` gets a short HTML page; an upgrade from an origin outside
 * `allowedOrigins` gets 403; an upgrade that does not offer the `xmpp` subprotocol gets 400 with
 * an explanation (never a 101); other paths go to `handler`.
 *
 * @example
 * ```ts
 * import { serveXmppNode } from "./serve.ts";
 * const xmpp = await serveXmppNode({ hostname: "127.0.0.1", port: 0, session: { domains: ["localhost"] } });
 * console.log(`ws://127.0.0.1:${xmpp.addr.port}/xmpp-websocket`);
 * await xmpp.shutdown();
 * ```
 */
export async function serveXmppNode(options: ServeXmppNodeOptions = {}): Promise<XmppNodeServer> {
  const settings = endpointSettings(options);
  const { path, pingIntervalMs, secure, policy, trusted, admission } = settings;
  const fallback = options.handler ?? (() => textResponse(404, "Not Found\n"));
  const live = new LiveConnections(NODE_RUNTIME);
  let accepting = true;
  const maxBytes = options.session?.limits?.maxBytes ?? DEFAULT_XML_LIMITS.maxBytes;
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: 2 * maxBytes, // bigger is surely oversized: refuse (1009) before buffering it
    handleProtocols: (offered) => offered.has(XMPP_SUBPROTOCOL) ? XMPP_SUBPROTOCOL : false,
  });
  const server = options.cert !== undefined && options.key !== undefined
    ? createHttpsServer({ cert: options.cert, key: options.key })
    : createHttpServer();
  let addr: NetAddress = { hostname: "", port: 0 };

  /** The answer to a request, or `undefined` when it is to be upgraded. */
  const route = (request: Request, info: NodeHandlerInfo) => {
    if (new URL(request.url).pathname !== path) return fallback(request, info);
    if (!isWebSocketUpgrade(request)) {
      if (request.method === "GET" || request.method === "HEAD") return diagnosticPage();
      return textResponse(405, "Method Not Allowed: use GET\n", { allow: "GET, HEAD" });
    }
    if (!accepting) return textResponse(503, "Service Unavailable: shutting down\n");
    const decision = checkUpgrade(request, policy);
    return decision.ok ? undefined : textResponse(decision.status, decision.text, decision.headers);
  };
  const answer = async (request: Request, info: NodeHandlerInfo) => {
    try {
      return await route(request, info);
    } catch (error) {
      console.error("xmpp-websocket: request handler failed:", error);
      return textResponse(500, "Internal Server Error\n");
    }
  };

  /** The request as a web `Request` and who sent it; `undefined` when it cannot be one. */
  const incoming = (req: IncomingMessage) => {
    const remoteAddr = peerAddress(req.socket.remoteAddress, req.socket.remotePort);
    try {
      return { request: toRequest(req, secure), info: { remoteAddr } };
    } catch {
      return undefined;
    }
  };
  const badRequest = () => textResponse(400, "Bad Request\n");

  server.on("request", (req, res) => {
    const accepted = incoming(req);
    void (async () => {
      if (!accepted) return await writeResponse(res, badRequest());
      const { request, info } = accepted;
      await writeResponse(
        res,
        await answer(request, info) ??
          textResponse(400, "Bad Request: a WebSocket upgrade needs 'Connection: Upgrade'\n"),
      );
      if (request.body && !request.bodyUsed) await request.body.cancel().catch(() => {}); // unread
    })().catch(() => res.destroy());
  });

  server.on("upgrade", (req, socket, head) => {
    const accepted = incoming(req);
    void (async () => {
      if (!accepted) return await writeRawResponse(socket, badRequest());
      const refusal = await answer(accepted.request, accepted.info);
      if (refusal !== undefined) return await writeRawResponse(socket, refusal);
      const client = clientAddress(accepted.request, accepted.info.remoteAddr, trusted);
      // Admission control, before the upgrade (the same decision as on Deno).
      const admitted = admission.admit(client.hostname, NODE_RUNTIME.now());
      if (!admitted.ok) {
        return await writeRawResponse(
          socket,
          textResponse(503, `Service Unavailable: too many connections (${admitted.reason})\n`, {
            "retry-after": String(admitted.retryAfterSeconds),
          }),
        );
      }
      const abandon = () => admission.release(admitted.ticket, NODE_RUNTIME.now());
      socket.once("close", () => {
        if (!upgraded.has(admitted.ticket)) abandon(); // the upgrade never completed
      });
      wss.handleUpgrade(req, socket, head, (ws) => {
        upgraded.add(admitted.ticket);
        wire(ws, { client, local: addr, secure }, admitted.ticket);
      });
    })().catch(() => socket.destroy());
  });

  const upgraded = new WeakSet<AdmissionTicket>();
  const wire = (ws: WsSocket, peer: PeerInfo, ticket: AdmissionTicket) => {
    ws.on("error", () => {}); // every error is followed by a close event, which the driver sees
    const socket = ws as unknown as SocketLike; // the web-standard surface the drivers use
    try {
      live.adopt(socket, peer, settings, options.attach as EndpointOptions["attach"], ticket);
    } catch (error) {
      console.error("xmpp-websocket: attach hook failed:", error);
      return ws.terminate();
    }
    keepAlive(ws, pingIntervalMs);
    ws.emit("open"); // ws hands sockets over open: start the driver as a web socket's open would
  };

  const endStreams = () => live.shutdownAll();
  const stop = () => {
    accepting = false;
    if (!server.listening) return;
    server.close();
    server.closeIdleConnections();
  };
  const onAbort = () => {
    endStreams();
    stop();
  };
  const closed = new Promise<void>((resolve) => server.once("close", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 5280, options.hostname ?? "0.0.0.0", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  addr = { hostname: address.address, port: address.port };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  else options.onListen?.(addr);
  const finished = closed.then(async () => {
    options.signal?.removeEventListener("abort", onAbort);
    await live.settled();
  });
  return {
    server,
    addr,
    connections: live.connections,
    finished,
    get liveCount() {
      return live.size;
    },
    endpointStats: () => live.stats(admission),
    async shutdown() {
      accepting = false;
      endStreams();
      stop();
      await finished;
    },
    async drain(windowMs: number, seeOtherUri?: string) {
      accepting = false;
      await live.shutdownSpread(windowMs, seeOtherUri);
      stop();
      await finished;
    },
  };
}

/** Pings after an interval of client silence; terminates when the next interval stays silent. */
function keepAlive(ws: WsSocket, intervalMs: number): void {
  if (intervalMs === 0) return;
  let heard = false;
  let pinged = false;
  const hear = () => heard = true;
  ws.on("message", hear).on("pong", hear).on("ping", hear);
  const timer = setInterval(() => {
    if (ws.readyState !== ws.OPEN) return; // closing: ws bounds the close handshake itself
    if (heard) {
      heard = pinged = false;
    } else if (pinged) {
      ws.terminate();
    } else {
      pinged = true;
      ws.ping();
    }
  }, intervalMs);
  ws.once("close", () => clearInterval(timer));
}
