/**
 * Routing of the stanzas a bound resource sends (RFC 6120 §8, §10; RFC 6121 §8), after the
 * hub has stamped `from` with the sender's full JID.
 *
 * - `to` another domain: `remote-server-not-found` (no federation).
 * - `to` the domain, or no `to` for an iq: handled by the server (see `server_iq.ts`).
 * - `to` an unknown local account: `service-unavailable` for messages and iqs, presence dropped
 *   (RFC 6121 §8.5.1; the same answer as for an offline account, so it reveals nothing).
 * - `to` a full JID that is bound: delivered as is. Not bound: a message is treated as sent to
 *   the bare JID, an iq gets `service-unavailable`, presence is dropped (§8.5.3.2).
 * - message `to` a bare JID (or no `to`: the sender's own bare JID): `chat` and `normal` go to the
 *   available resources with the highest non-negative priority, `headline` to all of them. With
 *   none, there is **no offline storage**: `chat` and `normal` get `service-unavailable` back
 *   (RFC 6121 §8.5.2.2.1, option "return an error"), `headline` and `error` are dropped;
 *   `groupchat` always gets `service-unavailable`.
 * - iq `to` a bare JID: answered by the server on the account's behalf.
 * - presence: see `presence.ts` and `subscription.ts`.
 *
 * The hub never answers an `error` stanza with an error, nor an iq `result`.
 *
 * @example
 * ```ts
 * import { isRequestType } from "./_route.ts";
 * console.log(isRequestType("get"), isRequestType("result")); // true false
 * ```
 * @module
 */

import type { XmlElement } from "../xml/element.ts";
import type { Context } from "./_context.ts";
import { bareOf, bareString, type Jid, parseJid } from "../xmpp/jid.ts";
import { availableSessions, broadcastPresence, directedPresence, probe } from "./_presence.ts";
import { accountIq, serverIq } from "./_server_iq.ts";
import { iqPayload, withAttrs } from "../xmpp/stanza.ts";
import { stanzaError, type StanzaErrorCondition } from "../xmpp/stanza_errors.ts";
import { outboundSubscription, SUBSCRIPTION_TYPES } from "./_subscription.ts";
import type { BoundSession } from "./types.ts";

const IQ_TYPES: ReadonlySet<string> = new Set(["get", "set", "result", "error"]);

/**
 * Whether an iq type asks for an answer.
 *
 * @example
 * ```ts
 * import { isRequestType } from "./_route.ts";
 * console.log(isRequestType("set")); // true
 * ```
 */
export function isRequestType(type: string | undefined): boolean {
  return type === "get" || type === "set";
}

/** Routes a stanza (already stamped with `from`) sent by `session`. */
export function routeStanza(ctx: Context, session: BoundSession, stanza: XmlElement): void {
  const toAttr = stanza.attrs.to;
  const target = toAttr === undefined ? undefined : parseJid(toAttr);
  if (toAttr !== undefined && !target) {
    if (stanza.name !== "presence") bounce(ctx, stanza, "jid-malformed");
    return;
  }
  if (stanza.name === "message") return routeMessage(ctx, session, stanza, target);
  if (stanza.name === "iq") return routeIq(ctx, session, stanza, target);
  return routePresence(ctx, session, stanza, target);
}

/**
 * Answers `stanza` with a stanza error, unless it is an error or an iq result; the answer goes
 * to the stanza's (stamped) sender when that is a bound resource.
 */
export function bounce(
  ctx: Context,
  stanza: XmlElement,
  condition: StanzaErrorCondition,
  text?: string,
): void {
  const type = stanza.attrs.type;
  if (type === "error" || (stanza.name === "iq" && !isRequestType(type))) return;
  if (stanza.name === "presence") return;
  const from = stanza.attrs.from;
  if (from !== undefined) ctx.deliver(from, stanzaError(stanza, condition, text));
}

