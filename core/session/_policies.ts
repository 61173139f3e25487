/**
 * Small protocol rules of the session reducer: STARTTLS never on a WebSocket (#43, #44), and
 * which redirect targets a secure connection may follow (#33).
 *
 * @example
 * ```ts
 * import { redirectAllowed } from "./_policies.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(redirectAllowed("ws://x.example/", true), false);
 * assertEquals(redirectAllowed("wss://x.example/", true), true);
 * ```
 * @module
 */

import type { XmlElement } from "../xml/element.ts";
import { NS } from "../xmpp/namespaces.ts";

const WEAK_SCHEMES: ReadonlySet<string> = new Set(["ws:", "http:"]);

/**
 * The features without STARTTLS.
 *
 * @example
 * ```ts
 * import { element } from "../xml/element.ts";
 * import { withoutStartTls } from "./_policies.ts";
 * import { assertEquals } from "@std/assert";
 * const f = element("features", "http://etherx.jabber.org/streams", {}, [element("starttls", "urn:ietf:params:xml:ns:xmpp-tls")]);
 * assertEquals(withoutStartTls(f).children.length, 0);
 * ```
 */
export function withoutStartTls(features: XmlElement): XmlElement {
  // #43 / #44: STARTTLS never appears on, and is ignored over, a WebSocket (RFC 7395 §3.9).
  if (!features.children.some((c) => typeof c !== "string" && c.ns === NS.TLS)) return features;
  return {
    ...features,
    children: features.children.filter((c) => typeof c === "string" || c.ns !== NS.TLS),
  };
}

/**
 * #33: a redirect target must parse as a URI (the way a browser parses it: `new URL` drops
 * leading spaces and tabs) and must not weaken a secure connection (wss to ws or http).
 */
export function redirectAllowed(uri: string, secure: boolean): boolean {
  let scheme: string;
  try {
    scheme = new URL(uri).protocol;
  } catch {
    return false;
  }
  return !(secure && WEAK_SCHEMES.has(scheme));
}
