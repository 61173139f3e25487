/**
 * RFC 6120 §3.2 / RFC 2782 target selection: order DNS SRV records by priority, and within a
 * priority by weighted random choice. The random numbers come in as an argument.
 *
 * @example
 * ```ts
 * import { orderSrvTargets } from "@xmpp-websocket/xmpp-websocket/gateway";
 * import { assertEquals } from "@std/assert";
 * const ordered = orderSrvTargets([
 *   { target: "b.example", port: 5222, priority: 20, weight: 0 },
 *   { target: "a.example", port: 5222, priority: 10, weight: 0 },
 * ], () => 0.5);
 * assertEquals(ordered.map((r) => r.target), ["a.example", "b.example"]);
 * ```
 * @module
 */

/** One SRV record. */
export interface SrvRecord {
  /** The host name to connect to (`.`: no service). */
  readonly target: string;
  /** The TCP port. */
  readonly port: number;
  /** Lower is tried first (RFC 2782). */
  readonly priority: number;
  /** Relative weight among records of the same priority (RFC 2782). */
  readonly weight: number;
}

/**
 * Orders records for connection attempts. A single record with target "." means the service is
 * not offered: the result is empty.
 *
 * @example
 * ```ts
 * import { orderSrvTargets } from "@xmpp-websocket/xmpp-websocket/gateway";
 * import { assertEquals } from "@std/assert";
 * assertEquals(orderSrvTargets([{ target: ".", port: 0, priority: 0, weight: 0 }], Math.random), []);
 * ```
 */
export function orderSrvTargets<T extends SrvRecord>(
  records: readonly T[],
  random: () => number,
): T[] {
  if (records.length === 1 && (records[0]!.target === "." || records[0]!.target === "")) return [];
  const priorities = [...new Set(records.map((r) => r.priority))].sort((a, b) => a - b);
  const ordered: T[] = [];
  for (const priority of priorities) {
    const pool = records.filter((r) => r.priority === priority);
    while (pool.length > 0) {
      const total = pool.reduce((sum, r) => sum + r.weight, 0);
      let pick = 0;
      if (total > 0) {
        let threshold = random() * total;
        pick = pool.findIndex((r) => (threshold -= r.weight) < 0);
        if (pick < 0) pick = pool.length - 1;
      }
      ordered.push(...pool.splice(pick, 1));
    }
  }
  return ordered.map((r) => ({ ...r, target: r.target.replace(/\.$/, "") }));
}
