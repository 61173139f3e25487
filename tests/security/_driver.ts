/**
 * The hostile-suite driver, shared by every target (pure core and real sockets): it brings a
 * connection to a case's stage, sends the case, observes what the server does, and proves the
 * end state (a usable stream finishes its login and gets a ping answered; a closed one shows its
 * stream error, its Close code, and the end of the transport).
 *
 * Targets implement {@link Wire}: the core's is synchronous underneath (an empty queue is
 * `idle`), the sockets' waits with a bound.
 *
 * @module
 */

import {
  allowedOutcomes,
  DOMAIN,
  fill,
  type HostileCase,
  type Leaves,
  type Message,
  NS_BIND,
  NS_FRAMING,
  NS_SASL,
  NS_STREAMS,
  OPEN,
  type Outcome,
  plainAuthFor,
  type Stage,
} from "./_cases.ts";
import { checkStandalone } from "./_strict_xml.ts";
import { DocumentParser, type XmlElement } from "../../core/mod.ts";

/** What the client sees from the server. */
export type WireEvent =
  | { readonly type: "text"; readonly text: string }
  /** The server's WebSocket Close frame (or the echo of ours); `code` null: none given. */
  | { readonly type: "close"; readonly code: number | null }
  /** The transport is gone (TCP end) without a Close frame first. */
  | { readonly type: "end" }
  /** Nothing more will come unless the client sends (core), or the bounded wait ran out. */
  | { readonly type: "idle" };

/** One client connection to a target. */
export interface Wire {
  send(message: Message): Promise<void>;
  /** Sends a Close frame (the client's own close, or its answer to the server's). */
  close(code: number): Promise<void>;
  next(): Promise<WireEvent>;
  /** After a Close: whether the transport ended (TCP closed by the server). */
  transportEnded(): Promise<boolean>;
  /** Drops the transport (cleanup). */
  abort(): void;
}

/** JIDs known to the driver. */
export interface Jids {
  readonly self: string;
  readonly bystander: string;
}

/** What a case did. */
export interface Observation {
  readonly outcome: Outcome | { readonly end: "open"; readonly detail: string };
  /** Every text message received after the case was sent. */
  readonly texts: readonly string[];
  /** Invariant violations (malformed outbound message, transport left open...). */
  readonly problems: readonly string[];
}

const parser = new DocumentParser();
const STREAM_ERRORS = "urn:ietf:params:xml:ns:xmpp-streams";

function parse(text: string): XmlElement | undefined {
  const result = parser.parse(text);
  return result.ok ? result.element : undefined;
}

function streamErrorOf(el: XmlElement | undefined): string | undefined {
  if (!el || el.name !== "error" || el.ns !== NS_STREAMS) return undefined;
  const condition = el.children.find((c): c is XmlElement =>
    typeof c !== "string" && c.ns === STREAM_ERRORS && c.name !== "text"
  );
  return condition?.name ?? "(none)";
}

const isClose = (el: XmlElement | undefined) => el?.name === "close" && el.ns === NS_FRAMING;

/** Fills the placeholders of a message (text, or the ASCII placeholders inside raw bytes). */
export function fillMessage(message: Message, jids: Jids): Message {
  if (typeof message === "string") return fill(message, jids);
  if ("textBytes" in message) return { textBytes: fillBytes(message.textBytes, jids) };
  return message;
}

