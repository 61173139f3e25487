/**
 * Presence (RFC 6121 §4): broadcast of a resource's presence to the user's own available
 * resources and to contacts subscribed to it (`from` or `both`), the answers to the implicit
 * probes at initial presence (contacts with `to` or `both`), directed presence, and
 * unavailable presence when a resource leaves. A session remembers at most
 * `maxDirectedPresences` entities that got directed presence (to tell them when it leaves);
 * directed presence to one more is refused with a `resource-constraint` presence error. All contacts are local accounts (no
 * federation), so probes are answered inside the hub and never sent as stanzas.
 *
 * @example
 * ```ts
 * import { element } from "../xml/element.ts";
 * import { priorityOf } from "./_presence.ts";
 * const p = element("presence", "jabber:client", {}, [element("priority", "jabber:client", {}, ["5"])]);
 * console.log(priorityOf(p)); // 5
 * ```
 * @module
 */

import { childElement, element, textOf, type XmlElement } from "../xml/element.ts";
import { NS } from "../xmpp/namespaces.ts";
import type { Context } from "./_context.ts";
import { bareString } from "../xmpp/jid.ts";
import { stanzaError } from "../xmpp/stanza_errors.ts";
import { withAttrs } from "../xmpp/stanza.ts";
import type { BoundSession } from "./types.ts";

/**
 * The `<priority/>` of a presence (RFC 6121 §4.7.2.3): an integer from -128 to 127, default 0.
 *
 * @example
 * ```ts
 * import { element } from "../xml/element.ts";
 * import { priorityOf } from "./_presence.ts";
 * console.log(priorityOf(element("presence", "jabber:client"))); // 0
 * ```
 */
export function priorityOf(presence: XmlElement): number {
  const el = childElement(presence, "priority", NS.CLIENT);
  if (!el) return 0;
  const value = Number(textOf(el).trim());
  return Number.isInteger(value) && value >= -128 && value <= 127 ? value : 0;
}

/** The sessions of an account, in binding order. */
export function sessionsOf(ctx: Context, bare: string): BoundSession[] {
  const out: BoundSession[] = [];
  for (const session of ctx.sessions.values()) {
    if (bareString(session.jid) === bare) out.push(session);
  }
  return out;
}

/** The sessions of an account that have sent available presence. */
export function availableSessions(ctx: Context, bare: string): BoundSession[] {
  return sessionsOf(ctx, bare).filter((session) => session.presence !== undefined);
}

/** Delivers `presence` to every available resource of `bare`, addressed to `bare`. */
export function presenceToAccount(ctx: Context, bare: string, presence: XmlElement): void {
  const addressed = withAttrs(presence, { to: bare });
  for (const session of availableSessions(ctx, bare)) ctx.deliver(session.jid, addressed);
}

/** Sends the current presence of each available resource of `fromBare` to `toBare`'s resources. */
export function currentPresenceTo(ctx: Context, fromBare: string, toBare: string): void {
  for (const source of availableSessions(ctx, fromBare)) {
    presenceToAccount(ctx, toBare, source.presence!);
  }
}

/** Sends unavailable presence from each available resource of `fromBare` to `toBare`'s resources. */
export function unavailableTo(ctx: Context, fromBare: string, toBare: string): void {
  for (const source of availableSessions(ctx, fromBare)) {
    presenceToAccount(ctx, toBare, unavailableFrom(source.jid));
  }
}

function unavailableFrom(jid: string): XmlElement {
  return element("presence", NS.CLIENT, { from: jid, type: "unavailable" });
}

/**
 * Broadcasts a stamped presence of `session` to contacts with `from`/`both` subscriptions and to
 * the user's available resources (`includeSelf`: the sending resource too).
 */
function broadcast(
  ctx: Context,
  session: BoundSession,
  presence: XmlElement,
  includeSelf: boolean,
): void {
  const bare = bareString(session.jid);
  for (const item of ctx.roster(bare).items.values()) {
    if (item.jid === bare || (item.subscription !== "from" && item.subscription !== "both")) {
      continue;
    }
    presenceToAccount(ctx, item.jid, presence);
  }
  const addressed = withAttrs(presence, { to: bare });
  for (const own of availableSessions(ctx, bare)) {
    if (own.jid !== session.jid || includeSelf) ctx.deliver(own.jid, addressed);
  }
}

