/**
 * Reconnection delays: capped exponential backoff with full jitter (a uniformly random delay
 * between 0 and the capped exponential ceiling), so that clients cut off together do not come
 * back together. The randomness comes in as an argument.
 *
 * @example
 * ```ts
 * import { backoffDelay } from "./backoff.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(backoffDelay(0, 0.5), 500); // half of the 1 s ceiling of the first attempt
 * assertEquals(backoffDelay(10, 0.5), 30000); // the ceiling is capped at 60 s
 * ```
 * @module
 */

/** The shape of the backoff curve. */
export interface BackoffOptions {
  /** The ceiling of the first retry, in ms (default 1 000). */
  readonly baseMs?: number;
  /** The largest ceiling, in ms (default 60 000). */
  readonly maxMs?: number;
  /** How much the ceiling grows per attempt (default 2). */
  readonly factor?: number;
}

/** The defaults of {@link BackoffOptions}. */
export const DEFAULT_BACKOFF: Required<BackoffOptions> = Object.freeze({
  baseMs: 1_000,
  maxMs: 60_000,
  factor: 2,
});

/**
 * Fills in the defaults and checks the values; throws `RangeError` on a bad one.
 *
 * @example
 * ```ts
 * import { resolveBackoff } from "./backoff.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(resolveBackoff({ maxMs: 5_000 }), { baseMs: 1000, maxMs: 5000, factor: 2 });
 * ```
 */
export function resolveBackoff(options: BackoffOptions = {}): Required<BackoffOptions> {
  const resolved = {
    baseMs: options.baseMs ?? DEFAULT_BACKOFF.baseMs,
    maxMs: options.maxMs ?? DEFAULT_BACKOFF.maxMs,
    factor: options.factor ?? DEFAULT_BACKOFF.factor,
  };
  if (!(resolved.baseMs > 0 && Number.isFinite(resolved.baseMs))) {
    throw new RangeError(
      `Invalid backoff baseMs: expected a positive number, got ${resolved.baseMs}`,
    );
  }
  if (!(resolved.maxMs >= resolved.baseMs && Number.isFinite(resolved.maxMs))) {
    throw new RangeError(
      `Invalid backoff maxMs: expected a number >= baseMs, got ${resolved.maxMs}`,
    );
  }
  if (!(resolved.factor >= 1 && Number.isFinite(resolved.factor))) {
    throw new RangeError(`Invalid backoff factor: expected a number >= 1, got ${resolved.factor}`);
  }
  return resolved;
}

/**
 * The ceiling of attempt `attempt` (0 for the first retry): `min(maxMs, baseMs * factor^attempt)`.
 *
 * @example
 * ```ts
 * import { backoffCeiling } from "./backoff.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals([0, 1, 2, 3].map((n) => backoffCeiling(n, { baseMs: 100, maxMs: 500 })), [100, 200, 400, 500]);
 * ```
 */
export function backoffCeiling(attempt: number, options: BackoffOptions = {}): number {
  if (!(Number.isInteger(attempt) && attempt >= 0)) {
    throw new RangeError(`Invalid attempt: expected an integer >= 0, got ${attempt}`);
  }
  const { baseMs, maxMs, factor } = resolveBackoff(options);
  return Math.min(maxMs, baseMs * factor ** attempt);
}

/**
 * The delay before attempt `attempt`, with full jitter: `floor(fraction * ceiling)`, where
 * `fraction` is a random number in [0, 1). Throws `RangeError` on a bad argument.
 *
 * @example
 * ```ts
 * import { backoffDelay } from "./backoff.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(backoffDelay(2, 0), 0);
 * assertEquals(backoffDelay(2, 0.999), 3996);
 * ```
 */
export function backoffDelay(
  attempt: number,
  fraction: number,
  options: BackoffOptions = {},
): number {
  if (!(fraction >= 0 && fraction < 1)) {
    throw new RangeError(`Invalid jitter fraction: expected a number in [0, 1), got ${fraction}`);
  }
  return Math.floor(fraction * backoffCeiling(attempt, options));
}

/**
 * A number in [0, 1) from a random string: its first 8 hexadecimal digits (other characters
 * are skipped) read as a 32-bit fraction, so a UUID from `crypto.randomUUID()` works. A string
 * with fewer than 8 hex digits is padded with zeros.
 *
 * @example
 * ```ts
 * import { randomFraction } from "./backoff.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(randomFraction("80000000-0000-4000-8000-000000000000"), 0.5);
 * assertEquals(randomFraction("ffffffff") < 1, true);
 * ```
 */
export function randomFraction(random: string): number {
  let hex = "";
  for (const char of random) {
    if (/[0-9a-fA-F]/.test(char)) hex += char;
    if (hex.length === 8) break;
  }
  return parseInt(hex.padEnd(8, "0"), 16) / 0x1_0000_0000;
}
