/**
 * The in-memory roster (RFC 6121 §2): items, pending incoming subscription requests, and
 * roster pushes to the account's interested resources (those that asked for the roster).
 * Rosters live only as long as the hub (no persistence), and are updated in place like the rest
 * of the hub's state (see `HubMap`): an update costs the same whatever the roster's size, where
 * copying the items on every change made each one O(items). Their size is bounded by
 * `maxRosterItems` (checked with {@link rosterFull} before an item is created).
 *
 * @example
 * ```ts
 * import { rosterItemElement } from "./_roster.ts";
 * const item = { jid: "bob@localhost", name: "Bob", subscription: "both", ask: false, groups: ["Friends"] } as const;
 * console.log(rosterItemElement(item).attrs); // { jid: "bob@localhost", name: "Bob", subscription: "both" }
 * ```
 * @module
 */

import { element, type XmlElement } from "../xml/element.ts";
import { NS } from "../xmpp/namespaces.ts";
import type { Context } from "./_context.ts";
import { sessionsOf } from "./_presence.ts";
import type { RosterItem, Subscription } from "./types.ts";

/**
 * The `<item/>` of a roster result or push.
 *
 * @example
 * ```ts
 * import { rosterItemElement } from "./_roster.ts";
 * const item = { jid: "bob@localhost", name: undefined, subscription: "none", ask: true, groups: [] } as const;
 * console.log(rosterItemElement(item).attrs.ask); // "subscribe"
 * ```
 */
export function rosterItemElement(item: RosterItem): XmlElement {
  return element("item", NS.ROSTER, {
    jid: item.jid,
    name: item.name,
    subscription: item.subscription,
    ask: item.ask ? "subscribe" : undefined,
  }, item.groups.map((group) => element("group", NS.ROSTER, {}, [group])));
}

/**
 * A new item with no subscription.
 *
 * @example
 * ```ts
 * import { newRosterItem } from "./_roster.ts";
 * console.log(newRosterItem("bob@localhost").subscription); // "none"
 * ```
 */
export function newRosterItem(jid: string): RosterItem {
  return { jid, name: undefined, subscription: "none", ask: false, groups: [] };
}

/**
 * Adds a direction to a subscription state (`to` or `from`).
 *
 * @example
 * ```ts
 * import { addDirection } from "./_roster.ts";
 * console.log(addDirection("from", "to"), addDirection("none", "from")); // "both" "from"
 * ```
 */
export function addDirection(state: Subscription, direction: "to" | "from"): Subscription {
  if (state === "both" || state === direction) return state;
  return state === "none" ? direction : "both";
}

/**
 * Removes a direction from a subscription state.
 *
 * @example
 * ```ts
 * import { removeDirection } from "./_roster.ts";
 * console.log(removeDirection("both", "to"), removeDirection("to", "to")); // "from" "none"
 * ```
 */
export function removeDirection(state: Subscription, direction: "to" | "from"): Subscription {
  if (state === "both") return direction === "to" ? "from" : "to";
  return state === direction ? "none" : state;
}

/** The item for `contact` in `owner`'s roster. */
export function getItem(ctx: Context, owner: string, contact: string): RosterItem | undefined {
  return ctx.roster(owner).items.get(contact);
}

/**
 * Whether `owner`'s roster has no room for an item for `contact` (a new one, at
 * `maxRosterItems` already): the caller answers `policy-violation` instead of creating it.
 */
export function rosterFull(ctx: Context, owner: string, contact: string): boolean {
  const items = ctx.roster(owner).items;
  return !items.has(contact) && items.size >= ctx.config.maxRosterItems;
}

/** Stores an item (in place) and pushes it to the owner's interested resources. */
export function putItem(ctx: Context, owner: string, item: RosterItem): void {
  writable(ctx, owner).items.set(item.jid, item);
  push(ctx, owner, rosterItemElement(item));
}

/** Removes an item and pushes `subscription='remove'`. */
export function removeItem(ctx: Context, owner: string, contact: string): void {
  writable(ctx, owner).items.delete(contact);
  push(ctx, owner, element("item", NS.ROSTER, { jid: contact, subscription: "remove" }));
}

/** Records or clears a pending incoming subscription request from `contact`. */
export function setPendingIn(ctx: Context, owner: string, contact: string, pending: boolean): void {
  if (ctx.roster(owner).pendingIn.has(contact) === pending) return;
  const { pendingIn } = writable(ctx, owner);
  if (pending) pendingIn.add(contact);
  else pendingIn.delete(contact);
}

/**
 * `owner`'s roster, to update in place; created (never the shared empty roster) on first write.
 * The hub's state is not kept once stepped (see `HubMap`), so nothing can see the change but
 * the hub that made it.
 */
function writable(
  ctx: Context,
  owner: string,
): { items: Map<string, RosterItem>; pendingIn: Set<string> } {
  const roster = ctx.rosters.get(owner);
  if (roster !== undefined) {
    return roster as { items: Map<string, RosterItem>; pendingIn: Set<string> };
  }
  const created = { items: new Map<string, RosterItem>(), pendingIn: new Set<string>() };
  ctx.rosters.set(owner, created);
  return created;
}

/** RFC 6121 §2.1.6: a roster push to every resource of `owner` that requested the roster. */
function push(ctx: Context, owner: string, item: XmlElement): void {
  for (const session of sessionsOf(ctx, owner)) {
    if (!session.rosterRequested) continue;
    ctx.deliver(
      session.jid,
      element("iq", NS.CLIENT, { type: "set", id: ctx.nextId("push"), to: session.jid }, [
        element("query", NS.ROSTER, {}, [item]),
      ]),
    );
  }
}
