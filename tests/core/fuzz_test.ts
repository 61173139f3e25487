/**
 * Fuzz (testing pyramid item 3): seeded random and mutated inputs for the client and server
 * roles, checking invariants after every step, plus random chunking of RFC 6120 streams.
 *
 * Seeds: the base seed is `FUZZ_SEED` (needs `--allow-env`) or, when it is not set, a new random
 * seed for every run, so that CI explores new inputs each time; the seed is always printed. Every
 * sequence runs with a seed derived from it. A failure prints the base seed, the sequence seed
 * and the input index. The fixed seed {@link FIXED_SEED} also runs every time (a smaller run, a
 * regression corpus beside `REGRESSIONS`). To replay one sequence and print its trace:
 *
 *     FUZZ_SEED=<base> FUZZ_SEQUENCE=<sequence seed> deno test --allow-env tests/core/fuzz_test.ts
 *
 * Invariants checked after every step:
 * - `step` never throws on peer input (text, binary, transport close, timer). Application
 *   commands throw `XmppUsageError` exactly when their documented preconditions fail.
 * - Over WebSocket, every `send-text` is one well-formed element: it parses with a fresh
 *   `DocumentParser` and starts with `<` but not `<?xml`. Over TCP, everything sent parses as
 *   one RFC 6120 stream (a new document after each XML declaration).
 * - Nothing is sent after `close-transport`, nor while the transport is closed.
 * - At most one terminal notice per session, and `session.ended` says whether there was one.
 * - Each phase change is in `TRANSITIONS`.
 * - Timers are armed in the future.
 * - The same seed gives the same inputs and outputs (each sequence runs twice).
 *
 * Each run must also reach a list of notices and failure reasons (`EXPECTED_COVERAGE`), so a
 * generator that stopped exploring would fail. Inputs that once broke an invariant are kept as
 * fixed regression cases (`REGRESSIONS`), checked by the same harness.
 */

import { assert, assertEquals } from "@std/assert";
import {
  createSession,
  DocumentParser,
  element,
  type Input,
  isAllowedTransition,
  isStreamError,
  NS,
  type Output,
  type Phase,
  type Session,
  type SessionConfig,
  step,
  STREAM_ERROR_CONDITIONS,
  StreamParser,
  type TimerName,
  TRANSITIONS,
  WebSocketFraming,
  XmppUsageError,
} from "../../core/mod.ts";
import {
  appElement,
  CLIENT_MESSAGES,
  deriveSeed,
  DOMAIN,
  forbiddenElement,
  type FuzzLimits,
  mutateMany,
  type Payload,
  randomChunks,
  Rng,
  SERVER_MESSAGES,
  tcpServerStream,
  utf8,
} from "../_support/fuzz_gen.ts";

/** The seed of the fixed regression run, every time beside the random one. */
const FIXED_SEED = 0x7395;
/** Inputs of the fixed-seed run per role and transport. */
const FIXED_INPUTS_PER_ROLE = 2_000;
/** Inputs to generate per role and transport, at least. */
const WEBSOCKET_INPUTS_PER_ROLE = 12_000;
const TCP_INPUTS_PER_ROLE = 3_000;
const MAX_SEQUENCE_LENGTH = 80;

function envNumber(name: string): number | undefined {
  if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") {
    return undefined;
  }
  const raw = Deno.env.get(name);
  if (raw === undefined || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value)) throw new Error(`${name} must be an integer, got ${raw}`);
  return value >>> 0;
}

const SEED_FROM_ENV = envNumber("FUZZ_SEED");
const BASE_SEED = SEED_FROM_ENV ?? crypto.getRandomValues(new Uint32Array(1))[0]!;
const ONLY_SEQUENCE = envNumber("FUZZ_SEQUENCE");
console.log(
  `fuzz: FUZZ_SEED=${BASE_SEED} (${
    SEED_FROM_ENV === undefined ? "random for this run" : "from the environment"
  }); replay with FUZZ_SEED=${BASE_SEED} deno test --allow-env tests/core/fuzz_test.ts`,
);

type Role = "client" | "server";
type Transport = "websocket" | "tcp";

const SMALL_LIMITS: FuzzLimits = {
  maxBytes: 2_048,
  maxDepth: 6,
  maxAttributes: 8,
  maxNameLength: 32,
  maxAttributeValueLength: 256,
};
const DEFAULT_LIMITS: FuzzLimits = {
  maxBytes: 262_144,
  maxDepth: 64,
  maxAttributes: 64,
  maxNameLength: 256,
  maxAttributeValueLength: 32_768,
};

const PEER_INPUTS: ReadonlySet<Input["type"]> = new Set<Input["type"]>([
  "text-received",
  "binary-received",
  "transport-closed",
  "timer-fired",
]);
const TERMINALS: ReadonlySet<Output["type"]> = new Set<Output["type"]>([
  "stream-closed",
  "stream-failed",
  "stream-redirected",
]);
const WEAK_SCHEMES = new Set(["ws:", "http:"]);

/** An invariant broken at one input of one sequence. */
class FuzzFailure extends Error {
  readonly invariant: string;
  /** What makes two failures the same bug (for de-duplication in the report). */
  readonly key: string;
  constructor(invariant: string, key: string, message: string) {
    super(message);
    this.invariant = invariant;
    this.key = key;
  }
}

// ---- the documented preconditions of the application commands -----------------------

/** #33: a redirect target parses as a URL and does not weaken a secure connection. */
function redirectAllowed(uri: string, secure: boolean): boolean {
  let scheme: string;
  try {
    scheme = new URL(uri).protocol;
  } catch {
    return false;
  }
  return !(secure && WEAK_SCHEMES.has(scheme));
}

/**
 * Whether a command is valid in this state (false: it must throw `XmppUsageError`; "either":
 * the documentation leaves it open, and only the other invariants apply).
 */
