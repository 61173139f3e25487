/**
 * Roster get and set (RFC 6121 §2.2 - §2.5) from one of the account's own resources. A get makes
 * the resource "interested" (it gets roster pushes); a set adds, updates or removes one item and
 * is pushed to every interested resource before the result. Roster versioning is not offered.
 *
 * Every item is checked before anything is stored (RFC 6121 §2.3.3, which §2.4.3 applies to
 * updates too), with limits from the hub's configuration:
 *
 * | Roster set                                                | Stanza error       |
 * | --------------------------------------------------------- | ------------------ |
 * | not exactly one `<item/>`; a `jid` that is not a bare JID | `bad-request`      |
 * | a group named twice                                       | `bad-request`      |
 * | an empty group; a `name` or group over its length limit   | `not-acceptable`   |
 * | more groups than `maxRosterGroups`                        | `not-acceptable`   |
 * | a new item in a roster of `maxRosterItems` items          | `policy-violation` |
 *
 * @example
 * ```ts
 * import { element } from "../xml/element.ts";
 * import { readItem } from "./_roster_iq.ts";
 * import { HUB_DEFAULTS } from "./config.ts";
 * const item = element("item", "jabber:iq:roster", { jid: "bob@localhost", name: "x".repeat(5000) });
 * const checked = readItem(item, HUB_DEFAULTS);
 * console.log(checked.ok ? checked.contact : checked.condition); // "not-acceptable"
 * ```
 * @module
 */

import { NS } from "../xmpp/namespaces.ts";
import { childElements, element, textOf, type XmlElement } from "../xml/element.ts";
import type { Context } from "./_context.ts";
import { bareOf, bareString, parseJid } from "../xmpp/jid.ts";
import { getItem, newRosterItem, putItem, rosterFull, rosterItemElement } from "./_roster.ts";
import { iqResult } from "../xmpp/stanza.ts";
import { stanzaError, type StanzaErrorCondition } from "../xmpp/stanza_errors.ts";
import { removeContact } from "./_subscription.ts";
import type { BoundSession, ResolvedHubConfig } from "./types.ts";

/** The limits an item is checked against. */
export type ItemLimits = Pick<
  ResolvedHubConfig,
  "maxRosterNameLength" | "maxRosterGroups" | "maxRosterGroupLength"
>;

/** A checked roster item, or the stanza error to answer with. */
export type ItemCheck =
  | {
    readonly ok: true;
    /** The contact's bare JID, normalised. */
    readonly contact: string;
    readonly name: string | undefined;
    readonly groups: readonly string[];
    readonly remove: boolean;
  }
  | { readonly ok: false; readonly condition: StanzaErrorCondition; readonly text: string };

/**
 * Checks one `<item/>` of a roster set (see the table above).
 *
 * @example
 * ```ts
 * import { element } from "../xml/element.ts";
 * import { readItem } from "./_roster_iq.ts";
 * import { HUB_DEFAULTS } from "./config.ts";
 * const g = (name: string) => element("group", "jabber:iq:roster", {}, [name]);
 * const item = element("item", "jabber:iq:roster", { jid: "Bob@localhost" }, [g("a"), g("a")]);
 * const checked = readItem(item, HUB_DEFAULTS);
 * console.log(checked.ok ? checked.groups : checked.condition); // "bad-request"
 * ```
 */
export function readItem(item: XmlElement, limits: ItemLimits): ItemCheck {
  const jid = item.attrs.jid !== undefined ? parseJid(item.attrs.jid) : undefined;
  if (!jid || jid.resource !== undefined || !plausibleDomain(jid.domain)) {
    return refuse("bad-request", "Expected one item with a bare JID");
  }
  const remove = item.attrs.subscription === "remove";
  const name = item.attrs.name || undefined;
  if (name !== undefined && name.length > limits.maxRosterNameLength) {
    return refuse(
      "not-acceptable",
      `The name is longer than ${limits.maxRosterNameLength} characters`,
    );
  }
  const elements = childElements(item, "group", NS.ROSTER);
  if (elements.length > limits.maxRosterGroups) {
    return refuse("not-acceptable", `More than ${limits.maxRosterGroups} groups`);
  }
  const groups = new Set<string>();
  for (const group of elements) {
    const text = textOf(group).trim();
    if (text === "") return refuse("not-acceptable", "A group name is empty");
    if (text.length > limits.maxRosterGroupLength) {
      return refuse(
        "not-acceptable",
        `A group name is longer than ${limits.maxRosterGroupLength} characters`,
      );
    }
    if (groups.has(text)) return refuse("bad-request", "A group is named twice");
    groups.add(text);
  }
  return { ok: true, contact: bareOf(jid), name, groups: [...groups], remove };
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
    ctx.deliver(session.jid, iqResult(iq, element("query", NS.ROSTER, {}, items)));
    return;
  }
  const items = childElements(query, "item", NS.ROSTER);
  const checked = items.length === 1
    ? readItem(items[0]!, ctx.config)
    : refuse("bad-request", "Expected one item with a bare JID");
  if (!checked.ok) {
    return void ctx.deliver(session.jid, stanzaError(iq, checked.condition, checked.text));
  }
  const { contact, name, groups } = checked;
  const existing = getItem(ctx, owner, contact);
  if (checked.remove) {
    if (!existing) return void ctx.deliver(session.jid, stanzaError(iq, "item-not-found"));
    removeContact(ctx, owner, contact);
  } else if (!existing && rosterFull(ctx, owner, contact)) {
    return void ctx.deliver(
      session.jid,
      stanzaError(
        iq,
        "policy-violation",
        `The roster is full (${ctx.config.maxRosterItems} items)`,
      ),
    );
  } else {
    // The client may set only the name and groups (RFC 6121 §2.1.2.5: `subscription` is ignored).
    putItem(ctx, owner, { ...(existing ?? newRosterItem(contact)), name, groups });
  }
  ctx.deliver(session.jid, iqResult(iq));
}

// deno-lint-ignore no-control-regex
const NOT_IN_LABEL = /[\x00-\x2c\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]/;

function refuse(condition: StanzaErrorCondition, text: string): ItemCheck {
  return { ok: false, condition, text };
}

/**
 * A domain part that can name a server: DNS labels (ASCII letters, digits and inner hyphens,
 * or any non-ASCII character of an internationalised name) or a bracketed IPv6 literal; no
 * other ASCII punctuation, which `parseJid` alone lets through.
 */
function plausibleDomain(domain: string): boolean {
  if (domain.startsWith("[")) return /^\[[0-9a-f:.]+\]$/.test(domain);
  return domain.length <= 253 &&
    domain.split(".").every((label) =>
      label.length > 0 && label.length <= 63 && !NOT_IN_LABEL.test(label) &&
      !label.startsWith("-") && !label.endsWith("-")
    );
}
