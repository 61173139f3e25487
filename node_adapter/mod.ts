/**
 * Node.js bindings of xmpp-websocket: an RFC 7395 (XMPP over WebSocket) endpoint on `node:http`
 * and the `ws` package, the gateway to an RFC 6120 server, and the TCP adapter on `node:net` /
 * `node:tls`. The application API (`XmppApplication`, `XmppConnection`) is the one both runtimes share
 * (`core/endpoint/types.ts`); every binding exports `serveXmpp`, `serveGateway`, `connectTcp`,
 * `startEmbedded` and `main` (the `...Node` names stay as aliases);
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
import { serveXmppNode } from "./serve.ts";
import { serveGatewayNode } from "./gateway.ts";
import { connectTcpNode } from "./tcp.ts";

/** `serveXmppNode` under the name every runtime binding exports. */
export const serveXmpp: typeof serveXmppNode = serveXmppNode;
/** `serveGatewayNode` under the name every runtime binding exports. */
export const serveGateway: typeof serveGatewayNode = serveGatewayNode;
/** `connectTcpNode` under the name every runtime binding exports. */
export const connectTcp: typeof connectTcpNode = connectTcpNode;

export { connectTcpNode, serveGatewayNode, serveXmppNode };
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
} from "../core/endpoint/types.ts";
export type { GatewayNodeServeOptions, GatewayNodeServer } from "./gateway.ts";
export type {
  TcpConnection,
  TcpConnectOptions,
  TcpHandlers,
  TcpTlsOptions,
} from "../core/endpoint/tcp.ts";
export { main } from "./main.ts";
export {
  type AccountSources,
  type DemoAccount,
  type EmbeddedRunning,
  type EmbeddedServer,
  embeddedServer,
  type EmbeddedServerOptions,
  loadAccounts,
  type LoadedAccounts,
  startEmbedded,
  startEmbeddedNode,
} from "./embedded.ts";
export { createLogger } from "./_runtime.ts";
export type { BoundLoggerFactory, Logger, LogLevel } from "../core/endpoint/log.ts";
export type { Metrics } from "../core/endpoint/metrics.ts";
export type {
  ConnectionControl,
  EndpointOptions,
  EndpointServer,
  EndpointStats,
  OutboundLimits,
  SocketCloseEvent,
  SocketHandler,
  SocketLike,
  SocketMessageEvent,
} from "../core/endpoint/types.ts";
export type { GatewayCommonOptions, SrvLookup } from "../core/endpoint/gateway_setup.ts";
export type { EmbeddedEndpoint } from "../core/endpoint/embedded_start.ts";
export {
  type CamelCase,
  type GatewayOptions,
  OPTION_SPECS,
  type OptionSpec,
  type OptionSpecEntry,
  type OptionValue,
} from "../core/endpoint/options.ts";
export { FORWARDED_HEADERS, type ForwardedHeader } from "../core/http/forwarded.ts";
export type {
  Admission,
  AdmissionDecision,
  AdmissionLimits,
  AdmissionRefusal,
  AdmissionStats,
  AdmissionTicket,
} from "../core/http/admission.ts";
export type { Hub, HubConfig, HubInput, HubOutput } from "../core/server/mod.ts";
export type { StoredAccount } from "../core/sasl/mod.ts";
export type { GatewayConfig, SrvRecord } from "../core/gateway/mod.ts";
export type {
  Output,
  SessionConfig,
  StreamAttributes,
  StreamErrorCondition,
  XmlElement,
} from "../core/session/mod.ts";
