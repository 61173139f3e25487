/**
 * Types of the session reducer: configuration, state, inputs and outputs.
 *
 * Inputs are facts from the transport in the past tense (`transport-opened`, `text-received`,
 * ...) and commands from the application in the imperative (`accept-stream`, `send-element`,
 * ...). Outputs are orders to the adapter in the imperative (`send-text`, `close-transport`,
 * `set-timer`, ...) and notices to the application in the past tense (`stream-opened`,
 * `element-received`, ...). Exactly one terminal notice (`stream-closed`, `stream-failed` or
 * `stream-redirected`) is emitted per session.
 *
 * @example
 * ```ts
 * import type { Input } from "@xmpp-websocket/xmpp-websocket/session";
 * import { assertEquals } from "@std/assert";
 * const input: Input = { type: "text-received", now: 0, data: "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>" };
 * assertEquals(input.type, "text-received");
 * ```
 * @module
 */

import type { XmlElement } from "../xml/element.ts";
import type { XmlLimits } from "../xml/limits.ts";
import type { RawElement, RelayPolicy } from "../xml/raw_element.ts";
import type { FramingCodec, StreamAttributes } from "../framing/types.ts";
import type { StreamErrorCondition } from "../stream_errors.ts";
import type { ClearTimer, SetTimer, StepResult, TimerFired } from "../reducer.ts";

/** Which end of the stream this session plays: initiating (client) or receiving (server). */
export type Role = "client" | "server";

/** Where the session stands (see `TRANSITIONS` for the allowed moves). */
export type Phase = "idle" | "opening" | "open" | "closing" | "closed";

/** The timers a session may ask for: its timer key (see `SetTimer` of the reducer contract). */
export type TimerName = "open" | "close";

/** Configuration of a session. Only `role` is required. */
export interface SessionConfig {
  /** Which end of the stream this session plays. */
  readonly role: Role;
  /** Wire form (default `websocket`, RFC 7395). */
  readonly transport?: "websocket" | "tcp";
  /** XML limits; `maxBytes` is the largest message (WebSocket) or first-level element (TCP). */
  readonly limits?: Partial<XmlLimits>;
  /**
   * Server over WebSocket: also serve draft-ietf-xmpp-websocket-00 clients (an open
   * `<stream:stream>` as the first message; digest §3). Off by default.
   */
  readonly legacyFraming?: boolean;
  /** Stream error for an oversized message (default `policy-violation`, RFC 6120 §13.12). */
  readonly oversizeCondition?: StreamErrorCondition;
  /** How long to wait for the peer's stream header, in ms (default 30 000). */
  readonly openTimeoutMs?: number;
  /** How long to wait for the peer's half of the close handshake, in ms (default 5 000). */
  readonly closeTimeoutMs?: number;
  /** Server: domains served; `to` must name one of them (empty: any `to` is passed on). */
  readonly domains?: readonly string[];
  /** Server: `xml:lang` of the response header when the client gives none (default `en`). */
  readonly defaultLang?: string;
  /** Client: the service domain (`to` of `<open/>`, RFC 6120 §4.7.2). */
  readonly to?: string;
  /** Client: the bare JID for `from` (sent only once the channel is secure, §4.7.1). */
  readonly from?: string;
  /** Client: `xml:lang` to request. */
  readonly lang?: string;
  /**
   * Answer the peer's `<close/>` at once (default true). A gateway sets false: it gets
   * `close-requested`, relays what is still in flight, then answers with `close-stream`.
   */
  readonly autoReplyClose?: boolean;
  /**
   * Elements (by root name and namespace) to deliver as validated text (`raw-received`) instead
   * of trees: a gateway relays them with `send-raw`, never building or serializing a tree
   * (issue 10). Used for RFC 7395 messages and for RFC 6120 streams (default: none).
   */
  readonly relay?: RelayPolicy;
}

