/**
 * Every allowed phase change of the session, as data: the reducer checks each step against it
 * and the tests read it. The other reducers (client, hub, gateway) keep their own tables in the
 * same shape and check them with {@link checkTransition}.
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

/**
 * A reducer's transition table: for each phase, the phases one move may lead to (staying put
 * is always allowed and never listed).
 */
export type TransitionTable<P extends string> = Readonly<Record<P, readonly P[]>>;

/** For each phase, the phases a single step may lead to (staying put is always allowed). */
export const TRANSITIONS: TransitionTable<Phase> = {
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
 * A reducer tried a move its transition table does not allow: a bug in the core, never the
 * peer's fault nor the application's (those produce outputs, or an `XmppUsageError`).
 *
 * @example
 * ```ts
 * import { TransitionError } from "@xmpp-websocket/xmpp-websocket/session";
 * import { assertEquals } from "@std/assert";
 * const error = new TransitionError("session", "closed", "open");
 * assertEquals(error.message, "Internal error: session transition closed -> open is not in its table");
 * ```
 */
export class TransitionError extends Error {
  /** Which reducer's table (`session`, `client status`, `hub connection`, `gateway`...). */
  readonly reducer: string;
  /** The phase before the move. */
  readonly from: string;
  /** The phase the move would have reached. */
  readonly to: string;

  /** Reports the refused move `from` -> `to` of `reducer`. */
  constructor(reducer: string, from: string, to: string) {
    super(`Internal error: ${reducer} transition ${from} -> ${to} is not in its table`);
    this.name = "TransitionError";
    this.reducer = reducer;
    this.from = from;
    this.to = to;
  }
}

/**
 * Throws a {@link TransitionError} unless `table` allows the move `from` -> `to` (staying put
 * is always allowed).
 *
 * @example
 * ```ts
 * import { checkTransition, TRANSITIONS, TransitionError } from "@xmpp-websocket/xmpp-websocket/session";
 * import { assertThrows } from "@std/assert";
 * checkTransition("session", TRANSITIONS, "idle", "opening"); // allowed: returns
 * assertThrows(() => checkTransition("session", TRANSITIONS, "closed", "idle"), TransitionError);
 * ```
 */
export function checkTransition<P extends string>(
  reducer: string,
  table: TransitionTable<P>,
  from: P,
  to: P,
): void {
  if (from !== to && !table[from].includes(to)) throw new TransitionError(reducer, from, to);
}

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
