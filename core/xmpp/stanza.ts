/**
 * Stanzas (RFC 6120 §8): the predicate that tells a stanza from other first-level elements,
 * and the small builders both the server and the client use (attribute stamping, iq results,
 * iq payloads).
 *
 * @example
 * ```ts
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { iqResult, isStanza } from "@xmpp-websocket/xmpp-websocket/xmpp";
 * import { assertEquals } from "@std/assert";
 * const ping = element("iq", "jabber:client", { type: "get", id: "p", from: "a@localhost/x", to: "localhost" });
 * assertEquals(isStanza(ping), true);
 * assertEquals(iqResult(ping).attrs, { type: "result", id: "p", from: "localhost", to: "a@localhost/x" });
 * ```
 * @module
 */

import type { XmlElement } from "../xml/element.ts";
import { element } from "../xml/element.ts";
import { NS } from "./namespaces.ts";

/** The iq types (RFC 6120 §8.2.3). */
export type IqType = "get" | "set" | "result" | "error";

/**
 * Whether `el` is a stanza: `message`, `presence` or `iq` in `jabber:client` (the elements
 * XEP-0198 counts; anything else at the first level is a nonza).
 *
 * @example
 * ```ts
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { isStanza } from "@xmpp-websocket/xmpp-websocket/xmpp";
 * import { assertEquals } from "@std/assert";
 * assertEquals([isStanza(element("iq", "jabber:client")), isStanza(element("r", "urn:xmpp:sm:3"))], [true, false]);
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
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { withAttrs } from "@xmpp-websocket/xmpp-websocket/xmpp";
 * import { assertEquals } from "@std/assert";
 * assertEquals(withAttrs(element("message", "jabber:client", { to: "a" }), { from: "b" }).attrs, { to: "a", from: "b" });
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
 * The `result` reply to an iq (RFC 6120 §8.2.3): same id, `from` and `to` swapped, with an
 * optional payload.
 *
 * @example
 * ```ts
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { iqResult } from "@xmpp-websocket/xmpp-websocket/xmpp";
 * import { assertEquals } from "@std/assert";
 * const ping = element("iq", "jabber:client", { type: "get", id: "p", from: "a@localhost/x", to: "localhost" });
 * assertEquals(iqResult(ping).attrs, { type: "result", id: "p", from: "localhost", to: "a@localhost/x" });
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
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { iqPayload } from "@xmpp-websocket/xmpp-websocket/xmpp";
 * import { assertEquals } from "@std/assert";
 * const iq = element("iq", "jabber:client", { type: "get" }, [element("ping", "urn:xmpp:ping")]);
 * assertEquals(iqPayload(iq)?.name, "ping");
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