/** A session's configuration with every default filled in. */
export interface ResolvedConfig {
  /** Which end of the stream this session plays. */
  readonly role: Role;
  /** Wire form: RFC 7395 WebSocket or RFC 6120 TCP. */
  readonly transport: "websocket" | "tcp";
  /** How long to wait for the peer's stream header, in ms. */
  readonly openTimeoutMs: number;
  /** How long to wait for the peer's half of the close handshake, in ms. */
  readonly closeTimeoutMs: number;
  /** Server: domains served (empty: any). */
  readonly domains: readonly string[];
  /** Server: `xml:lang` of the response header when the client gives none. */
  readonly defaultLang: string;
  /** Client: the service domain. */
  readonly to: string | undefined;
  /** Client: the bare JID for `from`. */
  readonly from: string | undefined;
  /** Client: `xml:lang` to request. */
  readonly lang: string | undefined;
  /** Whether the peer's `<close/>` is answered at once. */
  readonly autoReplyClose: boolean;
}

/**
 * The state of one session: readonly data plus the codec that owns the parser. A linear value:
 * the codec changes in place as it decodes, so a session given to `step` is spent (stepping it
 * again throws `XmppUsageError`); keep the session the step returned.
 */
export interface Session {
  /** The configuration, defaults filled in. */
  readonly config: ResolvedConfig;
  /** Where the session is in its life (see `TRANSITIONS`). */
  readonly phase: Phase;
  /** The framing codec (opaque: it holds the reusable parser). */
  readonly codec: FramingCodec;
  /** Whether the transport is open. */
  readonly transportOpen: boolean;
  /** Whether `close-transport` has been emitted (it is emitted at most once, #29). */
  readonly transportClosing: boolean;
  /** Whether the transport is secure (wss or TLS). */
  readonly secure: boolean;
  /** The id of the current stream, once known. */
  readonly streamId: string | undefined;
  /** Server: a fresh id for the next response header, supplied by the adapter. */
  readonly nextStreamId: string | undefined;
  /** The attributes of the peer's latest stream header. */
  readonly peer: StreamAttributes | undefined;
  /** A stream restart is due (after SASL `<success/>`, RFC 6120 §4.3.3). */
  readonly restartPending: boolean;
  /** Whether this end has sent its `<close/>` (or footer). */
  readonly closeSent: boolean;
  /** Whether the peer's `<close/>` (or footer) has arrived. */
  readonly closeReceived: boolean;
  /** Client over TCP: STARTTLS `<proceed/>` arrived; waiting for `transport-secured`. */
  readonly tlsPending: boolean;
  /** Whether a terminal notice has been emitted. */
  readonly ended: boolean;
}

/** What the transport and the application tell a session. */
export type Input =
  | {
    readonly type: "transport-opened";
    readonly now: number;
    /** Whether the channel is encrypted (wss, TLS, or declared secure by the operator). */
    readonly secure: boolean;
    /** The negotiated WebSocket subprotocol (client role checks it is `xmpp`). */
    readonly protocol?: string;
    /** Server: a fresh, unpredictable id for the first response header. */
    readonly streamId?: string;
  }
  /** A WebSocket text message (a string, or its raw UTF-8 to validate), or a TCP chunk. */
  | { readonly type: "text-received"; readonly now: number; readonly data: string | Uint8Array }
  /** A WebSocket binary message (never valid, RFC 7395 §3.2). */
  | { readonly type: "binary-received"; readonly now: number; readonly byteLength: number }
  | {
    readonly type: "transport-closed";
    readonly now: number;
    readonly code?: number;
    readonly reason?: string;
  }
  | TimerFired<TimerName> & { readonly now: number }
  /**
   * Server: answer a `stream-open-requested` with the response header and `features`.
   * `id` overrides the supplied stream id (a gateway relays the upstream id);
   * `nextStreamId` supplies a fresh id for the next header (after a restart).
   */
  | {
    readonly type: "accept-stream";
    readonly now: number;
    readonly features?: XmlElement;
    readonly id?: string;
    readonly nextStreamId?: string;
  }
  /** Client: open the new stream after SASL success. */
  | { readonly type: "restart-stream"; readonly now: number }
  /** Client over TCP: the adapter finished the TLS handshake asked for by `start-tls`. */
  | { readonly type: "transport-secured"; readonly now: number }
  /**
   * Drop the transport without any stream close (`<close/>` or footer), e.g. so that the
   * server keeps an XEP-0198 session resumable (digest §2.2), or a WebSocket closed with 1014.
   */
  | {
    readonly type: "abort-transport";
    readonly now: number;
    readonly code: number;
    readonly reason: string;
  }
  | { readonly type: "send-element"; readonly now: number; readonly element: XmlElement }
  /** Send an element received as text by a session with a relay policy (`raw-received`). */
  | { readonly type: "send-raw"; readonly now: number; readonly element: RawElement }
  /** Close the stream; a server may name another endpoint (`see-other-uri`, RFC 7395 §3.6.1). */
  | { readonly type: "close-stream"; readonly now: number; readonly seeOtherUri?: string }
  /** End the stream with a stream error (RFC 6120 §4.9). */
  | {
    readonly type: "fail-stream";
    readonly now: number;
    readonly condition: StreamErrorCondition;
    readonly text?: string;
    /** Character data of the condition (the host of `see-other-host`). */
    readonly content?: string;
    /** An application-specific condition element (RFC 6120 §4.9.4), in its own namespace. */
    readonly extra?: XmlElement;
  };

