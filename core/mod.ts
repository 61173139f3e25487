/**
 * The pure, I/O-free core of xmpp-websocket: XML, framing (RFC 7395 and RFC 6120) and the
 * session reducer. It never touches a runtime, clock, timer or the network.
 *
 * @example
 * ```ts
 * import { createSession, step } from "./mod.ts";
 * const { session } = step(createSession({ role: "server", domains: ["localhost"] }), {
 *   type: "transport-opened", now: 0, secure: false, streamId: "id-1",
 * });
 * console.log(session.transportOpen); // true
 * ```
 * @module
 */
export * from "./xml/mod.ts";
export * from "./framing/mod.ts";
export * from "./session/mod.ts";
export * from "./namespaces.ts";
export * from "./stream_errors.ts";
export * from "./close_codes.ts";
export * from "./errors.ts";
export * from "./gateway/mod.ts";
export * from "./sasl/mod.ts";
export * from "./server/mod.ts";
export * from "./client/mod.ts";
export * from "./websocket/mod.ts";
