/**
 * The types and helpers the `conformance` checks (`_checks.ts`) are written with: what a
 * check gets and returns, and how it reads what the server does (every message parsed by a
 * fresh parser, Close frames, the end of TCP) with a bounded wait.
 *
 * @module
 */

import {
  childElements,
  DocumentParser,
  NS,
  readStreamError,
  textOf,
  type XmlElement,
} from "../../core/mod.ts";
import type { Inbound, OpenResult, RawWebSocket } from "./_ws.ts";
import { type Credentials, StreamStepError, XmppWire } from "./_xmpp.ts";

/** A message the server sent during a check (for the framing check over all of them). */
export interface InboundRecord {
  /** The id of the check (or `preflight`) that received it. */
  readonly check: string;
  /** A text message. */
  readonly data?: string;
  /** The size of a binary message. */
  readonly binaryBytes?: number;
}

/** What a check may use. */
export interface CheckContext {
  readonly url: URL;
  readonly domain: string;
  readonly timeoutMs: number;
  readonly silenceMs: number;
  readonly idleMs: number;
  readonly credentials: Credentials | undefined;
  /** PEM CA certificates for `wss:` and `https:` (default: the system store). */
  readonly caCerts: readonly string[] | undefined;
  /** Every message received so far, by every check. */
  readonly inbound: readonly InboundRecord[];
  /** Opens a connection offering `protocols` (default `["xmpp"]`; `[]`: no header). */
  connect(protocols?: readonly string[]): Promise<OpenResult>;
}

/** A check's verdict. */
export interface CheckOutcome {
  readonly status: "pass" | "fail" | "skip";
  /** What was seen, and why it passes or fails. */
  readonly detail: string;
}

/** One check. */
export interface Check {
  readonly id: string;
  /** Rule numbers of the digest's §1. */
  readonly rules: readonly number[];
  readonly title: string;
  readonly run: (ctx: CheckContext) => Promise<CheckOutcome>;
}

/** Verdicts. */
export const pass = (detail: string): CheckOutcome => ({ status: "pass", detail });
export const fail = (detail: string): CheckOutcome => ({ status: "fail", detail });
export const skip = (detail: string): CheckOutcome => ({ status: "skip", detail });

/** One thing the server did. */
export type Seen =
  | { readonly kind: "element"; readonly el: XmlElement; readonly raw: string }
  | { readonly kind: "unparsed"; readonly raw: string; readonly error: string }
  | { readonly kind: "binary"; readonly bytes: number }
  | { readonly kind: "close"; readonly code: number | undefined; readonly reason: string }
  | { readonly kind: "end" }
  | { readonly kind: "timeout"; readonly ms: number };

/** Everything the server does until the connection ends, or `ms` pass. */
export function collect(ws: RawWebSocket, ms: number): Promise<Seen[]> {
  return collectUntil(ws, ms, () => false);
}

/** What the server does until `stop` matches an item, the connection ends, or `ms` pass. */
export async function collectUntil(
  ws: RawWebSocket,
  ms: number,
  stop: (s: Seen) => boolean,
): Promise<Seen[]> {
  const seen: Seen[] = [];
  const deadline = performance.now() + ms;
  for (;;) {
    const event = await ws.next(Math.max(0, deadline - performance.now()));
    const item = toSeen(event, ms);
    seen.push(item);
    if (item.kind === "end" || item.kind === "timeout" || stop(item)) return seen;
  }
}

function toSeen(event: Inbound, ms: number): Seen {
  switch (event.type) {
    case "text": {
      const parsed = new DocumentParser().parse(event.data);
      return parsed.ok
        ? { kind: "element", el: parsed.element, raw: event.data }
        : { kind: "unparsed", raw: event.data, error: parsed.error.text };
    }
    case "binary":
      return { kind: "binary", bytes: event.bytes.length };
    case "close":
      return { kind: "close", code: event.code, reason: event.reason };
    case "end":
      return { kind: "end" };
    case "timeout":
      return { kind: "timeout", ms };
  }
}

