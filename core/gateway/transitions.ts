/**
 * The gateway bridge's phases as data (like the session's `TRANSITIONS`): the bridge checks
 * every phase change against this table as it makes it, and throws a `TransitionError` (a bug
 * in the core) on a move it does not list.
 *
 * - `waiting-open`: the browser's `<open/>` has not arrived.
 * - `connecting`: `connect-upstream` was asked for; the upstream stream header is awaited.
 * - `negotiating`: the upstream stream is open (again, after STARTTLS or a SASL restart); its
 *   features are awaited.
 * - `relaying`: the features were passed on (`accept-stream`); elements flow both ways.
 * - `ended`: both transports are closed.
 *
 * @example
 * ```ts
 * import { GATEWAY_TRANSITIONS } from "@xmpp-websocket/xmpp-websocket/gateway";
 * import { assertEquals } from "@std/assert";
 * assertEquals(GATEWAY_TRANSITIONS["waiting-open"], ["connecting", "ended"]);
 * assertEquals(GATEWAY_TRANSITIONS.relaying, ["negotiating", "ended"]); // a stream restart
 * ```
 * @module
 */

import type { TransitionTable } from "../session/transitions.ts";
import type { GatewayPhase } from "./types.ts";

/** For each phase of the bridge, the phases one move may lead to. */
export const GATEWAY_TRANSITIONS: TransitionTable<GatewayPhase> = {
  "waiting-open": ["connecting", "ended"],
  connecting: ["negotiating", "ended"],
  negotiating: ["relaying", "ended"],
  relaying: ["negotiating", "ended"],
  ended: [],
};
