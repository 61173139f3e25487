/**
 * XEP-0198 stream management: `<enable/>` after binding, `<r/>` and `<a/>` counting only
 * message, presence and iq (both ways, modulo 2^32), and `<resume/>` of a session that lost its
 * connection without `<close/>`, within the hibernation window: the stanzas the client did not
 * acknowledge are sent again. An unknown or expired id gets `<failed>` with `item-not-found`;
 * an `h` above what was sent ends the stream with `undefined-condition` (handled-count-too-high),
 * except an excess a client's early count explains, which is ignored (see `acknowledge`).
 *
 * The queue of unacknowledged stanzas is bounded in stanzas (`maxUnacked`) and in characters
 * (`maxUnackedBytes`, counted by `elementSize`): `Context.deliver` marks a session whose queue
 * passed either, and the hub ends it once the step is done (see `endOverflowed` in `hub.ts`).
 *
 * @example
 * ```ts
 * import { parseCounter } from "./_sm.ts";
 * console.log(parseCounter("42"), parseCounter("-1"), parseCounter("4294967296")); // 42 undefined undefined
 * ```
 * @module
 */

import { element, type XmlElement } from "../xml/element.ts";
import { NS } from "../xmpp/namespaces.ts";
import type { Context } from "./_context.ts";
import { attach, dropConnection, endSession, teardown } from "./_lifecycle.ts";
import { elementSize } from "./_size.ts";
import type { HubConnection, StreamManagement } from "./types.ts";

/**
 * Reads an `h` value: an integer from 0 to 2^32 - 1.
 *
 * @example
 * ```ts
 * import { parseCounter } from "./_sm.ts";
 * console.log(parseCounter("07")); // 7
 * ```
 */
export function parseCounter(value: string | undefined): number | undefined {
  if (value === undefined || !/^[0-9]{1,10}$/.test(value)) return undefined;
  const n = Number(value);
  return n <= 0xffff_ffff ? n : undefined;
}

/** Handles an element in the `urn:xmpp:sm:3` namespace from an authenticated connection. */
export function smElement(ctx: Context, conn: HubConnection, el: XmlElement): void {
  const session = conn.jid === undefined ? undefined : ctx.sessions.get(conn.jid);
  switch (el.name) {
    case "enable":
      if (!session || session.sm) return ctx.send(conn.id, failed("unexpected-request"));
      return enable(ctx, conn.jid!, el.attrs.resume === "true" || el.attrs.resume === "1");
    case "resume":
      if (session) return ctx.send(conn.id, failed("unexpected-request"));
      return resume(ctx, conn, el);
    case "r":
      if (session?.sm) ctx.send(conn.id, element("a", NS.SM, { h: String(session.sm.inbound) }));
      return;
    case "a":
      if (session?.sm) acknowledge(ctx, conn.id, conn.jid!, session.sm, el.attrs.h);
      return;
    default:
      ctx.fail(
        conn.id,
        "unsupported-stanza-type",
        `Unknown stream management element <${el.name}/>`,
      );
      return teardown(ctx, conn.id, false);
  }
}

function enable(ctx: Context, jid: string, resume: boolean): void {
  const id = resume ? ctx.random : undefined;
  ctx.updateSession(jid, {
    sm: { id, inbound: 0, acked: 0, unacked: [], unackedBytes: 0, requested: false },
  });
  if (id !== undefined) ctx.resumable.set(id, jid);
  const connId = ctx.sessions.get(jid)!.connId!;
  ctx.send(
    connId,
    element(
      "enabled",
      NS.SM,
      resume
        ? { id, resume: "true", max: String(Math.floor(ctx.config.hibernationMs / 1000)) }
        : {},
    ),
  );
}

/**
 * How an `h` from the client (on `<a/>` or `<resume/>`) compares with what was sent, counting
 * modulo 2^32 from the last acknowledged value:
 * - `ok`: `handled` more stanzas acknowledged (0 up to every unacknowledged one);
 * - `stale`: below a value already acknowledged;
 * - `early-count`: above what was sent, by no more than the stanzas sent before `<enabled/>`
 *   (see {@link acknowledge});
 * - `too-high`: above anything that explanation covers.
 *
 * @example
 * ```ts
 * import { judgeH } from "./_sm.ts";
 * const sm = { id: undefined, inbound: 0, acked: 0, unacked: [], unackedBytes: 0, requested: false };
 * console.log(judgeH(sm, 2, 1).kind, judgeH(sm, 3, 1).kind); // "early-count" "too-high"
 * ```
 */
