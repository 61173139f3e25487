/**
 * Types of the client reducer ({@link ../client.ts}): configuration, state, inputs and
 * outputs. Inputs are facts from the transport in the past tense and commands from the
 * application in the imperative; every input carries the time (`now`, a monotonic clock in ms)
 * and a fresh random string (`random`, e.g. `crypto.randomUUID()`), the reducer's only sources
 * of time and randomness. Outputs are orders to the adapter in the imperative and notices to
 * the application in the past tense.
 *
 * @example
 * ```ts
 * import type { ClientInput } from "@xmpp-websocket/xmpp-websocket/client-core";
 * import { assertEquals } from "@std/assert";
 * const input: ClientInput = { type: "connect", now: 0, random: "6f1c0b9e-0000-4000-8000-000000000000" };
 * assertEquals(input.type, "connect");
 * ```
 * @module
 */

import type { XmlElement } from "../xml/element.ts";
import type { Session } from "../session/types.ts";
import type { BackoffOptions } from "./backoff.ts";
import type { ClientError } from "./errors.ts";
import type { AuthState } from "./auth.ts";
import type { IqTracker } from "./iq.ts";
import type { SmState } from "./sm.ts";
import type { ClearTimer, SetTimer, StepResult, TimerFired } from "../reducer.ts";

/** Configuration of a client. `domain` and `endpoints` are required. */
export interface ClientConfig {
  /** The XMPP domain (`to` of `<open/>`, and of the JID). */
  readonly domain: string;
  /** WebSocket URLs to try in turn (from the configuration or from discovery). */
  readonly endpoints: readonly string[];
  /** The account's local part (SASL authentication identity). */
  readonly username?: string;
  /** The password (kept in the state, never sent in clear text: see `allowPlain`). */
  readonly password?: string;
  /** Log in with ANONYMOUS instead of credentials. */
  readonly anonymous?: boolean;
  /** The resource to ask for (default: the server chooses). */
  readonly resource?: string;
  /** `xml:lang` of the stream. */
  readonly lang?: string;
  /** Allow PLAIN over an unencrypted, non-loopback connection (default false). */
  readonly allowPlain?: boolean;
  /** Allow `ws:` endpoints and redirects to `ws:` on any host (default false: loopback only). */
  readonly allowInsecure?: boolean;
  /** Enable XEP-0198 with resumption when offered (default true). */
  readonly streamManagement?: boolean;
  /** Ask for an acknowledgement once this many stanzas are unacknowledged (default 5). */
  readonly ackEvery?: number;
  /** Inbound silence before a liveness probe, in ms (default 30 000; must be below 60 000). */
  readonly probeAfterMs?: number;
  /** How long a probe may go unanswered, in ms (default 15 000). */
  readonly probeTimeoutMs?: number;
  /** Time allowed from the WebSocket opening to being online, in ms (default 30 000). */
  readonly negotiationTimeoutMs?: number;
  /** Default iq timeout, in ms (default 30 000). */
  readonly iqTimeoutMs?: number;
  /** How long to wait for the server's stream header, in ms (default 10 000). */
  readonly openTimeoutMs?: number;
  /** How long to wait for the server's `<close/>`, in ms (default 5 000). */
  readonly closeTimeoutMs?: number;
  /** Reconnect after a transient failure once online (default true). */
  readonly reconnect?: boolean;
  /** The backoff curve between reconnection attempts. */
  readonly backoff?: BackoffOptions;
  /** Most `see-other-uri` redirects in a row before giving up (default 5, RFC 6120 §4.9.3.19). */
  readonly maxRedirects?: number;
  /** Most stanzas kept while offline (default 1 000); beyond, `send` throws. */
  readonly maxQueue?: number;
}

