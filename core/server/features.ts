/**
 * The stream features the hub offers: SASL mechanisms before authentication (PLAIN only over a
 * secure or loopback connection), then resource binding, the RFC 3921 session (optional) and
 * XEP-0198 stream management.
 *
 * @example
 * ```ts
 * import { offeredMechanisms } from "./features.ts";
 * console.log(offeredMechanisms(false)); // ["SCRAM-SHA-256", "SCRAM-SHA-1"]
 * ```
 * @module
 */

import { element, type XmlElement } from "../xml/element.ts";
import { NS } from "../xmpp/namespaces.ts";
import { listSaslMechanisms } from "../sasl/server.ts";
import type { SaslMechanismName } from "../sasl/types.ts";

/**
 * The SASL mechanisms offered on a connection, strongest first.
 *
 * @example
 * ```ts
 * import { offeredMechanisms } from "./features.ts";
 * console.log(offeredMechanisms(true).includes("PLAIN")); // true
 * ```
 */
export function offeredMechanisms(plainAllowed: boolean): readonly SaslMechanismName[] {
  return listSaslMechanisms({ plainAllowed, anonymousAllowed: false });
}

/**
 * `<stream:features/>` before authentication.
 *
 * @example
 * ```ts
 * import { saslFeatures } from "./features.ts";
 * import { serialize } from "../xml/serialize.ts";
 * console.log(serialize(saslFeatures(false)));
 * // <features xmlns='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>...
 * ```
 */
export function saslFeatures(plainAllowed: boolean): XmlElement {
  const mechanisms = offeredMechanisms(plainAllowed).map((name) =>
    element("mechanism", NS.SASL, {}, [name])
  );
  return element("features", NS.STREAMS, {}, [element("mechanisms", NS.SASL, {}, mechanisms)]);
}

/**
 * `<stream:features/>` after the restart that follows SASL success.
 *
 * @example
 * ```ts
 * import { sessionFeatures } from "./features.ts";
 * console.log(sessionFeatures().children.length); // 3
 * ```
 */
export function sessionFeatures(): XmlElement {
  return element("features", NS.STREAMS, {}, [
    element("bind", NS.BIND),
    element("session", NS.SESSION, {}, [element("optional", NS.SESSION)]),
    element("sm", NS.SM),
  ]);
}