/** A client's presence without `to`: available (initial or update) or unavailable. */
export function broadcastPresence(ctx: Context, session: BoundSession, stanza: XmlElement): void {
  const type = stanza.attrs.type;
  if (type === "unavailable") return goUnavailable(ctx, session.jid, stanza, true);
  if (type !== undefined) return; // subscription or probe without `to`, or an error: nothing to do
  const stamped = withAttrs(stanza, { from: session.jid, to: undefined });
  const initial = session.presence === undefined;
  ctx.updateSession(session.jid, { presence: stamped, priority: priorityOf(stanza) });
  const updated = ctx.sessions.get(session.jid)!;
  broadcast(ctx, updated, stamped, true);
  if (!initial) return;
  // RFC 6121 §4.2.2 / §4.3: the new resource learns the presence of its contacts (the probe
  // answers) and of the user's other resources, and gets pending subscription requests (§3.1.3).
  const bare = bareString(session.jid);
  const roster = ctx.roster(bare);
  for (const item of roster.items.values()) {
    if (item.jid === bare || (item.subscription !== "to" && item.subscription !== "both")) continue;
    for (const contact of availableSessions(ctx, item.jid)) {
      ctx.deliver(session.jid, withAttrs(contact.presence!, { to: session.jid }));
    }
  }
  for (const own of availableSessions(ctx, bare)) {
    if (own.jid !== session.jid) {
      ctx.deliver(session.jid, withAttrs(own.presence!, { to: session.jid }));
    }
  }
  for (const from of roster.pendingIn) {
    ctx.deliver(session.jid, element("presence", NS.CLIENT, { from, to: bare, type: "subscribe" }));
  }
}

/**
 * Makes a resource unavailable: broadcasts unavailable presence (the client's own stanza, or a
 * generated one) and tells the entities that got directed presence.
 */
export function goUnavailable(
  ctx: Context,
  jid: string,
  stanza: XmlElement | undefined,
  includeSelf: boolean,
): void {
  const session = ctx.sessions.get(jid);
  if (!session) return;
  const unavailable = stanza
    ? withAttrs(stanza, { from: jid, to: undefined, type: "unavailable" })
    : unavailableFrom(jid);
  if (session.presence !== undefined) broadcast(ctx, session, unavailable, includeSelf);
  for (const target of session.directed) {
    deliverDirected(ctx, target, withAttrs(unavailable, { to: target }));
  }
  ctx.updateSession(jid, { presence: undefined, priority: 0, directed: [] });
}

/** A client's directed available, unavailable or error presence (RFC 6121 §4.6). */
export function directedPresence(
  ctx: Context,
  session: BoundSession,
  stanza: XmlElement,
  target: string,
): void {
  const stamped = withAttrs(stanza, { from: session.jid, to: target });
  const type = stanza.attrs.type;
  const bare = bareString(target);
  const item = ctx.roster(bareString(session.jid)).items.get(bare);
  const subscribed = item?.subscription === "from" || item?.subscription === "both";
  const remember = type === undefined && !subscribed && !session.directed.includes(target);
  if (remember && session.directed.length >= ctx.config.maxDirectedPresences) {
    const text = `Directed presence to more than ${ctx.config.maxDirectedPresences} entities`;
    return void ctx.deliver(session.jid, stanzaError(stamped, "resource-constraint", text));
  }
  deliverDirected(ctx, target, stamped);
  if (remember) {
    ctx.updateSession(session.jid, { directed: [...session.directed, target] });
  } else if (type === "unavailable" && session.directed.includes(target)) {
    ctx.updateSession(session.jid, { directed: session.directed.filter((j) => j !== target) });
  }
}

function deliverDirected(ctx: Context, target: string, presence: XmlElement): void {
  if (target.includes("/")) ctx.deliver(target, presence);
  else presenceToAccount(ctx, target, presence);
}

/** A client's presence probe: answered with the target's presence when subscribed to it. */
export function probe(ctx: Context, session: BoundSession, targetBare: string): void {
  const bare = bareString(session.jid);
  const item = ctx.roster(bare).items.get(targetBare);
  if (targetBare !== bare && item?.subscription !== "to" && item?.subscription !== "both") return;
  for (const contact of availableSessions(ctx, targetBare)) {
    ctx.deliver(session.jid, withAttrs(contact.presence!, { to: session.jid }));
  }
}
