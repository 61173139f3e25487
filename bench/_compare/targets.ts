/**
 * The seven targets of the comparison (issue 10's table) and the servers behind each: which
 * processes serve it (ours: the gateway or the embedded server; upstream: Prosody or ejabberd)
 * and how the load client reaches it.
 *
 * @example
 * ```ts
 * import { TARGETS } from "./targets.ts";
 * console.log(TARGETS.map((t) => t.key).join(" "));
 * // "prosody-ws prosody-tcp gateway-prosody ejabberd-ws ejabberd-tcp gateway-ejabberd embedded"
 * ```
 * @module
 */

/** A target's key. */
export type TargetKey =
  | "prosody-ws"
  | "prosody-tcp"
  | "gateway-prosody"
  | "ejabberd-ws"
  | "ejabberd-tcp"
  | "gateway-ejabberd"
  | "embedded";

/** The server processes a target needs. */
export type ServerKey =
  | "prosody"
  | "ejabberd"
  | "gateway-prosody"
  | "gateway-ejabberd"
  | "embedded";

/** One row of the comparison. */
export interface Target {
  readonly key: TargetKey;
  readonly label: string;
  /** The process of ours that serves it, if any. */
  readonly ours: ServerKey | undefined;
  /** The upstream XMPP server process, if any. */
  readonly upstream: "prosody" | "ejabberd" | undefined;
  /** The direct-TCP target of the same upstream (for the "to direct TCP" ratio). */
  readonly direct: TargetKey | undefined;
  readonly transport: "ws" | "tcp";
}

/** Every target, in the order of issue 10's table. */
export const TARGETS: readonly Target[] = [
  {
    key: "prosody-ws",
    label: "Prosody's own WebSocket endpoint",
    ours: undefined,
    upstream: "prosody",
    direct: "prosody-tcp",
    transport: "ws",
  },
  {
    key: "prosody-tcp",
    label: "direct TCP to Prosody",
    ours: undefined,
    upstream: "prosody",
    direct: "prosody-tcp",
    transport: "tcp",
  },
  {
    key: "gateway-prosody",
    label: "our gateway in front of Prosody's TCP port",
    ours: "gateway-prosody",
    upstream: "prosody",
    direct: "prosody-tcp",
    transport: "ws",
  },
  {
    key: "ejabberd-ws",
    label: "ejabberd's own WebSocket endpoint",
    ours: undefined,
    upstream: "ejabberd",
    direct: "ejabberd-tcp",
    transport: "ws",
  },
  {
    key: "ejabberd-tcp",
    label: "direct TCP to ejabberd",
    ours: undefined,
    upstream: "ejabberd",
    direct: "ejabberd-tcp",
    transport: "tcp",
  },
  {
    key: "gateway-ejabberd",
    label: "our gateway in front of ejabberd's TCP port",
    ours: "gateway-ejabberd",
    upstream: "ejabberd",
    direct: "ejabberd-tcp",
    transport: "ws",
  },
  {
    key: "embedded",
    label: "our embedded server (rate limit lifted)",
    ours: "embedded",
    upstream: undefined,
    direct: undefined,
    transport: "ws",
  },
];

/**
 * The server processes the given targets need (an upstream before the gateway in front of it).
 *
 * @example
 * ```ts
 * import { serversFor, TARGETS } from "./targets.ts";
 * console.log(serversFor(TARGETS.filter((t) => t.key === "gateway-prosody")));
 * // ["prosody", "gateway-prosody"]
 * ```
 */
export function serversFor(targets: readonly Target[]): ServerKey[] {
  const keys = new Set<ServerKey>();
  for (const t of targets) {
    if (t.upstream !== undefined) keys.add(t.upstream);
    if (t.ours !== undefined) keys.add(t.ours);
  }
  const order: ServerKey[] = [
    "prosody",
    "ejabberd",
    "gateway-prosody",
    "gateway-ejabberd",
    "embedded",
  ];
  return order.filter((k) => keys.has(k));
}
