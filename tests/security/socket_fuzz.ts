/**
 * Fuzzing over real sockets (issue 8): many concurrent connections send seeded, mutated messages
 * to a running endpoint (the embedded server, or the gateway in front of Prosody through the
 * validating recorder), while a bystander stays logged in. Invariants: the endpoint never
 * crashes or stalls (every batch ends with an answered marker ping, or with a close), every
 * message it sends re-parses (with `saxes`) as exactly one well-formed element, nothing
 * malformed goes upstream (the recorder's findings), and the bystander answers its pings and
 * only receives stanzas from real senders.
 *
 * Messages: mostly well-formed but hostile stanzas (namespace URIs, prefixes, names, attribute
 * values and text built from every XML-special character, sent to oneself or to the bystander so
 * the server re-serializes them), plus raw mutations from tests/_support/fuzz_gen.ts (broken XML,
 * DTDs, invalid UTF-8...) that usually end the stream, before auth too.
 *
 * @module
 */

import {
  CLIENT_MESSAGES,
  deriveSeed,
  type FuzzLimits,
  mutateMany,
  type Payload,
  Rng,
} from "../_support/fuzz_gen.ts";
import {
  ATTACKER,
  BYSTANDER,
  DOMAIN,
  type Message,
  OPEN,
  type Stage,
  SUITE_LIMITS,
} from "./_cases.ts";
import { fillMessage, reach, SetupError } from "./_driver.ts";
import { SocketWire } from "./_socket_wire.ts";
import { checkStandalone } from "./_strict_xml.ts";
import { DocumentParser } from "../../core/mod.ts";
import { ValidatingProxy } from "./_recorder.ts";
import { endpointExtras } from "./_suite.ts";
import { embeddedServer, loadAccounts } from "../../deno/embedded.ts";
import { serveXmpp } from "../../deno/serve.ts";
import { serveGateway } from "../../deno/gateway.ts";
import { createLogger } from "../../deno/mod.ts";
import { startProsody } from "../_support/prosody.ts";

/** Options of a run. */
export interface FuzzRunOptions {
  readonly port: number;
  readonly seed: number;
  /** Messages to send in all (at least). */
  readonly messages: number;
  readonly connections: number;
  readonly label: string;
  /** Problems found outside the connections (the recorder), polled after each batch. */
  readonly extraProblems?: () => readonly string[];
}

/** What a run did. */
export interface FuzzRunResult {
  readonly sent: number;
  readonly received: number;
  readonly sessions: number;
  readonly closedByServer: number;
  readonly bystanderPings: number;
  readonly problems: readonly string[];
  readonly ms: number;
}

const LIMITS: FuzzLimits = { ...SUITE_LIMITS };
const parser = new DocumentParser();
const HOSTILE_URIS = [
  "urn:a}x='1'/><message from='admin@localhost'><body>forged</body></message><a b",
  "a}b",
  "{urn:x}y",
  "urn:'quote'",
  'urn:"dq"',
  "urn:<lt>&amp;",
  "]]>",
  "urn:tab\tnl\ncr\r",
  "urn:\u{1F600}\u00e9",
  "jabber:client",
  "http://etherx.jabber.org/streams",
  "urn:ietf:params:xml:ns:xmpp-framing",
  "",
  " ",
  "urn:x",
];
/**
 * `xmlns:p=''` is not allowed in XML 1.0 namespaces: prefixes get non-empty URIs (and not a
 * lone space either, which `saxes` treats as empty after normalization).
 */
const NON_EMPTY_URIS = HOSTILE_URIS.filter((u) => u.trim() !== "");
const TEXTS = [
  "hi",
  "]]>",
  "<!-- x -->",
  "a & b < c > d",
  "'\"",
  "\u{10FFFF}\u{1F600}\u00e9\u4e2d",
  "tab\tnl\ncr\r",
  "</message><message from='admin@localhost'>",
  "&amp;lt;",
];
const NAMES = [
  "x",
  "body",
  "y-z",
  "a.b",
  "_u",
  "\u00e9l\u00e9ment",
  "stream",
  "error",
  "open",
  "close",
];
const PREFIXES = ["p", "q", "stream", "c", "xx", "\u00e9"];

function esc(text: string, quote = false): string {
  let out = text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
  if (quote) {
    out = out.replaceAll("'", "&apos;").replaceAll('"', "&quot;").replaceAll("\t", "&#9;")
      .replaceAll("\n", "&#10;").replaceAll("\r", "&#13;");
  } else out = out.replaceAll("\r", "&#13;");
  return out;
}