function routeMessage(
  ctx: Context,
  session: BoundSession,
  message: XmlElement,
  target: Jid | undefined,
): void {
  const to = target ?? parseJid(bareString(session.jid))!;
  if (to.domain !== ctx.domain) return bounce(ctx, message, "remote-server-not-found");
  if (to.local === undefined || !ctx.isAccount(to.local)) {
    return bounce(ctx, message, "service-unavailable");
  }
  const bare = bareOf(to);
  if (to.resource !== undefined && ctx.deliver(`${bare}/${to.resource}`, message)) return;
  messageToBare(ctx, bare, message);
}

/** Delivers a message addressed (or falling back) to an account's bare JID. */
export function messageToBare(ctx: Context, bare: string, message: XmlElement): void {
  const type = message.attrs.type ?? "normal";
  if (type === "groupchat") return bounce(ctx, message, "service-unavailable");
  if (type === "error") return; // RFC 6121 §8.5.2: silently ignored
  const candidates = availableSessions(ctx, bare).filter((s) => s.priority >= 0);
  if (candidates.length === 0) {
    if (type !== "headline") {
      bounce(ctx, message, "service-unavailable", "The recipient is offline");
    }
    return;
  }
  const top = Math.max(...candidates.map((s) => s.priority));
  for (const s of candidates) {
    if (type === "headline" || s.priority === top) ctx.deliver(s.jid, message);
  }
}

function routeIq(
  ctx: Context,
  session: BoundSession,
  iq: XmlElement,
  target: Jid | undefined,
): void {
  const type = iq.attrs.type;
  if (iq.attrs.id === undefined || type === undefined || !IQ_TYPES.has(type)) {
    if (type === "result" || type === "error") return;
    return bounce(
      ctx,
      withAttrs(iq, { type: "get" }),
      "bad-request",
      "An iq needs an id and a type",
    );
  }
  const request = isRequestType(type);
  if (request && !iqPayload(iq)) {
    return bounce(ctx, iq, "bad-request", "A get or set has exactly one child");
  }
  if (!target) return accountIq(ctx, session, iq, true);
  if (target.domain !== ctx.domain) return bounce(ctx, iq, "remote-server-not-found");
  if (target.local === undefined) return serverIq(ctx, session, iq);
  if (!ctx.isAccount(target.local)) return bounce(ctx, iq, "service-unavailable");
  const bare = bareOf(target);
  if (target.resource === undefined) {
    return accountIq(ctx, session, iq, bare === bareString(session.jid));
  }
  if (!ctx.deliver(`${bare}/${target.resource}`, iq)) bounce(ctx, iq, "service-unavailable");
}

function routePresence(
  ctx: Context,
  session: BoundSession,
  presence: XmlElement,
  target: Jid | undefined,
): void {
  if (!target) return broadcastPresence(ctx, session, presence);
  const type = presence.attrs.type;
  if (type !== undefined && SUBSCRIPTION_TYPES.has(type)) {
    return outboundSubscription(ctx, session, presence, target);
  }
  if (target.domain !== ctx.domain || target.local === undefined || !ctx.isAccount(target.local)) {
    return;
  }
  if (type === "probe") return probe(ctx, session, bareOf(target));
  const bare = bareOf(target);
  directedPresence(
    ctx,
    session,
    presence,
    target.resource === undefined ? bare : `${bare}/${target.resource}`,
  );
}

/**
 * What happens to stanzas that a session leaves unacknowledged when it ends (XEP-0198 §4 and
 * RFC 6121 §8.5.3.2): messages are routed again as if sent to the bare JID (to another resource,
 * or back to the sender as `service-unavailable`), requests get `service-unavailable`, the rest
 * is dropped.
 */
export function rerouteUndelivered(ctx: Context, stanzas: readonly XmlElement[]): void {
  for (const stanza of stanzas) {
    const from = stanza.attrs.from;
    if (from === undefined || from === ctx.domain) continue; // the server's own pings and pushes
    const to = parseJid(stanza.attrs.to ?? "");
    if (stanza.name === "message" && to?.local !== undefined) {
      messageToBare(ctx, bareOf(to), stanza);
    } else if (stanza.name === "iq") bounce(ctx, stanza, "service-unavailable");
  }
}
