/**
 * The session reducer for the client and server roles, over RFC 7395 or RFC 6120 framing.
 *
 * @example
 * ```ts
 * import { createSession, TRANSITIONS } from "@xmpp-websocket/xmpp-websocket/session";
 * import { assertEquals } from "@std/assert";
 * assertEquals(createSession({ role: "server" }).phase, "idle");
 * assertEquals(TRANSITIONS.idle, ["opening", "closed"]);
 * ```
 * @module
 */
export type {
  FailureReason,
  Input,
  Output,
  Phase,
  ResolvedConfig,
  Role,
  Session,
  SessionConfig,
  SessionStepResult,
  TimerName,
} from "./types.ts";
export type {
  ClearTimer,
  Notice,
  NoticeLevel,
  SetTimer,
  StepResult,
  TimerFired,
} from "../reducer.ts";
export { canSend, createSession, isSpent, step } from "./step.ts";
export {
  checkTransition,
  isAllowedTransition,
  TransitionError,
  TRANSITIONS,
  type TransitionTable,
} from "./transitions.ts";
export {
  type Frame,
  type FramingCodec,
  type StreamAttributes,
  StreamEncoding,
  TcpFraming,
  type TcpFramingOptions,
  WebSocketFraming,
  type WebSocketFramingOptions,
} from "../framing/mod.ts";
export {
  isStreamError,
  isStreamErrorCondition,
  readStreamError,
  STREAM_ERROR_CONDITIONS,
  streamError,
  type StreamErrorCondition,
  type StreamErrorInfo,
} from "../stream_errors.ts";
export { CLOSE_CODES, type CloseCode } from "../close_codes.ts";
export { XmppUsageError } from "../errors.ts";
export { NS } from "../xmpp/namespaces.ts";
export type { XmlElement, XmlLimits, XmlNode } from "../xml/mod.ts";
export { RawElement, type RelayPolicy } from "../xml/raw_element.ts";