/** A short text for one {@link Seen}. */
export function label(item: Seen): string {
  switch (item.kind) {
    case "element": {
      const el = item.el;
      if (el.name === "error" && el.ns === NS.STREAMS) {
        return `stream error <${readStreamError(el).condition}/>`;
      }
      const ns = el.ns === NS.FRAMING ? "" : ` (${el.ns || "no namespace"})`;
      const type = el.attrs.type === undefined ? "" : ` type='${el.attrs.type}'`;
      return `<${el.name}${type}/>${ns}`;
    }
    case "unparsed":
      return `unparseable message ${JSON.stringify(item.raw.slice(0, 60))}`;
    case "binary":
      return `binary message (${item.bytes} bytes)`;
    case "close":
      return `Close ${item.code ?? "without a code"}${
        item.reason ? ` ${JSON.stringify(item.reason)}` : ""
      }`;
    case "end":
      return "TCP closed";
    case "timeout":
      return `nothing more within ${item.ms} ms`;
  }
}

/** The labels of a sequence, comma-separated. */
export const summary = (seen: readonly Seen[]) => seen.map(label).join(", ");
/** The parsed elements of a sequence. */
export const elements = (seen: readonly Seen[]) =>
  seen.flatMap((s) => (s.kind === "element" ? [s.el] : []));
/** Whether `el` is `<name/>` in the framing namespace. */
export const isFraming = (el: XmlElement | undefined, name: string) =>
  el?.name === name && el.ns === NS.FRAMING;
/** Whether `el` is a stream error. */
export const isError = (el: XmlElement | undefined) => el?.name === "error" && el.ns === NS.STREAMS;

/** A connection offering `xmpp`; throws when the upgrade is refused. */
export async function connectXmpp(ctx: CheckContext): Promise<RawWebSocket> {
  const result = await ctx.connect(["xmpp"]);
  if (!result.socket) {
    throw new StreamStepError(
      result.problem ?? `HTTP ${result.status} to an upgrade offering xmpp`,
    );
  }
  return result.socket;
}

/** Opens a connection and a stream; `run` gets the socket, the wire and the features. */
export async function withStream(
  ctx: CheckContext,
  run: (
    ws: RawWebSocket,
    opened: { open: XmlElement; features: XmlElement; wire: XmppWire },
  ) => Promise<CheckOutcome>,
): Promise<CheckOutcome> {
  const ws = await connectXmpp(ctx);
  try {
    const wire = new XmppWire(ws, ctx.timeoutMs);
    const opened = await wire.openStream(ctx.domain);
    return await run(ws, { ...opened, wire });
  } finally {
    await ws.shutdown(Math.min(ctx.timeoutMs, 1_000));
  }
}

/** Whether the connection ended after the stream error: `<close/>`, a Close frame, TCP end. */
export function closedAfterError(seen: readonly Seen[]): string | undefined {
  const at = seen.findIndex((s) => s.kind === "element" && isError(s.el));
  const after = seen.slice(at + 1);
  if (!after.some((s) => s.kind === "element" && isFraming(s.el, "close"))) {
    return "no <close/> after the stream error (#25)";
  }
  if (!after.some((s) => s.kind === "close")) {
    return "no WebSocket Close frame after <close/> (#25)";
  }
  return undefined;
}

/** The `Sec-WebSocket-Protocol` header values of a response. */
export const protocolHeaders = (result: OpenResult) =>
  result.headers.filter(([name]) => name === "sec-websocket-protocol").map(([, value]) => value);

/** The features offered, mechanisms listed. */
export function featureNames(features: XmlElement): string {
  return childElements(features).map((el) => {
    if (el.name === "mechanisms" && el.ns === NS.SASL) {
      return `mechanisms(${childElements(el, "mechanism").map(textOf).join(" ")})`;
    }
    return el.name;
  }).join(", ") || "none";
}
