/**
 * xmpp-websocket: XMPP over WebSocket (RFC 7395) in TypeScript. This entry point is the small
 * surface most users need: the pure session reducer (`createSession` / `step`) and the XML
 * elements it exchanges (build, serialize, parse). Everything is I/O-free and runs anywhere.
 *
 * The other entry points, by audience:
 *
 * - `./xml`: the XML layer (elements, serializer, single-document and stream parsers, limits).
 * - `./session`: the session reducer with both framings (RFC 7395 and RFC 6120 over TCP).
 * - `./websocket`: a sans-I/O RFC 6455 server (handshake checks, frame codec).
 * - `./sasl`: SASL SCRAM, PLAIN and ANONYMOUS for clients and servers.
 * - `./gateway`: the gateway reducer (RFC 7395 toward browsers, RFC 6120 upstream).
 * - `./server`: the embedded XMPP server's reducer (the hub).
 * - `./client-core`: the client reducer (discovery, login, XEP-0198, reconnection).
 * - `./client`: `XmppClient`, the client on web APIs (Deno, browsers).
 * - `./deno`, `./node`: the runtime bindings (`serveXmpp`, `serveGateway`, `connectTcp`...).
 * - `./core`: every public name of the pure core at once.
 *
 * @example
 * ```ts
 * import { createSession, step } from "@xmpp-websocket/xmpp-websocket";
 * import { assertEquals } from "@std/assert";
 * const { outputs } = step(createSession({ role: "client", to: "localhost" }), {
 *   type: "transport-opened", now: 0, secure: true, protocol: "xmpp",
 * });
 * assertEquals(outputs[0]?.type, "send-text");
 * ```
 * @module
 */
export {
  canSend,
  createSession,
  type FailureReason,
  type Frame,
  type FramingCodec,
  type Input,
  type Output,
  type Phase,
  type ResolvedConfig,
  type Role,
  type Session,
  type SessionConfig,
  step,
  type StepResult,
  type StreamAttributes,
  type TimerName,
} from "./core/session/mod.ts";
export { CLOSE_CODES, type CloseCode } from "./core/close_codes.ts";
export { STREAM_ERROR_CONDITIONS, type StreamErrorCondition } from "./core/stream_errors.ts";
export { XmppUsageError } from "./core/errors.ts";
export { NS } from "./core/namespaces.ts";
export {
  childElement,
  childElements,
  DocumentParser,
  element,
  isElement,
  type ParseResult,
  serialize,
  type SerializeContext,
  textOf,
  type XmlElement,
  type XmlError,
  type XmlErrorCondition,
  type XmlLimits,
  type XmlNode,
} from "./core/xml/mod.ts";
