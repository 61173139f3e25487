/**
 * Types of the hub: the pure, in-memory XMPP server that sits behind the RFC 7395 session
 * reducer of every client connection (issue 4). One hub serves one domain and all its
 * connections; `hubStep(hub, input) -> { hub, outputs }` is its only transition.
 *
 * Inputs are facts reported by the adapter, in the past tense; each carries `now` (ms, the
 * adapter's clock) and `random` (a fresh unpredictable string, at least 18 printable characters
 * without comma, used for SASL nonces, generated resources and stream management ids). Outputs
 * are orders to the adapter named after the session inputs that carry them out (`accept-stream`,
 * `send-element`, `fail-stream`, `close-stream`), timers keyed by {@link HubTimerKey}, and
 * `notice`s for logs and metrics (the reducer contract of `core/reducer.ts`).
 *
 * @example
 * ```ts
 * import type { HubInput } from "@xmpp-websocket/xmpp-websocket/server";
 * import { assertEquals } from "@std/assert";
 * const input: HubInput = { type: "timer-fired", now: 0, random: "r", timer: { kind: "login", connId: "c1" } };
 * assertEquals(input.type, "timer-fired");
 * ```
 * @module
 */

import type { XmlElement } from "../xml/element.ts";
import type { StreamAttributes } from "../framing/types.ts";
import type { StreamErrorCondition } from "../stream_errors.ts";
import type { SaslServerState, StoredAccount } from "../sasl/types.ts";
import type { PlainDerivation, PlainPending } from "../sasl/plain.ts";
import type { LoginLimits, LoginLimitSettings } from "./login_limits.ts";
import type { ClearTimer, Notice, SetTimer, StepResult, TimerFired } from "../reducer.ts";

/** A stanza rate limit: a token bucket refilled at `perSecond`, holding at most `burst`. */
export interface RateLimit {
  /** Tokens added per second. */
  readonly perSecond: number;
  /** The most tokens the bucket holds. */
  readonly burst: number;
}

/** Configuration of a hub. Only `domain` and `accounts` are required. */
export interface HubConfig {
  /** The domain served (the domain part of every account's JID). */
  readonly domain: string;
  /** The accounts, with SCRAM credentials only (never a password). */
  readonly accounts: readonly StoredAccount[];
  /** Failed SASL attempts allowed per connection before `policy-violation` (default 3). */
  readonly maxAuthAttempts?: number;
  /**
   * Time from the connection's first `<open/>` to a bound resource (or a resumed session),
   * in ms (default 60 000); then the stream ends with `connection-timeout`.
   */
  readonly loginTimeoutMs?: number;
  /** How long a dropped XEP-0198 session waits for resumption, in ms (default 300 000). */
  readonly hibernationMs?: number;
  /**
   * Unacknowledged stanzas kept per XEP-0198 session (default 500). Past it, a live session's
   * stream ends with `resource-constraint` (the session then waits for resumption with its
   * queue), a hibernating session ends.
   */
  readonly maxUnacked?: number;
  /**
   * The same bound in characters of serialized stanzas (default 2 MiB: 2 097 152), so that a
   * session's queue holds at most this much (plus the one stanza that passed it).
   */
  readonly maxUnackedBytes?: number;
  /**
   * Failed logins per client address and per account, with back-off (`temporary-auth-failure`
   * while refused; see `login_limits.ts` for the defaults).
   */
  readonly loginLimits?: Partial<LoginLimitSettings>;
  /**
   * Where PLAIN's PBKDF2 runs: `"inline"` (default: in the step, pure TypeScript) or
   * `"adapter"` (a `derive-key` output; the adapter answers with `key-derived`, e.g. from the
   * runtime's native asynchronous PBKDF2, so that logins never block its event loop).
   */
  readonly plainDerivation?: "inline" | "adapter";
  /** Elements accepted per connection (default 20 per second, bursts of 100). */
  readonly rate?: RateLimit;
  /** Connections at once, authenticated or not (default 1 000); more: `resource-constraint`. */
  readonly maxConnections?: number;
  /** Bound sessions at once, hibernated ones included (default 1 000). */
  readonly maxSessions?: number;
  /** Bound sessions per account (default 10). */
  readonly maxSessionsPerAccount?: number;
  /** XEP-0199: ping a client silent for this long, in ms (default 120 000; 0: never). */
  readonly pingIntervalMs?: number;
  /** XEP-0199: end the stream when a ping gets no traffic back within this, in ms (default 30 000). */
  readonly pingTimeoutMs?: number;
  /** The name in the server's XEP-0030 identity (default `xmpp-websocket`). */
  readonly serverName?: string;
  /**
   * A server-wide secret from which SCRAM answers for unknown usernames are derived, so that a
   * challenge does not reveal whether an account exists (default `""`: predictable). The
   * adapter passes a random one.
   */
  readonly saslSecret?: string;
  /** Items per roster (default 1 000); a new item beyond: `policy-violation`. */
  readonly maxRosterItems?: number;
  /** Characters in a roster item's `name` (default 1 024); longer: `not-acceptable`. */
  readonly maxRosterNameLength?: number;
  /** Groups per roster item (default 64); more: `not-acceptable`. */
  readonly maxRosterGroups?: number;
  /** Characters in a roster group name (default 1 024); longer: `not-acceptable`. */
  readonly maxRosterGroupLength?: number;
  /**
   * Entities a session has sent directed presence to and must tell when it goes unavailable
   * (RFC 6121 §4.6; default 100); a directed presence to one more: `resource-constraint`.
   */
  readonly maxDirectedPresences?: number;
  /**
   * Stanzas over the rate limit that a bound session may send in a row before its stream ends
   * with `policy-violation` (default 10 000). Below that each one is refused with a
   * `resource-constraint` (type `wait`) stanza error and the session stays usable.
   */
  readonly maxThrottled?: number;
}

