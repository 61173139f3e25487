/**
 * The session reducer for the client and server roles, over RFC 7395 or RFC 6120 framing.
 *
 * @example
 * ```ts
 * import { createSession, TRANSITIONS } from "./mod.ts";
 * console.log(createSession({ role: "server" }).phase, TRANSITIONS.idle); // "idle" ["opening", "closed"]
 * ```
 * @module
 */
export * from "./types.ts";
export { canSend, createSession, step } from "./step.ts";
export { isAllowedTransition, TRANSITIONS } from "./transitions.ts";
export { checkOpen, negotiateVersion, normalizeDomain, responseAttributes } from "./open_rules.ts";
