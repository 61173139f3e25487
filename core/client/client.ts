/**
 * The client reducer: `clientStep(state, input) -> { state, outputs }`. One value drives a
 * whole client across connections: it opens WebSockets (as outputs) to the endpoints in turn,
 * runs the core session (RFC 7395 framing, subprotocol check, restarts, close handshake),
 * authenticates, binds, enables XEP-0198, answers and sends acks, probes liveness, correlates
 * iqs, follows `see-other-uri` (no downgrade, at most `maxRedirects` in a row), and after a
 * transient failure reconnects with capped exponential backoff and full jitter, resuming the
 * XEP-0198 session and resending what the server did not acknowledge. Only one connection
 * exists at a time; nothing is retried after a fatal error, nor before the first successful
 * login (the application sees that failure at once).
 *
 * Deterministic and synchronous: time and randomness arrive on every input, timers are
 * outputs. Outputs must be carried out in order. It throws only on misuse
 * ({@link XmppUsageError} for a call the state does not allow, `TypeError` for an invalid
 * element).
 *
 * The state is linear, not a pure value: it holds the connection's core session, whose codec
 * keeps its parser and changes in place. A step spends the state it is given; step only the
 * state the last step returned. Stepping a spent state throws `XmppUsageError` (phase `spent`)
 * before anything changes.
 *
 * @example
 * ```ts
 * import { clientStep, createClient } from "@xmpp-websocket/xmpp-websocket/client-core";
 * import { assertEquals } from "@std/assert";
 * const state = createClient({ domain: "localhost", endpoints: ["ws://127.0.0.1:5280/xmpp-websocket"], username: "alice", password: "pw" });
 * const { outputs } = clientStep(state, { type: "connect", now: 0, random: "a1b2c3d4" });
 * assertEquals(outputs.find((o) => o.type === "open-transport"), { type: "open-transport", url: "ws://127.0.0.1:5280/xmpp-websocket" });
 * ```
 * @module
 */

import { resolveBackoff } from "./backoff.ts";
import { checkEndpoint } from "./endpoint.ts";
import { createIqTracker } from "./iq.ts";
import { DEFAULT_LIVENESS } from "./liveness.ts";
import { Stepper } from "./_stepper.ts";
import { SpentStates } from "../session/linear.ts";
import type {
  ClientConfig,
  ClientInput,
  ClientState,
  ClientStepResult,
  ResolvedClientConfig,
} from "./types.ts";

/**
 * Creates an idle client. Throws `RangeError` on an invalid configuration: no endpoint, an
 * endpoint that is not `wss:` (or `ws:` on loopback, or with `allowInsecure`), missing
 * credentials, or a bad number.
 *
 * @example
 * ```ts
 * import { createClient } from "@xmpp-websocket/xmpp-websocket/client-core";
 * import { assertEquals } from "@std/assert";
 * try {
 *   createClient({ domain: "example.com", endpoints: ["ws://example.com/ws"], anonymous: true });
 * } catch (error) {
 *   assertEquals((error as Error).message, "Invalid endpoint ws://example.com/ws: insecure ws: endpoint (allowInsecure is off)");
 * }
 * ```
 */
export function createClient(config: ClientConfig): ClientState {
  return {
    config: resolveClientConfig(config),
    status: "idle",
    connection: undefined,
    candidate: 0,
    tried: 0,
    redirectTo: undefined,
    attempt: 0,
    redirects: 0,
    everOnline: false,
    jid: undefined,
    sm: undefined,
    smLostAt: undefined,
    iqs: createIqTracker(),
    iqTimerAt: undefined,
    outbox: [],
    closeRequested: false,
    error: undefined,
  };
}

/**
 * Applies one input. See the module documentation.
 *
 * @example
 * ```ts
 * import { clientStep, createClient } from "@xmpp-websocket/xmpp-websocket/client-core";
 * import { assertEquals } from "@std/assert";
 * let state = createClient({ domain: "localhost", endpoints: ["ws://localhost/ws"], anonymous: true });
 * ({ state } = clientStep(state, { type: "connect", now: 0, random: "r1" }));
 * const { outputs } = clientStep(state, { type: "transport-opened", now: 5, random: "r2", protocol: "xmpp" });
 * assertEquals(outputs.find((o) => o.type === "send-text"), { type: "send-text", text: "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>" });
 * ```
 */
export function clientStep(state: ClientState, input: ClientInput): ClientStepResult {
  SPENT.check(state, input.type);
  const stepper = new Stepper(state, input.now, input.random);
  stepper.apply(input);
  const next = stepper.result();
  SPENT.spend(state); // only once the step succeeded: a refused misuse leaves it usable
  return { state: next, outputs: stepper.out };
}

