/**
 * Types of the gateway: an RFC 7395 server session toward the browser and an RFC 6120 client
 * session toward the XMPP server, joined by a pure bridge.
 *
 * @example
 * ```ts
 * import type { GatewayInput } from "@xmpp-websocket/xmpp-websocket/gateway";
 * import { assertEquals } from "@std/assert";
 * const input: GatewayInput = { type: "upstream-failed", now: 0, reason: "connection refused" };
 * assertEquals(input.type, "upstream-failed");
 * ```
 * @module
 */

import type { Input, Output, Session, TimerName } from "../session/types.ts";
import type { ClearTimer, Notice, SetTimer, StepResult, TimerFired } from "../reducer.ts";
import type { XmlElement } from "../xml/element.ts";
import type { RawElement } from "../xml/raw_element.ts";
import type { XmlLimits } from "../xml/limits.ts";
import type { StreamErrorCondition } from "../stream_errors.ts";

/** How the gateway treats TLS toward the upstream server. */
export type UpstreamTls =
  /** STARTTLS when offered, plain otherwise (for loopback or trusted links). */
  | "optional"
  /** STARTTLS must succeed; a server that does not offer it is refused. */
  | "required"
  /** The connection is TLS from the first byte (XEP-0368 direct TLS); no STARTTLS. */
  | "direct"
  /** Never STARTTLS (the server must not require it). */
  | "off";

/** Gateway configuration (pure protocol policy; addresses live in the adapter). */
export interface GatewayConfig {
  /** Domains the client may name in `<open to>`; anything else gets `host-unknown`. */
  readonly domains: readonly string[];
  /** TLS policy toward the upstream server (default `optional`). */
  readonly upstreamTls?: UpstreamTls;
  /** Limits on client messages (RFC 7395 side). */
  readonly clientLimits?: Partial<XmlLimits>;
  /** Limits on upstream first-level elements (RFC 6120 side; default maxBytes 1 MiB, maxElements 100 000). */
  readonly upstreamLimits?: Partial<XmlLimits>;
  /** Client elements held while the upstream stream is not ready (default 64). */
  readonly maxBufferedElements?: number;
  /** Timeouts (ms) for stream headers and close handshakes on both sides. */
  readonly openTimeoutMs?: number;
  /** Timeout (ms) for the close handshakes on both sides. */
  readonly closeTimeoutMs?: number;
  /**
   * Upstream `see-other-host` targets mapped to WebSocket URLs: `{ "xmpp2.example.com":
   * "wss://xmpp2.example.com/xmpp-websocket" }`. Unmapped redirects are reported as errors.
   */
  readonly seeOtherHost?: Readonly<Record<string, string>>;
  /** Also serve draft-00 WebSocket clients (digest §3); off by default. */
  readonly legacyFraming?: boolean;
  /** Stream error sent to the client when the upstream cannot be reached. */
  readonly upstreamFailureCondition?: StreamErrorCondition;
  /**
   * Failed SASL attempts allowed per stream before the gateway ends it with
   * `policy-violation` (RFC 6120 §6.4.5: a reasonable number of retries; default 3), whatever
   * the upstream server allows.
   */
  readonly maxAuthFailures?: number;
}

/** Where the bridge stands. */
export type GatewayPhase =
  | "waiting-open"
  | "connecting"
  | "negotiating"
  | "relaying"
  | "ended";

/**
 * The state of one gateway connection. A linear value: it holds two core sessions whose codecs
 * change in place, so a gateway given to `gatewayStep` is spent (stepping it again throws
 * `XmppUsageError`); keep the gateway the step returned.
 */
export interface Gateway {
  /** The configuration, defaults filled in. */
  readonly config: ResolvedGatewayConfig;
  /** Where the bridge stands. */
  readonly phase: GatewayPhase;
  /** The RFC 7395 server session (toward the browser). */
  readonly client: Session;
  /** The RFC 6120 client session (toward the server), once `<open/>` arrived. */
  readonly upstream: Session | undefined;
  /** The upstream stream id to hand to the client with the features. */
  readonly upstreamId: string | undefined;
  /** Whether the next upstream features answer a client `<open/>` (accept-stream due). */
  readonly awaitingFeatures: boolean;
  /** Client elements waiting for the upstream stream. */
  readonly buffer: readonly (XmlElement | RawElement)[];
  /**
   * Whether the upstream stream is authenticated (SASL `<success/>`, or SASL2 `<success/>`).
   * Before that the gateway relays only authentication (and, when the server offered it,
   * XEP-0077 registration): RFC 6120 §4.9.3.12 (issue 8, finding 5).
   */
  readonly authenticated: boolean;
  /** Whether the upstream's features offered XEP-0077 in-band registration before login. */
  readonly registrationOffered: boolean;
  /** SASL `<failure/>`s the upstream sent on this stream (counted whatever the server allows). */
  readonly authFailures: number;
  /** SASL `<auth/>` (or SASL2 `<authenticate/>`) elements the client sent on this stream. */
  readonly authAttempts: number;
}