/** A well-formed, hostile child element (depth-bounded). */
function hostileChild(rng: Rng, depth: number): string {
  const useNs = rng.chance(0.6);
  const prefix = useNs && rng.chance(0.5) ? rng.pick(PREFIXES) : "";
  const name = (prefix ? prefix + ":" : "") + rng.pick(NAMES);
  let attrs = "";
  if (useNs) {
    attrs += prefix
      ? ` xmlns:${prefix}='${esc(rng.pick(NON_EMPTY_URIS), true)}'`
      : ` xmlns='${esc(rng.pick(HOSTILE_URIS), true)}'`;
  }
  const n = rng.int(4);
  for (let i = 0; i < n; i++) {
    if (rng.chance(0.4)) {
      const p = `a${i}`;
      attrs += ` xmlns:${p}='${esc(rng.pick(NON_EMPTY_URIS), true)}' ${p}:v='${
        esc(rng.pick(TEXTS), true)
      }'`;
    } else attrs += ` k${i}='${esc(rng.pick(TEXTS), true)}'`;
  }
  if (depth <= 0 || rng.chance(0.4)) return `<${name}${attrs}/>`;
  let inner = "";
  const kids = rng.int(3);
  for (let i = 0; i < kids; i++) {
    inner += rng.chance(0.5) ? hostileChild(rng, depth - 1) : esc(rng.pick(TEXTS));
  }
  if (rng.chance(0.2)) {
    inner += `<![CDATA[${rng.pick(TEXTS).replaceAll("]]>", "]]]]><![CDATA[>")}]]>`;
  }
  return `<${name}${attrs}>${inner}</${name}>`;
}

/** A well-formed stanza full of hostile namespaces and characters. */
function hostileStanza(rng: Rng, to: string): string {
  const kind = rng.weighted<"message" | "iq" | "presence">([[6, "message"], [2, "iq"], [
    1,
    "presence",
  ]]);
  const prefixed = rng.chance(0.2);
  const tag = prefixed ? `c:${kind}` : kind;
  const ns = prefixed ? "xmlns:c='jabber:client'" : "xmlns='jabber:client'";
  let children = "";
  const n = rng.range(1, 3);
  for (let i = 0; i < n; i++) children += hostileChild(rng, 3);
  if (kind === "iq") {
    return `<${tag} ${ns} type='get' id='f${
      rng.int(1e9)
    }' to='${DOMAIN}'><ping xmlns='urn:xmpp:ping'/></${tag}>`;
  }
  const body = kind === "message"
    ? `<${prefixed ? "c:" : ""}body>${esc(rng.pick(TEXTS))}</${prefixed ? "c:" : ""}body>`
    : "";
  return `<${tag} ${ns} to='${to}'${
    kind === "message" ? " type='chat'" : ""
  }>${body}${children}</${tag}>`;
}

function toMessage(p: Payload): Message {
  return typeof p === "string" ? p : { textBytes: p };
}