function commandAllowed(s: Session, input: Input): boolean | "either" {
  const relaying = s.phase === "closing" && s.closeReceived && !s.closeSent;
  switch (input.type) {
    case "transport-opened":
      return !s.transportOpen && s.phase === "idle" && !s.ended;
    case "accept-stream": {
      if (s.config.role !== "server" || s.phase !== "opening") return false;
      const f = input.features;
      if (f !== undefined && !(f.name === "features" && f.ns === NS.STREAMS)) return false;
      const id = input.id ?? s.nextStreamId;
      return id !== undefined && id !== "" && id !== s.streamId;
    }
    case "restart-stream":
      return s.config.role === "client" && s.phase === "open" && s.restartPending &&
        !s.tlsPending;
    case "transport-secured":
      return s.tlsPending && s.phase === "open" && s.transportOpen;
    case "abort-transport":
      return s.transportOpen;
    case "send-element":
      return s.transportOpen && (s.phase === "open" || relaying) && !s.restartPending &&
        !isStreamError(input.element) && input.element.ns !== NS.FRAMING &&
        // STARTTLS never runs over a WebSocket (RFC 7395 §3.9), except a <failure/> answer.
        !(s.config.transport === "websocket" && input.element.ns === NS.TLS &&
          input.element.name !== "failure");
    case "close-stream": {
      const uri = input.seeOtherUri;
      if (relaying && uri === undefined) return true;
      if (!s.transportOpen || s.phase === "closing" || s.phase === "closed") return false;
      if (uri === undefined) return true;
      const redirect = s.config.role === "server" && s.phase !== "idle" &&
        redirectAllowed(uri, s.secure);
      // see-other-uri is an RFC 7395 notion; over TCP a server may refuse it.
      return redirect && s.config.transport === "tcp" ? "either" : redirect;
    }
    case "fail-stream":
      return s.transportOpen && s.phase !== "closed";
    default:
      throw new Error(`not a command: ${input.type}`);
  }
}

