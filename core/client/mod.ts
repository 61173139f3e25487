/**
 * The client role of the pure core: XEP-0156 discovery (XRD and JRD parsing, HTTPS-only
 * checks, endpoint choice), HTTP cache lifetimes, capped exponential backoff with full jitter,
 * SASL mechanism negotiation over `core/sasl`, resource binding, iq correlation, XEP-0198
 * client state, liveness probes, typed errors with reconnection advice, stanza builders, and
 * the reducer that ties them into a whole client (`createClient` / `clientStep`). No I/O:
 * an adapter (`deno/client.ts`) opens the WebSockets, fetches the documents and runs the timers.
 *
 * @example
 * ```ts
 * import { clientStep, createClient } from "@xmpp-websocket/xmpp-websocket/client-core";
 * import { assertEquals } from "@std/assert";
 * const state = createClient({ domain: "example.com", endpoints: ["wss://example.com/xmpp-websocket"], username: "alice", password: "secret" });
 * const { outputs } = clientStep(state, { type: "connect", now: 0, random: crypto.randomUUID() });
 * assertEquals(outputs.map((o) => o.type), ["status-changed", "open-transport", "set-timer"]);
 * ```
 * @module
 */
export type {
  ClientConfig,
  ClientInput,
  ClientInputBase,
  ClientOutput,
  ClientState,
  ClientStatus,
  ClientStepResult,
  ClientTimer,
  ConnectionState,
  ResolvedClientConfig,
  Stage,
  StanzaFailure,
} from "./types.ts";
export { canQueue, clientStep, createClient, resolveClientConfig } from "./client.ts";
export {
  CLIENT_STAGE_TRANSITIONS,
  CLIENT_STATUS_TRANSITIONS,
  type ConnectionPhase,
} from "./transitions.ts";
export type { TransitionTable } from "../session/transitions.ts";
export type { StanzaErrorType } from "../xmpp/stanza_errors.ts";
export {
  authFailureAdvice,
  type ClientError,
  type ConnectionFailure,
  describeClientError,
  type ReconnectAdvice,
  streamErrorAdvice,
} from "./errors.ts";
export { type BackoffOptions, DEFAULT_BACKOFF } from "./backoff.ts";
export { DEFAULT_LIVENESS, type LivenessOptions } from "./liveness.ts";
export {
  type HostMetaFormat,
  type HostMetaLink,
  type HostMetaResponse,
  hostMetaUrls,
  type HostMetaVerdict,
  MAX_HOST_META_REDIRECTS,
  parseJrd,
  parseXrd,
  readHostMeta,
  WEBSOCKET_REL,
  websocketEndpoints,
  XRD_NS,
} from "./discovery.ts";
export { type CacheHeaders, freshnessLifetime, type FreshnessOptions } from "./http_cache.ts";
export {
  assertSendable,
  iqErrorFor,
  iqResultFor,
  iqStanza,
  type IqType,
  messageStanza,
  presenceStanza,
  stanzaErrorCondition,
} from "./stanzas.ts";
export type { AuthState } from "./auth.ts";
export type { IqTracker, PendingIq } from "./iq.ts";
export type { SmState } from "./sm.ts";
export type {
  Frame,
  FramingCodec,
  Phase,
  ResolvedConfig,
  Role,
  Session,
  StreamAttributes,
} from "../session/mod.ts";
export { CLOSE_CODES, type CloseCode } from "../close_codes.ts";
export { STREAM_ERROR_CONDITIONS, type StreamErrorCondition } from "../stream_errors.ts";
export type { XmlElement, XmlLimits, XmlNode } from "../xml/mod.ts";
export type {
  HashName,
  SaslClientFailureReason,
  SaslFailureCondition,
  SaslMechanismName,
  ScramClientFinalState,
  ScramClientFirstState,
  ScramMechanism,
} from "../sasl/mod.ts";
