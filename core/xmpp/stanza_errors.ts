/**
 * Stanza errors (RFC 6120 §8.3): every defined condition with the error type RFC 6120 §8.3.3
 * gives it, the builder of an error reply, and the reader of a received error's condition.
 *
 * @example
 * ```ts
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { stanzaError, stanzaErrorCondition } from "@xmpp-websocket/xmpp-websocket/xmpp";
 * import { assertEquals } from "@std/assert";
 * const iq = element("iq", "jabber:client", { type: "get", id: "1", from: "a@localhost/x", to: "localhost" });
 * assertEquals(stanzaErrorCondition(stanzaError(iq, "item-not-found")), "item-not-found");
 * ```
 * @module
 */

import { element, type XmlElement } from "../xml/element.ts";
import { NS } from "./namespaces.ts";

/** The error types of RFC 6120 §8.3.2: what the sender may do about the error. */
export type StanzaErrorType = "auth" | "cancel" | "continue" | "modify" | "wait";

/** Every defined stanza error condition (RFC 6120 §8.3.3) with its usual error type. */
export const STANZA_ERROR_TYPES = {
  "bad-request": "modify",
  "conflict": "cancel",
  "feature-not-implemented": "cancel",
  "forbidden": "auth",
  "gone": "cancel",
  "internal-server-error": "cancel",
  "item-not-found": "cancel",
  "jid-malformed": "modify",
  "not-acceptable": "modify",
  "not-allowed": "cancel",
  "not-authorized": "auth",
  "policy-violation": "modify",
  "recipient-unavailable": "wait",
  "redirect": "modify",
  "registration-required": "auth",
  "remote-server-not-found": "cancel",
  "remote-server-timeout": "wait",
  "resource-constraint": "wait",
  "service-unavailable": "cancel",
  "subscription-required": "auth",
  "undefined-condition": "modify",
  "unexpected-request": "wait",
} as const satisfies Readonly<Record<string, StanzaErrorType>>;

/** A defined stanza error condition (RFC 6120 §8.3.3). */
export type StanzaErrorCondition = keyof typeof STANZA_ERROR_TYPES;

/**
 * Whether `name` is a defined stanza error condition.
 *
 * @example
 * ```ts
 * import { isStanzaErrorCondition } from "@xmpp-websocket/xmpp-websocket/xmpp";
 * import { assertEquals } from "@std/assert";
 * assertEquals([isStanzaErrorCondition("gone"), isStanzaErrorCondition("constructor")], [true, false]);
 * ```
 */
export function isStanzaErrorCondition(name: string): name is StanzaErrorCondition {
  return Object.hasOwn(STANZA_ERROR_TYPES, name);
}

/**
 * The error reply to `stanza` (RFC 6120 §8.3.1): same name and id, `from` and `to` swapped, no
 * payload, the condition with its usual type (or `type`), and an English `<text/>` if given.
 *
 * @example
 * ```ts
 * import { element, serialize } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { stanzaError } from "@xmpp-websocket/xmpp-websocket/xmpp";
 * import { assertEquals } from "@std/assert";
 * const msg = element("message", "jabber:client", { from: "a@localhost/x", to: "b@localhost" });
 * assertEquals(
 *   serialize(stanzaError(msg, "service-unavailable")),
 *   "<message xmlns='jabber:client' type='error' from='b@localhost' to='a@localhost/x'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>",
 * );
 * ```
 */
export function stanzaError(
  stanza: XmlElement,
  condition: StanzaErrorCondition,
  text?: string,
  type: StanzaErrorType = STANZA_ERROR_TYPES[condition],
): XmlElement {
  const children = [element(condition, NS.STANZAS)];
  if (text) children.push(element("text", NS.STANZAS, { "xml:lang": "en" }, [text]));
  return element(stanza.name, NS.CLIENT, {
    type: "error",
    id: stanza.attrs.id,
    from: stanza.attrs.to,
    to: stanza.attrs.from,
  }, [element("error", NS.CLIENT, { type }, children)]);
}

/**
 * The condition of a stanza's `<error/>` (RFC 6120 §8.3.3), if it has one: the first child of
 * `<error/>` in the stanza error namespace other than `<text/>`. Not necessarily a defined
 * condition (peer text): check with {@link isStanzaErrorCondition}.
 *
 * @example
 * ```ts
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { stanzaErrorCondition } from "@xmpp-websocket/xmpp-websocket/xmpp";
 * import { assertEquals } from "@std/assert";
 * assertEquals(stanzaErrorCondition(element("iq", "jabber:client", { type: "result" })), undefined);
 * ```
 */
export function stanzaErrorCondition(stanza: XmlElement): string | undefined {
  for (const child of stanza.children) {
    if (typeof child === "string" || child.name !== "error") continue;
    for (const c of child.children) {
      if (typeof c !== "string" && c.ns === NS.STANZAS && c.name !== "text") return c.name;
    }
  }
  return undefined;
}