export function judgeH(
  sm: StreamManagement,
  h: number,
  sentBeforeSm: number,
):
  | { readonly kind: "ok"; readonly handled: number }
  | { readonly kind: "stale" | "early-count" | "too-high" } {
  const handled = (h - sm.acked) >>> 0;
  if (handled <= sm.unacked.length) return { kind: "ok", handled };
  if (handled > 0x7fffffff) return { kind: "stale" };
  return handled - sm.unacked.length <= sentBeforeSm ? { kind: "early-count" } : {
    kind: "too-high",
  };
}

/**
 * An `<a/>` from the client.
 *
 * XEP-0198 §4: both counters start at `<enable/>`/`<enabled/>`: the server counts what it sends
 * from `<enabled/>` on (nothing delivered before enters `unacked`), and a client counts what it
 * receives from `<enabled/>` on. §6: an `h` above what was sent SHOULD end the stream with
 * `undefined-condition` and `<handled-count-too-high/>`; `h` only moves forward (§4: keep the
 * last value), so an `h` below one already acknowledged is stale.
 *
 * Deviation, on evidence (issue 12): `@xmpp/client` 0.14 does not reset its counter when
 * `<enabled/>` arrives but in a promise continuation that runs after the other elements of the
 * same WebSocket read. In its documented pattern (`<presence/>` sent on "online", before its
 * `<enable/>`), the presence echo arrives just before `<enabled/>`, the message and the `<r/>`
 * just after, and it answers `<a h='2'/>` for one stanza sent, then `<a h='0'/>` once it has reset.
 * Prosody 0.12 (`mod_smacks`: "Client acknowledged more stanzas than sent by server") and
 * ejabberd 23.01 (`mod_stream_mgmt`, the same text) end that stream with `undefined-condition`
 * whenever the `<r/>` lands in the same read (most runs on this machine; every run here).
 *
 * Such an `h` proves nothing about which stanzas the client handled, so it is ignored: every
 * unacknowledged stanza stays queued, to be sent again on `<resume/>` or routed again when the
 * session ends (XEP-0198 §5: duplicates are possible, never a loss). It is tolerated only while
 * the excess is at most the stanzas sent on this stream before `<enabled/>` (the bind result
 * included), the largest count such a client can have added; beyond that the stream ends as §6
 * says. Stale values are ignored too (the same client's `<a h='0'/>` after its late reset;
 * Prosody 0.12 ends the stream there as well, ejabberd ignores them). Each case is logged.
 */
function acknowledge(
  ctx: Context,
  connId: string,
  jid: string,
  sm: StreamManagement,
  value: string | undefined,
): void {
  const h = parseCounter(value);
  const sent = (sm.acked + sm.unacked.length) >>> 0;
  const sentBeforeSm = ctx.sessions.get(jid)!.sentBeforeSm;
  const verdict = h === undefined ? undefined : judgeH(sm, h, sentBeforeSm);
  if (verdict?.kind === "ok") {
    return ctx.updateSession(jid, {
      sm: { ...sm, acked: h!, ...withoutAcked(sm, verdict.handled), requested: false },
    });
  }
  if (verdict?.kind === "stale") {
    ctx.log("info", "stale-ack", { connId, jid, text: `h=${h} after ${sm.acked}` });
    return;
  }
  if (verdict?.kind === "early-count") {
    ctx.log("info", "ack-above-sent", {
      connId,
      jid,
      text: `h=${h}, send-count=${sent}, sent before <enabled/>=${sentBeforeSm}: ignored, ` +
        `${sm.unacked.length} stanzas kept`,
    });
    // The <a/> answers our <r/>: the next delivery asks again.
    return ctx.updateSession(jid, { sm: { ...sm, requested: false } });
  }
  // XEP-0198 §6: undefined-condition with <handled-count-too-high/>; a missing or malformed h
  // (never quoted back: it is the peer's text) gets the same condition without it.
  ctx.fail(
    connId,
    "undefined-condition",
    h === undefined ? "Missing or invalid h" : `handled-count-too-high: h=${h}, send-count=${sent}`,
    h === undefined
      ? undefined
      : element("handled-count-too-high", NS.SM, { h: String(h), "send-count": String(sent) }),
  );
  return teardown(ctx, connId, false);
}

