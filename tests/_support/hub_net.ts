/**
 * A test bench for the hub: deterministic `now` and `random`, a virtual timer list, an inbox
 * of the elements sent to each connection, and a SCRAM login done with the client side of
 * `core/sasl`.
 *
 * @module
 */

import { assert, assertEquals } from "@std/assert";
import {
  childElement,
  DocumentParser,
  serialize,
  textOf,
  type XmlElement,
} from "../../core/mod.ts";
import {
  createStoredAccount,
  scramClientContinue,
  scramClientFinish,
  scramClientStart,
  type ScramMechanism,
  type StoredAccount,
} from "../../core/sasl/mod.ts";
import {
  createHub,
  type Hub,
  type HubConfig,
  type HubInput,
  type HubOutput,
  hubStep,
  type HubTimerKey,
} from "../../core/server/mod.ts";
import { timerId } from "../../core/endpoint/timers.ts";

/** An input without the fields the bench supplies. */
export type BenchInput = HubInput extends infer I
  ? I extends HubInput ? Omit<I, "now" | "random"> : never
  : never;

const SASL = "urn:ietf:params:xml:ns:xmpp-sasl";
const BIND = "urn:ietf:params:xml:ns:xmpp-bind";

/** Test accounts: username -> password. */
export const PASSWORDS: Readonly<Record<string, string>> = {
  alice: "wonderland",
  bob: "builder",
  carol: "christmas",
};

/** The stored (SCRAM-only) accounts, derived once. */
export const ACCOUNTS: readonly StoredAccount[] = Object.entries(PASSWORDS).map((
  [user, password],
  i,
) => createStoredAccount(user, password, new Uint8Array(16).fill(i + 1), 4096));

/**
 * Parses one element; a root without `xmlns` gets `jabber:client`.
 */
export function xml(text: string): XmlElement {
  const head = text.slice(0, text.indexOf(">") + 1);
  const source = head.includes("xmlns=")
    ? text
    : text.replace(/^<([\w:-]+)/, "<$1 xmlns='jabber:client'");
  const result = new DocumentParser().parse(source);
  if (!result.ok) throw new Error(`Bad test XML: ${source}`);
  return result.element;
}

/** The hub, its clock and what it did. */
export class HubNet {
  hub: Hub;
  now = 1_000;
  readonly log: HubOutput[] = [];
  readonly inbox: Map<string, XmlElement[]> = new Map();
  readonly failures: Map<
    string,
    { condition: string; text: string | undefined; extra: XmlElement | undefined }
  > = new Map();
  /** Armed timers by `timerId` of their key: the key and when it fires. */
  readonly #timers: Map<string, { readonly timer: HubTimerKey; readonly at: number }> = new Map();
  #seq = 0;

  constructor(config: Partial<HubConfig> = {}) {
    this.hub = createHub({ domain: "localhost", accounts: ACCOUNTS, ...config });
  }

  random(): string {
    this.#seq += 1;
    return `rnd${String(this.#seq).padStart(6, "0")}xyzABCDEFGHIJ`;
  }

  input(input: BenchInput): HubOutput[] {
    const { state: hub, outputs } = hubStep(
      this.hub,
      { ...input, now: this.now, random: this.random() } as HubInput,
    );
    this.hub = hub;
    for (const output of outputs) {
      this.log.push(output);
      switch (output.type) {
        case "send-element":
          this.box(output.connId).push(output.element);
          break;
        case "fail-stream":
          assert(!this.failures.has(output.connId), `${output.connId} failed twice`);
          this.failures.set(output.connId, {
            condition: output.condition,
            text: output.text,
            extra: output.extra,
          });
          break;
        case "set-timer":
          this.#timers.set(timerId(output.timer), { timer: output.timer, at: output.at });
          break;
        case "clear-timer":
          this.#timers.delete(timerId(output.timer));
          break;
      }
    }
    return outputs as HubOutput[];
  }

  /** When the timer `timer` fires, if it is armed. */
  timerAt(timer: HubTimerKey): number | undefined {
    return this.#timers.get(timerId(timer))?.at;
  }

  box(connId: string): XmlElement[] {
    let box = this.inbox.get(connId);
    if (!box) this.inbox.set(connId, box = []);
    return box;
  }