/** A configuration with every default filled in (see {@link ClientConfig} for each field). */
export interface ResolvedClientConfig {
  /** The service domain (the `to` of the stream). */
  readonly domain: string;
  /** The WebSocket URLs to try, in order. */
  readonly endpoints: readonly string[];
  /** The account's username (local part), unless anonymous. */
  readonly username: string | undefined;
  /** The account's password (never logged). */
  readonly password: string | undefined;
  /** Log in with SASL ANONYMOUS. */
  readonly anonymous: boolean;
  /** The resource to ask for (the server chooses when undefined). */
  readonly resource: string | undefined;
  /** The `xml:lang` to request. */
  readonly lang: string | undefined;
  /** Allow SASL PLAIN over an insecure transport that is not loopback. */
  readonly allowPlain: boolean;
  /** Allow `ws:` endpoints that are not loopback. */
  readonly allowInsecure: boolean;
  /** Use XEP-0198 stream management when offered. */
  readonly streamManagement: boolean;
  /** Ask for an XEP-0198 ack after this many stanzas. */
  readonly ackEvery: number;
  /** Inbound silence, in ms, before a liveness probe. */
  readonly probeAfterMs: number;
  /** How long a liveness probe may go unanswered, in ms. */
  readonly probeTimeoutMs: number;
  /** How long the login may take, in ms. */
  readonly negotiationTimeoutMs: number;
  /** Default timeout of an iq request, in ms. */
  readonly iqTimeoutMs: number;
  /** How long to wait for the server's stream header, in ms. */
  readonly openTimeoutMs: number;
  /** How long to wait for the server's `<close/>`, in ms. */
  readonly closeTimeoutMs: number;
  /** Reconnect after a transient failure once online. */
  readonly reconnect: boolean;
  /** The backoff curve between reconnection attempts. */
  readonly backoff: Required<BackoffOptions>;
  /** Most `see-other-uri` redirects in a row. */
  readonly maxRedirects: number;
  /** Most stanzas kept while offline. */
  readonly maxQueue: number;
}

/** What the client is doing, as the application sees it. */
export type ClientStatus =
  | "idle"
  | "connecting"
  | "online"
  /** Waiting before the next attempt (after a transient failure). */
  | "reconnecting"
  | "closing"
  /** Terminal. */
  | "closed";

/** The timers a client asks for (one of each at most): its timer key. */
export type ClientTimer = "open" | "close" | "liveness" | "iq" | "reconnect";

/** Where one connection's login stands. */
export type Stage =
  /** The WebSocket is opening. */
  | "connecting"
  /** Waiting for the stream header and features. */
  | "opening"
  | "authenticating"
  /** SASL succeeded; the restarted stream's features are awaited. */
  | "restarting"
  | "resuming"
  | "binding"
  /** The legacy session request (RFC 3921) is in flight. */
  | "establishing"
  | "enabling"
  | "online"
  /** Our `<close/>` is sent (or the stream is ending). */
  | "closing";

/** One WebSocket connection and its stream. */
export interface ConnectionState {
  /** The WebSocket URL of this connection. */
  readonly url: string;
  /** Whether the URL is `wss:`. */
  readonly secure: boolean;
  /** Whether the host is a loopback address or `localhost`. */
  readonly loopback: boolean;
  /** The core session (RFC 7395 framing, open/close handshakes). */
  readonly session: Session;
  /** Where the login stands. */
  readonly stage: Stage;
  /** The stream header arrived at least once. */
  readonly streamOpened: boolean;
  /** The SASL exchange in progress, if any. */
  readonly auth: AuthState | undefined;
  /** Prefix of ids of the client's own iqs on this connection. */
  readonly idPrefix: string;
  /** How many of the client's own iqs were sent on this connection. */
  readonly counter: number;
  /** The id of the client's own request in flight (bind or session). */
  readonly pendingId: string | undefined;
  /** The features of the current stream. */
  readonly features: XmlElement | undefined;
  /** When the WebSocket opened. */
  readonly openedAt: number | undefined;
  /** When something last arrived from the server. */
  readonly lastInbound: number;
  /** When the liveness probe in flight was sent, if one is. */
  readonly probeSentAt: number | undefined;
  /** XEP-0198 is enabled (or resumed) on this connection: stanzas are counted. */
  readonly smActive: boolean;
  /** Why the connection is ending, once known (the first reason wins). */
  readonly error: ClientError | undefined;
  /** The stream was closed cleanly by our `<close/>`. */
  readonly closedCleanly: boolean;
}

/**
 * The whole client: readonly data around the connection's core session, whose codec holds its
 * parser. A linear value: a state given to `clientStep` is spent (stepping it again throws
 * `XmppUsageError`); keep the state the step returned.
 */
export interface ClientState {
  /** The configuration, defaults filled in. */
  readonly config: ResolvedClientConfig;
  /** What the client is doing, as the application sees it. */
  readonly status: ClientStatus;
  /** The live connection, if any (never more than one). */
  readonly connection: ConnectionState | undefined;
  /** Index in `endpoints` of the current (or next) attempt. */
  readonly candidate: number;
  /** Candidates tried since the last success or backoff. */
  readonly tried: number;
  /** A `see-other-uri` target to use for the next attempt. */
  readonly redirectTo: string | undefined;
  /** Consecutive backoff rounds (reset once online). */
  readonly attempt: number;
  /** Consecutive redirects (reset once online). */
  readonly redirects: number;
  /** The client was online at least once (before that, failures are not retried). */
  readonly everOnline: boolean;
  /** The full JID of the current (or last) session. */
  readonly jid: string | undefined;
  /** XEP-0198 state: of the live stream, or kept for resumption. */
  readonly sm: SmState | undefined;
  /** When the connection carrying a resumable `sm` was lost. */
  readonly smLostAt: number | undefined;
  /** iq requests in flight (they survive a resumption). */
  readonly iqs: IqTracker;
  /** When the iq timer is armed for, if it is. */
  readonly iqTimerAt: number | undefined;
  /** Stanzas sent while offline, to send once online. */
  readonly outbox: readonly XmlElement[];
  /** The application asked to close. */
  readonly closeRequested: boolean;
  /** Why the client stopped, once closed. */
  readonly error: ClientError | undefined;
}