/** A hub's configuration with every default filled in. */
export interface ResolvedHubConfig {
  /** `HubConfig.domain`, resolved. */
  readonly domain: string;
  /** `HubConfig.maxAuthAttempts`, resolved. */
  readonly maxAuthAttempts: number;
  /** `HubConfig.loginTimeoutMs`, resolved. */
  readonly loginTimeoutMs: number;
  /** `HubConfig.hibernationMs`, resolved. */
  readonly hibernationMs: number;
  /** `HubConfig.maxUnacked`, resolved. */
  readonly maxUnacked: number;
  /** `HubConfig.maxUnackedBytes`, resolved. */
  readonly maxUnackedBytes: number;
  /** `HubConfig.loginLimits`, resolved. */
  readonly loginLimits: Partial<LoginLimitSettings>;
  /** `HubConfig.plainDerivation`, resolved. */
  readonly plainDerivation: "inline" | "adapter";
  /** `HubConfig.rate`, resolved. */
  readonly rate: RateLimit;
  /** `HubConfig.maxConnections`, resolved. */
  readonly maxConnections: number;
  /** `HubConfig.maxSessions`, resolved. */
  readonly maxSessions: number;
  /** `HubConfig.maxSessionsPerAccount`, resolved. */
  readonly maxSessionsPerAccount: number;
  /** `HubConfig.pingIntervalMs`, resolved. */
  readonly pingIntervalMs: number;
  /** `HubConfig.pingTimeoutMs`, resolved. */
  readonly pingTimeoutMs: number;
  /** `HubConfig.serverName`, resolved. */
  readonly serverName: string;
  /** `HubConfig.saslSecret`, resolved. */
  readonly saslSecret: string;
  /** `HubConfig.maxRosterItems`, resolved. */
  readonly maxRosterItems: number;
  /** `HubConfig.maxRosterNameLength`, resolved. */
  readonly maxRosterNameLength: number;
  /** `HubConfig.maxRosterGroups`, resolved. */
  readonly maxRosterGroups: number;
  /** `HubConfig.maxRosterGroupLength`, resolved. */
  readonly maxRosterGroupLength: number;
  /** `HubConfig.maxDirectedPresences`, resolved. */
  readonly maxDirectedPresences: number;
  /** `HubConfig.maxThrottled`, resolved. */
  readonly maxThrottled: number;
}

/** A token bucket's state. */
export interface TokenBucket {
  /** Tokens left (fractional). */
  readonly tokens: number;
  /** When `tokens` was computed (the adapter's clock, ms). */
  readonly at: number;
}

/** Where a connection stands in the login. */
export type ConnectionStage = "connected" | "authenticated" | "bound";

