/**
 * The life of connections and sessions: resource binding (RFC 6120 §7) with the session limits
 * and the "newest wins" conflict rule, the end of a connection (the session ends, or hibernates
 * for XEP-0198 resumption), and the end of a session (unavailable presence, undelivered stanzas
 * routed again).
 *
 * @example
 * ```ts
 * import { teardown } from "./_lifecycle.ts";
 * console.log(typeof teardown); // "function" (driven by hubStep; see tests/core/hub_test.ts)
 * ```
 * @module
 */

import { childElement, element, textOf, type XmlElement } from "../xml/element.ts";
import { NS } from "../xmpp/namespaces.ts";
import type { Context } from "./_context.ts";
import { isValidResource } from "../xmpp/jid.ts";
import { goUnavailable, sessionsOf } from "./_presence.ts";
import { rerouteUndelivered } from "./_route.ts";
import { stanzaError } from "../xmpp/stanza_errors.ts";
import type { BoundSession, HubConnection } from "./types.ts";

/** Binds a resource for an authenticated connection (an iq set with `<bind/>`). */
export function bind(ctx: Context, conn: HubConnection, iq: XmlElement, request: XmlElement): void {
  const username = conn.username!;
  const bare = `${username}@${ctx.domain}`;
  const asked = childElement(request, "resource", NS.BIND);
  const wanted = asked ? textOf(asked).trim() : "";
  if (wanted && !isValidResource(wanted)) {
    return ctx.send(conn.id, stanzaError(iq, "bad-request", "Invalid resource"));
  }
  const jid = `${bare}/${wanted || generatedResource(ctx, bare)}`;
  const existing = ctx.sessions.get(jid);
  const others = existing ? 1 : 0;
  if (sessionsOf(ctx, bare).length - others >= ctx.config.maxSessionsPerAccount) {
    return ctx.send(
      conn.id,
      stanzaError(iq, "resource-constraint", "Too many sessions for this account"),
    );
  }
  if (ctx.sessions.size - others >= ctx.config.maxSessions) {
    return ctx.send(
      conn.id,
      stanzaError(iq, "resource-constraint", "Too many sessions on this server"),
    );
  }
  if (existing) {
    // RFC 6120 §7.7.2.2: the newest session wins; the older one gets a `conflict` stream error.
    if (existing.connId !== undefined) {
      ctx.fail(existing.connId, "conflict", "Replaced by a new session for the same resource");
      dropConnection(ctx, existing.connId);
    }
    endSession(ctx, jid, "replaced");
  }
  const session: BoundSession = {
    jid,
    username,
    connId: conn.id,
    presence: undefined,
    priority: 0,
    rosterRequested: false,
    directed: [],
    sm: undefined,
    sentBeforeSm: 1, // the bind result, sent below
  };
  ctx.sessions.set(jid, session);
  attach(ctx, conn.id, jid);
  ctx.send(
    conn.id,
    element("iq", NS.CLIENT, { type: "result", id: iq.attrs.id }, [
      element("bind", NS.BIND, {}, [element("jid", NS.BIND, {}, [jid])]),
    ]),
  );
  ctx.log("info", "bound", { connId: conn.id, jid });
}

/** Marks a connection as carrying `jid`: the login timer stops, the ping timer starts. */
export function attach(ctx: Context, connId: string, jid: string): void {
  ctx.updateConnection(connId, { stage: "bound", jid });
  ctx.clearTimer({ kind: "login", connId });
  if (ctx.config.pingIntervalMs > 0) {
    ctx.setTimer({ kind: "ping", connId }, ctx.now + ctx.config.pingIntervalMs);
  }
}

function generatedResource(ctx: Context, bare: string): string {
  const base = `ws-${ctx.random.replace(/[^A-Za-z0-9]/g, "").slice(0, 12)}`;
  let resource = base;
  for (let n = 2; ctx.sessions.has(`${bare}/${resource}`); n++) resource = `${base}-${n}`;
  return resource;
}

/** Forgets a connection and its timers, leaving its session alone. */
export function dropConnection(ctx: Context, connId: string): HubConnection | undefined {
  const conn = ctx.connections.get(connId);
  if (!conn) return undefined;
  ctx.connections.delete(connId);
  if (conn.stage !== "bound") ctx.clearTimer({ kind: "login", connId });
  else if (ctx.config.pingIntervalMs > 0) ctx.clearTimer({ kind: "ping", connId });
  return conn;
}

/**
 * A connection is gone (or was failed by the hub): its session hibernates when `resumable` and
 * XEP-0198 resumption was enabled, and ends otherwise.
 */
export function teardown(ctx: Context, connId: string, resumable: boolean): void {
  const conn = dropConnection(ctx, connId);
  if (conn?.jid === undefined) return;
  const session = ctx.sessions.get(conn.jid);
  if (!session || session.connId !== connId) return;
  const smId = session.sm?.id;
  if (!resumable || smId === undefined) return endSession(ctx, session.jid, "disconnected");
  ctx.updateSession(session.jid, { connId: undefined, sm: { ...session.sm!, requested: false } });
  ctx.setTimer({ kind: "sm", id: smId }, ctx.now + ctx.config.hibernationMs);
  ctx.log("info", "hibernated", { connId, jid: session.jid });
}

/**
 * Ends a session: unavailable presence to whoever saw it available, then stanzas it never
 * acknowledged are routed again (see `rerouteUndelivered`).
 */
export function endSession(ctx: Context, jid: string, reason: string): void {
  if (!ctx.sessions.has(jid)) return;
  goUnavailable(ctx, jid, undefined, false);
  const session = ctx.sessions.get(jid)!;
  ctx.sessions.delete(jid);
  const smId = session.sm?.id;
  if (smId !== undefined) {
    ctx.resumable.delete(smId);
    if (session.connId === undefined) ctx.clearTimer({ kind: "sm", id: smId });
  }
  rerouteUndelivered(ctx, session.sm?.unacked ?? []);
  ctx.log("info", "session-ended", { jid, text: reason });
}
