/**
 * Node.js bindings of xmpp-websocket: an RFC 7395 (XMPP over WebSocket) endpoint on `node:http`
 * and the `ws` package, the gateway to an RFC 6120 server, and the TCP adapter on `node:net` /
 * `node:tls`. The application API is the Deno bindings' (`XmppApplication`, `XmppConnection`);
 * the listeners start asynchronously (the functions resolve once listening).
 *
 * @example
 * ```ts
 * import { serveXmppNode } from "./mod.ts";
 * const xmpp = await serveXmppNode({
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   session: { domains: ["localhost"] },
 *   application: {
 *     onOpenRequested: (conn) => conn.accept(),
 *     onElement: (conn, element) => conn.send(element),
 *   },
 * });
 * console.log(xmpp.addr.port > 0); // true
 * await xmpp.shutdown();
 * ```
 * @module
 */
export { serveXmppNode } from "./serve.ts";
export type {
  NetAddress,
  NodeFallbackHandler,
  NodeHandlerInfo,
  ServeXmppNodeOptions,
  XmppNodeServer,
} from "./_types.ts";
export type {
  AcceptOptions,
  AttachedSocket,
  CloseOptions,
  PeerInfo,
  ServerSessionOptions,
  StreamOpenedNotice,
  TerminalNotice,
  XmppApplication,
  XmppConnection,
} from "../deno/_types.ts";
export {
  type GatewayNodeServeOptions,
  type GatewayNodeServer,
  serveGatewayNode,
} from "./gateway.ts";
export { connectTcpNode } from "./tcp.ts";
export type { TcpConnection, TcpConnectOptions, TcpHandlers, TcpTlsOptions } from "../deno/tcp.ts";
