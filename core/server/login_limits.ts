/**
 * Failed logins per client address and per account, with back-off (as ejabberd's
 * `mod_fail2ban` does for addresses): after `maxFailures` failures counted in a window, further
 * attempts are refused (`temporary-auth-failure`, before any password work) for a delay that
 * doubles with each further failure, from `baseBackoffMs` up to `maxBackoffMs`. Failures are
 * forgotten `windowMs` after the last one. Per account it protects against guessing spread over
 * many addresses, without locking the real user out for good: at worst it waits `maxBackoffMs`.
 * A successful login forgets its account's failures (never its address's).
 *
 * Pure: `now` (ms) comes in with each call; the state is this object, mutated in place (the hub
 * keeps it like its maps). Memory is bounded: at most `maxTracked` addresses and as many
 * usernames, the least recently failed forgotten first. IPv6 addresses count by /64; an empty
 * address (unknown) is not counted per address.
 *
 * @example
 * ```ts
 * import { LoginLimits } from "./login_limits.ts";
 * const limits = new LoginLimits({ maxFailuresPerAddress: 2, baseBackoffMs: 1_000 });
 * limits.failed("192.0.2.1", "alice", 0);
 * limits.failed("192.0.2.1", "bob", 10);
 * console.log(limits.refusedUntil("192.0.2.1", undefined, 20)); // 1010
 * console.log(limits.refusedUntil("192.0.2.1", undefined, 1_010)); // undefined
 * ```
 * @module
 */

import { addressKey } from "../http/admission.ts";

/** The settings (every one has a default, {@link LOGIN_LIMIT_DEFAULTS}). */
export interface LoginLimitSettings {
  /** Failures from one address before back-off. */
  readonly maxFailuresPerAddress: number;
  /** Failures for one username before back-off. */
  readonly maxFailuresPerAccount: number;
  /** Failures are forgotten this long after the last one, ms. */
  readonly windowMs: number;
  /** The first refusal's length, ms; each further failure doubles it. */
  readonly baseBackoffMs: number;
  /** The longest refusal, ms. */
  readonly maxBackoffMs: number;
  /** Addresses (and, apart, usernames) remembered at most. */
  readonly maxTracked: number;
}

/** The defaults of {@link LoginLimitSettings}. */
export const LOGIN_LIMIT_DEFAULTS: LoginLimitSettings = {
  maxFailuresPerAddress: 10,
  maxFailuresPerAccount: 10,
  windowMs: 600_000,
  baseBackoffMs: 1_000,
  maxBackoffMs: 300_000,
  maxTracked: 65_536,
};

/** Counters for metrics. */
export interface LoginLimitStats {
  /** Addresses with failed logins remembered. */
  readonly trackedAddresses: number;
  /** Accounts with failed logins remembered. */
  readonly trackedAccounts: number;
  /** Attempts refused since the start. */
  readonly refused: number;
}

interface Failures {
  count: number;
  last: number;
  blockedUntil: number;
}

/** One bounded table of failures (addresses, or usernames). */
class FailureTable {
  readonly #map = new Map<string, Failures>();
  readonly #max: number;
  readonly #settings: LoginLimitSettings;

  constructor(max: number, settings: LoginLimitSettings) {
    this.#max = max;
    this.#settings = settings;
  }

  get size(): number {
    return this.#map.size;
  }

  blockedUntil(key: string, now: number): number | undefined {
    const entry = this.#map.get(key);
    return entry !== undefined && now < entry.blockedUntil ? entry.blockedUntil : undefined;
  }

  failed(key: string, now: number): void {
    const { windowMs, baseBackoffMs, maxBackoffMs, maxTracked } = this.#settings;
    const entry = this.#map.get(key) ?? { count: 0, last: now, blockedUntil: 0 };
    if (now - entry.last > windowMs && now >= entry.blockedUntil) entry.count = 0;
    entry.count++;
    entry.last = now;
    const over = entry.count - this.#max;
    if (over >= 0) {
      entry.blockedUntil = now + Math.min(maxBackoffMs, baseBackoffMs * 2 ** Math.min(over, 40));
    }
    this.#map.delete(key); // most recently failed last
    this.#map.set(key, entry);
    for (const oldest of this.#map.keys()) {
      if (this.#map.size <= maxTracked) break;
      this.#map.delete(oldest);
    }
    this.#forgetOldestIfStale(now);
  }

  forget(key: string): void {
    this.#map.delete(key);
  }

  /** Forgets the least recently failed entry once its window has passed (O(1)). */
  #forgetOldestIfStale(now: number): void {
    for (const [key, entry] of this.#map) {
      if (now - entry.last > this.#settings.windowMs && now >= entry.blockedUntil) {
        this.#map.delete(key);
      }
      return;
    }
  }
}

