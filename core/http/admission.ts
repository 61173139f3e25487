/**
 * Admission control of WebSocket upgrades, decided before the upgrade and shared by every
 * endpoint (gateway and embedded server, Deno and Node): connections in total and per client
 * address, connections not yet authenticated per address, and new connections per address per
 * second (a token bucket). A refusal is an HTTP 503 with `Retry-After`.
 *
 * Pure: the state lives in the {@link Admission} object and `now` (ms) comes in with each call.
 * Addresses are grouped by {@link addressKey} (an IPv6 client owns a whole /64, so it counts
 * as one). Memory is bounded: addresses with open connections are at most `maxConnections`;
 * those remembered only for their rate (no connection open) are at most `maxTrackedAddresses`,
 * the least recently seen forgotten first.
 *
 * A connection also gets a pre-authentication deadline: `preAuthTimeoutMs` after admission the
 * endpoint asks {@link Admission.expired}, and ends the connection (`connection-timeout`)
 * unless it has authenticated meanwhile.
 *
 * @example
 * ```ts
 * import { Admission } from "./admission.ts";
 * const admission = new Admission({ maxPerAddress: 1 });
 * const first = admission.admit("203.0.113.7", 0);
 * const second = admission.admit("203.0.113.7", 0);
 * console.log(first.ok, second.ok ? "" : second.reason); // true "per-address"
 * if (first.ok) admission.release(first.ticket, 10);
 * console.log(admission.admit("203.0.113.7", 20).ok); // true
 * ```
 * @module
 */

import { parseIp } from "./ip.ts";

/** The limits of admission control (every one has a default, {@link ADMISSION_DEFAULTS}). */
export interface AdmissionLimits {
  /** WebSocket connections open at once, in total. */
  readonly maxConnections: number;
  /** Connections open at once from one address. */
  readonly maxPerAddress: number;
  /** Connections open at once from one address that have not authenticated yet. */
  readonly maxUnauthenticatedPerAddress: number;
  /** New connections per address per second (sustained rate). */
  readonly newPerSecond: number;
  /** New connections one address may open at once before the rate applies. */
  readonly newBurst: number;
  /** Addresses remembered for their rate once they have no connection open (oldest forgotten). */
  readonly maxTrackedAddresses: number;
  /** Leading bits of an IPv6 address that name one client (64: a /64 is one client). */
  readonly ipv6PrefixBits: number;
  /** Time from admission to authentication, ms; then the connection ends (connection-timeout). */
  readonly preAuthTimeoutMs: number;
}

/** The defaults of {@link AdmissionLimits}. */
export const ADMISSION_DEFAULTS: AdmissionLimits = {
  maxConnections: 10_000,
  maxPerAddress: 200,
  maxUnauthenticatedPerAddress: 20,
  newPerSecond: 10,
  newBurst: 40,
  maxTrackedAddresses: 65_536,
  ipv6PrefixBits: 64,
  preAuthTimeoutMs: 20_000,
};

/** Why an upgrade was refused. */
export type AdmissionRefusal = "total" | "per-address" | "unauthenticated" | "rate";

/** One admitted connection: give it back with {@link Admission.release}. */
export interface AdmissionTicket {
  /** The address group the connection counts against. */
  readonly key: string;
  /** When the connection must have authenticated (the clock of `now`). */
  readonly authDeadline: number;
  /** Whether {@link Admission.authenticated} was called for it. */
  authenticated: boolean;
  /** Whether {@link Admission.release} was called for it. */
  released: boolean;
}

/** The decision on one upgrade. */
export type AdmissionDecision =
  | { readonly ok: true; readonly ticket: AdmissionTicket }
  | {
    readonly ok: false;
    readonly reason: AdmissionRefusal;
    /** Whole seconds for the `Retry-After` header (at least 1). */
    readonly retryAfterSeconds: number;
  };

/** Counters for metrics. */
export interface AdmissionStats {
  /** Connections admitted and not released. */
  readonly open: number;
  /** Of those, not authenticated yet. */
  readonly unauthenticated: number;
  /** Address groups with connections open. */
  readonly activeAddresses: number;
  /** Address groups remembered for their rate only. */
  readonly idleAddresses: number;
  /** Connections admitted since the start. */
  readonly admitted: number;
  /** Upgrades refused since the start, by reason. */
  readonly refused: Readonly<Record<AdmissionRefusal, number>>;
  /** Connections ended for not authenticating in time. */
  readonly preAuthTimeouts: number;
}

interface AddressState {
  open: number;
  unauthenticated: number;
  tokens: number;
  at: number;
}

/** Seconds to suggest in `Retry-After` for the caps (a connection may end any moment). */
const RETRY_AFTER_CAP_SECONDS = 5;

