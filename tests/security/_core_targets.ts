/**
 * The pure-core targets of the hostile suite, each a {@link Wire} factory driven with a virtual
 * clock (1 ms per input):
 *
 * - {@link ReducerTarget}: one server-role session reducer (RFC 7395) with a small scripted
 *   application (PLAIN login, bind, ping), for the cases the framing decides;
 * - {@link HubTarget}: server sessions joined to the embedded server's hub, as deno/embedded.ts
 *   binds them (every case);
 * - {@link GatewayTarget}: the gateway bridge in front of a scripted RFC 6120 server that is lax
 *   the way Prosody 0.12 is (it answers stanzas sent before SASL success with stanza errors), with
 *   every upstream byte checked by the strict stream checker.
 *
 * @module
 */

import {
  canSend,
  childElement,
  createGateway,
  createSession,
  element,
  type GatewayInput,
  gatewayStep,
  type Input,
  NS,
  type Output,
  serialize,
  type Session,
  step,
  StreamParser,
  textOf,
  type XmlElement,
} from "../../core/mod.ts";
import { createStoredAccount } from "../../core/sasl/mod.ts";
import {
  createHub,
  type Hub,
  type HubInput,
  type HubOutput,
  hubStep,
} from "../../core/server/mod.ts";
import { ATTACKER, BYSTANDER, DOMAIN, type Message, SUITE_LIMITS } from "./_cases.ts";
import type { Wire, WireEvent } from "./_driver.ts";
import { type StreamChecker, streamPair } from "./_strict_xml.ts";

const CLOSE_TIMEOUT_MS = 1_000;

/** A wire whose events are produced synchronously by the target. */
class QueueWire implements Wire {
  readonly events: WireEvent[] = [];
  closed = false;
  readonly #send: (m: Message) => void;
  readonly #close: (code: number) => void;

  constructor(send: (m: Message) => void, close: (code: number) => void) {
    this.#send = send;
    this.#close = close;
  }
  send(message: Message): Promise<void> {
    if (!this.closed) this.#send(message);
    return Promise.resolve();
  }
  close(code: number): Promise<void> {
    if (!this.closed) this.#close(code);
    return Promise.resolve();
  }
  next(): Promise<WireEvent> {
    return Promise.resolve(this.events.shift() ?? { type: "idle" });
  }
  transportEnded(): Promise<boolean> {
    return Promise.resolve(this.closed);
  }
  abort(): void {
    if (!this.closed) this.#close(1006);
  }
}

function toInput(m: Message, now: number): Exclude<Input, { type: "timer-fired" }> {
  if (typeof m === "string") return { type: "text-received", now, data: m };
  if ("textBytes" in m) return { type: "text-received", now, data: m.textBytes };
  return { type: "binary-received", now, byteLength: m.binary.length };
}

const SERVER_SESSION = {
  role: "server",
  domains: [DOMAIN],
  limits: SUITE_LIMITS,
  closeTimeoutMs: CLOSE_TIMEOUT_MS,
} as const;

// ---- the scripted server (element level) ---------------------------------------------

const PASSWORDS: Record<string, string> = {
  [ATTACKER.username]: ATTACKER.password,
  [BYSTANDER.username]: BYSTANDER.password,
};

type ToyResult = {
  replies: XmlElement[];
  fail?: string;
  /** Answer STARTTLS with <failure/> and close the stream (RFC 6120 §5.4.2.2). */
  closeAfter?: boolean;
  restart?: boolean;
};

/**
 * A small correct XMPP server for one connection, except that with `lax` it answers stanzas
 * sent before SASL success with stanza errors instead of ending the stream (as Prosody 0.12).
 */
class ToyServer {
  stage: "connected" | "authed" | "bound" = "connected";
  user = "";
  jid = "";
  failures = 0;
  readonly lax: boolean;
  constructor(lax: boolean) {
    this.lax = lax;
  }

  features(): XmlElement {
    return this.stage === "connected"
      ? element("features", NS.STREAMS, {}, [
        element("mechanisms", NS.SASL, {}, [element("mechanism", NS.SASL, {}, ["PLAIN"])]),
      ])
      : element("features", NS.STREAMS, {}, [element("bind", NS.BIND)]);
  }

