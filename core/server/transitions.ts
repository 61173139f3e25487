/**
 * The hub's moves, as data (like the session's `TRANSITIONS`): where a client connection may
 * go from each login stage, and where a bound session may go. The hub checks every change of
 * its connection and session maps against these tables as it makes it, and throws a
 * `TransitionError` (a bug in the core) on a move they do not list.
 *
 * `new` stands for "not in the hub yet" and `ended` for "removed from the hub".
 *
 * @example
 * ```ts
 * import { HUB_CONNECTION_TRANSITIONS, HUB_SESSION_TRANSITIONS } from "@xmpp-websocket/xmpp-websocket/server";
 * import { assertEquals } from "@std/assert";
 * assertEquals(HUB_CONNECTION_TRANSITIONS.connected, ["authenticated", "ended"]);
 * assertEquals(HUB_SESSION_TRANSITIONS.hibernating, ["live", "ended"]);
 * ```
 * @module
 */

import type { TransitionTable } from "../session/transitions.ts";
import type { ConnectionStage } from "./types.ts";

/** Where a client connection stands in the hub: its login stage, or not (yet, any more) there. */
export type HubConnectionPhase = "new" | ConnectionStage | "ended";

/**
 * The login of one connection: SASL success authenticates, binding (or XEP-0198 resumption)
 * binds; any stage may end (stream error, close, lost transport). Nothing goes back.
 */
export const HUB_CONNECTION_TRANSITIONS: TransitionTable<HubConnectionPhase> = {
  new: ["connected"],
  connected: ["authenticated", "ended"],
  authenticated: ["bound", "ended"],
  bound: ["ended"],
  ended: [],
};

/**
 * Where a bound session stands: `live` on a connection, `hibernating` (XEP-0198, waiting for a
 * `<resume/>` without a connection), or gone.
 */
export type HubSessionPhase = "new" | "live" | "hibernating" | "ended";

/**
 * A bound session lives on its connection; when the transport is lost with resumption enabled
 * it hibernates, and a `<resume/>` makes it live again (on another connection). Staying `live`
 * while moving to a new connection is a resumption that overtook the old one's loss.
 */
export const HUB_SESSION_TRANSITIONS: TransitionTable<HubSessionPhase> = {
  new: ["live"],
  live: ["hibernating", "ended"],
  hibernating: ["live", "ended"],
  ended: [],
};
