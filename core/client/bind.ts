/**
 * Resource binding (RFC 6120 §7) and the legacy session establishment (RFC 3921 §3, still
 * required by some servers unless marked `<optional/>`): building the requests and reading
 * the answers.
 *
 * @example
 * ```ts
 * import { bindRequest, readBindResult } from "./bind.ts";
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { assertEquals } from "@std/assert";
 * const request = bindRequest("b1", "phone");
 * const bind = "urn:ietf:params:xml:ns:xmpp-bind";
 * const answer = element("iq", "jabber:client", { type: "result", id: "b1" }, [
 *   element("bind", bind, {}, [element("jid", bind, {}, ["alice@example.com/phone"])]),
 * ]);
 * assertEquals(request.attrs.id, "b1");
 * assertEquals(readBindResult(answer), { ok: true, jid: "alice@example.com/phone" });
 * ```
 * @module
 */

import { childElement, element, textOf, type XmlElement } from "../xml/element.ts";
import { NS } from "../xmpp/namespaces.ts";
import { stanzaErrorCondition } from "../xmpp/stanza_errors.ts";

/** The answer to a bind or session request. */
export type BindResult =
  | { readonly ok: true; readonly jid: string }
  | { readonly ok: false; readonly condition: string };

/**
 * The bind request: `<iq type='set'><bind><resource/></bind></iq>`; without `resource` the
 * server chooses one.
 *
 * @example
 * ```ts
 * import { bindRequest } from "./bind.ts";
 * import { serialize } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { assertEquals } from "@std/assert";
 * assertEquals(serialize(bindRequest("b1")), "<iq xmlns='jabber:client' type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
 * ```
 */
export function bindRequest(id: string, resource?: string): XmlElement {
  const children = resource ? [element("resource", NS.BIND, {}, [resource])] : [];
  return element("iq", NS.CLIENT, { type: "set", id }, [element("bind", NS.BIND, {}, children)]);
}

/**
 * Reads the answer to a bind request: the full JID, or the error condition (`conflict`,
 * `not-allowed`, `resource-constraint`, ...; `bad-request` when the result holds no JID).
 *
 * @example
 * ```ts
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { iqErrorFor } from "@xmpp-websocket/xmpp-websocket/client-core";
 * import { readBindResult } from "./bind.ts";
 * import { assertEquals } from "@std/assert";
 * const error = iqErrorFor(element("iq", "jabber:client", { id: "b1" }), "not-allowed");
 * assertEquals(readBindResult(error), { ok: false, condition: "not-allowed" });
 * ```
 */
export function readBindResult(iq: XmlElement): BindResult {
  if (iq.attrs.type === "error") {
    return { ok: false, condition: stanzaErrorCondition(iq) ?? "undefined-condition" };
  }
  const bind = childElement(iq, "bind", NS.BIND);
  const jid = bind ? childElement(bind, "jid", NS.BIND) : undefined;
  const text = jid ? textOf(jid).trim() : "";
  if (iq.attrs.type !== "result" || !text.includes("@") || !text.includes("/")) {
    return { ok: false, condition: "bad-request" };
  }
  return { ok: true, jid: text };
}

/**
 * Whether the features require the legacy session request (`<session/>` without
 * `<optional/>`).
 *
 * @example
 * ```ts
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { sessionRequired } from "./bind.ts";
 * import { assertEquals } from "@std/assert";
 * const features = (optional: boolean) => element("features", "http://etherx.jabber.org/streams", {}, [
 *   element("session", "urn:ietf:params:xml:ns:xmpp-session", {}, optional ? [element("optional", "urn:ietf:params:xml:ns:xmpp-session")] : []),
 * ]);
 * assertEquals(sessionRequired(features(false)), true);
 * assertEquals(sessionRequired(features(true)), false);
 * ```
 */
export function sessionRequired(features: XmlElement): boolean {
  const session = childElement(features, "session", NS.SESSION);
  return session !== undefined && childElement(session, "optional", NS.SESSION) === undefined;
}

/**
 * The legacy session request.
 *
 * @example
 * ```ts
 * import { sessionRequest } from "./bind.ts";
 * import { serialize } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { assertEquals } from "@std/assert";
 * assertEquals(serialize(sessionRequest("s1", "example.com")), "<iq xmlns='jabber:client' type='set' id='s1' to='example.com'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>");
 * ```
 */
export function sessionRequest(id: string, domain: string): XmlElement {
  return element("iq", NS.CLIENT, { type: "set", id, to: domain }, [
    element("session", NS.SESSION),
  ]);
}
