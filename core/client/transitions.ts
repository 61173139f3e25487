/**
 * The client reducer's moves as data (like the session's `TRANSITIONS`), at its two levels:
 * the status the application sees, and the login stage of the current connection. The reducer
 * checks every status change as it makes it and the stage of the connection at the end of each
 * step, and throws a `TransitionError` (a bug in the core) on a move these tables do not list.
 *
 * @example
 * ```ts
 * import { CLIENT_STAGE_TRANSITIONS, CLIENT_STATUS_TRANSITIONS } from "@xmpp-websocket/xmpp-websocket/client-core";
 * import { assertEquals } from "@std/assert";
 * assertEquals(CLIENT_STATUS_TRANSITIONS.closing, ["closed"]);
 * assertEquals(CLIENT_STAGE_TRANSITIONS.resuming.includes("binding"), true); // resumption failed
 * ```
 * @module
 */

import type { TransitionTable } from "../session/transitions.ts";
import type { ClientStatus, Stage } from "./types.ts";

/**
 * The client's status. `online` may go straight back to `connecting` (a redirect, or a retry
 * due at once); `reconnecting` waits for the backoff timer; `closed` is terminal.
 */
export const CLIENT_STATUS_TRANSITIONS: TransitionTable<ClientStatus> = {
  idle: ["connecting", "closed"],
  connecting: ["online", "reconnecting", "closing", "closed"],
  online: ["connecting", "reconnecting", "closing", "closed"],
  reconnecting: ["connecting", "closing", "closed"],
  closing: ["closed"],
  closed: [],
};

/**
 * Where one connection stands: `new` before it exists, `ended` once it is gone (any stage may
 * end: transport lost, stream error, timeout). Checked once per step, so a step that binds and
 * goes online at once moves `binding` -> `online` directly.
 */
export type ConnectionPhase = "new" | Stage | "ended";

/** The login of one connection (RFC 7395 open, SASL, restart, resumption or binding, XEP-0198). */
export const CLIENT_STAGE_TRANSITIONS: TransitionTable<ConnectionPhase> = {
  new: ["connecting"],
  connecting: ["opening", "closing", "ended"],
  opening: ["authenticating", "closing", "ended"],
  authenticating: ["restarting", "closing", "ended"],
  restarting: ["resuming", "binding", "closing", "ended"],
  resuming: ["online", "binding", "closing", "ended"],
  binding: ["establishing", "enabling", "online", "closing", "ended"],
  establishing: ["enabling", "online", "closing", "ended"],
  enabling: ["online", "closing", "ended"],
  online: ["closing", "ended"],
  closing: ["ended"],
  ended: [],
};
