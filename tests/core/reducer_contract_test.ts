/**
 * The reducer contract shared by the session, the client, the hub and the gateway (issue 11):
 *
 * - every reducer's phases are a transition table (data), read here like h11's tests read its
 *   state tables: well formed, every phase reachable from the first and able to reach the end,
 *   the end terminal; a move outside the table throws `TransitionError` (a bug, not a peer's
 *   fault);
 * - every reducer's state is linear, as its types and JSDoc say: a stepped state is spent and
 *   stepping it again throws `XmppUsageError` (phase `spent`) before anything changes, a refused
 *   misuse spends nothing, and the same inputs from equal fresh states give the same outputs;
 * - one shape (`core/reducer.ts`): `{ state, outputs }` from every step, timers as
 *   `set-timer` / `clear-timer` / `timer-fired` with each reducer's typed key, and one `notice`
 *   for logs and metrics.
 *
 * @module
 */

import { assert, assertEquals, assertThrows } from "@std/assert";
import {
  checkTransition,
  createSession,
  isSpent,
  step,
  TransitionError,
  TRANSITIONS,
  type TransitionTable,
} from "../../core/session/mod.ts";
import { XmppUsageError } from "../../core/errors.ts";
import {
  CLIENT_STAGE_TRANSITIONS,
  CLIENT_STATUS_TRANSITIONS,
  type ClientInput,
  clientStep,
  createClient,
} from "../../core/client/mod.ts";
import {
  createHub,
  HUB_CONNECTION_TRANSITIONS,
  HUB_SESSION_TRANSITIONS,
  hubStep,
} from "../../core/server/mod.ts";
import {
  createGateway,
  GATEWAY_TRANSITIONS,
  type GatewayInput,
  gatewayStep,
} from "../../core/gateway/mod.ts";

const OPEN = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>";
const RANDOM = "0123456789abcdefghij";

/** Every table with its first and its terminal phase. */
const TABLES: readonly [string, TransitionTable<string>, string, string][] = [
  ["session", TRANSITIONS, "idle", "closed"],
  ["client status", CLIENT_STATUS_TRANSITIONS, "idle", "closed"],
  ["client stage", CLIENT_STAGE_TRANSITIONS, "new", "ended"],
  ["hub connection", HUB_CONNECTION_TRANSITIONS, "new", "ended"],
  ["hub session", HUB_SESSION_TRANSITIONS, "new", "ended"],
  ["gateway", GATEWAY_TRANSITIONS, "waiting-open", "ended"],
];