/** Failed logins per address and per account. See the module documentation. */
export class LoginLimits {
  /** The settings in force, defaults filled in. */
  readonly settings: LoginLimitSettings;
  readonly #addresses: FailureTable;
  readonly #accounts: FailureTable;
  #refused = 0;

  /** Throws `RangeError` on an invalid setting. */
  constructor(settings: Partial<LoginLimitSettings> = {}) {
    const resolved: Record<string, number> = { ...LOGIN_LIMIT_DEFAULTS };
    for (const [key, value] of Object.entries(settings)) {
      if (key in LOGIN_LIMIT_DEFAULTS && value !== undefined) resolved[key] = value;
    }
    for (const key of Object.keys(LOGIN_LIMIT_DEFAULTS)) {
      const value = resolved[key]!;
      const ok = key.endsWith("Ms")
        ? value >= 0 && Number.isFinite(value)
        : Number.isInteger(value) && value >= 1;
      if (!ok) throw new RangeError(`Invalid login limit ${key}: ${value}`);
    }
    this.settings = resolved as unknown as LoginLimitSettings;
    this.#addresses = new FailureTable(this.settings.maxFailuresPerAddress, this.settings);
    this.#accounts = new FailureTable(this.settings.maxFailuresPerAccount, this.settings);
  }

  /**
   * Until when an attempt from `address` (for `username`, when known) is refused; `undefined`:
   * it may go ahead. Each refusal is counted.
   *
   * @example
   * ```ts
   * import { LoginLimits } from "./login_limits.ts";
   * const limits = new LoginLimits({ maxFailuresPerAccount: 1 });
   * limits.failed("192.0.2.1", "alice", 0);
   * console.log(limits.refusedUntil("198.51.100.2", "Alice", 1)); // 1000 (usernames ignore case)
   * ```
   */
  refusedUntil(address: string, username: string | undefined, now: number): number | undefined {
    const byAddress = address === ""
      ? undefined
      : this.#addresses.blockedUntil(addressKey(address), now);
    const byAccount = username === undefined
      ? undefined
      : this.#accounts.blockedUntil(accountKey(username), now);
    if (byAddress === undefined && byAccount === undefined) return undefined;
    this.#refused++;
    return Math.max(byAddress ?? 0, byAccount ?? 0);
  }

  /**
   * A login from `address` failed (for `username`, when known).
   *
   * @example
   * ```ts
   * import { LoginLimits } from "./login_limits.ts";
   * const limits = new LoginLimits();
   * limits.failed("192.0.2.1", "alice", 0);
   * console.log(limits.stats().trackedAccounts); // 1
   * ```
   */
  failed(address: string, username: string | undefined, now: number): void {
    if (address !== "") this.#addresses.failed(addressKey(address), now);
    if (username !== undefined) this.#accounts.failed(accountKey(username), now);
  }

  /**
   * A login for `username` succeeded: its account's failures are forgotten.
   *
   * @example
   * ```ts
   * import { LoginLimits } from "./login_limits.ts";
   * const limits = new LoginLimits();
   * limits.failed("192.0.2.1", "alice", 0);
   * limits.succeeded("alice");
   * console.log(limits.stats().trackedAccounts); // 0
   * ```
   */
  succeeded(username: string): void {
    this.#accounts.forget(accountKey(username));
  }

  /**
   * Counters for metrics.
   *
   * @example
   * ```ts
   * import { LoginLimits } from "./login_limits.ts";
   * console.log(new LoginLimits().stats()); // { trackedAddresses: 0, trackedAccounts: 0, refused: 0 }
   * ```
   */
  stats(): LoginLimitStats {
    return {
      trackedAddresses: this.#addresses.size,
      trackedAccounts: this.#accounts.size,
      refused: this.#refused,
    };
  }
}

/** Usernames count without case, cut to 1 024 characters (peer text). */
function accountKey(username: string): string {
  return username.slice(0, 1_024).toLowerCase();
}