  handle(el: XmlElement): ToyResult {
    if (el.ns === NS.TLS && el.name === "starttls") {
      return { replies: [element("failure", NS.TLS)], closeAfter: true };
    }
    if (el.ns === NS.SASL) return this.#sasl(el);
    if (this.stage === "connected") {
      if (!this.lax) return { replies: [], fail: "not-authorized" };
      const stanza = ["message", "presence", "iq"].includes(el.name) && el.ns === NS.CLIENT;
      return { replies: stanza ? [errorReply(el, "not-authorized")] : [] };
    }
    if (this.stage === "authed") {
      const bind = el.name === "iq" && el.attrs.type === "set" && childElement(el, "bind", NS.BIND);
      if (!bind) return { replies: [], fail: "not-authorized" };
      const resource = childElement(bind, "resource", NS.BIND);
      this.jid = `${this.user}@${DOMAIN}/${resource ? textOf(resource) : "toy"}`;
      this.stage = "bound";
      return {
        replies: [element("iq", NS.CLIENT, { type: "result", id: el.attrs.id ?? "" }, [
          element("bind", NS.BIND, {}, [element("jid", NS.BIND, {}, [this.jid])]),
        ])],
      };
    }
    if (el.ns !== NS.CLIENT || !["message", "presence", "iq"].includes(el.name)) {
      return { replies: [], fail: "unsupported-stanza-type" };
    }
    if (el.name === "iq" && (el.attrs.type === "get" || el.attrs.type === "set")) {
      const isPing = el.attrs.type === "get" && childElement(el, "ping", "urn:xmpp:ping");
      return {
        replies: [
          isPing
            ? element("iq", NS.CLIENT, {
              type: "result",
              id: el.attrs.id ?? "",
              from: el.attrs.to ?? DOMAIN,
              to: this.jid,
            })
            : errorReply(el, "service-unavailable"),
        ],
      };
    }
    if (el.name === "message" && el.attrs.to === this.jid) {
      return { replies: [{ ...el, attrs: { ...el.attrs, from: this.jid } }] };
    }
    return { replies: [] };
  }

  #sasl(el: XmlElement): ToyResult {
    if (this.stage !== "connected") return { replies: [], fail: "policy-violation" };
    if (el.name === "auth" && el.attrs.mechanism === "PLAIN") {
      let parts: string[] = [];
      try {
        parts = atob(textOf(el).trim()).split("\0");
      } catch { /* malformed */ }
      const [authzid, user, password] = parts;
      if (user && !authzid && PASSWORDS[user] === password) {
        this.stage = "authed";
        this.user = user;
        return { replies: [element("success", NS.SASL)], restart: true };
      }
    }
    if (++this.failures >= 3) return { replies: [], fail: "policy-violation" };
    return {
      replies: [element("failure", NS.SASL, {}, [element("not-authorized", NS.SASL)])],
    };
  }
}

function errorReply(el: XmlElement, condition: string): XmlElement {
  return element(
    el.name,
    NS.CLIENT,
    { type: "error", ...(el.attrs.id ? { id: el.attrs.id } : {}) },
    [
      element("error", NS.CLIENT, { type: "cancel" }, [
        element(condition, "urn:ietf:params:xml:ns:xmpp-stanzas"),
      ]),
    ],
  );
}

// ---- a server session driven like deno/_connection.ts --------------------------------

interface Hooks {
  onOpenRequested(restart: boolean): void;
  onElement(el: XmlElement): void;
  onEnded(notice: Output): void;
}

/** One server-role session with its outputs carried out in order (re-entrant calls queue). */
class ServerConn {
  session: Session;
  readonly wire: QueueWire;
  hooks: Hooks | undefined;
  readonly #clock: { now: number };
  readonly #queue: Output[] = [];
  #draining = false;

  constructor(clock: { now: number }) {
    this.#clock = clock;
    this.session = createSession(SERVER_SESSION);
    this.wire = new QueueWire(
      (m) => this.input(toInput(m, ++clock.now)),
      (code) => {
        this.wire.closed = true;
        this.wire.events.push({ type: "close", code });
        this.input({ type: "transport-closed", now: ++clock.now, code });
      },
    );
    this.input({ type: "transport-opened", now: ++clock.now, secure: false, streamId: "s0" });
  }

  command(input: Input): void {
    if (!this.session.transportOpen || this.session.phase === "closed") return;
    this.input(input);
  }