/**
 * The key an address counts under: IPv4 (IPv4-mapped IPv6 included) as is, IPv6 cut to its
 * first `ipv6PrefixBits` bits (`2001:db8:1:2::/64`), anything else (`unknown`, a name) as given,
 * lowercased and cut to 64 characters.
 *
 * @example
 * ```ts
 * import { addressKey } from "./admission.ts";
 * console.log(addressKey("2001:db8:1:2:aaaa::1"), addressKey("::ffff:192.0.2.1")); // "2001:db8:1:2::/64" "192.0.2.1"
 * ```
 */
export function addressKey(address: string, ipv6PrefixBits = 64): string {
  const ip = parseIp(address);
  if (ip === undefined) return address.slice(0, 64).toLowerCase();
  if (ip.family === 4) return ip.text;
  const bits = Math.max(0, Math.min(128, ipv6PrefixBits));
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) {
    const start = i * 16;
    if (start >= bits) break;
    const word = (ip.bytes[2 * i]! << 8) | ip.bytes[2 * i + 1]!;
    const keep = Math.min(16, bits - start);
    groups.push(((word >> (16 - keep)) << (16 - keep)).toString(16));
  }
  return `${groups.join(":")}${groups.length < 8 ? "::" : ""}/${bits}`;
}

/**
 * Validates limits and fills in defaults. Throws `RangeError` naming a bad value.
 *
 * @example
 * ```ts
 * import { admissionLimits } from "./admission.ts";
 * console.log(admissionLimits({ maxPerAddress: 5 }).maxPerAddress); // 5
 * ```
 */
export function admissionLimits(options: Partial<AdmissionLimits> = {}): AdmissionLimits {
  const limits: Record<string, number> = { ...ADMISSION_DEFAULTS };
  for (const [key, value] of Object.entries(options)) {
    if (key in ADMISSION_DEFAULTS && value !== undefined) limits[key] = value;
  }
  for (const key of Object.keys(ADMISSION_DEFAULTS)) {
    const value = limits[key]!;
    const positive = key === "newPerSecond" || key === "preAuthTimeoutMs"
      ? value > 0 && Number.isFinite(value)
      : Number.isInteger(value) && value >= 1;
    if (!positive || (key === "ipv6PrefixBits" && value > 128)) {
      throw new RangeError(`Invalid admission limit ${key}: ${value}`);
    }
  }
  return limits as unknown as AdmissionLimits;
}

