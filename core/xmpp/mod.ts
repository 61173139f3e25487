/**
 * The XMPP vocabulary shared by the session, the client, the embedded server and the gateway:
 * namespaces, stanza predicates and builders, stanza error conditions with their types, and
 * JIDs (RFC 7622).
 *
 * @example
 * ```ts
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { isStanza, NS, parseJid } from "@xmpp-websocket/xmpp-websocket/xmpp";
 * import { assertEquals } from "@std/assert";
 * assertEquals(isStanza(element("message", NS.CLIENT)), true);
 * assertEquals(parseJid("bob@Example.com/web")?.domain, "example.com");
 * ```
 * @module
 */
export { NS } from "./namespaces.ts";
export { iqPayload, iqResult, type IqType, isStanza, withAttrs } from "./stanza.ts";
export {
  isStanzaErrorCondition,
  STANZA_ERROR_TYPES,
  stanzaError,
  type StanzaErrorCondition,
  stanzaErrorCondition,
  type StanzaErrorType,
} from "./stanza_errors.ts";
export { bareOf, bareString, isValidResource, type Jid, parseJid } from "./jid.ts";
export type { XmlElement, XmlNode } from "../xml/mod.ts";
