/**
 * Every allowed phase change, as data: the reducer checks each step against it and the tests
 * read it.
 *
 * @example
 * ```ts
 * import { isAllowedTransition } from "@xmpp-websocket/xmpp-websocket/session";
 * import { assertEquals } from "@std/assert";
 * assertEquals(isAllowedTransition("open", "opening"), true); // a stream restart
 * assertEquals(isAllowedTransition("closed", "open"), false);
 * ```
 * @module
 */

import type { Phase } from "./types.ts";

/** For each phase, the phases a single step may lead to (staying put is always allowed). */
export const TRANSITIONS: Readonly<Record<Phase, readonly Phase[]>> = {
  // server: waiting for <open/>; client: transport not yet open
  idle: ["opening", "closed"],
  // server: <open/> received, waiting for accept-stream; client: <open/> sent
  // (or a <close/> in answer to / instead of the stream header)
  opening: ["open", "closing", "closed"],
  // restart after SASL success goes back to opening
  open: ["opening", "closing", "closed"],
  // our <close/> sent, waiting for the peer's
  closing: ["closed"],
  closed: [],
};

/**
 * Whether a step may move a session from `from` to `to`.
 *
 * @example
 * ```ts
 * import { isAllowedTransition } from "@xmpp-websocket/xmpp-websocket/session";
 * import { assertEquals } from "@std/assert";
 * assertEquals(isAllowedTransition("idle", "idle"), true);
 * ```
 */
export function isAllowedTransition(from: Phase, to: Phase): boolean {
  return from === to || TRANSITIONS[from].includes(to);
}