/** Why a session failed. */
export type FailureReason =
  | "stream-error"
  | "transport-lost"
  | "open-timeout"
  | "close-timeout"
  | "subprotocol"
  | "insecure-redirect"
  | "aborted";

/** What a session asks of the adapter, and tells the application. */
export type Output =
  /** Send one WebSocket text message (or write to the TCP stream). */
  | { readonly type: "send-text"; readonly text: string }
  /** Close the transport (WebSocket close code; TCP adapters ignore it). */
  | { readonly type: "close-transport"; readonly code: number; readonly reason: string }
  /** Arm (or re-arm) a timer to fire at `at` (same clock as `now`). */
  | SetTimer<TimerName>
  | ClearTimer<TimerName>
  /** Server: the client asked to open a stream; answer with `accept-stream` (or close/fail). */
  | {
    readonly type: "stream-open-requested";
    readonly attributes: StreamAttributes;
    readonly restart: boolean;
  }
  /** The stream is open: both headers have been exchanged. */
  | {
    readonly type: "stream-opened";
    readonly id: string | undefined;
    readonly attributes: StreamAttributes;
    readonly restart: boolean;
  }
  | { readonly type: "element-received"; readonly element: XmlElement }
  /** An element the relay policy keeps as validated text (see `SessionConfig.relay`). */
  | { readonly type: "raw-received"; readonly element: RawElement }
  /** Client: SASL succeeded; send `restart-stream` (RFC 7395 §3.7). */
  | { readonly type: "restart-required" }
  /** Client over TCP: STARTTLS `<proceed/>` arrived; upgrade, then input `transport-secured`. */
  | { readonly type: "start-tls" }
  /** The peer sent `<close/>` and `autoReplyClose` is off: answer with `close-stream`. */
  | { readonly type: "close-requested" }
  /** Terminal: the stream was closed by the close handshake. */
  | { readonly type: "stream-closed"; readonly initiator: "local" | "peer" }
  /** Terminal: the stream ended by an error, a timeout or the loss of the transport. */
  | {
    readonly type: "stream-failed";
    readonly reason: FailureReason;
    /** Who detected the problem. */
    readonly by: "local" | "peer" | "transport";
    readonly condition?: StreamErrorCondition;
    readonly text?: string;
    /** Character data of the condition (the host of `see-other-host`). */
    readonly content?: string;
    /** The refused target of an `insecure-redirect`. */
    readonly uri?: string;
  }
  /** Terminal: the server moved the client to another endpoint (RFC 7395 §3.6.1). */
  | { readonly type: "stream-redirected"; readonly uri: string };

/** The result of one session step: `{ state, outputs }` (the session given to the step is spent). */
export type SessionStepResult = StepResult<Session, Output>;
