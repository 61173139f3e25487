/**
 * Deno bindings of xmpp-websocket: an RFC 7395 (XMPP over WebSocket) endpoint on `Deno.serve`.
 *
 * @example
 * ```ts
 * import { serveXmpp } from "./mod.ts";
 * const xmpp = serveXmpp({
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
export { serveXmpp } from "./serve.ts";
export type {
  AcceptOptions,
  AttachedSocket,
  CloseOptions,
  FallbackHandler,
  PeerInfo,
  ServerSessionOptions,
  ServeXmppOptions,
  StreamOpenedNotice,
  StrictLayerOptions,
  TerminalNotice,
  XmppApplication,
  XmppConnection,
  XmppServer,
} from "./_types.ts";
export { type GatewayServeOptions, type GatewayServer, serveGateway } from "./gateway.ts";
export {
  connectTcp,
  type TcpConnection,
  type TcpConnectOptions,
  type TcpHandlers,
  type TcpTlsOptions,
} from "./tcp.ts";
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
export type { Output, SessionConfig, StreamAttributes } from "../core/session/mod.ts";
export {
  childElement,
  childElements,
  discoverEndpoints,
  DiscoveryCache,
  DiscoveryError,
  element,
  IqError,
  NS,
  serialize,
  STREAM_ERROR_CONDITIONS,
  textOf,
  XmppClient,
  XmppClientError,
  XmppUsageError,
} from "./client.ts";
export type {
  BackoffOptions,
  ClientConfig,
  ClientError,
  ClientStatus,
  ConnectionFailure,
  DiscoveryOptions,
  FetchLike,
  PresenceOptions,
  ReconnectAdvice,
  SaslClientFailureReason,
  SaslFailureCondition,
  SerializeContext,
  StanzaFailure,
  StreamErrorCondition,
  WebSocketFactory,
  XmlElement,
  XmlNode,
  XmppClientEvents,
  XmppClientOptions,
} from "./client.ts";
