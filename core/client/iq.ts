/**
 * Correlation of iq requests with their responses (RFC 6120 §8.2.3): each request is tracked
 * by its id (which comes in with the request) until a `result` or `error` with the same id
 * arrives from the entity the request was sent to, or its deadline passes. Deadlines are
 * times on the caller's clock; the caller arms one timer at {@link nextIqDeadline}.
 *
 * @example
 * ```ts
 * import { createIqTracker, matchIqResponse, trackIq } from "./iq.ts";
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { assertEquals } from "@std/assert";
 * const request = element("iq", "jabber:client", { type: "get", id: "q1", to: "example.com" });
 * const tracker = trackIq(createIqTracker(), request, 30_000);
 * const answer = element("iq", "jabber:client", { type: "result", id: "q1", from: "example.com" });
 * assertEquals(matchIqResponse(tracker, answer, undefined)?.matched.id, "q1");
 * ```
 * @module
 */

import type { XmlElement } from "../xml/element.ts";
import { NS } from "../xmpp/namespaces.ts";

/** A request waiting for its response. */
export interface PendingIq {
  /** The request's `id`. */
  readonly id: string;
  /** The `to` of the request (`undefined`: the user's own account). */
  readonly to: string | undefined;
  /** When it times out (caller's clock). */
  readonly deadline: number;
}

/** The requests in flight, oldest first. */
export interface IqTracker {
  /** The requests, oldest first. */
  readonly pending: readonly PendingIq[];
}

/**
 * An empty tracker.
 *
 * @example
 * ```ts
 * import { createIqTracker } from "./iq.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(createIqTracker().pending.length, 0);
 * ```
 */
export function createIqTracker(): IqTracker {
  return { pending: [] };
}

/**
 * Starts tracking a request. Throws `TypeError` when `iq` is not an iq get or set with an id,
 * or when that id is already in flight (a programming error).
 *
 * @example
 * ```ts
 * import { createIqTracker, trackIq } from "./iq.ts";
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { assertEquals } from "@std/assert";
 * const iq = element("iq", "jabber:client", { type: "set", id: "s1" });
 * assertEquals(trackIq(createIqTracker(), iq, 5).pending, [{ id: "s1", to: undefined, deadline: 5 }]);
 * ```
 */
export function trackIq(tracker: IqTracker, iq: XmlElement, deadline: number): IqTracker {
  const { id, type, to } = iq.attrs;
  if (iq.name !== "iq" || iq.ns !== NS.CLIENT || (type !== "get" && type !== "set")) {
    throw new TypeError("Only an iq of type get or set in jabber:client expects a response");
  }
  if (!id) throw new TypeError("An iq request needs an id");
  if (tracker.pending.some((p) => p.id === id)) {
    throw new TypeError(`An iq with id '${id}' is already waiting for its response`);
  }
  return { pending: [...tracker.pending, { id, to, deadline }] };
}

/**
 * Whether an incoming iq answers a tracked request: a `result` or `error` with its id, from
 * the entity it was sent to (for a request without `to`, or to the user's own JID: no `from`,
 * the bare JID or the full JID, RFC 6120 §8.1.2.1). A response from anyone else is not a match
 * (a spoofing attempt, or a collision), so it is left to the application.
 *
 * @example
 * ```ts
 * import { createIqTracker, matchIqResponse, trackIq } from "./iq.ts";
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { assertEquals } from "@std/assert";
 * const tracker = trackIq(createIqTracker(), element("iq", "jabber:client", { type: "get", id: "1", to: "bob@x" }), 9);
 * const forged = element("iq", "jabber:client", { type: "result", id: "1", from: "eve@x" });
 * assertEquals(matchIqResponse(tracker, forged, "alice@x/web"), undefined);
 * ```
 */
export function matchIqResponse(
  tracker: IqTracker,
  iq: XmlElement,
  ownJid: string | undefined,
): { readonly tracker: IqTracker; readonly matched: PendingIq } | undefined {
  const { id, type, from } = iq.attrs;
  if (iq.name !== "iq" || (type !== "result" && type !== "error") || id === undefined) {
    return undefined;
  }
  const index = tracker.pending.findIndex((p) => p.id === id);
  if (index < 0) return undefined;
  const matched = tracker.pending[index]!;
  if (!fromMatches(matched.to, from, ownJid)) return undefined;
  return {
    tracker: { pending: tracker.pending.filter((_, i) => i !== index) },
    matched,
  };
}

/**
 * Removes the requests whose deadline is at or before `now`.
 *
 * @example
 * ```ts
 * import { createIqTracker, expireIqs, trackIq } from "./iq.ts";
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { assertEquals } from "@std/assert";
 * const iq = (id: string) => element("iq", "jabber:client", { type: "get", id });
 * const tracker = trackIq(trackIq(createIqTracker(), iq("a"), 10), iq("b"), 20);
 * assertEquals(expireIqs(tracker, 15).expired.map((p) => p.id), ["a"]);
 * ```
 */
export function expireIqs(
  tracker: IqTracker,
  now: number,
): { readonly tracker: IqTracker; readonly expired: readonly PendingIq[] } {
  const expired = tracker.pending.filter((p) => p.deadline <= now);
  if (expired.length === 0) return { tracker, expired };
  return { tracker: { pending: tracker.pending.filter((p) => p.deadline > now) }, expired };
}

/**
 * The earliest deadline in flight, to arm one timer for.
 *
 * @example
 * ```ts
 * import { createIqTracker, nextIqDeadline } from "./iq.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(nextIqDeadline(createIqTracker()), undefined);
 * ```
 */
export function nextIqDeadline(tracker: IqTracker): number | undefined {
  let next: number | undefined;
  for (const p of tracker.pending) if (next === undefined || p.deadline < next) next = p.deadline;
  return next;
}

/**
 * Removes one request (e.g. one that can no longer be answered).
 *
 * @example
 * ```ts
 * import { createIqTracker, forgetIq, trackIq } from "./iq.ts";
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { assertEquals } from "@std/assert";
 * const tracker = trackIq(createIqTracker(), element("iq", "jabber:client", { type: "get", id: "a" }), 1);
 * assertEquals(forgetIq(tracker, "a").pending.length, 0);
 * ```
 */
export function forgetIq(tracker: IqTracker, id: string): IqTracker {
  return { pending: tracker.pending.filter((p) => p.id !== id) };
}

function normalizeJid(jid: string): string {
  const slash = jid.indexOf("/");
  return slash < 0 ? jid.toLowerCase() : jid.slice(0, slash).toLowerCase() + jid.slice(slash);
}

function bare(jid: string): string {
  const slash = jid.indexOf("/");
  return slash < 0 ? jid : jid.slice(0, slash);
}

function fromMatches(to: string | undefined, from: string | undefined, ownJid?: string): boolean {
  const own = ownJid === undefined ? undefined : normalizeJid(ownJid);
  const ownBare = own === undefined ? undefined : bare(own);
  const target = to === undefined ? undefined : normalizeJid(to);
  if (target === undefined || target === own || target === ownBare) {
    if (from === undefined) return true;
    const sender = normalizeJid(from);
    return sender === own || sender === ownBare || (target !== undefined && sender === target);
  }
  return from !== undefined && normalizeJid(from) === target;
}
