/**
 * The client role of the pure core: XEP-0156 discovery (XRD and JRD parsing, HTTPS-only
 * checks, endpoint choice), HTTP cache lifetimes, capped exponential backoff with full jitter,
 * SASL mechanism negotiation over `core/sasl`, resource binding, iq correlation, XEP-0198
 * client state, liveness probes, typed errors with reconnection advice, stanza builders, and
 * the reducer that ties them into a whole client (`createClient` / `clientStep`). No I/O:
 * an adapter (`deno/client.ts`) opens the WebSockets, fetches the documents and runs the timers.
 *
 * @example
 * ```ts
 * import { clientStep, createClient } from "./mod.ts";
 * const state = createClient({ domain: "example.com", endpoints: ["wss://example.com/xmpp-websocket"], username: "alice", password: "secret" });
 * const { outputs } = clientStep(state, { type: "connect", now: 0, random: crypto.randomUUID() });
 * console.log(outputs.map((o) => o.type)); // ["status-changed", "open-transport", "set-timer"]
 * ```
 * @module
 */
export * from "./types.ts";
export * from "./client.ts";
export * from "./errors.ts";
export * from "./backoff.ts";
export * from "./discovery.ts";
export * from "./endpoint.ts";
export * from "./http_cache.ts";
export * from "./auth.ts";
export * from "./bind.ts";
export * from "./iq.ts";
export * from "./sm.ts";
export * from "./liveness.ts";
export * from "./stanzas.ts";