/** The admission state of one endpoint. See the module documentation. */
export class Admission {
  /** The limits in force (validated, defaults filled in). */
  readonly limits: AdmissionLimits;
  /** Address groups with connections open. */
  readonly #active = new Map<string, AddressState>();
  /** Address groups with none open, kept for their rate, least recently seen first. */
  readonly #idle = new Map<string, AddressState>();
  #open = 0;
  #unauthenticated = 0;
  #admitted = 0;
  #preAuthTimeouts = 0;
  readonly #refused: Record<AdmissionRefusal, number> = {
    total: 0,
    "per-address": 0,
    unauthenticated: 0,
    rate: 0,
  };

  /** Throws `RangeError` on invalid limits. */
  constructor(limits: Partial<AdmissionLimits> = {}) {
    this.limits = admissionLimits(limits);
  }

  /**
   * Decides an upgrade from `address` (the client address, see `resolveClientAddress`).
   *
   * @example
   * ```ts
   * import { Admission } from "./admission.ts";
   * const admission = new Admission({ newPerSecond: 1, newBurst: 1 });
   * console.log(admission.admit("192.0.2.1", 0).ok, admission.admit("192.0.2.1", 0)); // true { ok: false, reason: "rate", retryAfterSeconds: 1 }
   * ```
   */
  admit(address: string, now: number): AdmissionDecision {
    const limits = this.limits;
    const key = addressKey(address, limits.ipv6PrefixBits);
    this.#forgetOldestIfRefilled(now);
    if (this.#open >= limits.maxConnections) return this.#refuse("total", RETRY_AFTER_CAP_SECONDS);
    const state = this.#active.get(key) ?? this.#idle.get(key) ??
      { open: 0, unauthenticated: 0, tokens: limits.newBurst, at: now };
    const elapsed = Math.max(0, now - state.at);
    const tokens = Math.min(limits.newBurst, state.tokens + (elapsed * limits.newPerSecond) / 1000);
    if (tokens < 1) {
      return this.#refuse("rate", Math.max(1, Math.ceil((1 - tokens) / limits.newPerSecond)));
    }
    if (state.open >= limits.maxPerAddress) {
      return this.#refuse("per-address", RETRY_AFTER_CAP_SECONDS);
    }
    if (state.unauthenticated >= limits.maxUnauthenticatedPerAddress) {
      return this.#refuse("unauthenticated", RETRY_AFTER_CAP_SECONDS);
    }
    state.tokens = tokens - 1;
    state.at = Math.max(now, state.at);
    state.open++;
    state.unauthenticated++;
    this.#idle.delete(key);
    this.#active.set(key, state);
    this.#open++;
    this.#unauthenticated++;
    this.#admitted++;
    return {
      ok: true,
      ticket: {
        key,
        authDeadline: now + limits.preAuthTimeoutMs,
        authenticated: false,
        released: false,
      },
    };
  }

  /**
   * The connection's client has authenticated: it no longer counts as unauthenticated, and its
   * pre-authentication deadline no longer applies. Repeated calls change nothing.
   *
   * @example
   * ```ts
   * import { Admission } from "./admission.ts";
   * const admission = new Admission({ maxUnauthenticatedPerAddress: 1 });
   * const first = admission.admit("192.0.2.1", 0);
   * if (first.ok) admission.authenticated(first.ticket);
   * console.log(admission.admit("192.0.2.1", 0).ok); // true
   * ```
   */
  authenticated(ticket: AdmissionTicket): void {
    if (ticket.authenticated || ticket.released) return;
    ticket.authenticated = true;
    const state = this.#active.get(ticket.key);
    if (state) state.unauthenticated--;
    this.#unauthenticated--;
  }

  /**
   * Whether the connection must end now for not having authenticated by its deadline (the
   * endpoint asks when the deadline's timer fires, and ends it with `connection-timeout`).
   *
   * @example
   * ```ts
   * import { Admission } from "./admission.ts";
   * const admission = new Admission({ preAuthTimeoutMs: 100 });
   * const decision = admission.admit("192.0.2.1", 0);
   * if (decision.ok) console.log(admission.expired(decision.ticket, 50), admission.expired(decision.ticket, 100)); // false true
   * ```
   */
  expired(ticket: AdmissionTicket, now: number): boolean {
    const expired = !ticket.authenticated && !ticket.released && now >= ticket.authDeadline;
    if (expired) this.#preAuthTimeouts++;
    return expired;
  }

  /**
   * The connection has ended. Repeated calls change nothing.
   *
   * @example
   * ```ts
   * import { Admission } from "./admission.ts";
   * const admission = new Admission();
   * const decision = admission.admit("192.0.2.1", 0);
   * if (decision.ok) admission.release(decision.ticket, 5);
   * console.log(admission.stats().open); // 0
   * ```
   */
  release(ticket: AdmissionTicket, now: number): void {
    if (ticket.released) return;
    ticket.released = true;
    this.#open--;
    if (!ticket.authenticated) this.#unauthenticated--;
    const state = this.#active.get(ticket.key);
    if (!state) return;
    state.open--;
    if (!ticket.authenticated) state.unauthenticated--;
    if (state.open > 0) return;
    this.#active.delete(ticket.key);
    // Kept for its rate only while the bucket is not full again.
    const elapsed = Math.max(0, now - state.at);
    const tokens = state.tokens + (elapsed * this.limits.newPerSecond) / 1000;
    if (tokens >= this.limits.newBurst) return;
    this.#idle.set(ticket.key, state);
    for (const oldest of this.#idle.keys()) {
      if (this.#idle.size <= this.limits.maxTrackedAddresses) break;
      this.#idle.delete(oldest);
    }
  }

  /**
   * Counters for metrics.
   *
   * @example
   * ```ts
   * import { Admission } from "./admission.ts";
   * console.log(new Admission().stats().refused.rate); // 0
   * ```
   */
  stats(): AdmissionStats {
    return {
      open: this.#open,
      unauthenticated: this.#unauthenticated,
      activeAddresses: this.#active.size,
      idleAddresses: this.#idle.size,
      admitted: this.#admitted,
      refused: { ...this.#refused },
      preAuthTimeouts: this.#preAuthTimeouts,
    };
  }

  /** Forgets the least recently seen idle address once its bucket is full again (O(1)). */
  #forgetOldestIfRefilled(now: number): void {
    for (const [key, state] of this.#idle) {
      const refilled = state.tokens +
        (Math.max(0, now - state.at) * this.limits.newPerSecond) / 1000;
      if (refilled >= this.limits.newBurst) this.#idle.delete(key);
      return;
    }
  }

  #refuse(reason: AdmissionRefusal, retryAfterSeconds: number): AdmissionDecision {
    this.#refused[reason]++;
    return { ok: false, reason, retryAfterSeconds };
  }
}