function resume(ctx: Context, conn: HubConnection, el: XmlElement): void {
  const previd = el.attrs.previd ?? "";
  const jid = ctx.resumable.get(previd);
  const session = jid === undefined ? undefined : ctx.sessions.get(jid);
  const sm = session?.sm;
  if (!session || !sm || session.username !== conn.username) {
    ctx.log("info", "resume-failed", { connId: conn.id, text: "unknown or expired session" });
    return ctx.send(conn.id, failed("item-not-found"));
  }
  const h = parseCounter(el.attrs.h);
  if (h === undefined) return ctx.send(conn.id, failed("bad-request"));
  const verdict = judgeH(sm, h, session.sentBeforeSm);
  const sent = (sm.acked + sm.unacked.length) >>> 0;
  if (verdict.kind === "early-count") {
    // As for <a/> (see acknowledge): nothing is taken as acknowledged, everything is sent again.
    ctx.log("info", "ack-above-sent", {
      connId: conn.id,
      jid: session.jid,
      text: `resume h=${h}, send-count=${sent}, sent before <enabled/>=${session.sentBeforeSm}`,
    });
  }
  if (verdict.kind === "stale" || verdict.kind === "too-high") {
    ctx.send(
      conn.id,
      failed(
        "undefined-condition",
        element("handled-count-too-high", NS.SM, { h: String(h), "send-count": String(sent) }),
      ),
    );
    // A hibernated session is broken beyond repair; a live one stays with its connection.
    if (session.connId === undefined) {
      endSession(ctx, session.jid, "resumed with a handled count too high");
    }
    return;
  }
  if (session.connId !== undefined) {
    // The old connection has not noticed the drop yet: the resumed stream replaces it.
    ctx.fail(session.connId, "conflict", "Replaced by a resumed session");
    dropConnection(ctx, session.connId);
  } else {
    ctx.clearTimer({ kind: "sm", id: previd });
  }
  const handled = verdict.kind === "ok" ? verdict.handled : 0;
  const kept = withoutAcked(sm, handled);
  const unacked = kept.unacked;
  ctx.updateSession(session.jid, {
    connId: conn.id,
    sm: {
      ...sm,
      acked: verdict.kind === "ok" ? h : sm.acked,
      ...kept,
      requested: unacked.length > 0,
    },
  });
  attach(ctx, conn.id, session.jid);
  ctx.send(conn.id, element("resumed", NS.SM, { previd, h: String(sm.inbound) }));
  for (const stanza of unacked) ctx.send(conn.id, stanza);
  if (unacked.length > 0) ctx.send(conn.id, element("r", NS.SM));
  ctx.log("info", "resumed", {
    connId: conn.id,
    jid: session.jid,
    text: `${unacked.length} stanzas sent again`,
  });
}

/**
 * The queue without its `handled` oldest stanzas, and its size.
 *
 * @example
 * ```ts
 * import { withoutAcked } from "./_sm.ts";
 * import { element } from "../xml/element.ts";
 * const stanza = element("message", "jabber:client");
 * const sm = { id: undefined, inbound: 0, acked: 0, unacked: [stanza, stanza], unackedBytes: 60, requested: true };
 * console.log(withoutAcked(sm, 1)); // { unacked: [stanza], unackedBytes: 30 }
 * ```
 */
export function withoutAcked(
  sm: StreamManagement,
  handled: number,
): { readonly unacked: readonly XmlElement[]; readonly unackedBytes: number } {
  if (handled === 0) return { unacked: sm.unacked, unackedBytes: sm.unackedBytes };
  let bytes = sm.unackedBytes;
  for (let i = 0; i < handled; i++) bytes -= elementSize(sm.unacked[i]!);
  return { unacked: sm.unacked.slice(handled), unackedBytes: Math.max(0, bytes) };
}

function failed(condition: string, ...extra: XmlElement[]): XmlElement {
  return element("failed", NS.SM, {}, [element(condition, NS.STANZAS), ...extra]);
}