/** Runs the fuzz; never throws on a finding (they are returned). */
export async function runSocketFuzz(options: FuzzRunOptions): Promise<FuzzRunResult> {
  const started = performance.now();
  const problems: string[] = [];
  const stats = { sent: 0, received: 0, sessions: 0, closedByServer: 0, bystanderPings: 0 };
  const note = (label: string, text: string) => {
    stats.received++;
    const bad = checkStandalone(text);
    if (bad && problems.length < 50) {
      problems.push(`${label}: malformed message from the server (${bad}): ${text.slice(0, 300)}`);
    }
  };
  const bystanderWire = await SocketWire.connect(options.port);
  let bystander: string;
  try {
    bystander = (await reach(bystanderWire, "bound", BYSTANDER))!;
  } catch (error) {
    await bystanderWire.dispose();
    throw error;
  }
  const allowedFrom = (from: string) =>
    from === DOMAIN || from === bystander || from.startsWith(`${ATTACKER.username}@${DOMAIN}/`);
  let done = false;
  let pingId = 0;

  // The bystander: a ping every 200 ms (sequential), everything received checked.
  const bystanderLoop = (async () => {
    while (!done && problems.length < 50) {
      const id = `by${++pingId}`;
      await bystanderWire.send(
        `<iq xmlns='jabber:client' type='get' id='${id}' to='${DOMAIN}'><ping xmlns='urn:xmpp:ping'/></iq>`,
      );
      for (;;) {
        const event = await bystanderWire.next(10_000);
        if (event.type !== "text") {
          problems.push(
            `bystander: ${JSON.stringify(event)} while waiting for ping ${id}, after ${
              bystanderWire.received.slice(-2).map((t) => t.slice(0, 400)).join(" | ")
            }`,
          );
          return;
        }
        note("bystander", event.text);
        const parsed = parser.parse(event.text);
        if (!parsed.ok) continue;
        const from = parsed.element.attrs.from;
        if (from !== undefined && !allowedFrom(from)) {
          problems.push(`bystander got a stanza from '${from}': ${event.text.slice(0, 300)}`);
        }
        if (parsed.element.attrs.id === id) {
          if (parsed.element.attrs.type !== "result") {
            problems.push(`bystander ping: ${event.text}`);
          }
          stats.bystanderPings++;
          break;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();

  const perWorker = Math.ceil(options.messages / options.connections);
  const worker = async (index: number) => {
    const rng = new Rng(deriveSeed(options.seed, index));
    let sent = 0;
    for (
      let session = 0;
      sent < perWorker && problems.length < 50 && session < 100_000;
      session++
    ) {
      stats.sessions++;
      const label =
        `${options.label} worker ${index} session ${session} (FUZZ_SEED=${options.seed})`;
      const stage: Stage = rng.weighted<Stage>([[14, "bound"], [3, "opened"], [2, "connected"], [
        1,
        "authed",
      ]]);
      const wire = await SocketWire.connect(options.port);
      try {
        let self: string;
        try {
          self = (await reach(wire, stage, ATTACKER)) ?? `${ATTACKER.username}@${DOMAIN}`;
        } catch (error) {
          if (!(error instanceof SetupError)) throw error;
          problems.push(`${label}: setup to '${stage}' failed: ${error.message}`);
          return;
        }
        const jids = { self, bystander };
        for (let batch = 0; batch < 50 && sent < perWorker; batch++) {
          const strings: string[] = [];
          const size = stage === "bound" ? rng.range(20, 200) : 1;
          let raw: Message | undefined;
          for (let i = 0; i < size; i++) {
            if (stage === "bound" && rng.chance(0.985)) {
              strings.push(hostileStanza(rng, rng.chance(0.8) ? "{self}" : "{bystander}"));
            } else {
              raw = toMessage(mutateMany(rng, rng.pick(CLIENT_MESSAGES), CLIENT_MESSAGES, LIMITS));
              break;
            }
          }
          const filled = strings.map((s) => fillMessage(s, jids) as string);
          await wire.sendMany(filled);
          if (raw !== undefined) await wire.send(fillMessage(raw, jids));
          sent += filled.length + (raw !== undefined ? 1 : 0);
          stats.sent += filled.length + (raw !== undefined ? 1 : 0);
          // A marker the server must answer (or the stream is over).
          const marker = `m${batch}`;
          const markers = stage === "bound"
            ? [
              `<iq xmlns='jabber:client' type='get' id='${marker}' to='${DOMAIN}'><ping xmlns='urn:xmpp:ping'/></iq>`,
            ]
            : [OPEN, OPEN]; // before login: a second <open/> ends any stream still alive
          await wire.sendMany(markers);
          let alive = true;
          for (;;) {
            const event = await wire.next(10_000);
            if (event.type === "text") {
              note(label, event.text);
              if (stage === "bound" && event.text.includes(`id='${marker}'`)) break;
              continue;
            }
            if (event.type === "idle") {
              problems.push(`${label}: no answer within 10 s (batch ${batch})`);
            } else stats.closedByServer++;
            alive = false;
            break;
          }
          if (!alive) break;
        }
      } finally {
        await wire.dispose();
      }
      const extra = options.extraProblems?.() ?? [];
      problems.push(...extra.map((p) => `${label}: ${p}`));
    }
  };
  try {
    await Promise.all(Array.from({ length: options.connections }, (_, i) => worker(i)));
  } finally {
    done = true;
    await bystanderLoop;
  }
  // The bystander at the end.
  const last = `by-final`;
  await bystanderWire.send(
    `<iq xmlns='jabber:client' type='get' id='${last}' to='${DOMAIN}'><ping xmlns='urn:xmpp:ping'/></iq>`,
  );
  for (;;) {
    const event = await bystanderWire.next(10_000);
    if (event.type !== "text") {
      problems.push(`bystander at the end: ${JSON.stringify(event)}`);
      break;
    }
    note("bystander", event.text);
    if (event.text.includes(`id='${last}'`)) break;
  }
  await bystanderWire.dispose();
  return { ...stats, problems, ms: performance.now() - started };
}

/** The base seed: `FUZZ_SEED`, or a fresh random one (printed by the callers). */
export function fuzzSeed(): number {
  const raw = Deno.env.get("FUZZ_SEED");
  if (raw !== undefined && raw !== "") {
    const value = Number(raw);
    if (!Number.isInteger(value)) throw new Error(`FUZZ_SEED must be an integer, got ${raw}`);
    return value >>> 0;
  }
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}

/** The two endpoints of a fuzz run, and how to stop them. */
export interface FuzzTargets {
  readonly embeddedPort: number;
  readonly gatewayPort: number;
  readonly recorder: ValidatingProxy;
  stop(): Promise<void>;
}

/**
 * Starts the embedded server (no stanza rate limit: the fuzz wants every message parsed) and
 * Prosody behind the validating recorder behind the gateway, all on 127.0.0.1.
 */
export async function startFuzzTargets(layer: "strict" | "native"): Promise<FuzzTargets> {
  const { accounts } = await loadAccounts({
    users: [
      `${ATTACKER.username}:${ATTACKER.password}`,
      `${BYSTANDER.username}:${BYSTANDER.password}`,
    ],
  });
  const app = embeddedServer({
    accounts,
    domain: DOMAIN,
    rate: { perSecond: 1_000_000, burst: 1_000_000 },
    maxSessionsPerAccount: 1_000,
  });
  const extras = endpointExtras(layer);
  const embedded = serveXmpp({
    hostname: "127.0.0.1",
    port: 0,
    session: { domains: [DOMAIN], limits: SUITE_LIMITS, closeTimeoutMs: 1_000 },
    application: app,
    ...extras,
  });
  const prosody = await startProsody({
    accounts: [
      { username: ATTACKER.username, password: ATTACKER.password },
      { username: BYSTANDER.username, password: BYSTANDER.password },
    ],
  });
  const recorder = new ValidatingProxy({ hostname: "127.0.0.1", port: prosody.c2sPort });
  const gateway = serveGateway({
    hostname: "127.0.0.1",
    port: 0,
    domains: [DOMAIN],
    upstream: { hostname: "127.0.0.1", port: recorder.port },
    upstreamTls: "off",
    clientLimits: SUITE_LIMITS,
    closeTimeoutMs: 1_000,
    log: createLogger("error", "text"),
    ...extras,
  });
  return {
    embeddedPort: embedded.addr.port,
    gatewayPort: gateway.addr.port,
    recorder,
    async stop() {
      await SocketWire.disposeAll();
      await embedded.shutdown();
      app.stop();
      await gateway.shutdown();
      await recorder.close();
      await prosody.stop();
    },
  };
}

/** Runs `messages` against both endpoints at once (half each); returns the two results. */
export async function fuzzBoth(
  targets: FuzzTargets,
  seed: number,
  messages: number,
  connections: number,
): Promise<{ embedded: FuzzRunResult; gateway: FuzzRunResult; problems: string[] }> {
  const [embedded, gateway] = await Promise.all([
    runSocketFuzz({
      port: targets.embeddedPort,
      seed,
      messages: Math.ceil(messages / 2),
      connections: Math.ceil(connections / 2),
      label: "embedded",
    }),
    runSocketFuzz({
      port: targets.gatewayPort,
      seed: (seed ^ 0x5a5a5a5a) >>> 0,
      messages: Math.ceil(messages / 2),
      connections: Math.ceil(connections / 2),
      label: "gateway",
      extraProblems: () => targets.recorder.takeProblems(),
    }),
  ]);
  return {
    embedded,
    gateway,
    problems: [...embedded.problems, ...gateway.problems, ...targets.recorder.takeProblems()],
  };
}

/** One line per endpoint, and the recorder's totals. */
export function describeFuzz(
  r: { embedded: FuzzRunResult; gateway: FuzzRunResult },
  recorder: ValidatingProxy,
): string {
  const line = (label: string, x: FuzzRunResult) =>
    `${label}: ${x.sent} messages sent, ${x.received} received and checked, ${x.sessions} sessions ` +
    `(${x.closedByServer} ended by the server), ${x.bystanderPings} bystander pings, ${
      (x.ms / 1000).toFixed(1)
    } s`;
  return [
    line("embedded", r.embedded),
    line("gateway", r.gateway),
    `recorder: ${recorder.connections} upstream connections, ${recorder.streams} streams, ` +
    `${recorder.bytesUp} bytes up and ${recorder.bytesDown} down checked`,
  ].join("\n");
}
