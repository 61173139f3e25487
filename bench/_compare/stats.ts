/**
 * Small statistics for the comparison bench: medians and a latency histogram that load-client
 * processes fill and the orchestrator merges (sparse pairs over JSON).
 *
 * @example
 * ```ts
 * import { Histogram, median } from "./stats.ts";
 * const h = new Histogram();
 * for (const ms of [0.2, 0.3, 0.4]) h.add(ms);
 * console.log(median([3, 1, 2]), h.quantile(0.5).toFixed(1)); // 2 "0.3"
 * ```
 * @module
 */

/** Microsecond buckets up to 10 ms, then 100 µs buckets up to about 1 s, then one overflow. */
const FINE = 10_000;
const COARSE = 10_000;
const SIZE = FINE + COARSE + 1;

/**
 * Round-trip times in milliseconds, bucketed (1 µs below 10 ms, 100 µs up to 1 s).
 *
 * @example
 * ```ts
 * import { Histogram } from "./stats.ts";
 * const a = new Histogram();
 * a.add(1.5);
 * const b = Histogram.fromPairs(a.toPairs());
 * console.log(b.count, b.quantile(0.99).toFixed(3)); // 1 "1.500"
 * ```
 */
export class Histogram {
  readonly buckets = new Uint32Array(SIZE);
  count = 0;

  /** Adds one sample, in milliseconds. */
  add(ms: number): void {
    const us = ms * 1000;
    const i = us < FINE
      ? Math.max(0, Math.floor(us))
      : FINE + Math.min(COARSE, Math.floor((us - FINE) / 100));
    this.buckets[i]!++;
    this.count++;
  }

  /** Adds every sample of another histogram. */
  merge(other: Histogram): void {
    for (let i = 0; i < SIZE; i++) this.buckets[i]! += other.buckets[i]!;
    this.count += other.count;
  }

  /** The `q` quantile in milliseconds (bucket midpoint); NaN when empty. */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.min(this.count - 1, Math.floor(q * this.count));
    let seen = 0;
    for (let i = 0; i < SIZE; i++) {
      seen += this.buckets[i]!;
      if (seen > rank) {
        return i < FINE ? (i + 0.5) / 1000 : (FINE + (i - FINE) * 100 + 50) / 1000;
      }
    }
    return NaN;
  }

  /** Non-empty buckets as `[index, count]` pairs (compact JSON). */
  toPairs(): Array<[number, number]> {
    const pairs: Array<[number, number]> = [];
    for (let i = 0; i < SIZE; i++) if (this.buckets[i]! > 0) pairs.push([i, this.buckets[i]!]);
    return pairs;
  }

  /** The inverse of {@link Histogram.toPairs}. */
  static fromPairs(pairs: ReadonlyArray<readonly [number, number]>): Histogram {
    const h = new Histogram();
    for (const [i, n] of pairs) {
      if (i >= 0 && i < SIZE) {
        h.buckets[i]! += n;
        h.count += n;
      }
    }
    return h;
  }
}

/**
 * The median of finite values (NaN when there are none).
 *
 * @example
 * ```ts
 * import { median } from "./stats.ts";
 * console.log(median([4, 1, NaN, 3, 2])); // 2.5
 * ```
 */
export function median(values: readonly number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * A number for a table: spaces between thousands, `n/a` when not finite.
 *
 * @example
 * ```ts
 * import { fmt } from "./stats.ts";
 * console.log(fmt(12345.678), fmt(0.456, 2), fmt(NaN)); // "12 346" "0.46" "n/a"
 * ```
 */
export function fmt(n: number, digits = 0): string {
  return Number.isFinite(n)
    ? n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
      .replaceAll(",", " ")
    : "n/a";
}