/** One client connection (one RFC 7395 stream). */
export interface HubConnection {
  /** The adapter's connection id. */
  readonly id: string;
  /** wss, or declared secure by the operator. */
  readonly secure: boolean;
  /** From a loopback address (PLAIN is allowed, as over wss). */
  readonly loopback: boolean;
  /** The client's address (without port), for the failed-login limits; `""` when unknown. */
  readonly address: string;
  /** A PLAIN verification waiting for the adapter's `key-derived` (`plainDerivation: "adapter"`). */
  readonly pendingPlain: { readonly id: string; readonly pending: PlainPending } | undefined;
  /** Where the connection stands in the login. */
  readonly stage: ConnectionStage;
  /** A SASL exchange under way. */
  readonly sasl: SaslServerState | undefined;
  /** Failed SASL attempts so far. */
  readonly authFailures: number;
  /** The authenticated account (stage `authenticated` or `bound`). */
  readonly username: string | undefined;
  /** The full JID of the session (stage `bound`). */
  readonly jid: string | undefined;
  /** The stanza rate limit's bucket. */
  readonly bucket: TokenBucket;
  /** Stanzas refused in a row for going over the rate limit. */
  readonly throttled: number;
  /** When the client last sent anything. */
  readonly lastActivity: number;
  /** When the outstanding XEP-0199 ping was sent, if one is. */
  readonly pingSentAt: number | undefined;
}

/** XEP-0198 state of a session. Counters wrap at 2^32. */
export interface StreamManagement {
  /** The resumption id, when resumption was enabled. */
  readonly id: string | undefined;
  /** Stanzas handled from the client (the server's `h`). */
  readonly inbound: number;
  /** The client's last acknowledged `h`. */
  readonly acked: number;
  /** Stanzas sent (or queued while hibernating) and not acknowledged yet, oldest first. */
  readonly unacked: readonly XmlElement[];
  /** Their size, in characters of serialized XML (see `elementSize` of `_sm.ts`). */
  readonly unackedBytes: number;
  /** Whether an `<r/>` is outstanding. */
  readonly requested: boolean;
}

/** A bound resource: lives on a connection, or hibernates between connections (XEP-0198). */
export interface BoundSession {
  /** The full JID. */
  readonly jid: string;
  /** The account (the JID's local part). */
  readonly username: string;
  /** The connection carrying it; `undefined` while hibernating. */
  readonly connId: string | undefined;
  /** The last broadcast available presence (stamped); `undefined`: unavailable. */
  readonly presence: XmlElement | undefined;
  /** The presence priority (RFC 6121 §4.7.2.3). */
  readonly priority: number;
  /** Whether the client asked for the roster (it is an "interested resource", RFC 6121 §2.1.6). */
  readonly rosterRequested: boolean;
  /** Bare or full JIDs that got directed available presence (RFC 6121 §4.6). */
  readonly directed: readonly string[];
  /** XEP-0198 state, once the client enabled it. */
  readonly sm: StreamManagement | undefined;
  /**
   * Stanzas sent on this session's stream before XEP-0198 was enabled, the bind result included
   * (counted up to `maxUnacked`, then no more): what a client may wrongly have counted in its
   * `h` (see `core/server/_sm.ts`).
   */
  readonly sentBeforeSm: number;
}

/** A presence subscription state (RFC 6121 §2.1.2.5). */
export type Subscription = "none" | "to" | "from" | "both";

/** One roster item. */
export interface RosterItem {
  /** The contact's bare JID. */
  readonly jid: string;
  /** The name the user gave the contact, if any. */
  readonly name: string | undefined;
  /** The subscription state. */
  readonly subscription: Subscription;
  /** A subscription request sent by the user is pending (`ask='subscribe'`). */
  readonly ask: boolean;
  /** The groups the item is in. */
  readonly groups: readonly string[];
}

/** One account's roster, kept in memory only. */
export interface Roster {
  /** Items by the contact's bare JID. */
  readonly items: ReadonlyMap<string, RosterItem>;
  /** Bare JIDs whose subscription request to this account awaits an answer. */
  readonly pendingIn: ReadonlySet<string>;
}

/**
 * The state of the hub. A linear value: its maps are updated in place by `hubStep` (copying
 * them per step cost O(connections) per stanza), so a hub given to a step is spent (stepping
 * it again throws `XmppUsageError`); keep the hub the step returned. The `readonly` types say
 * that callers must not change it, not that steps do not.
 */