/** Whether `to` can be reached from `from` through TRANSITIONS (any number of hops). */
function reachable(from: Phase, to: Phase): boolean {
  const seen = new Set<Phase>([from]);
  const queue: Phase[] = [from];
  for (let phase = queue.shift(); phase !== undefined; phase = queue.shift()) {
    if (phase === to) return true;
    for (const next of TRANSITIONS[phase]) {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return false;
}

// ---- input generation ------------------------------------------------------------------

/** What the scripted (valid transcript) peer and application have done so far. */
interface Script {
  authSent: boolean;
  authed: boolean;
  featuresSeen: boolean;
  starttls: boolean;
  stanzas: number;
  ids: number;
}

interface Ctx {
  readonly rng: Rng;
  readonly role: Role;
  readonly transport: Transport;
  readonly limits: FuzzLimits;
  /** 0: a valid transcript; 1: all random. */
  readonly chaos: number;
  readonly script: Script;
  readonly timers: Map<TimerName, number>;
  readonly harness: { readonly session: Session };
}

type Draft = Input extends infer I ? I extends Input ? Omit<I, "now"> : never : never;

function freshId(ctx: Ctx): string {
  return `id-${ctx.script.ids++}`;
}

function clientOpen(ctx: Ctx): string {
  if (ctx.transport === "tcp") {
    return `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='${NS.STREAMS}' to='${DOMAIN}' version='1.0'>`;
  }
  return ctx.rng.pick(CLIENT_MESSAGES.slice(0, 4));
}

function serverOpen(ctx: Ctx): string {
  const id = freshId(ctx);
  if (ctx.transport === "tcp") {
    return `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='${NS.STREAMS}' from='${DOMAIN}' id='${id}' version='1.0' xml:lang='en'>`;
  }
  return `<open xmlns='${NS.FRAMING}' from='${DOMAIN}' id='${id}' version='1.0' xml:lang='en'/>`;
}

function peerClose(ctx: Ctx): string {
  return ctx.transport === "tcp" ? "</stream:stream>" : `<close xmlns='${NS.FRAMING}'/>`;
}

/** A message of the peer in its corpus form (WebSocket) or as a stream piece (TCP). */
function peerElement(
  ctx: Ctx,
  name: "auth" | "success" | "features" | "stanza" | "proceed",
): string {
  const tcp = ctx.transport === "tcp";
  switch (name) {
    case "auth":
      return `<auth xmlns='${NS.SASL}' mechanism='PLAIN'>AGp1bGlldABy</auth>`;
    case "success":
      return `<success xmlns='${NS.SASL}'/>`;
    case "proceed":
      return `<proceed xmlns='${NS.TLS}'/>`;
    case "features": {
      const tls = ctx.script.starttls ? `<starttls xmlns='${NS.TLS}'><required/></starttls>` : "";
      return tcp
        ? `<stream:features>${tls}<mechanisms xmlns='${NS.SASL}'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`
        : `<stream:features xmlns:stream='${NS.STREAMS}'>${tls}<mechanisms xmlns='${NS.SASL}'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`;
    }
    case "stanza": {
      const ns = tcp ? "" : " xmlns='jabber:client'";
      return ctx.rng.pick([
        `<message${ns} to='a@b'><body>hi \u00e9\u{1F600} &amp; &#x263A;</body></message>`,
        `<presence${ns}/>`,
        `<iq${ns} type='get' id='i${ctx.script.ids++}'><ping xmlns='urn:xmpp:ping'/></iq>`,
      ]);
    }
  }
}

function text(ctx: Ctx, data: string): Draft {
  // Valid text arrives as a string or, as an adapter may pass it, as raw UTF-8.
  return { type: "text-received", data: ctx.rng.chance(0.15) ? utf8(data) : data };
}

/** The next step of a valid transcript, or undefined when the transcript is over. */
function scripted(ctx: Ctx): Draft | undefined {
  const { rng, script } = ctx;
  const s = ctx.harness.session;
  if (!s.transportOpen) {
    if (s.phase !== "idle" || s.ended) return undefined;
    return s.config.role === "server"
      ? { type: "transport-opened", secure: rng.chance(0.5), streamId: freshId(ctx) }
      : { type: "transport-opened", secure: rng.chance(0.5), protocol: "xmpp" };
  }
  if (s.phase === "closed") {
    const close = ctx.timers.get("close");
    if (close !== undefined && rng.chance(0.3)) return { type: "timer-fired", timer: "close" };
    return { type: "transport-closed", code: 1000 };
  }
  if (s.phase === "closing") {
    // A silent peer now and then: the close handshake times out (#29).
    if (ctx.timers.has("close") && rng.chance(0.15)) return { type: "timer-fired", timer: "close" };
    if (s.closeReceived && !s.closeSent) {
      // autoReplyClose off: relay something, then answer.
      return rng.chance(0.3)
        ? { type: "send-element", element: appElement(rng) }
        : { type: "close-stream" };
    }
    return text(ctx, peerClose(ctx));
  }
  if (s.config.role === "server") {
    switch (s.phase) {
      case "idle":
        return text(ctx, clientOpen(ctx));
      case "opening":
        return {
          type: "accept-stream",
          features: element("features", NS.STREAMS, {}, [element("mechanisms", NS.SASL)]),
          nextStreamId: freshId(ctx),
        };
      case "open":
        if (s.restartPending) return text(ctx, clientOpen(ctx));
        if (!script.authed) {
          if (!script.authSent) {
            script.authSent = true;
            return text(ctx, peerElement(ctx, "auth"));
          }
          script.authed = true;
          return { type: "send-element", element: element("success", NS.SASL) };
        }
        if (script.stanzas > 0) {
          script.stanzas--;
          return rng.chance(0.5)
            ? text(ctx, peerElement(ctx, "stanza"))
            : { type: "send-element", element: appElement(rng) };
        }
        return rng.chance(0.5) ? text(ctx, peerClose(ctx)) : { type: "close-stream" };
    }
    return undefined;
  }
  // client
  switch (s.phase) {
    case "opening":
      script.featuresSeen = false;
      return text(ctx, serverOpen(ctx));
    case "open":
      if (s.tlsPending) return { type: "transport-secured" };
      if (s.restartPending) return { type: "restart-stream" };
      if (!script.featuresSeen) {
        script.featuresSeen = true;
        return text(ctx, peerElement(ctx, "features"));
      }
      if (script.starttls && !s.secure) {
        if (!script.authSent) {
          script.authSent = true;
          return { type: "send-element", element: element("starttls", NS.TLS) };
        }
        script.authSent = false;
        script.starttls = false;
        return text(ctx, peerElement(ctx, "proceed"));
      }
      if (!script.authed) {
        if (!script.authSent) {
          script.authSent = true;
          return { type: "send-element", element: element("auth", NS.SASL) };
        }
        script.authed = true;
        return text(ctx, peerElement(ctx, "success"));
      }
      if (script.stanzas > 0) {
        script.stanzas--;
        return rng.chance(0.5)
          ? text(ctx, peerElement(ctx, "stanza"))
          : { type: "send-element", element: appElement(rng) };
      }
      return rng.chance(0.5) ? text(ctx, peerClose(ctx)) : { type: "close-stream" };
  }
  return undefined;
}

const URIS: readonly (string | undefined)[] = [
  undefined,
  undefined,
  undefined,
  "wss://b.example.com/xmpp",
  "ws://b.example.com/xmpp",
  "WS://B.EXAMPLE.COM/",
  "https://b.example.com/bosh",
  "http://b.example.com/bosh",
  "not a uri",
  " wss://leading.space/",
  "xmpp:b.example.com",
];

function randomCommand(ctx: Ctx): Draft {
  const { rng } = ctx;
  const s = ctx.harness.session;
  switch (rng.int(10)) {
    case 0:
      return {
        type: "transport-opened",
        secure: rng.chance(0.5),
        ...(rng.chance(0.8) ? { protocol: rng.pick(["xmpp", "xmpp", "chat", ""]) } : {}),
        ...(rng.chance(0.8) ? { streamId: rng.pick([freshId(ctx), ""]) } : {}),
      };
    case 1: {
      const features = rng.pick([
        undefined,
        element("features", NS.STREAMS, {}, [element("bind", NS.BIND)]),
        element("features", NS.STREAMS, {}, [element("starttls", NS.TLS), element("sm", NS.SM)]),
        element("message", NS.CLIENT),
      ]);
      const id = rng.pick([undefined, undefined, freshId(ctx), s.streamId, ""]);
      return {
        type: "accept-stream",
        ...(features !== undefined ? { features } : {}),
        ...(id !== undefined ? { id } : {}),
        ...(rng.chance(0.6) ? { nextStreamId: freshId(ctx) } : {}),
      };
    }
    case 2:
      return { type: "restart-stream" };
    case 3:
      return { type: "transport-secured" };
    case 4:
      return { type: "abort-transport", code: rng.pick([1000, 1011, 1014, 4000]), reason: "fuzz" };
    case 5:
    case 6:
      return {
        type: "send-element",
        element: rng.chance(0.85) ? appElement(rng) : forbiddenElement(rng),
      };
    case 7:
    case 8: {
      const uri = rng.pick(URIS);
      return { type: "close-stream", ...(uri !== undefined ? { seeOtherUri: uri } : {}) };
    }
    default:
      return {
        type: "fail-stream",
        condition: rng.pick(STREAM_ERROR_CONDITIONS),
        ...(rng.chance(0.5) ? { text: rng.pick(["bye", "caf\u00e9 <&>", "x".repeat(300)]) } : {}),
        ...(rng.chance(0.2) ? { content: "b.example.com:5222" } : {}),
      };
  }
}

function randomPeerText(ctx: Ctx): Draft {
  const { rng } = ctx;
  const corpus = ctx.role === "server" ? CLIENT_MESSAGES : SERVER_MESSAGES;
  let base: string;
  if (ctx.transport === "tcp") {
    base = ctx.role === "client"
      ? rng.pick([
        serverOpen(ctx),
        tcpServerStream(rng),
        peerElement(ctx, "stanza"),
        " ",
        "</stream:stream>",
      ])
      : rng.pick([clientOpen(ctx), peerElement(ctx, "stanza"), peerElement(ctx, "auth"), "\n"]);
  } else {
    base = rng.chance(0.3) ? (scriptedText(ctx) ?? rng.pick(corpus)) : rng.pick(corpus);
  }
  const payload: Payload = rng.chance(0.6) ? mutateMany(rng, base, corpus, ctx.limits) : base;
  if (typeof payload === "string" && rng.chance(0.1)) {
    return { type: "text-received", data: utf8(payload) };
  }
  return { type: "text-received", data: payload };
}

/** The text a valid transcript would deliver next, if its next step is peer text. */
function scriptedText(ctx: Ctx): string | undefined {
  const s = ctx.harness.session;
  if (ctx.role === "server") {
    if (s.phase === "idle" || s.restartPending) return clientOpen(ctx);
    return undefined;
  }
  return s.phase === "opening" ? serverOpen(ctx) : undefined;
}

function randomInput(ctx: Ctx): Draft {
  const { rng } = ctx;
  const armed = [...ctx.timers.keys()];
  return rng.weighted<() => Draft>([
    [40, () => randomPeerText(ctx)],
    [3, () => ({ type: "binary-received", byteLength: rng.int(100) })],
    [
      armed.length > 0 ? 8 : 0,
      () => ({ type: "timer-fired", timer: rng.pick(armed) }),
    ],
    [1, () => ({ type: "timer-fired", timer: rng.pick(["open", "close"] as const) })],
    [2, () => ({ type: "transport-closed", ...(rng.chance(0.5) ? { code: 1006 } : {}) })],
    [40, () => randomCommand(ctx)],
  ])();
}

function nextInput(ctx: Ctx): Draft | undefined {
  if (ctx.rng.chance(ctx.chaos)) return randomInput(ctx);
  return scripted(ctx);
}

// ---- running a sequence ----------------------------------------------------------------

function describe(input: Input): string {
  const json = JSON.stringify(input, (_key, value) => {
    if (value instanceof Uint8Array) return { bytes: Array.from(value) };
    return value;
  });
  return json.length > 600 ? json.slice(0, 600) + `... (${json.length} chars)` : json;
}

interface SequenceResult {
  readonly trace: string[];
  readonly inputs: number;
  readonly failure: FuzzFailure | undefined;
}

interface SequenceOptions {
  readonly role: Role;
  readonly transport: Transport;
  readonly seed: number;
  /** Counts what the sequence exercised (notices, failure reasons, refused commands). */
  readonly coverage?: Map<string, number>;
}

function count(coverage: Map<string, number> | undefined, key: string): void {
  if (coverage !== undefined) coverage.set(key, (coverage.get(key) ?? 0) + 1);
}

function sessionConfig(
  rng: Rng,
  role: Role,
  transport: Transport,
  limits: FuzzLimits,
): SessionConfig {
  const small = limits === SMALL_LIMITS;
  const base = {
    transport,
    openTimeoutMs: rng.pick([1_000, 30_000]),
    closeTimeoutMs: rng.pick([500, 5_000]),
    ...(small ? { limits } : {}),
    ...(rng.chance(0.2) ? { autoReplyClose: false } : {}),
  };
  return role === "server"
    ? { role, ...base, ...(rng.chance(0.8) ? { domains: [DOMAIN] } : {}) }
    : {
      role,
      ...base,
      to: DOMAIN,
      from: "juliet@example.com",
      ...(rng.chance(0.5) ? { lang: "en" } : {}),
    };
}

/**
 * One session under test and the invariant checks applied after each of its steps. Used by the
 * random sequences and by the fixed regression cases alike.
 */
class Harness {
  session: Session;
  now = 0;
  /** Timers the session has armed and not cleared (what an adapter would have running). */
  readonly timers = new Map<TimerName, number>();
  readonly trace: string[] = [];
  readonly #transport: Transport;
  readonly #coverage: Map<string, number> | undefined;
  readonly #checker = new DocumentParser(); // fresh: never the session's own parser
  #tcpChecker = new StreamParser();
  #closeTransportSent = false;
  #staleTimer = false;
  #terminals = 0;
  #index = 0;

  constructor(config: SessionConfig, coverage?: Map<string, number>) {
    this.session = createSession(config);
    this.#transport = config.transport ?? "websocket";
    this.#coverage = coverage;
  }

  /** Applies one input (time moves forward by `elapsed`, or to the timer's deadline). */
  apply(draft: Draft, elapsed = 0): void {
    const index = this.#index++;
    if (draft.type === "timer-fired") {
      const at = this.timers.get(draft.timer);
      if (at === undefined) this.#staleTimer = true;
      else this.now = Math.max(this.now, at);
    } else {
      this.now += elapsed;
    }
    const input = { ...draft, now: this.now } as Input;
    const before = this.session;
    const transport = this.#transport;
    const coverage = this.#coverage;
    const fail = (invariant: string, detail: string, key: string = input.type): never => {
      throw new FuzzFailure(
        invariant,
        `${invariant} | ${key}`,
        `${detail}\n  input #${index}: ${describe(input)}`,
      );
    };
    const isPeer = PEER_INPUTS.has(input.type);
    const allowed = isPeer ? true : commandAllowed(before, input);
    let outputs: readonly Output[];
    try {
      const result = step(before, input);
      this.session = result.state;
      outputs = result.outputs;
    } catch (thrown) {
      if (!isPeer && thrown instanceof XmppUsageError && allowed !== true) {
        count(coverage, "usage-error");
        this.trace.push(`${index} ${input.type} -> XmppUsageError`);
        return;
      }
      if (!isPeer && thrown instanceof XmppUsageError) {
        fail(
          "valid command refused",
          `XmppUsageError for a valid command: ${thrown.message}`,
          thrown.message,
        );
      }
      const stack = thrown instanceof Error ? thrown.stack ?? thrown.message : String(thrown);
      const first = thrown instanceof Error ? thrown.message : String(thrown);
      fail(
        isPeer ? "threw on peer input" : "command threw",
        stack,
        `${input.type} in ${before.phase}: ${first}`,
      );
    }
    outputs = outputs!;
    if (!isPeer && allowed === false) {
      fail("invalid command accepted", `expected XmppUsageError (phase ${before.phase})`);
    }
    const after = this.session;
    count(coverage, `input:${input.type}`);
    for (const output of outputs) {
      count(coverage, `output:${output.type}`);
      if (output.type === "stream-failed") count(coverage, `failed:${output.reason}`);
      if (output.type === "stream-opened" && output.restart) count(coverage, "restarted");
    }
    this.trace.push(`${index} ${describe(input)} -> ${after.phase} ${JSON.stringify(outputs)}`);

    // Phase changes follow TRANSITIONS: one hop per step, except where one input may carry
    // several frames (a TCP chunk, or the data kept back for a restart), where each hop is
    // checked by the reducer and the step as a whole must follow a path of the table.
    const multiFrame = transport === "tcp" &&
      (input.type === "text-received" || input.type === "restart-stream" ||
        input.type === "transport-secured");
    const legal = multiFrame
      ? reachable(before.phase, after.phase)
      : isAllowedTransition(before.phase, after.phase) &&
        (before.phase === after.phase || TRANSITIONS[before.phase].includes(after.phase));
    if (!legal) {
      fail(
        "transition",
        `${before.phase} -> ${after.phase} is not allowed`,
        `${before.phase}->${after.phase}`,
      );
    }

    for (const output of outputs) {
      switch (output.type) {
        case "send-text": {
          if (this.#closeTransportSent) {
            fail("sent after close", `send-text after close-transport: ${output.text}`);
          }
          if (!before.transportOpen && input.type !== "transport-opened") {
            fail("sent while closed", `send-text while the transport is closed: ${output.text}`);
          }
          if (transport === "websocket") {
            if (/^[\s\uFEFF]/.test(output.text) || output.text.startsWith("<?xml")) {
              fail(
                "message start",
                `a message must start with '<' and no declaration: ${output.text}`,
              );
            }
            const parsed = this.#checker.parse(output.text);
            if (!parsed.ok) {
              fail(
                "well-formed output",
                `${parsed.error.condition} (${parsed.error.text}): ${output.text}`,
                `${input.type}: ${parsed.error.text.replace(/[0-9]+/g, "N")}`,
              );
            }
          } else {
            if (output.text.startsWith("<?xml")) this.#tcpChecker = new StreamParser();
            const events = this.#tcpChecker.push(output.text);
            const error = events.find((e) => e.type === "error");
            if (error !== undefined && error.type === "error") {
              fail(
                "well-formed output",
                `the TCP output stream broke (${error.error.text}) at: ${output.text}`,
                `${input.type} in ${before.phase}: ${error.error.text.replace(/[0-9]+/g, "N")}`,
              );
            }
          }
          break;
        }
        case "close-transport":
          // abort-transport may escalate a close already asked for (e.g. to code 1014).
          if (this.#closeTransportSent && !this.#staleTimer && input.type !== "abort-transport") {
            fail("one close-transport", "close-transport issued twice");
          }
          if (!before.transportOpen && input.type !== "transport-opened") {
            fail("close while closed", "close-transport while the transport is closed");
          }
          this.#closeTransportSent = true;
          break;
        case "set-timer":
          if (!(output.at >= this.now)) {
            fail("timer", `timer ${output.timer} armed in the past (${output.at})`);
          }
          this.timers.set(output.timer, output.at);
          break;
        case "clear-timer":
          this.timers.delete(output.timer);
          break;
        default:
          if (TERMINALS.has(output.type)) {
            this.#terminals++;
            if (this.#terminals > 1) {
              fail("one terminal notice", `second terminal notice ${JSON.stringify(output)}`);
            }
          }
      }
    }
    if (input.type === "timer-fired") this.timers.delete(input.timer);
    if (input.type === "transport-closed" && before.transportOpen) this.timers.clear();
    if (after.ended !== this.#terminals > 0) {
      fail(
        "ended flag",
        `session.ended is ${after.ended} after ${this.#terminals} terminal notices`,
      );
    }
  }
}

function runSequence({ role, transport, seed, coverage }: SequenceOptions): SequenceResult {
  const rng = new Rng(seed);
  const limits = rng.chance(0.4) ? SMALL_LIMITS : DEFAULT_LIMITS;
  const harness = new Harness(sessionConfig(rng, role, transport, limits), coverage);
  const ctx: Ctx = {
    rng,
    role,
    transport,
    limits,
    chaos: rng.pick([0, 0.02, 0.1, 0.3, 0.6, 1]),
    script: {
      authSent: false,
      authed: false,
      featuresSeen: false,
      starttls: transport === "tcp" && rng.chance(0.5),
      stanzas: rng.range(0, 6),
      ids: 0,
    },
    timers: harness.timers,
    harness,
  };
  const length = rng.range(1, MAX_SEQUENCE_LENGTH);
  let index = 0;
  try {
    for (; index < length; index++) {
      const draft = nextInput(ctx);
      if (draft === undefined) break;
      harness.apply(draft, rng.int(50));
    }
  } catch (error) {
    if (error instanceof FuzzFailure) {
      return { trace: harness.trace, inputs: index + 1, failure: error };
    }
    throw error;
  }
  return { trace: harness.trace, inputs: index, failure: undefined };
}

interface Report {
  inputs: number;
  sequences: number;
  failures: Map<string, string>;
  coverage: Map<string, number>;
}

function fuzzRole(
  role: Role,
  transport: Transport,
  minInputs: number,
  base: number = BASE_SEED,
): Report {
  const report: Report = { inputs: 0, sequences: 0, failures: new Map(), coverage: new Map() };
  const salt = (role === "server" ? 1 : 2) * (transport === "tcp" ? 1_000_003 : 1);
  // A rare path (an insecure redirect, say) may not come up in the first minInputs of some
  // seeds (FUZZ_SEED=3010677331 missed it): keep going, up to four times as long, until every
  // expected path has been reached, so that only a degenerate generator fails the coverage check.
  const expected = EXPECTED_COVERAGE[`${role}/${transport}`];
  const covered = () => expected.every((key) => report.coverage.has(key));
  for (
    let n = 0;
    report.inputs < minInputs ||
    (ONLY_SEQUENCE === undefined && !covered() && report.inputs < 4 * minInputs);
    n++
  ) {
    const seed = ONLY_SEQUENCE ?? deriveSeed(base ^ salt, n);
    const first = runSequence({ role, transport, seed, coverage: report.coverage });
    const second = runSequence({ role, transport, seed });
    report.inputs += first.inputs;
    report.sequences++;
    const where = `role=${role} transport=${transport} FUZZ_SEED=${base} FUZZ_SEQUENCE=${seed}`;
    if (ONLY_SEQUENCE !== undefined) {
      console.log(`trace of ${where}:\n${first.trace.join("\n")}`);
    }
    if (first.failure !== undefined) {
      const key = first.failure.key;
      if (!report.failures.has(key)) {
        report.failures.set(
          key,
          `[${first.failure.invariant}] ${where}\n  ${first.failure.message}`,
        );
      }
    }
    if (JSON.stringify(first.trace) !== JSON.stringify(second.trace)) {
      const at = first.trace.findIndex((line, i) => line !== second.trace[i]);
      report.failures.set(
        `determinism ${role}`,
        `[determinism] ${where}: runs differ at input #${at}\n  ${first.trace[at]}\n  ${
          second.trace[at]
        }`,
      );
    }
    if (ONLY_SEQUENCE !== undefined) break;
  }
  return report;
}

function assertNoFailures(report: Report, label: string): void {
  if (report.failures.size === 0) return;
  const list = [...report.failures.values()].slice(0, 12).join("\n\n");
  throw new Error(
    `${label}: ${report.failures.size} distinct invariant failure(s) in ${report.inputs} inputs:\n\n${list}`,
  );
}

/** What each fuzz run must have exercised, so that a degenerate generator cannot pass. */
const EXPECTED_COVERAGE: Record<`${Role}/${Transport}`, readonly string[]> = {
  "server/websocket": [
    "output:stream-open-requested",
    "restarted",
    "output:element-received",
    "output:close-requested",
    "output:stream-closed",
    "failed:stream-error",
    "failed:open-timeout",
    "failed:close-timeout",
    "failed:transport-lost",
    "failed:aborted",
    "usage-error",
    "input:binary-received",
  ],
  "client/websocket": [
    "restarted",
    "output:restart-required",
    "output:element-received",
    "output:stream-closed",
    "output:stream-redirected",
    "failed:insecure-redirect",
    "failed:subprotocol",
    "failed:stream-error",
    "failed:open-timeout",
    "failed:close-timeout",
    "failed:transport-lost",
    "usage-error",
  ],
  "server/tcp": [
    "restarted",
    "output:element-received",
    "output:stream-closed",
    "failed:stream-error",
  ],
  "client/tcp": [
    "restarted",
    "output:start-tls",
    "input:transport-secured",
    "output:stream-closed",
    "failed:stream-error",
  ],
};

function assertCoverage(report: Report, role: Role, transport: Transport): void {
  const missing = EXPECTED_COVERAGE[`${role}/${transport}`].filter((key) =>
    !report.coverage.has(key)
  );
  assertEquals(
    missing,
    [],
    `the ${role}/${transport} fuzz run never reached these (FUZZ_SEED=${BASE_SEED})`,
  );
}

for (const role of ["server", "client"] as const) {
  Deno.test(`fuzz: ${role} role over WebSocket, ${WEBSOCKET_INPUTS_PER_ROLE}+ inputs`, () => {
    const report = fuzzRole(
      role,
      "websocket",
      ONLY_SEQUENCE === undefined ? WEBSOCKET_INPUTS_PER_ROLE : 1,
    );
    assertNoFailures(report, `${role}/websocket (FUZZ_SEED=${BASE_SEED})`);
    if (ONLY_SEQUENCE !== undefined) return;
    assert(report.inputs >= WEBSOCKET_INPUTS_PER_ROLE);
    assertCoverage(report, role, "websocket");
  });
  Deno.test(`fuzz: ${role} role over TCP, ${TCP_INPUTS_PER_ROLE}+ inputs`, () => {
    const report = fuzzRole(role, "tcp", ONLY_SEQUENCE === undefined ? TCP_INPUTS_PER_ROLE : 1);
    assertNoFailures(report, `${role}/tcp (FUZZ_SEED=${BASE_SEED})`);
    if (ONLY_SEQUENCE !== undefined) return;
    assertCoverage(report, role, "tcp");
  });
}

Deno.test(`fuzz: the fixed seed ${FIXED_SEED}, both roles and transports (regression run)`, () => {
  if (ONLY_SEQUENCE !== undefined) return; // replaying one sequence of the random run
  for (const role of ["server", "client"] as const) {
    for (const transport of ["websocket", "tcp"] as const) {
      const report = fuzzRole(role, transport, FIXED_INPUTS_PER_ROLE, FIXED_SEED);
      assertNoFailures(report, `${role}/${transport} (FUZZ_SEED=${FIXED_SEED})`);
      assert(report.inputs >= FIXED_INPUTS_PER_ROLE);
    }
  }
});

// ---- regressions: fixed inputs the fuzzer once broke the core with ----------------------

const OPEN_FROM_CLIENT = `<open xmlns='${NS.FRAMING}' to='${DOMAIN}' version='1.0'/>`;
const OPEN_FROM_SERVER =
  `<open xmlns='${NS.FRAMING}' from='${DOMAIN}' id='s1' version='1.0' xml:lang='en'/>`;
const CLOSE = `<close xmlns='${NS.FRAMING}'/>`;
const STREAM_ERROR = `<error xmlns='${NS.STREAMS}'><conflict xmlns='${NS.STREAM_ERRORS}'/></error>`;
const TCP_CLIENT_HEADER =
  `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='${NS.STREAMS}' to='${DOMAIN}' version='1.0'>`;
const SERVER: SessionConfig = { role: "server", domains: [DOMAIN] };
const CLIENT: SessionConfig = { role: "client", to: DOMAIN };

const REGRESSIONS: readonly { name: string; config: SessionConfig; inputs: readonly Draft[] }[] = [
  {
    name: "server: a stream error as the very first message",
    config: SERVER,
    inputs: [
      { type: "transport-opened", secure: true, streamId: "s1" },
      { type: "text-received", data: STREAM_ERROR },
      { type: "timer-fired", timer: "close" },
      { type: "transport-closed" },
    ],
  },
  {
    name: "server (autoReplyClose off): <close/> as the very first message",
    config: { ...SERVER, autoReplyClose: false },
    inputs: [
      { type: "transport-opened", secure: true, streamId: "s1" },
      { type: "text-received", data: CLOSE },
      { type: "transport-closed" },
    ],
  },
  {
    name: "server (autoReplyClose off): <close/> before accept-stream",
    config: { ...SERVER, autoReplyClose: false },
    inputs: [
      { type: "transport-opened", secure: true, streamId: "s1" },
      { type: "text-received", data: OPEN_FROM_CLIENT },
      { type: "text-received", data: CLOSE },
      { type: "timer-fired", timer: "close" },
    ],
  },
  {
    name: "client: a stream error after our <close/>, then the close timer",
    config: CLIENT,
    inputs: [
      { type: "transport-opened", secure: true, protocol: "xmpp" },
      { type: "text-received", data: OPEN_FROM_SERVER },
      { type: "close-stream" },
      { type: "text-received", data: STREAM_ERROR },
      { type: "timer-fired", timer: "close" },
    ],
  },
  {
    name: "client: a binary message while closing, then the close timer",
    config: CLIENT,
    inputs: [
      { type: "transport-opened", secure: true, protocol: "xmpp" },
      { type: "text-received", data: OPEN_FROM_SERVER },
      { type: "close-stream" },
      { type: "binary-received", byteLength: 10 },
      { type: "timer-fired", timer: "close" },
    ],
  },
  {
    name: "client: close-stream while waiting for the server's header",
    config: CLIENT,
    inputs: [
      { type: "transport-opened", secure: true, protocol: "xmpp" },
      { type: "close-stream" },
      { type: "text-received", data: CLOSE },
      { type: "transport-closed" },
    ],
  },
  {
    name: "server: SASL success, a binary message, then the open timer",
    config: SERVER,
    inputs: [
      { type: "transport-opened", secure: true, streamId: "s1" },
      { type: "text-received", data: OPEN_FROM_CLIENT },
      { type: "accept-stream", nextStreamId: "s2" },
      { type: "send-element", element: element("success", NS.SASL) },
      { type: "binary-received", byteLength: 3 },
      { type: "timer-fired", timer: "open" },
    ],
  },
  {
    // Found by CI (FUZZ_SEED=4250706786): the open timer armed by a late <success/> closed the
    // transport, then the still-armed close timer asked to close it a second time.
    name: "server (autoReplyClose off): the peer's <close/>, a late SASL success, then both timers",
    config: { ...SERVER, autoReplyClose: false },
    inputs: [
      { type: "transport-opened", secure: true, streamId: "s1" },
      { type: "text-received", data: OPEN_FROM_CLIENT },
      { type: "accept-stream", nextStreamId: "s2" },
      { type: "text-received", data: CLOSE },
      { type: "send-element", element: element("success", NS.SASL) },
      { type: "timer-fired", timer: "open" },
      { type: "timer-fired", timer: "close" },
    ],
  },
  {
    name: "TCP server: close-stream before accept-stream (the footer needs a header first)",
    config: { ...SERVER, transport: "tcp" },
    inputs: [
      { type: "transport-opened", secure: true, streamId: "s1" },
      { type: "text-received", data: TCP_CLIENT_HEADER },
      { type: "close-stream" },
      { type: "text-received", data: "</stream:stream>" },
    ],
  },
  {
    name: "TCP server: a redirect before accept-stream",
    config: { ...SERVER, transport: "tcp" },
    inputs: [
      { type: "transport-opened", secure: true, streamId: "s1" },
      { type: "text-received", data: TCP_CLIENT_HEADER },
      { type: "close-stream", seeOtherUri: "wss://b.example.com/" },
    ],
  },
  {
    name: "TCP client (autoReplyClose off): header to footer in one chunk",
    config: { ...CLIENT, transport: "tcp", autoReplyClose: false },
    inputs: [
      { type: "transport-opened", secure: true },
      {
        type: "text-received",
        data:
          `<stream:stream xmlns='jabber:client' xmlns:stream='${NS.STREAMS}' from='${DOMAIN}' id='t1' version='1.0'><presence/></stream:stream>`,
      },
      { type: "close-stream" },
    ],
  },
];

Deno.test("fuzz regressions: fixed inputs keep every invariant", async (t) => {
  for (const { name, config, inputs } of REGRESSIONS) {
    await t.step(name, () => {
      const harness = new Harness(config);
      try {
        for (const input of inputs) harness.apply(input, 10);
      } catch (error) {
        if (!(error instanceof FuzzFailure)) throw error;
        throw new Error(
          `[${error.invariant}] ${error.message}\n  trace:\n  ${harness.trace.join("\n  ")}`,
        );
      }
    });
  }
});

// ---- codec-level differential checks ---------------------------------------------------

Deno.test("fuzz: a WebSocket message decodes the same as a string and as UTF-8 bytes", () => {
  const rng = new Rng(deriveSeed(BASE_SEED, 0xb7e5));
  const failures: string[] = [];
  const check = (message: string, label: string) => {
    const asText = new WebSocketFraming().decode(message);
    const asBytes = new WebSocketFraming().decode(utf8(message));
    if (JSON.stringify(asText) !== JSON.stringify(asBytes)) {
      failures.push(
        `${label} ${JSON.stringify(message)}:\n  string: ${JSON.stringify(asText)}\n  bytes:  ${
          JSON.stringify(asBytes)
        }`,
      );
    }
  };
  // Regression corpus first: a byte order mark must not be swallowed by the UTF-8 decoder
  // (RFC 7395 §3.3.3 / digest #14: the first character of every message is '<').
  check("\uFEFF<presence xmlns='jabber:client'/>", "BOM");
  for (let i = 0; i < 2_000; i++) {
    const corpus = rng.chance(0.5) ? CLIENT_MESSAGES : SERVER_MESSAGES;
    const mutated = mutateMany(
      rng,
      rng.pick(corpus),
      corpus,
      rng.chance(0.5) ? SMALL_LIMITS : DEFAULT_LIMITS,
    );
    if (
      typeof mutated !== "string" ||
      /[\uD800-\uDFFF]/.test(mutated.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ""))
    ) continue;
    check(mutated, `#${i} (FUZZ_SEED=${BASE_SEED})`);
  }
  assertEquals(failures.slice(0, 5), []);
});

// ---- RFC 6120 stream chunking ----------------------------------------------------------

function feed(chunks: readonly (string | Uint8Array)[]): unknown[] {
  const parser = new StreamParser({ limits: { maxBytes: 4_096 } });
  const events: unknown[] = [];
  for (const chunk of chunks) {
    const out = parser.push(chunk);
    events.push(...out);
    if (out.some((e) => e.type === "error")) break;
  }
  return events.map((e) => {
    const event = e as { type: string; error?: { condition: string } };
    // Error texts may name what was seen; the condition is what must not depend on chunking.
    return event.type === "error" ? { type: "error", condition: event.error!.condition } : event;
  });
}

Deno.test("fuzz: random chunking of an RFC 6120 stream gives the events of the whole", () => {
  const rng = new Rng(deriveSeed(BASE_SEED, 0xc4a2));
  let splitInsideCharacter = 0;
  for (let i = 0; i < 400; i++) {
    const stream = tcpServerStream(rng);
    const bytes = utf8(stream);
    const whole = feed([bytes]);
    assert(
      !whole.some((e) => (e as { type: string }).type === "error"),
      `invalid corpus stream ${stream}`,
    );
    assertEquals(feed([stream]), whole, `string and bytes differ for ${stream}`);
    for (let k = 0; k < 5; k++) {
      const chunks = randomChunks(rng, bytes);
      let offset = 0;
      for (const chunk of chunks.slice(0, -1)) {
        offset += chunk.length;
        if (offset < bytes.length && (bytes[offset]! & 0xc0) === 0x80) splitInsideCharacter++;
      }
      assertEquals(
        feed(chunks),
        whole,
        `FUZZ_SEED=${BASE_SEED} stream #${i} chunking #${k}: ${
          JSON.stringify(chunks.map((c) => c.length))
        }`,
      );
    }
  }
  // The corpus must exercise chunk boundaries inside multi-byte characters.
  assert(splitInsideCharacter > 100, `only ${splitInsideCharacter} splits inside a character`);
});

Deno.test("fuzz: chunking never changes the verdict on a broken RFC 6120 stream", () => {
  // Which error is reported first may depend on chunking when the input breaks several rules
  // (a whole chunk is checked for encoding and forbidden markup before it is parsed), but
  // whether the stream is refused must not; and an accepted stream gives the same events.
  const rng = new Rng(deriveSeed(BASE_SEED, 0xbad5));
  const failures: string[] = [];
  const failed = (events: unknown[]) =>
    events.some((e) => (e as { type: string }).type === "error");
  for (let i = 0; i < 600; i++) {
    const valid = tcpServerStream(rng);
    const mutated = mutateMany(rng, valid, [valid], SMALL_LIMITS);
    const bytes = typeof mutated === "string" ? utf8(mutated) : mutated;
    const whole = feed([bytes]);
    for (let k = 0; k < 3; k++) {
      const chunks = randomChunks(rng, bytes);
      const split = feed(chunks);
      const same = failed(whole) ? failed(split) : JSON.stringify(split) === JSON.stringify(whole);
      if (!same) {
        failures.push(
          `FUZZ_SEED=${BASE_SEED} #${i}/${k} input ${
            JSON.stringify(new TextDecoder().decode(bytes)).slice(0, 400)
          }\n` +
            `  chunks ${JSON.stringify(chunks.map((c) => c.length))}\n  whole ${
              JSON.stringify(whole).slice(-300)
            }\n  split ${JSON.stringify(split).slice(-300)}`,
        );
        break;
      }
    }
  }
  assertEquals(failures.slice(0, 5), []);
});
