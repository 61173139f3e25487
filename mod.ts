/**
 * xmpp-websocket: XMPP over WebSocket (RFC 7395). The pure core (XML, framing, the session
 * reducer, the gateway bridge) plus the Deno bindings (endpoint, gateway, TCP).
 *
 * - `./core`: runtime-agnostic, I/O-free (also for browsers, workers, Node).
 * - `./deno`: `serveXmpp`, `serveGateway`, `connectTcp`.
 * - `./node`: the same bindings for Node.js.
 *
 * @example
 * ```ts
 * import { createSession, step } from "./mod.ts";
 * const { outputs } = step(createSession({ role: "client", to: "localhost" }), {
 *   type: "transport-opened", now: 0, secure: true, protocol: "xmpp",
 * });
 * console.log(outputs[0]?.type); // "send-text"
 * ```
 * @module
 */
export * from "./core/mod.ts";
export * from "./deno/mod.ts";