/** Client states already stepped (the state is linear: see the module documentation). */
const SPENT = new SpentStates<ClientState>("client");

/**
 * Whether `send` is accepted now (online, or queued while connecting or reconnecting).
 *
 * @example
 * ```ts
 * import { canQueue, createClient } from "@xmpp-websocket/xmpp-websocket/client-core";
 * import { assertEquals } from "@std/assert";
 * assertEquals(canQueue(createClient({ domain: "localhost", endpoints: ["ws://localhost/"], anonymous: true })), true);
 * ```
 */
export function canQueue(state: ClientState): boolean {
  return state.status !== "closed" && state.status !== "closing" &&
    (state.status === "online" || state.outbox.length < state.config.maxQueue);
}

function positive(name: string, value: number, max = Infinity): number {
  if (!(value > 0 && value <= max && Number.isFinite(value))) {
    throw new RangeError(
      `Invalid ${name}: expected a positive number${
        max < Infinity ? ` up to ${max}` : ""
      }, got ${value}`,
    );
  }
  return value;
}

/**
 * Fills in the defaults and validates a configuration (see {@link createClient}).
 *
 * @example
 * ```ts
 * import { resolveClientConfig } from "@xmpp-websocket/xmpp-websocket/client-core";
 * import { assertEquals } from "@std/assert";
 * const config = resolveClientConfig({ domain: "Example.COM", endpoints: ["wss://example.com/ws"], anonymous: true });
 * assertEquals(config.domain, "example.com");
 * assertEquals(config.probeAfterMs, 30000);
 * assertEquals(config.maxRedirects, 5);
 * ```
 */
export function resolveClientConfig(config: ClientConfig): ResolvedClientConfig {
  const domain = config.domain.trim().toLowerCase();
  if (domain === "" || /[\s/@]/.test(domain)) {
    throw new RangeError(`Invalid domain '${config.domain}'`);
  }
  if (config.endpoints.length === 0) throw new RangeError("No endpoint to connect to");
  const endpoints = config.endpoints.map((url) => {
    const check = checkEndpoint(url, { allowInsecure: config.allowInsecure ?? false });
    if (!check.ok) throw new RangeError(`Invalid endpoint ${url}: ${check.reason}`);
    return check.url;
  });
  const anonymous = config.anonymous ?? false;
  if (!anonymous && (!config.username || !config.password)) {
    throw new RangeError("A username and a password are needed (or anonymous: true)");
  }
  const ackEvery = config.ackEvery ?? 5;
  if (!Number.isInteger(ackEvery) || ackEvery < 1) {
    throw new RangeError(`Invalid ackEvery: expected a positive integer, got ${ackEvery}`);
  }
  const maxRedirects = config.maxRedirects ?? 5;
  const maxQueue = config.maxQueue ?? 1_000;
  for (const [name, value] of [["maxRedirects", maxRedirects], ["maxQueue", maxQueue]] as const) {
    if (!Number.isInteger(value) || value < 0) {
      throw new RangeError(`Invalid ${name}: expected an integer >= 0, got ${value}`);
    }
  }
  return {
    domain,
    endpoints,
    username: anonymous ? undefined : config.username,
    password: anonymous ? undefined : config.password,
    anonymous,
    resource: config.resource || undefined,
    lang: config.lang,
    allowPlain: config.allowPlain ?? false,
    allowInsecure: config.allowInsecure ?? false,
    streamManagement: config.streamManagement ?? true,
    ackEvery,
    probeAfterMs: positive(
      "probeAfterMs",
      config.probeAfterMs ?? DEFAULT_LIVENESS.probeAfterMs,
      59_999,
    ),
    probeTimeoutMs: positive(
      "probeTimeoutMs",
      config.probeTimeoutMs ?? DEFAULT_LIVENESS.probeTimeoutMs,
    ),
    negotiationTimeoutMs: positive("negotiationTimeoutMs", config.negotiationTimeoutMs ?? 30_000),
    iqTimeoutMs: positive("iqTimeoutMs", config.iqTimeoutMs ?? 30_000),
    openTimeoutMs: positive("openTimeoutMs", config.openTimeoutMs ?? 10_000),
    closeTimeoutMs: positive("closeTimeoutMs", config.closeTimeoutMs ?? 5_000),
    reconnect: config.reconnect ?? true,
    backoff: resolveBackoff(config.backoff),
    maxRedirects,
    maxQueue,
  };
}
