/**
 * Presence subscriptions (RFC 6121 §3): `subscribe`, `subscribed`, `unsubscribe` and
 * `unsubscribed`, processed first as outbound on the user's side, then as inbound on the
 * contact's side (both are local accounts: there is no federation). Stanzas are stamped with
 * bare JIDs; roster changes are pushed; pre-approval (§3.4) is not supported. A request or an
 * approval that would add an item to a full roster (`maxRosterItems`) is answered with a
 * `policy-violation` presence error and goes no further.
 *
 * @example
 * ```ts
 * import { SUBSCRIPTION_TYPES } from "./_subscription.ts";
 * console.log(SUBSCRIPTION_TYPES.has("subscribe")); // true
 * ```
 * @module
 */

import { element, type XmlElement } from "../xml/element.ts";
import { NS } from "../xmpp/namespaces.ts";
import type { Context } from "./_context.ts";
import { bareString, type Jid } from "../xmpp/jid.ts";
import { currentPresenceTo, presenceToAccount, unavailableTo } from "./_presence.ts";
import {
  addDirection,
  getItem,
  newRosterItem,
  putItem,
  removeDirection,
  removeItem,
  rosterFull,
  setPendingIn,
} from "./_roster.ts";
import { stanzaError } from "../xmpp/stanza_errors.ts";
import { withAttrs } from "../xmpp/stanza.ts";
import type { BoundSession } from "./types.ts";

/** The presence types that manage subscriptions. */
export const SUBSCRIPTION_TYPES: ReadonlySet<string> = new Set([
  "subscribe",
  "subscribed",
  "unsubscribe",
  "unsubscribed",
]);

/** A client's subscription stanza to `target` (its resource, if any, is ignored: §3.1.2). */
export function outboundSubscription(
  ctx: Context,
  session: BoundSession,
  stanza: XmlElement,
  target: Jid,
): void {
  const user = bareString(session.jid);
  if (target.local === undefined || target.domain !== ctx.domain) {
    ctx.log("debug", "subscription-dropped", { jid: session.jid, text: "not a local account" });
    return;
  }
  const contact = `${target.local}@${target.domain}`;
  if (contact === user) return;
  const stamped = withAttrs(stanza, { from: user, to: contact });
  const item = getItem(ctx, user, contact);
  const pending = ctx.roster(user).pendingIn.has(contact);
  const type = stanza.attrs.type;
  if (
    (type === "subscribe" || (type === "subscribed" && pending)) && rosterFull(ctx, user, contact)
  ) {
    const text = `The roster is full (${ctx.config.maxRosterItems} items)`;
    return void ctx.deliver(session.jid, stanzaError(stanza, "policy-violation", text));
  }
  switch (type) {
    case "subscribe":
      if (!item || (!item.ask && item.subscription !== "to" && item.subscription !== "both")) {
        putItem(ctx, user, { ...(item ?? newRosterItem(contact)), ask: true });
      }
      return inboundSubscribe(ctx, contact, user, stamped);
    case "subscribed":
      if (!pending) return; // no request to approve (pre-approval is not supported)
      setPendingIn(ctx, user, contact, false);
      putItem(ctx, user, {
        ...(item ?? newRosterItem(contact)),
        subscription: addDirection(item?.subscription ?? "none", "from"),
      });
      inboundSubscribed(ctx, contact, user, stamped);
      return currentPresenceTo(ctx, user, contact);
    case "unsubscribe":
      if (item && (item.ask || item.subscription === "to" || item.subscription === "both")) {
        putItem(ctx, user, {
          ...item,
          ask: false,
          subscription: removeDirection(item.subscription, "to"),
        });
      }
      return inboundUnsubscribe(ctx, contact, user, stamped);
    case "unsubscribed": {
      const subscribed = item?.subscription === "from" || item?.subscription === "both";
      if (!pending && !subscribed) return;
      if (pending) setPendingIn(ctx, user, contact, false);
      if (item && subscribed) {
        putItem(ctx, user, { ...item, subscription: removeDirection(item.subscription, "from") });
        unavailableTo(ctx, user, contact);
      }
      return inboundUnsubscribed(ctx, contact, user, stamped);
    }
  }
}

/**
 * RFC 6121 §2.5.2: the user removes `contact` from the roster; subscriptions both ways are
 * cancelled (the contact is told `unsubscribe` and `unsubscribed`), then the item is removed.
 */
export function removeContact(ctx: Context, user: string, contact: string): void {
  const item = getItem(ctx, user, contact);
  const pending = ctx.roster(user).pendingIn.has(contact);
  if (pending) setPendingIn(ctx, user, contact, false);
  if (item?.subscription === "from" || item?.subscription === "both") {
    unavailableTo(ctx, user, contact);
  }
  if (pending || item?.subscription === "from" || item?.subscription === "both") {
    inboundUnsubscribed(ctx, contact, user, presence(user, contact, "unsubscribed"));
  }
  if (item?.ask || item?.subscription === "to" || item?.subscription === "both") {
    inboundUnsubscribe(ctx, contact, user, presence(user, contact, "unsubscribe"));
  }
  removeItem(ctx, user, contact);
}

/** §3.1.3: a request reaches `owner` from `from`. */
function inboundSubscribe(ctx: Context, owner: string, from: string, stanza: XmlElement): void {
  if (!ctx.isAccount(owner.slice(0, owner.indexOf("@")))) {
    // §3.1.3: no such contact; answer `unsubscribed` on its behalf.
    return inboundUnsubscribed(ctx, from, owner, presence(owner, from, "unsubscribed"));
  }
  const item = getItem(ctx, owner, from);
  if (item?.subscription === "from" || item?.subscription === "both") {
    // Already approved: the contact's server answers on its behalf (§3.1.3).
    inboundSubscribed(ctx, from, owner, presence(owner, from, "subscribed"));
    return currentPresenceTo(ctx, owner, from);
  }
  setPendingIn(ctx, owner, from, true);
  presenceToAccount(ctx, owner, stanza);
}

/** §3.1.6: `from` approved `owner`'s request. */
function inboundSubscribed(ctx: Context, owner: string, from: string, stanza: XmlElement): void {
  const item = getItem(ctx, owner, from);
  if (!item?.ask) return;
  putItem(ctx, owner, { ...item, ask: false, subscription: addDirection(item.subscription, "to") });
  presenceToAccount(ctx, owner, stanza);
}

/** §3.3.3: `from` no longer wants `owner`'s presence. */
function inboundUnsubscribe(ctx: Context, owner: string, from: string, stanza: XmlElement): void {
  if (!ctx.isAccount(owner.slice(0, owner.indexOf("@")))) return;
  setPendingIn(ctx, owner, from, false);
  const item = getItem(ctx, owner, from);
  if (item?.subscription !== "from" && item?.subscription !== "both") return;
  putItem(ctx, owner, { ...item, subscription: removeDirection(item.subscription, "from") });
  presenceToAccount(ctx, owner, stanza);
  unavailableTo(ctx, owner, from);
}

/** §3.2.3: `from` cancelled or denied `owner`'s subscription. */
function inboundUnsubscribed(ctx: Context, owner: string, from: string, stanza: XmlElement): void {
  const item = getItem(ctx, owner, from);
  if (!item || (!item.ask && item.subscription !== "to" && item.subscription !== "both")) return;
  putItem(ctx, owner, {
    ...item,
    ask: false,
    subscription: removeDirection(item.subscription, "to"),
  });
  presenceToAccount(ctx, owner, stanza);
}

function presence(from: string, to: string, type: string): XmlElement {
  return element("presence", NS.CLIENT, { from, to, type });
}