function reachable(table: TransitionTable<string>, from: string): Set<string> {
  const seen = new Set([from]);
  const queue = [from];
  for (let i = 0; i < queue.length && i < 1_000; i++) {
    for (const next of table[queue[i]!] ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return seen;
}

for (const [name, table, first, terminal] of TABLES) {
  Deno.test(`transition table (${name}): well formed, connected, one terminal phase`, () => {
    const phases = Object.keys(table);
    for (const phase of phases) {
      const moves = table[phase]!;
      for (const to of moves) assert(phases.includes(to), `${phase} -> ${to}: unknown phase`);
      assert(!moves.includes(phase), `${phase} lists itself (staying put is implicit)`);
      assertEquals(new Set(moves).size, moves.length, `${phase} lists a move twice`);
      assert(reachable(table, phase).has(terminal), `${phase} cannot reach ${terminal}`);
    }
    assertEquals(table[terminal], [], `${terminal} must be terminal`);
    assertEquals([...reachable(table, first)].sort(), [...phases].sort(), "unreachable phases");
    // The check agrees with the table, move by move.
    for (const from of phases) {
      for (const to of phases) {
        const allowed = from === to || table[from]!.includes(to);
        if (allowed) checkTransition(name, table, from, to);
        else assertThrows(() => checkTransition(name, table, from, to), TransitionError);
      }
    }
  });
}

Deno.test("transition tables: a move outside the gateway's table throws TransitionError", () => {
  // A gateway whose bridge has ended cannot start connecting again: the step that would make
  // that move is a bug in the core, reported as such (never as a peer error).
  const ended = { ...createGateway({ domains: ["localhost"] }), phase: "ended" as const };
  let { state: gateway } = gatewayStep(ended, {
    type: "client",
    input: { type: "transport-opened", now: 0, secure: true, streamId: "s1" },
  });
  const error = assertThrows(
    () =>
      gatewayStep(gateway, {
        type: "client",
        input: { type: "text-received", now: 1, data: OPEN },
      }),
    TransitionError,
  );
  assertEquals([error.reducer, error.from, error.to], ["gateway", "ended", "connecting"]);
  // The same inputs from a fresh gateway make the allowed move.
  ({ state: gateway } = gatewayStep(createGateway({ domains: ["localhost"] }), {
    type: "client",
    input: { type: "transport-opened", now: 0, secure: true, streamId: "s1" },
  }));
  ({ state: gateway } = gatewayStep(gateway, {
    type: "client",
    input: { type: "text-received", now: 1, data: OPEN },
  }));
  assertEquals(gateway.phase, "connecting");
});

// ---- linear states ----------------------------------------------------------------------

function spentError(fn: () => unknown): void {
  const error = assertThrows(fn, XmppUsageError);
  assertEquals(error.phase, "spent");
}

Deno.test("linear session: a stepped session is spent, reuse throws before any change", () => {
  // Why it cannot be pure: over TCP the codec's parser keeps the unfinished element.
  const s0 = createSession({ role: "client", transport: "tcp", to: "localhost" });
  const { state: s1 } = step(s0, { type: "transport-opened", now: 0, secure: true });
  assert(isSpent(s0) && !isSpent(s1));
  spentError(() => step(s0, { type: "transport-opened", now: 0, secure: true }));
  const { state: s2 } = step(s1, {
    type: "text-received",
    now: 1,
    data: "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'" +
      " from='localhost' id='x' version='1.0'><message",
  });
  spentError(() => step(s1, { type: "text-received", now: 2, data: "<presence/>" }));
  const { outputs } = step(s2, { type: "text-received", now: 2, data: "/>" });
  assertEquals(
    outputs.filter((o) => o.type === "element-received").map((o) =>
      o.type === "element-received" ? o.element.name : ""
    ),
    ["message"],
  );
  // A refused misuse spends nothing: the same state still steps.
  const fresh = createSession({ role: "server" });
  assertThrows(() => step(fresh, { type: "restart-stream", now: 0 }), XmppUsageError);
  assert(!isSpent(fresh));
  step(fresh, { type: "transport-opened", now: 0, secure: true, streamId: "s1" });
});

Deno.test("linear client: a stepped client state is spent; a refused misuse spends nothing", () => {
  const config = { domain: "localhost", endpoints: ["ws://127.0.0.1/ws"], anonymous: true };
  const s0 = createClient(config);
  const connect: ClientInput = { type: "connect", now: 0, random: RANDOM };
  const { state: s1 } = clientStep(s0, connect);
  spentError(() => clientStep(s0, connect));
  // Misuse (connect twice) is refused, and leaves s1 usable.
  assertThrows(() => clientStep(s1, { ...connect, now: 1 }), XmppUsageError, "already started");
  const { state: s2 } = clientStep(s1, {
    type: "transport-opened",
    now: 2,
    random: RANDOM,
    protocol: "xmpp",
  });
  assertEquals(s2.connection?.stage, "opening");
  spentError(() => clientStep(s1, { type: "close", now: 3, random: RANDOM }));
});

Deno.test("linear hub and gateway: a stepped state is spent", () => {
  const h0 = createHub({ domain: "localhost", accounts: [] });
  const opened = {
    type: "connection-opened",
    now: 0,
    random: RANDOM,
    connId: "c1",
    secure: true,
    loopback: false,
  } as const;
  const { state: h1 } = hubStep(h0, opened);
  spentError(() => hubStep(h0, { ...opened, connId: "c2" }));
  assertThrows(() => hubStep(h1, opened), XmppUsageError, "already open"); // misuse
  hubStep(h1, { ...opened, connId: "c2" }); // h1 was not spent by the refused step

  const g0 = createGateway({ domains: ["localhost"] });
  const input: GatewayInput = {
    type: "client",
    input: { type: "transport-opened", now: 0, secure: true, streamId: "s1" },
  };
  gatewayStep(g0, input);
  spentError(() => gatewayStep(g0, input));
});

Deno.test("linear reducers are deterministic: equal fresh states and inputs, equal outputs", () => {
  const run = () => {
    const outs: unknown[] = [];
    let gateway = createGateway({ domains: ["localhost"] });
    const inputs: GatewayInput[] = [
      { type: "client", input: { type: "transport-opened", now: 0, secure: true, streamId: "s" } },
      { type: "client", input: { type: "text-received", now: 1, data: OPEN } },
      { type: "upstream", input: { type: "transport-opened", now: 2, secure: false } },
      {
        type: "upstream",
        input: {
          type: "text-received",
          now: 3,
          data: "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/" +
            "streams' from='localhost' id='u1' version='1.0'><stream:features><mechanisms " +
            "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms>" +
            "</stream:features>",
        },
      },
    ];
    for (const input of inputs) {
      const result = gatewayStep(gateway, input);
      gateway = result.state;
      outs.push(result.outputs);
    }
    return { outs, phase: gateway.phase };
  };
  const first = run();
  assertEquals(first.phase, "relaying");
  assertEquals(run(), first);
});

// ---- one result shape, one timer shape, one notice ----------------------------------------

Deno.test("one result shape: the four reducers return { state, outputs }", () => {
  const session = step(createSession({ role: "server" }), {
    type: "transport-opened",
    now: 0,
    secure: true,
    streamId: "s1",
  });
  const client = clientStep(
    createClient({ domain: "localhost", endpoints: ["ws://127.0.0.1/ws"], anonymous: true }),
    { type: "connect", now: 0, random: RANDOM },
  );
  const hub = hubStep(createHub({ domain: "localhost", accounts: [] }), {
    type: "connection-opened",
    now: 0,
    random: RANDOM,
    connId: "c1",
    secure: true,
    loopback: false,
  });
  const gateway = gatewayStep(createGateway({ domains: ["localhost"] }), {
    type: "client",
    input: { type: "transport-opened", now: 0, secure: true, streamId: "s1" },
  });
  for (const result of [session, client, hub, gateway]) {
    assertEquals(Object.keys(result).sort(), ["outputs", "state"]);
  }
  assertEquals(session.state.phase, "idle");
  assertEquals(client.state.status, "connecting");
  assertEquals([...hub.state.connections.keys()], ["c1"]);
  assertEquals(gateway.state.phase, "waiting-open");
});

Deno.test("one timer shape: each reducer's set-timer key comes back as timer-fired", () => {
  // Session: the open timer (#17: the client must speak first), fired at its deadline.
  const s = step(createSession({ role: "server", openTimeoutMs: 100 }), {
    type: "transport-opened",
    now: 0,
    secure: true,
    streamId: "s1",
  });
  assertEquals(s.outputs, [{ type: "set-timer", timer: "open", at: 100 }]);
  const sFired = step(s.state, { type: "timer-fired", now: 100, timer: "open" });
  assert(sFired.outputs.some((o) => o.type === "stream-failed" && o.reason === "open-timeout"));

  // Hub: a typed key, never a string to split.
  const h = hubStep(createHub({ domain: "localhost", accounts: [], loginTimeoutMs: 50 }), {
    type: "connection-opened",
    now: 0,
    random: RANDOM,
    connId: "c:1",
    secure: true,
    loopback: false,
  });
  assertEquals(h.outputs, [
    { type: "set-timer", timer: { kind: "login", connId: "c:1" }, at: 50 },
  ]);
  const hFired = hubStep(h.state, {
    type: "timer-fired",
    now: 50,
    random: RANDOM,
    timer: { kind: "login", connId: "c:1" },
  });
  assertEquals(hFired.outputs.map((o) => o.type), [
    "notice",
    "notice",
    "fail-stream",
    "clear-timer",
  ]);
  assertEquals(hFired.outputs[2], {
    type: "fail-stream",
    connId: "c:1",
    condition: "connection-timeout",
    text: "Login took too long",
  });

  // Gateway: the key names the side whose session asked for the timer.
  const g = gatewayStep(createGateway({ domains: ["localhost"], openTimeoutMs: 70 }), {
    type: "client",
    input: { type: "transport-opened", now: 0, secure: true, streamId: "s1" },
  });
  assertEquals(g.outputs, [{ type: "set-timer", timer: { side: "client", kind: "open" }, at: 70 }]);
  const gFired = gatewayStep(g.state, {
    type: "timer-fired",
    now: 70,
    timer: { side: "client", kind: "open" },
  });
  assert(gFired.outputs.some((o) => o.type === "client" && o.output.type === "close-transport"));
  assert(
    gFired.outputs.some((o) =>
      o.type === "notice" && o.event === "client-stream-failed" && o.text === "open-timeout"
    ),
  );
});

Deno.test("one notice: the hub and the gateway log through { type: 'notice', level, event }", () => {
  const h = hubStep(createHub({ domain: "localhost", accounts: [], maxConnections: 1 }), {
    type: "connection-opened",
    now: 0,
    random: RANDOM,
    connId: "c1",
    secure: true,
    loopback: false,
  });
  const over = hubStep(h.state, {
    type: "connection-opened",
    now: 1,
    random: RANDOM,
    connId: "c2",
    secure: true,
    loopback: false,
  });
  assertEquals(over.outputs.filter((o) => o.type === "notice"), [
    { type: "notice", level: "warn", event: "limit-connections", connId: "c2" },
    {
      type: "notice",
      level: "warn",
      event: "stream-error",
      connId: "c2",
      condition: "resource-constraint",
      text: "resource-constraint: Too many connections",
    },
  ]);
  let g = gatewayStep(createGateway({ domains: ["localhost"] }), {
    type: "client",
    input: { type: "transport-opened", now: 0, secure: true, streamId: "s1" },
  }).state;
  g = gatewayStep(g, { type: "client", input: { type: "text-received", now: 1, data: OPEN } })
    .state;
  const failed = gatewayStep(g, { type: "upstream-failed", now: 2, reason: "refused" });
  assertEquals(failed.outputs[0], {
    type: "notice",
    level: "warn",
    event: "upstream-connect-failed",
    text: "refused",
  });
});
