/**
 * XEP-0198 stream management: `<enable/>` after binding, `<r/>` and `<a/>` counting only
 * message, presence and iq (both ways, modulo 2^32), and `<resume/>` of a session that lost its
 * connection without `<close/>`, within the hibernation window: the stanzas the client did not
 * acknowledge are sent again. An unknown or expired id gets `<failed>` with `item-not-found`;
 * an `h` above what was sent ends the stream with `undefined-condition` (handled-count-too-high).
 *
 * @example
 * ```ts
 * import { parseCounter } from "./_sm.ts";
 * console.log(parseCounter("42"), parseCounter("-1"), parseCounter("4294967296")); // 42 undefined undefined
 * ```
 * @module
 */

import { element, type XmlElement } from "../xml/element.ts";
import { NS } from "../namespaces.ts";
import type { Context } from "./_context.ts";
import { attach, dropConnection, endSession, teardown } from "./_lifecycle.ts";
import { timerName } from "./timers.ts";
import { HUB_NS } from "./stanza.ts";
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
  ctx.updateSession(jid, { sm: { id, inbound: 0, acked: 0, unacked: [], requested: false } });
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

function acknowledge(
  ctx: Context,
  connId: string,
  jid: string,
  sm: StreamManagement,
  value: string | undefined,
): void {
  const h = parseCounter(value);
  const handled = h === undefined ? undefined : (h - sm.acked) >>> 0;
  if (handled !== undefined && handled > 0x7fffffff) {
    // An `h` below one already acknowledged (modulo 2^32) is stale, not "too high": some
    // clients reset their counter late. Ignore it, as Prosody does.
    ctx.log("info", "stale-ack", { connId, text: `h=${value} after ${sm.acked}` });
    return;
  }
  if (handled === undefined || handled > sm.unacked.length) {
    const sent = (sm.acked + sm.unacked.length) >>> 0;
    // XEP-0198 §4: undefined-condition with <handled-count-too-high/> (an unparsable h too).
    ctx.fail(
      connId,
      "undefined-condition",
      `handled-count-too-high: h=${value}, send-count=${sent}`,
      element("handled-count-too-high", NS.SM, { h: value ?? "", "send-count": String(sent) }),
    );
    return teardown(ctx, connId, false);
  }
  ctx.updateSession(jid, {
    sm: { ...sm, acked: h!, unacked: sm.unacked.slice(handled), requested: false },
  });
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
  const handled = (h - sm.acked) >>> 0;
  const sent = (sm.acked + sm.unacked.length) >>> 0;
  if (handled > sm.unacked.length) {
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
    ctx.clearTimer(timerName("sm", previd));
  }
  const unacked = sm.unacked.slice(handled);
  ctx.updateSession(session.jid, {
    connId: conn.id,
    sm: { ...sm, acked: h, unacked, requested: unacked.length > 0 },
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

function failed(condition: string, ...extra: XmlElement[]): XmlElement {
  return element("failed", NS.SM, {}, [element(condition, HUB_NS.STANZAS), ...extra]);
}
