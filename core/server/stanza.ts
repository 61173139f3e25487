/**
 * Small builders for the stanzas the hub writes: attribute stamping, iq results, stanza errors
 * (RFC 6120 §8.3) and the namespaces of the extensions it serves.
 *
 * @example
 * ```ts
 * import { element } from "../xml/element.ts";
 * import { stanzaError } from "./stanza.ts";
 * const iq = element("iq", "jabber:client", { type: "get", id: "1", from: "a@localhost/x", to: "localhost" });
 * console.log(stanzaError(iq, "service-unavailable").attrs); // { type: "error", id: "1", from: "localhost", to: "a@localhost/x" }
 * ```
 * @module
 */

import { element, type XmlElement } from "../xml/element.ts";
import { NS } from "../namespaces.ts";

/** Namespaces of the extensions the hub serves. */
export const HUB_NS = {
  STANZAS: "urn:ietf:params:xml:ns:xmpp-stanzas",
  SESSION: "urn:ietf:params:xml:ns:xmpp-session",
  ROSTER: "jabber:iq:roster",
  DISCO_INFO: "http://jabber.org/protocol/disco#info",
  DISCO_ITEMS: "http://jabber.org/protocol/disco#items",
  PING: "urn:xmpp:ping",
} as const;

/** Stanza error conditions the hub uses, with their RFC 6120 §8.3.3 error types. */
const ERROR_TYPES = {
  "bad-request": "modify",
  "conflict": "cancel",
  "feature-not-implemented": "cancel",
  "item-not-found": "cancel",
  "jid-malformed": "modify",
  "not-acceptable": "modify",
  "not-allowed": "cancel",
  "not-authorized": "auth",
  "policy-violation": "modify",
  "remote-server-not-found": "cancel",
  "resource-constraint": "wait",
  "service-unavailable": "cancel",
} as const;

/** A stanza error condition the hub sends. */
export type StanzaErrorCondition = keyof typeof ERROR_TYPES;

/**
 * Whether `el` is a stanza (`message`, `presence` or `iq` in `jabber:client`).
 *
 * @example
 * ```ts
 * import { element } from "../xml/element.ts";
 * import { isStanza } from "./stanza.ts";
 * console.log(isStanza(element("iq", "jabber:client")), isStanza(element("r", "urn:xmpp:sm:3"))); // true false
 * ```
 */
export function isStanza(el: XmlElement): boolean {
  return el.ns === NS.CLIENT &&
    (el.name === "message" || el.name === "presence" || el.name === "iq");
}

/**
 * A copy of `el` with some attributes set (`undefined` removes one).
 *
 * @example
 * ```ts
 * import { element } from "../xml/element.ts";
 * import { withAttrs } from "./stanza.ts";
 * console.log(withAttrs(element("message", "jabber:client", { to: "a" }), { from: "b" }).attrs); // { to: "a", from: "b" }
 * ```
 */
export function withAttrs(
  el: XmlElement,
  attrs: Readonly<Record<string, string | undefined>>,
): XmlElement {
  const merged: Record<string, string> = { ...el.attrs };
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined) delete merged[key];
    else merged[key] = value;
  }
  return { name: el.name, ns: el.ns, attrs: merged, children: el.children };
}

/**
 * The error reply to `stanza`: same name and id, `from` and `to` swapped, no payload.
 *
 * @example
 * ```ts
 * import { element } from "../xml/element.ts";
 * import { stanzaError } from "./stanza.ts";
 * const msg = element("message", "jabber:client", { from: "a@localhost/x", to: "b@localhost" });
 * console.log(stanzaError(msg, "service-unavailable").children.length); // 1
 * ```
 */
export function stanzaError(
  stanza: XmlElement,
  condition: StanzaErrorCondition,
  text?: string,
): XmlElement {
  const children = [element(condition, HUB_NS.STANZAS)];
  if (text) children.push(element("text", HUB_NS.STANZAS, { "xml:lang": "en" }, [text]));
  return element(stanza.name, NS.CLIENT, {
    type: "error",
    id: stanza.attrs.id,
    from: stanza.attrs.to,
    to: stanza.attrs.from,
  }, [element("error", NS.CLIENT, { type: ERROR_TYPES[condition] }, children)]);
}

/**
 * The `result` reply to an iq, with an optional payload.
 *
 * @example
 * ```ts
 * import { element } from "../xml/element.ts";
 * import { iqResult } from "./stanza.ts";
 * const ping = element("iq", "jabber:client", { type: "get", id: "p", from: "a@localhost/x", to: "localhost" });
 * console.log(iqResult(ping).attrs); // { type: "result", id: "p", from: "localhost", to: "a@localhost/x" }
 * ```
 */
export function iqResult(iq: XmlElement, payload?: XmlElement): XmlElement {
  return element("iq", NS.CLIENT, {
    type: "result",
    id: iq.attrs.id,
    from: iq.attrs.to,
    to: iq.attrs.from,
  }, payload ? [payload] : []);
}

/**
 * The single child element of an iq get or set (its payload), if there is exactly one.
 *
 * @example
 * ```ts
 * import { element } from "../xml/element.ts";
 * import { iqPayload } from "./stanza.ts";
 * const iq = element("iq", "jabber:client", { type: "get" }, [element("ping", "urn:xmpp:ping")]);
 * console.log(iqPayload(iq)?.name); // "ping"
 * ```
 */
export function iqPayload(iq: XmlElement): XmlElement | undefined {
  let found: XmlElement | undefined;
  for (const child of iq.children) {
    if (typeof child === "string") continue;
    if (found) return undefined;
    found = child;
  }
  return found;
}
