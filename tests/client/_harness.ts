/**
 * Test support: drives the pure client reducer with a virtual clock and scripted server
 * messages, and plays the server's side of SCRAM with `core/sasl`.
 *
 * @module
 */

import {
  type ClientConfig,
  type ClientInput,
  type ClientOutput,
  type ClientState,
  clientStep,
  type ClientTimer,
  createClient,
} from "../../core/client/mod.ts";
import {
  continueSaslServer,
  createStoredAccount,
  type SaslServerContext,
  type SaslServerState,
  startSaslServer,
} from "../../core/sasl/mod.ts";
import { DocumentParser, NS, textOf, type XmlElement } from "../../core/mod.ts";

export const F = NS.FRAMING;
export const OPEN_REPLY =
  `<open xmlns='${F}' from='localhost' id='s1' version='1.0' xml:lang='en'/>`;
export const SASL = NS.SASL;
export const SM = NS.SM;

/** Features with these SASL mechanisms (and whatever else is given). */
export function mechanisms(names: readonly string[], extra = ""): string {
  const list = names.map((n) => `<mechanism>${n}</mechanism>`).join("");
  return `<stream:features xmlns:stream='http://etherx.jabber.org/streams'>${extra}<mechanisms xmlns='${SASL}'>${list}</mechanisms></stream:features>`;
}

/** Post-authentication features: bind, and XEP-0198 unless `sm` is false. */
export function bindFeatures(sm = true, extra = ""): string {
  return `<features xmlns='http://etherx.jabber.org/streams'><bind xmlns='${NS.BIND}'/>${
    sm ? `<sm xmlns='${SM}'/>` : ""
  }${extra}</features>`;
}

/** Parses one message. */
export function parse(text: string): XmlElement {
  const result = new DocumentParser().parse(text);
  if (!result.ok) throw new Error(`not one element: ${text}`);
  return result.element;
}

/** The client reducer on a virtual clock. */
export class Harness {
  state: ClientState;
  now = 1_000;
  #seq = 0;
  /** A fixed jitter prefix for `random` (8 hex digits), or a counter when undefined. */
  jitter: string | undefined = undefined;
  readonly all: ClientOutput[] = [];
  #pending: ClientOutput[] = [];
  readonly timers = new Map<ClientTimer, number>();
  /** The SCRAM server's state. */
  #sasl: SaslServerState | undefined;

  constructor(config: Partial<ClientConfig> = {}) {
    this.state = createClient({
      domain: "localhost",
      endpoints: ["ws://127.0.0.1:5280/xmpp-websocket"],
      username: "alice",
      password: "wonderland",
      ...config,
    });
  }

  random(): string {
    this.#seq++;
    const counter = String(this.#seq).padStart(8, "0");
    return `${this.jitter ?? counter}-r${counter}-nonce`;
  }

  input(input: Record<string, unknown> & { type: ClientInput["type"] }): ClientOutput[] {
    const full = { ...input, now: this.now, random: this.random() } as ClientInput;
    const { state, outputs } = clientStep(this.state, full);
    this.state = state;
    for (const output of outputs) {
      this.all.push(output);
      this.#pending.push(output);
      if (output.type === "set-timer") this.timers.set(output.timer, output.at);
      if (output.type === "clear-timer") this.timers.delete(output.timer);
    }
    return [...outputs];
  }

  /** Outputs since the last call. */
  take(): ClientOutput[] {
    return this.#pending.splice(0);
  }

  /** Texts sent since the last call (other outputs are dropped). */
  sent(): string[] {
    return this.take().flatMap((o) => o.type === "send-text" ? [o.text] : []);
  }

  /** Outputs of one type since the last `take`, without consuming. */
  peek<T extends ClientOutput["type"]>(type: T): Extract<ClientOutput, { type: T }>[] {
    return this.#pending.filter((o): o is Extract<ClientOutput, { type: T }> => o.type === type);
  }

  server(text: string): ClientOutput[] {
    return this.input({ type: "text-received", data: text });
  }

  /** Moves the clock, firing due timers in order. */
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const due = [...this.timers].filter(([, at]) => at <= until).sort((a, b) => a[1] - b[1])[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.now = Math.max(this.now, due[1]);
      this.input({ type: "timer-fired", timer: due[0] });
    }
    this.now = until;
  }

  /** connect + transport-opened + the server's <open/> and `features`. */
  open(features: string, protocol = "xmpp"): void {
    if (this.state.status === "idle") this.input({ type: "connect" });
    this.input({ type: "transport-opened", protocol });
    this.server(OPEN_REPLY);
    this.server(features);
  }

  /** Answers the client's <auth/> as a SCRAM server would, up to <success/>. */
  scram(password = "wonderland", tamper = false): void {
    const account = createStoredAccount("alice", password, new Uint8Array(16).fill(7), 4096);
    const ctx: SaslServerContext = {
      lookup: (name) => name === "alice" ? account : undefined,
      nonce: "server-nonce-0123456789",
      plainAllowed: true,
      anonymousAllowed: true,
    };
    for (let i = 0; i < 4; i++) {
      const last = this.sent().map(parse).find((el) => el.ns === SASL);
      if (!last) throw new Error("the client sent no SASL element");
      const result = last.name === "auth"
        ? startSaslServer(last.attrs.mechanism as "SCRAM-SHA-256", textOf(last), ctx)
        : continueSaslServer(this.#sasl!, textOf(last), ctx);
      if (result.type === "challenge") {
        this.#sasl = result.state;
        this.server(`<challenge xmlns='${SASL}'>${result.data}</challenge>`);
        continue;
      }
      if (result.type === "failure") {
        this.server(`<failure xmlns='${SASL}'><${result.condition}/></failure>`);
        return;
      }
      const data = tamper ? btoa("v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=") : result.data;
      this.server(`<success xmlns='${SASL}'>${data || "="}</success>`);
      return;
    }
  }

  /** The whole login: open, SCRAM, restart, bind (`alice@localhost/r`), XEP-0198 enable. */
  login(options: { sm?: boolean; resumeId?: string } = {}): void {
    const sm = options.sm ?? true;
    this.open(mechanisms(["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"]));
    this.scram();
    this.take();
    this.server(OPEN_REPLY.replace("s1", "s2"));
    this.server(bindFeatures(sm));
    const bind = parse(this.sent().at(-1)!);
    this.server(
      `<iq xmlns='jabber:client' type='result' id='${bind.attrs.id}'><bind xmlns='${NS.BIND}'><jid>alice@localhost/r</jid></bind></iq>`,
    );
    if (sm) {
      this.server(
        `<enabled xmlns='${SM}' id='${options.resumeId ?? "sm-1"}' resume='true' max='300'/>`,
      );
    }
  }
}
