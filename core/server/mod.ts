/**
 * The embedded XMPP server of the core, as one pure reducer (the "hub") for all the client
 * connections of one domain: SASL SCRAM (and PLAIN over secure or loopback connections),
 * resource binding, routing, presence, an in-memory roster with subscriptions, XEP-0030 disco,
 * XEP-0199 ping and XEP-0198 stream management with resumption. No federation, no offline
 * storage, nothing persisted.
 *
 * It sits behind the RFC 7395 session reducer of each connection: the adapter reports
 * `stream-open-requested`, `element-received` and the end of each session as hub inputs, and
 * carries out the hub's `accept-stream`, `send-element`, `fail-stream`, `close-stream` and timer
 * outputs (the names of the session inputs that carry them out).
 *
 * @example
 * ```ts
 * import { createHub, hubStep } from "./mod.ts";
 * let hub = createHub({ domain: "localhost", accounts: [] });
 * const random = "0123456789abcdefghij";
 * ({ state: hub } = hubStep(hub, { type: "connection-opened", now: 0, random, connId: "c1", secure: false, loopback: true }));
 * const { outputs } = hubStep(hub, {
 *   type: "element-received", now: 1, random, connId: "c1",
 *   element: { name: "message", ns: "jabber:client", attrs: {}, children: [] },
 * });
 * console.log(outputs.find((o) => o.type === "fail-stream")); // { type: "fail-stream", connId: "c1", condition: "not-authorized", ... }
 * ```
 * @module
 */
export * from "./types.ts";
export { createHub, HUB_DEFAULTS, withContacts } from "./config.ts";
export { hubStep } from "./hub.ts";
export {
  HUB_CONNECTION_TRANSITIONS,
  HUB_SESSION_TRANSITIONS,
  type HubConnectionPhase,
  type HubSessionPhase,
} from "./transitions.ts";
export type { TransitionTable } from "../session/transitions.ts";
export { bareOf, bareString, isValidResource, type Jid, parseJid } from "../xmpp/jid.ts";
export { offeredMechanisms, saslFeatures, sessionFeatures } from "./features.ts";
export type {
  ClearTimer,
  Notice,
  NoticeLevel,
  SetTimer,
  StepResult,
  TimerFired,
} from "../reducer.ts";
