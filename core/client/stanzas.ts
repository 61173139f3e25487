/**
 * Building and recognising the stanzas a client sends: `<message/>`, `<presence/>` and `<iq/>`
 * in `jabber:client` (RFC 6120 §8), and the answers a client owes to iq requests (§8.2.3).
 *
 * @example
 * ```ts
 * import { messageStanza } from "@xmpp-websocket/xmpp-websocket/client-core";
 * import { serialize } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { assertEquals } from "@std/assert";
 * assertEquals(serialize(messageStanza("bob@example.com", "hi", { id: "m1" })), "<message xmlns='jabber:client' to='bob@example.com' type='chat' id='m1'><body>hi</body></message>");
 * ```
 * @module
 */

import { element, type XmlElement } from "../xml/element.ts";
import { NS } from "../xmpp/namespaces.ts";
import { serialize } from "../xml/serialize.ts";
import { findIllegalCharacter } from "../xml/restricted.ts";
import { type IqType, isStanza } from "../xmpp/stanza.ts";
import type { StanzaErrorType } from "../xmpp/stanza_errors.ts";

export { type IqType, isStanza } from "../xmpp/stanza.ts";
export { stanzaErrorCondition } from "../xmpp/stanza_errors.ts";

/**
 * Throws `TypeError` unless `el` can be sent by a client: a stanza whose serialization holds
 * no character XML forbids (a NUL in a body, for instance).
 *
 * @example
 * ```ts
 * import { assertSendable, messageStanza } from "@xmpp-websocket/xmpp-websocket/client-core";
 * import { assertEquals } from "@std/assert";
 * assertSendable(messageStanza("bob@example.com", "fine"));
 * try {
 *   assertSendable(messageStanza("bob@example.com", "\u0000"));
 * } catch (error) {
 *   assertEquals((error as Error).message, "The stanza holds a character XML forbids");
 * }
 * ```
 */
export function assertSendable(el: XmlElement): void {
  if (!isStanza(el)) {
    throw new TypeError(
      `Only stanzas (message, presence, iq in jabber:client) can be sent, not <${el.name} xmlns='${el.ns}'>`,
    );
  }
  if (findIllegalCharacter(serialize(el)) >= 0) {
    throw new TypeError("The stanza holds a character XML forbids");
  }
}

/**
 * A `<message/>` with a `<body/>` (type `chat` unless given).
 *
 * @example
 * ```ts
 * import { messageStanza } from "@xmpp-websocket/xmpp-websocket/client-core";
 * import { assertEquals } from "@std/assert";
 * assertEquals(messageStanza("room@muc.example", "hello", { type: "groupchat" }).attrs.type, "groupchat");
 * ```
 */
export function messageStanza(
  to: string,
  body: string,
  options: { readonly type?: string; readonly id?: string } = {},
): XmlElement {
  return element("message", NS.CLIENT, { to, type: options.type ?? "chat", id: options.id }, [
    element("body", NS.CLIENT, {}, [body]),
  ]);
}

/**
 * A `<presence/>`: available with no attribute by default.
 *
 * @example
 * ```ts
 * import { presenceStanza } from "@xmpp-websocket/xmpp-websocket/client-core";
 * import { serialize } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { assertEquals } from "@std/assert";
 * assertEquals(serialize(presenceStanza({ show: "away", status: "lunch" })), "<presence xmlns='jabber:client'><show>away</show><status>lunch</status></presence>");
 * ```
 */
export function presenceStanza(
  options: {
    readonly to?: string;
    readonly type?: string;
    readonly show?: string;
    readonly status?: string;
    readonly id?: string;
  } = {},
): XmlElement {
  const children: XmlElement[] = [];
  if (options.show !== undefined) children.push(element("show", NS.CLIENT, {}, [options.show]));
  if (options.status !== undefined) {
    children.push(element("status", NS.CLIENT, {}, [options.status]));
  }
  return element(
    "presence",
    NS.CLIENT,
    { to: options.to, type: options.type, id: options.id },
    children,
  );
}

/**
 * An `<iq/>`. Throws `TypeError` when a get or set has no payload (RFC 6120 §8.2.3).
 *
 * @example
 * ```ts
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { iqStanza } from "@xmpp-websocket/xmpp-websocket/client-core";
 * import { assertEquals } from "@std/assert";
 * const ping = iqStanza("get", "p1", element("ping", "urn:xmpp:ping"), "example.com");
 * assertEquals(ping.attrs, { type: "get", id: "p1", to: "example.com" });
 * ```
 */
export function iqStanza(
  type: IqType,
  id: string,
  payload?: XmlElement,
  to?: string,
): XmlElement {
  if ((type === "get" || type === "set") && payload === undefined) {
    throw new TypeError(`An iq of type '${type}' needs exactly one payload element`);
  }
  return element("iq", NS.CLIENT, { type, id, to }, payload ? [payload] : []);
}

/**
 * The `result` answer to an iq request, with an optional payload.
 *
 * @example
 * ```ts
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { iqResultFor } from "@xmpp-websocket/xmpp-websocket/client-core";
 * import { assertEquals } from "@std/assert";
 * const request = element("iq", "jabber:client", { type: "get", id: "x", from: "example.com" });
 * assertEquals(iqResultFor(request).attrs, { type: "result", id: "x", to: "example.com" });
 * ```
 */
export function iqResultFor(request: XmlElement, payload?: XmlElement): XmlElement {
  return element(
    "iq",
    NS.CLIENT,
    { type: "result", id: request.attrs.id ?? "", to: request.attrs.from },
    payload ? [payload] : [],
  );
}

/**
 * The `error` answer to an iq request (RFC 6120 §8.3): `service-unavailable` (type `cancel`)
 * by default, as owed to a request nobody handles.
 *
 * @example
 * ```ts
 * import { element, serialize } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { iqErrorFor } from "@xmpp-websocket/xmpp-websocket/client-core";
 * import { assertEquals } from "@std/assert";
 * const request = element("iq", "jabber:client", { type: "get", id: "v", from: "a@b/c" });
 * assertEquals(serialize(iqErrorFor(request)), "<iq xmlns='jabber:client' type='error' id='v' to='a@b/c'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
 * ```
 */
export function iqErrorFor(
  request: XmlElement,
  condition = "service-unavailable",
  errorType: StanzaErrorType = "cancel",
): XmlElement {
  return element("iq", NS.CLIENT, {
    type: "error",
    id: request.attrs.id ?? "",
    to: request.attrs.from,
  }, [element("error", NS.CLIENT, { type: errorType }, [element(condition, NS.STANZAS)])]);
}