function fillBytes(bytes: Uint8Array, jids: Jids): Uint8Array {
  const enc = new TextEncoder();
  let out = bytes;
  for (
    const [key, value] of [["{self}", jids.self], ["{bystander}", jids.bystander], [
      "{domain}",
      DOMAIN,
    ]] as const
  ) {
    const needle = enc.encode(key);
    for (;;) {
      const at = indexOf(out, needle);
      if (at < 0) break;
      const repl = enc.encode(value);
      const next = new Uint8Array(out.length - needle.length + repl.length);
      next.set(out.subarray(0, at));
      next.set(repl, at);
      next.set(out.subarray(at + needle.length), at + repl.length);
      out = next;
    }
  }
  return out;
}

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** An error while bringing a connection to its stage (not the case's fault). */
export class SetupError extends Error {
  /** The terminal event that stopped the step, if any (already consumed from the wire). */
  readonly event: WireEvent | undefined;
  constructor(message: string, event?: WireEvent) {
    super(message);
    this.event = event;
  }
}

/** Reads until an element matching `want` (skipping others); throws on anything terminal. */
async function expectElement(
  wire: Wire,
  what: string,
  want: (el: XmlElement) => boolean,
  seen: string[],
): Promise<XmlElement> {
  for (let i = 0; i < 100_000; i++) {
    const event = await wire.next();
    if (event.type !== "text") {
      throw new SetupError(
        `${what}: got ${JSON.stringify(event)} after ${seen.slice(-3).join(" ")}`,
        event,
      );
    }
    seen.push(event.text);
    const el = parse(event.text);
    if (el && want(el)) return el;
    if (streamErrorOf(el) || isClose(el)) {
      throw new SetupError(`${what}: got ${event.text}`);
    }
  }
  throw new SetupError(`${what}: too many messages`);
}

let bindCounter = 0;

/** One login step from `from`; returns where it leaves the stream (and the JID once bound). */
async function advance(
  wire: Wire,
  from: Leaves,
  user: { username: string; password: string },
  seen: string[],
): Promise<{ at: Leaves; jid?: string }> {
  switch (from) {
    case "connected":
      await wire.send(OPEN);
      return { at: "opening" };
    case "opening":
      await expectElement(
        wire,
        "features",
        (e) => e.name === "features" && e.ns === NS_STREAMS,
        seen,
      );
      return { at: "opened" };
    case "opened": {
      await wire.send(plainAuthFor(user));
      // SASL answers to what the case sent come first: wait for <success/> past them.
      await expectElement(
        wire,
        "SASL success",
        (e) => e.ns === NS_SASL && e.name === "success",
        seen,
      );
      return { at: "authed" };
    }
    case "authed":
      await wire.send(OPEN);
      return { at: "restarting" };
    case "restarting": {
      await expectElement(wire, "features after restart", (e) => e.name === "features", seen);
      const id = `bind-${++bindCounter}`;
      await wire.send(
        `<iq xmlns='jabber:client' type='set' id='${id}'><bind xmlns='${NS_BIND}'><resource>${user.username}-${bindCounter}</resource></bind></iq>`,
      );
      const result = await expectElement(wire, "bind result", (e) => e.attrs.id === id, seen);
      const jid = /<jid[^>]*>([^<]+)<\/jid>/.exec(seen.at(-1)!)?.[1];
      if (result.attrs.type !== "result" || jid === undefined) {
        throw new SetupError(`bind failed: ${seen.at(-1)}`);
      }
      return { at: "bound", jid };
    }
    case "bound":
      return { at: "bound" };
  }
}

/** Brings a fresh connection to `stage`; returns the full JID when bound. */
export async function reach(
  wire: Wire,
  stage: Stage,
  user: { username: string; password: string },
): Promise<string | undefined> {
  let at: Leaves = "connected";
  let jid: string | undefined;
  const seen: string[] = [];
  while (at !== stage) {
    const step = await advance(wire, at, user, seen);
    at = step.at;
    jid = step.jid ?? jid;
  }
  return jid;
}

/**
 * Sends an iq ping to the domain and waits for its result (the proof of a usable stream). A
 * `wait` error (a rate limit that kept the stream, RFC 6120 §8.3.2) is retried, a bounded number
 * of times, a little later.
 */
export async function pingProof(wire: Wire, id: string, seen: string[]): Promise<void> {
  for (let attempt = 0; attempt < 60; attempt++) {
    const tryId = attempt === 0 ? id : `${id}-${attempt}`;
    await wire.send(
      `<iq xmlns='jabber:client' type='get' id='${tryId}' to='${DOMAIN}'><ping xmlns='urn:xmpp:ping'/></iq>`,
    );
    const answer = await expectElement(
      wire,
      "ping answer",
      (e) => e.name === "iq" && e.attrs.id === tryId,
      seen,
    );
    if (answer.attrs.type === "result") return;
    if (!/<error[^>]*type=['"]wait['"]/.test(seen.at(-1)!)) {
      throw new SetupError(`ping answered with ${seen.at(-1)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new SetupError(`ping still refused after 60 tries: ${seen.at(-1)}`);
}

/**
 * Runs one case on a wire already at `c.at`. Every message received is checked to be exactly one
 * well-formed element (by an independent parser).
 */
export async function runCase(
  wire: Wire,
  c: HostileCase,
  jids: Jids,
  user: { username: string; password: string },
): Promise<Observation> {
  const texts: string[] = [];
  const problems: string[] = [];
  let error: string | null = null;
  const sentClose = c.send.some((m) =>
    typeof m === "string" && /<close[\s/]/.test(m) && m.includes(NS_FRAMING)
  );
  for (const message of c.send) {
    await wire.send(fillMessage(message, jids));
  }
  const proof = allowedOutcomes(c).find((o) => o.end === "usable");
  const note = (text: string) => {
    texts.push(text);
    const bad = checkStandalone(text);
    if (bad) problems.push(`malformed message to the client (${bad}): ${text.slice(0, 300)}`);
    const el = parse(text);
    const condition = streamErrorOf(el);
    if (condition !== undefined) error = condition;
    return el;
  };

  // Proof mode: finish the login from where the case leaves the stream, then a ping.
  if (proof !== undefined && proof.end === "usable") {
    let at: Leaves = proof.leaves ?? c.at;
    const seen: string[] = [];
    try {
      while (at !== "bound") at = (await advance(wire, at, user, seen)).at;
      await pingProof(wire, "proof", seen);
      for (const t of seen) note(t);
      return { outcome: { end: "usable" }, texts, problems };
    } catch (e) {
      for (const t of seen) note(t);
      if (!(e instanceof SetupError)) throw e;
      // Not usable: see how it ends.
      if (e.event?.type === "close" || e.event?.type === "end") {
        const code = e.event.type === "close" ? e.event.code ?? 1005 : 1006;
        if (e.event.type === "close" && !(await wire.transportEnded())) {
          problems.push("the transport stayed open after the Close handshake");
        }
        return { outcome: { end: "closed", error, code }, texts, problems };
      }
      if (e.event?.type === "idle") {
        wire.abort();
        return { outcome: { end: "open", detail: e.message }, texts, problems };
      }
      const last = seen.at(-1);
      const lastEl = last === undefined ? undefined : parse(last);
      return await closing(
        wire,
        texts,
        problems,
        note,
        sentClose,
        error,
        isClose(lastEl),
        e.message,
      );
    }
  }
  // Marker mode: a ping after the case must never be answered (the stream is over).
  await wire.send(
    `<iq xmlns='jabber:client' type='get' id='marker' to='${DOMAIN}'><ping xmlns='urn:xmpp:ping'/></iq>`,
  );
  return await closing(wire, texts, problems, note, sentClose, error, false, undefined);
}

/** Reads to the end of the transport, answering the close handshake as a client must. */
async function closing(
  wire: Wire,
  texts: string[],
  problems: string[],
  note: (text: string) => XmlElement | undefined,
  sentClose: boolean,
  errorSoFar: string | null,
  closeSeen: boolean,
  proofFailure: string | undefined,
): Promise<Observation> {
  let error = errorSoFar;
  let answeredClose = false;
  const onServerClose = async () => {
    if (sentClose) await wire.close(1000); // #28: the initiator closes the WebSocket
    else if (!answeredClose) {
      answeredClose = true;
      await wire.send(`<close xmlns='${NS_FRAMING}'/>`); // #27: answer the server's <close/>
    }
  };
  if (closeSeen) await onServerClose();
  for (let i = 0; i < 1_000_000; i++) {
    const event = await wire.next();
    if (event.type === "text") {
      const el = note(event.text);
      const condition = streamErrorOf(el);
      if (condition !== undefined) error = condition;
      if (el?.name === "iq" && el.attrs.id === "marker") {
        wire.abort();
        return {
          outcome: {
            end: "open",
            detail: `the stream was still open after the case: ${event.text}`,
          },
          texts,
          problems,
        };
      }
      if (isClose(el)) await onServerClose();
      continue;
    }
    if (event.type === "close") {
      const ended = await wire.transportEnded();
      if (!ended) problems.push("the transport stayed open after the Close handshake");
      return { outcome: { end: "closed", error, code: event.code ?? 1005 }, texts, problems };
    }
    if (event.type === "end") {
      return { outcome: { end: "closed", error, code: 1006 }, texts, problems };
    }
    wire.abort();
    return {
      outcome: {
        end: "open",
        detail: proofFailure ??
          `nothing more came (${error ? `after <${error}/>` : "no stream error"})`,
      },
      texts,
      problems,
    };
  }
  throw new Error("unbounded close");
}

/** Whether an observation matches one of the case's allowed outcomes. */
export function matches(c: HostileCase, observed: Observation): boolean {
  if (observed.problems.length > 0) return false;
  const o = observed.outcome;
  return allowedOutcomes(c).some((a) =>
    a.end === "usable"
      ? o.end === "usable"
      : o.end === "closed" && o.error === a.error && o.code === a.code
  );
}

/** A one-line description of an observation. */
export function describeObservation(observed: Observation): string {
  const o = observed.outcome;
  const head = o.end === "usable"
    ? "usable"
    : o.end === "open"
    ? `left open: ${o.detail}`
    : `closed ${o.code}${o.error ? ` after <${o.error}/>` : " (no stream error)"}`;
  return observed.problems.length > 0 ? `${head}; ${observed.problems.join("; ")}` : head;
}