export interface Hub {
  /** The configuration, defaults filled in. */
  readonly config: ResolvedHubConfig;
  /** Accounts by (lowercase) username. */
  readonly accounts: ReadonlyMap<string, StoredAccount>;
  /** Client connections by connection id. */
  readonly connections: ReadonlyMap<string, HubConnection>;
  /** Bound sessions by full JID. */
  readonly sessions: ReadonlyMap<string, BoundSession>;
  /** XEP-0198 resumption ids to full JIDs. */
  readonly resumable: ReadonlyMap<string, string>;
  /** Rosters by account bare JID. */
  readonly rosters: ReadonlyMap<string, Roster>;
  /** Counter for the ids of stanzas the server generates. */
  readonly counter: number;
  /** Failed logins per address and per account (updated in place, like the maps). */
  readonly logins: LoginLimits;
}

/** Fields every input carries. */
export interface HubInputBase {
  /** The adapter's clock, ms. */
  readonly now: number;
  /** A fresh random string (at least 18 printable characters, no comma). */
  readonly random: string;
}

/** What the adapter tells the hub. */
export type HubInput =
  | HubInputBase & {
    readonly type: "connection-opened";
    readonly connId: string;
    readonly secure: boolean;
    readonly loopback: boolean;
    /** The client's address without port (for the failed-login limits; default `""`). */
    readonly address?: string;
  }
  | HubInputBase & {
    readonly type: "open-requested";
    readonly connId: string;
    readonly attributes: StreamAttributes;
    /** After SASL success (RFC 6120 §4.3.3). */
    readonly restart: boolean;
  }
  | HubInputBase & {
    readonly type: "element-received";
    readonly connId: string;
    readonly element: XmlElement;
  }
  | HubInputBase & {
    readonly type: "connection-ended";
    readonly connId: string;
    /**
     * False when the transport was lost without `<close/>` or a stream error: a session with
     * XEP-0198 resumption then hibernates instead of ending.
     */
    readonly clean: boolean;
    /**
     * The stream error this side sent, when the connection's session layer ended the stream
     * with one (bad XML, a frame too large, a timeout...): the hub logs it. Stream errors the
     * hub itself chose are logged when chosen.
     */
    readonly streamError?: { readonly condition: string; readonly text?: string };
  }
  | HubInputBase & TimerFired<HubTimerKey>
  /** The answer to a `derive-key` output: the derived bytes. */
  | HubInputBase & {
    readonly type: "key-derived";
    readonly connId: string;
    readonly id: string;
    readonly key: Uint8Array;
  };

/**
 * The hub's timers: the login timeout and the XEP-0199 keepalive of a connection, and the end
 * of an XEP-0198 hibernation (keyed by the resumption id).
 */
export type HubTimerKey =
  | { readonly kind: "login" | "ping"; readonly connId: string }
  | { readonly kind: "sm"; readonly id: string };

/**
 * The hub's log notice (the shared {@link Notice}).
 *
 * @deprecated Use `Notice`; kept while the bindings' entry points still name it.
 */
export type HubLogEvent = Notice;

/** What the hub asks of the adapter. */
export type HubOutput =
  /** Answer the connection's `<open/>` with these `<features/>` (the session's `accept-stream`). */
  | { readonly type: "accept-stream"; readonly connId: string; readonly features: XmlElement }
  /** Send an element on the connection (the session's `send-element`). */
  | { readonly type: "send-element"; readonly connId: string; readonly element: XmlElement }
  /** End the stream with a stream error (the session's `fail-stream`). */
  | {
    readonly type: "fail-stream";
    readonly connId: string;
    readonly condition: StreamErrorCondition;
    readonly text?: string;
    /** An application-specific condition (e.g. XEP-0198 `<handled-count-too-high/>`). */
    readonly extra?: XmlElement;
  }
  /** End the stream with `<close/>` (the session's `close-stream`). */
  | { readonly type: "close-stream"; readonly connId: string }
  /**
   * The connection's client has authenticated (SASL success): tell the endpoint, whose
   * admission control counts unauthenticated connections per address.
   */
  | { readonly type: "authenticated"; readonly connId: string }
  /**
   * Run this PBKDF2 derivation (`plainDerivation: "adapter"`) and report the bytes with a
   * `key-derived` input of the same `connId` and `id`. The password is in it: never log it.
   */
  | {
    readonly type: "derive-key";
    readonly connId: string;
    readonly id: string;
    readonly derivation: PlainDerivation;
  }
  /** Arm (or re-arm) a timer to fire at `at` (the clock of `now`); report `timer-fired`. */
  | SetTimer<HubTimerKey>
  | ClearTimer<HubTimerKey>
  /** Something worth a log line or a metric. */
  | Notice;

/** The result of one hub step: `{ state, outputs }` (the hub given to the step is spent). */
export type HubStepResult = StepResult<Hub, HubOutput>;