  input(input: Input): void {
    const { state: session, outputs } = step(this.session, input);
    this.session = session;
    this.#queue.push(...outputs);
    if (this.#draining) return;
    this.#draining = true;
    try {
      for (let o = this.#queue.shift(); o; o = this.#queue.shift()) this.#execute(o);
    } finally {
      this.#draining = false;
    }
  }

  #execute(o: Output): void {
    switch (o.type) {
      case "send-text":
        if (!this.wire.closed) this.wire.events.push({ type: "text", text: o.text });
        return;
      case "close-transport":
        if (!this.wire.closed) {
          this.wire.closed = true;
          this.wire.events.push({ type: "close", code: o.code });
          this.input({ type: "transport-closed", now: ++this.#clock.now, code: o.code });
        }
        return;
      case "stream-open-requested":
        return this.hooks?.onOpenRequested(o.restart);
      case "element-received":
        return this.hooks?.onElement(o.element);
      case "stream-closed":
      case "stream-failed":
      case "stream-redirected":
        return this.hooks?.onEnded(o);
      default:
        return;
    }
  }

  accept(features: XmlElement): void {
    this.command({
      type: "accept-stream",
      now: ++this.#clock.now,
      features,
      nextStreamId: `s${this.#clock.now}`,
    });
  }
  send(el: XmlElement): void {
    if (canSend(this.session)) {
      this.command({ type: "send-element", now: ++this.#clock.now, element: el });
    }
  }
  fail(condition: string): void {
    this.command({
      type: "fail-stream",
      now: ++this.#clock.now,
      condition: condition as never,
    });
  }
  close(): void {
    this.command({ type: "close-stream", now: ++this.#clock.now });
  }
}

/** Target: the bare session reducer with the scripted application. */
export class ReducerTarget {
  readonly #clock = { now: 0 };
  connect(): Wire {
    const conn = new ServerConn(this.#clock);
    const toy = new ToyServer(false);
    conn.hooks = {
      onOpenRequested: () => conn.accept(toy.features()),
      onElement: (el) => {
        const r = toy.handle(el);
        for (const reply of r.replies) conn.send(reply);
        if (r.fail) conn.fail(r.fail);
        else if (r.closeAfter) conn.close();
      },
      onEnded: () => {},
    };
    return conn.wire;
  }
}

// ---- the embedded server's hub ---------------------------------------------------------

const ACCOUNTS = [ATTACKER, BYSTANDER].map((a, i) =>
  createStoredAccount(a.username, a.password, new Uint8Array(16).fill(i + 7), 4096)
);

/** Target: server sessions bound to the hub (the pure embedded server). */
export class HubTarget {
  hub: Hub = createHub({ domain: DOMAIN, accounts: ACCOUNTS, saslSecret: "suite" });
  readonly #clock = { now: 1_000 };
  readonly #conns = new Map<string, ServerConn>();
  readonly #queue: HubInput[] = [];
  #running = false;
  #seq = 0;

  #report(input: Omit<HubInput, "now" | "random">): void {
    this.#queue.push(
      { ...input, now: ++this.#clock.now, random: `r${++this.#seq}abcdefghijklmnopq` } as HubInput,
    );
    if (this.#running) return;
    this.#running = true;
    try {
      for (let next = this.#queue.shift(); next; next = this.#queue.shift()) {
        const result = hubStep(this.hub, next);
        this.hub = result.state;
        for (const o of result.outputs) this.#execute(o);
      }
    } finally {
      this.#running = false;
    }
  }

  #execute(o: HubOutput): void {
    if (o.type === "notice" || o.type === "set-timer" || o.type === "clear-timer") return;
    const conn = this.#conns.get(o.connId);
    if (!conn) return;
    switch (o.type) {
      case "accept-stream":
        return conn.accept(o.features);
      case "send-element":
        return conn.send(o.element);
      case "fail-stream":
        return conn.fail(o.condition);
      case "close-stream":
        return conn.close();
    }
  }

  /** Moves the virtual clock (no timer is fired: the suite never waits for one). */
  tick(ms: number): void {
    this.#clock.now += ms;
  }

  connect(): Wire {
    const id = `c${++this.#seq}`;
    const conn = new ServerConn(this.#clock);
    let known = false;
    conn.hooks = {
      onOpenRequested: (restart) => {
        if (!known) {
          known = true;
          this.#conns.set(id, conn);
          this.#report(
            { type: "connection-opened", connId: id, secure: false, loopback: true } as never,
          );
        }
        this.#report({
          type: "open-requested",
          connId: id,
          attributes: { ...conn.session.peer, to: DOMAIN, version: "1.0" },
          restart,
        } as never);
      },
      onElement: (element) =>
        this.#report({ type: "element-received", connId: id, element } as never),
      onEnded: (notice) => {
        this.#conns.delete(id);
        const lost = notice.type === "stream-failed" && notice.reason === "transport-lost";
        if (known) this.#report({ type: "connection-ended", connId: id, clean: !lost } as never);
      },
    };
    return conn.wire;
  }
}

// ---- the gateway bridge in front of a scripted RFC 6120 server ------------------------

/** Target: the gateway bridge; upstream bytes checked by {@link StreamChecker}, both ways. */
export class GatewayTarget {
  readonly problems: string[] = [];
  readonly checkers: StreamChecker[] = [];
  readonly #clock = { now: 0 };

  connect(): Wire {
    const clock = this.#clock;
    const toy = new ToyServer(true);
    const { client: up, server: down } = streamPair("core");
    this.checkers.push(up, down);
    let gw = createGateway({
      domains: [DOMAIN],
      upstreamTls: "off",
      clientLimits: SUITE_LIMITS,
      closeTimeoutMs: CLOSE_TIMEOUT_MS,
    });
    const parser = new StreamParser({});
    let upstreamOpen = false;
    let upstreamEnded = false;
    const pending: GatewayInput[] = [];
    let running = false;
    const enc = new TextEncoder();
    const wire = new QueueWire(
      (m) => run({ type: "client", input: toInput(m, ++clock.now) }),
      (code) => {
        wire.closed = true;
        wire.events.push({ type: "close", code });
        run({ type: "client", input: { type: "transport-closed", now: ++clock.now, code } });
      },
    );
    const toServer = (text: string) => {
      run({
        type: "upstream",
        input: { type: "text-received", now: ++clock.now, data: enc.encode(text) },
      });
    };
    const serverSends = (text: string) => {
      down.push(enc.encode(text));
      toServer(text);
    };
    const header = () =>
      `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='${NS.STREAMS}' from='${DOMAIN}' id='u${clock.now}' version='1.0' xml:lang='en'>`;
    const serverReceives = (text: string) => {
      up.push(enc.encode(text));
      if (upstreamEnded) return;
      for (const event of parser.push(text)) {
        if (upstreamEnded) return;
        switch (event.type) {
          case "header":
            serverSends(header() + serialize(toy.features()));
            break;
          case "element": {
            if (event.element.name === "error" && event.element.ns === NS.STREAMS) {
              upstreamEnded = true;
              serverSends("</stream:stream>");
              return;
            }
            const r = toy.handle(event.element);
            for (const reply of r.replies) {
              serverSends(serialize(reply));
            }
            if (r.fail) {
              upstreamEnded = true;
              serverSends(
                `<stream:error><${r.fail} xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>`,
              );
              return;
            }
            if (r.closeAfter) {
              upstreamEnded = true;
              serverSends("</stream:stream>");
              return;
            }
            if (r.restart) parser.restart();
            break;
          }
          case "footer":
            upstreamEnded = true;
            serverSends("</stream:stream>");
            return;
          case "error":
            upstreamEnded = true;
            this.problems.push(
              `the scripted server could not parse the gateway's bytes: ${event.error.text}`,
            );
            return;
          default:
            break;
        }
      }
    };
    const run = (input: GatewayInput) => {
      pending.push(input);
      if (running) return;
      running = true;
      try {
        for (let next = pending.shift(); next; next = pending.shift()) {
          const result = gatewayStep(gw, next);
          gw = result.state;
          for (const o of result.outputs) {
            if (o.type === "connect-upstream") {
              upstreamOpen = true;
              pending.push({
                type: "upstream",
                input: { type: "transport-opened", now: ++clock.now, secure: false },
              });
            } else if (o.type === "client") {
              if (o.output.type === "send-text" && !wire.closed) {
                wire.events.push({ type: "text", text: o.output.text });
              }
              if (o.output.type === "close-transport" && !wire.closed) {
                wire.closed = true;
                wire.events.push({ type: "close", code: o.output.code });
                pending.push({
                  type: "client",
                  input: { type: "transport-closed", now: ++clock.now, code: o.output.code },
                });
              }
            } else if (o.type === "upstream" && upstreamOpen) {
              if (o.output.type === "send-text") serverReceives(o.output.text);
              if (o.output.type === "close-transport") {
                upstreamOpen = false;
                up.end();
                down.end();
                pending.push({
                  type: "upstream",
                  input: { type: "transport-closed", now: ++clock.now },
                });
              }
            }
          }
        }
      } finally {
        running = false;
      }
    };
    run({
      type: "client",
      input: { type: "transport-opened", now: ++clock.now, secure: false, streamId: "w" },
    });
    return wire;
  }

  /** The problems found since the last call (stream checkers and the scripted server). */
  takeProblems(): string[] {
    const out = this.problems.splice(0);
    for (const checker of this.checkers) out.push(...checker.problems.splice(0));
    this.checkers.length = 0;
    return out;
  }
}
