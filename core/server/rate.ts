/**
 * The per-connection rate limit: a token bucket driven by the `now` of each input.
 *
 * @example
 * ```ts
 * import { fullBucket, takeToken } from "./rate.ts";
 * const limit = { perSecond: 1, burst: 2 };
 * let bucket = fullBucket(limit, 0);
 * for (let i = 0; i < 3; i++) {
 *   const taken = takeToken(bucket, limit, 0);
 *   console.log(taken.ok); // true, true, false
 *   bucket = taken.bucket;
 * }
 * ```
 * @module
 */

import type { RateLimit, TokenBucket } from "./types.ts";

/**
 * A full bucket at time `now`.
 *
 * @example
 * ```ts
 * import { fullBucket } from "./rate.ts";
 * console.log(fullBucket({ perSecond: 5, burst: 10 }, 0)); // { tokens: 10, at: 0 }
 * ```
 */
export function fullBucket(limit: RateLimit, now: number): TokenBucket {
  return { tokens: limit.burst, at: now };
}

/**
 * Refills the bucket for the time elapsed, then takes one token if there is one.
 *
 * @example
 * ```ts
 * import { takeToken } from "./rate.ts";
 * const limit = { perSecond: 2, burst: 2 };
 * console.log(takeToken({ tokens: 0, at: 0 }, limit, 500).ok); // true (one token refilled)
 * ```
 */
export function takeToken(
  bucket: TokenBucket,
  limit: RateLimit,
  now: number,
): { readonly ok: boolean; readonly bucket: TokenBucket } {
  const elapsed = Math.max(0, now - bucket.at);
  const tokens = Math.min(limit.burst, bucket.tokens + (elapsed * limit.perSecond) / 1000);
  if (tokens < 1) return { ok: false, bucket: { tokens, at: Math.max(now, bucket.at) } };
  return { ok: true, bucket: { tokens: tokens - 1, at: Math.max(now, bucket.at) } };
}