/** The configuration with defaults filled in. */
export interface ResolvedGatewayConfig {
  /** Domains the client may name in `<open to>`. */
  readonly domains: readonly string[];
  /** TLS policy toward the upstream server. */
  readonly upstreamTls: UpstreamTls;
  /** Limits on client messages. */
  readonly clientLimits: Partial<XmlLimits>;
  /** Limits on upstream first-level elements. */
  readonly upstreamLimits: Partial<XmlLimits>;
  /** Client elements held while the upstream stream is not ready. */
  readonly maxBufferedElements: number;
  /** Timeout for stream headers, in ms. */
  readonly openTimeoutMs: number;
  /** Timeout for close handshakes, in ms. */
  readonly closeTimeoutMs: number;
  /** Upstream host names (peer text) to see-other-uri targets: a `Map`, never an object. */
  readonly seeOtherHost: ReadonlyMap<string, string>;
  /** Stream error sent to the client when the upstream cannot be reached. */
  readonly upstreamFailureCondition: StreamErrorCondition;
  /** Whether draft-00 WebSocket clients are served. */
  readonly legacyFraming: boolean;
  /** Failed SASL attempts allowed per stream. */
  readonly maxAuthFailures: number;
}

/** Which of the gateway's two sessions: toward the browser, or toward the XMPP server. */
export type GatewaySide = "client" | "upstream";

/** The gateway's timers: a timer of one side's session. */
export type GatewayTimerKey = {
  /** Whose timer. */
  readonly side: GatewaySide;
  /** The session's timer. */
  readonly kind: TimerName;
};

/** A session input the adapter reports for one side (timers come as the gateway's own). */
export type SideInput = Exclude<Input, { readonly type: "timer-fired" }>;

/** A session output the adapter carries out on one side (timers go out as the gateway's own). */
export type SideOutput = Exclude<Output, { readonly type: "set-timer" | "clear-timer" }>;

/** Inputs of the gateway: an input for one side, a timer, or an adapter report. */
export type GatewayInput =
  | { readonly type: "client"; readonly input: SideInput }
  | { readonly type: "upstream"; readonly input: SideInput }
  /** A timer armed by a `set-timer` output fired. */
  | TimerFired<GatewayTimerKey> & { readonly now: number }
  /** The upstream TCP (or TLS) connection could not be made. */
  | { readonly type: "upstream-failed"; readonly now: number; readonly reason: string }
  /**
   * The upstream does not take data fast enough: the adapter's bounded write queue is full.
   * The session ends with `resource-constraint` (no unbounded queue anywhere).
   */
  | { readonly type: "upstream-backlogged"; readonly now: number }
  /**
   * A limit of the endpoint ends the session: the client did not authenticate in time
   * (`connection-timeout`), or does not read what is sent to it (`resource-constraint`). The
   * upstream connection is closed without its footer, as for a dropped client, so that an
   * XEP-0198 session stays resumable on the server.
   */
  | {
    readonly type: "client-limit";
    readonly now: number;
    readonly condition: "connection-timeout" | "resource-constraint";
    readonly text: string;
  }
  /** Operator action: end the session (shutdown drain), optionally moving the client. */
  | { readonly type: "shutdown"; readonly now: number; readonly seeOtherUri?: string };

/** Orders for the adapter (per side, and timers) and notices for logs and metrics. */
export type GatewayOutput =
  | { readonly type: "client"; readonly output: SideOutput }
  | { readonly type: "upstream"; readonly output: SideOutput }
  /** Arm (or re-arm) a side's timer; report `timer-fired` with the same key. */
  | SetTimer<GatewayTimerKey>
  | ClearTimer<GatewayTimerKey>
  /** Open the upstream connection for `domain` (the adapter knows the address). */
  | { readonly type: "connect-upstream"; readonly domain: string; readonly now: number }
  /** Something worth a log line or a metric. */
  | Notice;

/** The result of one gateway step: `{ state, outputs }` (the gateway given to the step is spent). */
export type GatewayStepResult = StepResult<Gateway, GatewayOutput>;
