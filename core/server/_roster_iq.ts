/**
 * Roster get and set (RFC 6121 §2.2 - §2.5) from one of the account's own resources. A get makes
 * the resource "interested" (it gets roster pushes); a set adds, updates or removes one item and
 * is pushed to every interested resource before the result. Roster versioning is not offered.
 *
 * @example
 * ```ts
 * import { element } from "../xml/element.ts";
 * import { groupsOf } from "./_roster_iq.ts";
 * const item = element("item", "jabber:iq:roster", { jid: "bob@localhost" }, [
 *   element("group", "jabber:iq:roster", {}, ["Friends"]),
 * ]);
 * console.log(groupsOf(item)); // ["Friends"]
 * ```
 * @module
 */

import { childElements, element, textOf, type XmlElement } from "../xml/element.ts";
import type { Context } from "./_context.ts";
import { bareOf, bareString, parseJid } from "./jid.ts";
import { getItem, newRosterItem, putItem, rosterItemElement } from "./_roster.ts";
import { HUB_NS, iqResult, stanzaError } from "./stanza.ts";
import { removeContact } from "./_subscription.ts";
import type { BoundSession } from "./types.ts";

/**
 * The distinct, non-empty groups of a roster item, or `undefined` when one is empty or repeated
 * (RFC 6121 §2.3.3: `bad-request`).
 *
 * @example
 * ```ts
 * import { element } from "../xml/element.ts";
 * import { groupsOf } from "./_roster_iq.ts";
 * const g = (name: string) => element("group", "jabber:iq:roster", {}, [name]);
 * console.log(groupsOf(element("item", "jabber:iq:roster", {}, [g("a"), g("a")]))); // undefined
 * ```
 */
export function groupsOf(item: XmlElement): string[] | undefined {
  const groups: string[] = [];
  for (const group of childElements(item, "group", HUB_NS.ROSTER)) {
    const name = textOf(group).trim();
    if (!name || groups.includes(name)) return undefined;
    groups.push(name);
  }
  return groups;
}

/** Answers a roster iq (type get or set) from `session`. */
export function rosterIq(
  ctx: Context,
  session: BoundSession,
  iq: XmlElement,
  query: XmlElement,
): void {
  const owner = bareString(session.jid);
  if (iq.attrs.type === "get") {
    ctx.updateSession(session.jid, { rosterRequested: true });
    const items = [...ctx.roster(owner).items.values()].map(rosterItemElement);
    ctx.deliver(session.jid, iqResult(iq, element("query", HUB_NS.ROSTER, {}, items)));
    return;
  }
  const items = childElements(query, "item", HUB_NS.ROSTER);
  const item = items.length === 1 ? items[0]! : undefined;
  const jid = item?.attrs.jid !== undefined ? parseJid(item.attrs.jid) : undefined;
  const groups = item && groupsOf(item);
  if (!item || !jid || jid.resource !== undefined || !groups) {
    return void ctx.deliver(
      session.jid,
      stanzaError(iq, "bad-request", "Expected one item with a bare JID"),
    );
  }
  const contact = bareOf(jid);
  const existing = getItem(ctx, owner, contact);
  if (item.attrs.subscription === "remove") {
    if (!existing) return void ctx.deliver(session.jid, stanzaError(iq, "item-not-found"));
    removeContact(ctx, owner, contact);
  } else {
    // The client may set only the name and groups (RFC 6121 §2.1.2.5: `subscription` is ignored).
    const name = item.attrs.name || undefined;
    putItem(ctx, owner, { ...(existing ?? newRosterItem(contact)), name, groups });
  }
  ctx.deliver(session.jid, iqResult(iq));
}