/** Fields every input carries. */
export interface ClientInputBase {
  /** The time, in ms, on a monotonic clock (every `at` in outputs uses the same clock). */
  readonly now: number;
  /** A fresh random string (e.g. `crypto.randomUUID()`): SCRAM nonces, ids, jitter. */
  readonly random: string;
}

/** What the adapter and the application tell the client. */
export type ClientInput =
  /** Start connecting (once, from `idle`). */
  | ClientInputBase & { readonly type: "connect" }
  /** The WebSocket opened with this negotiated subprotocol (`""` for none). */
  | ClientInputBase & { readonly type: "transport-opened"; readonly protocol: string }
  | ClientInputBase & { readonly type: "text-received"; readonly data: string }
  | ClientInputBase & { readonly type: "binary-received"; readonly byteLength: number }
  /** The WebSocket closed, or failed to open. */
  | ClientInputBase & {
    readonly type: "transport-closed";
    readonly code?: number;
    readonly reason?: string;
  }
  | ClientInputBase & TimerFired<ClientTimer>
  /** Send a stanza (queued while offline). */
  | ClientInputBase & { readonly type: "send"; readonly element: XmlElement }
  /** Send an iq get or set (with its id) and wait for its response. */
  | ClientInputBase & {
    readonly type: "send-iq";
    readonly element: XmlElement;
    readonly timeoutMs?: number;
  }
  /** Close: the close handshake when online, else stop at once. */
  | ClientInputBase & { readonly type: "close" };

/** Why queued or sent stanzas were not delivered. */
export type StanzaFailure =
  /** XEP-0198 resumption failed; the server did not acknowledge them. */
  | "resume-failed"
  /** The session ended without resumption (no XEP-0198, or the server ended the stream). */
  | "session-lost"
  /** The client closed (or gave up) before they could be sent or acknowledged. */
  | "closed";

/** What the client asks of the adapter, and tells the application. */
export type ClientOutput =
  /** Open a WebSocket to `url` with the subprotocol `xmpp`; report `transport-opened`. */
  | { readonly type: "open-transport"; readonly url: string }
  | { readonly type: "send-text"; readonly text: string }
  /** Close the WebSocket and stop reporting its events (the client no longer waits for it). */
  | { readonly type: "close-transport"; readonly code: number; readonly reason: string }
  | SetTimer<ClientTimer>
  | ClearTimer<ClientTimer>
  | { readonly type: "status-changed"; readonly status: ClientStatus }
  /** Logged in (or resumed): stanzas flow. */
  | {
    readonly type: "online";
    readonly jid: string;
    readonly resumed: boolean;
    /** Whether XEP-0198 is enabled on this session. */
    readonly streamManagement: boolean;
  }
  /** A stanza for the application (iq responses to tracked requests excepted). */
  | { readonly type: "stanza-received"; readonly element: XmlElement }
  /** The response (result or error) to a tracked iq. */
  | { readonly type: "iq-answered"; readonly id: string; readonly element: XmlElement }
  | {
    readonly type: "iq-failed";
    readonly id: string;
    readonly reason: "timeout" | "session-lost" | "closed";
  }
  /** The server acknowledged these stanzas (XEP-0198). */
  | { readonly type: "stanzas-acked"; readonly elements: readonly XmlElement[] }
  /** These stanzas were (probably) not delivered. */
  | {
    readonly type: "stanzas-failed";
    readonly elements: readonly XmlElement[];
    readonly reason: StanzaFailure;
  }
  /** The connection ended; the next attempt starts at `retryAt` (`now` for at once). */
  | { readonly type: "disconnected"; readonly error: ClientError; readonly retryAt: number }
  /** Terminal: the client stopped (`error` undefined after a clean `close`). */
  | { readonly type: "closed"; readonly error: ClientError | undefined };

/** The result of one client step: `{ state, outputs }` (the state given to the step is spent). */
export type ClientStepResult = StepResult<ClientState, ClientOutput>;