  /** Everything sent to `connId` since the last take. */
  take(connId: string): XmlElement[] {
    const box = this.box(connId);
    return box.splice(0, box.length);
  }

  /** What was sent to `connId`, serialized, since the last take. */
  takeText(connId: string): string[] {
    return this.take(connId).map((el) => serialize(el));
  }

  /** The stanzas (no SM nonzas) sent to `connId` since the last take. */
  stanzas(connId: string): XmlElement[] {
    return this.take(connId).filter((el) => el.ns === "jabber:client");
  }

  connect(connId: string, opts: { secure?: boolean; loopback?: boolean } = {}): HubOutput[] {
    return this.input({
      type: "connection-opened",
      connId,
      secure: opts.secure ?? false,
      loopback: opts.loopback ?? false,
    });
  }

  /** The client's `<open/>`; returns the features accepted with. */
  open(connId: string, restart = false, to = "localhost"): XmlElement | undefined {
    const outputs = this.input({
      type: "open-requested",
      connId,
      attributes: { to, version: "1.0" },
      restart,
    });
    const accept = outputs.find((o) => o.type === "accept-stream");
    return accept?.type === "accept-stream" ? accept.features : undefined;
  }

  send(connId: string, element: XmlElement | string): HubOutput[] {
    return this.input({
      type: "element-received",
      connId,
      element: typeof element === "string" ? xml(element) : element,
    });
  }

  end(connId: string, clean: boolean): HubOutput[] {
    return this.input({ type: "connection-ended", connId, clean });
  }

  /** Moves the clock, firing due timers in deadline order. */
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const due = [...this.#timers].filter(([, t]) => t.at <= until)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.#timers.delete(due[0]);
      this.now = Math.max(this.now, due[1].at);
      this.input({ type: "timer-fired", timer: due[1].timer });
    }
    this.now = until;
  }

  /** SCRAM authentication up to `<success/>` (verifying the server signature). */
  authenticate(
    connId: string,
    username: string,
    mechanism: ScramMechanism = "SCRAM-SHA-256",
  ): void {
    const password = PASSWORDS[username] ?? "nope";
    const first = scramClientStart(mechanism, username, password, `cnonce-${connId}-0123456789`);
    this.send(connId, `<auth xmlns='${SASL}' mechanism='${mechanism}'>${first.data}</auth>`);
    const challenge = this.take(connId)[0]!;
    assertEquals(challenge.name, "challenge", serialize(challenge));
    const response = scramClientContinue(first.state, textOf(challenge));
    if (response.type !== "response") throw new Error(`client refused: ${response.text}`);
    this.send(connId, `<response xmlns='${SASL}'>${response.data}</response>`);
    const success = this.take(connId)[0]!;
    assertEquals(success.name, "success", serialize(success));
    assertEquals(scramClientFinish(response.state, textOf(success)).type, "verified");
  }

  /** Connects, authenticates, restarts and binds; returns the full JID. */
  login(
    connId: string,
    username: string,
    opts: { resource?: string; secure?: boolean; mechanism?: ScramMechanism } = {},
  ): string {
    this.connect(connId, { secure: opts.secure ?? true });
    this.open(connId);
    this.authenticate(connId, username, opts.mechanism);
    const features = this.open(connId, true);
    assert(features && childElement(features, "bind", BIND), "bind offered");
    const resource = opts.resource === undefined ? "" : `<resource>${opts.resource}</resource>`;
    this.send(connId, `<iq type='set' id='bind1'><bind xmlns='${BIND}'>${resource}</bind></iq>`);
    const result = this.take(connId)[0]!;
    assertEquals(result.attrs.type, "result", serialize(result));
    return textOf(childElement(childElement(result, "bind", BIND)!, "jid", BIND)!);
  }

  /** Logs in, sends initial presence and drains the inbox. */
  online(connId: string, username: string, resource?: string, priority?: number): string {
    const jid = this.login(connId, username, resource === undefined ? {} : { resource });
    const p = priority === undefined ? "" : `<priority>${priority}</priority>`;
    this.send(connId, `<presence>${p}</presence>`);
    this.take(connId);
    return jid;
  }
}
