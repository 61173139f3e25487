/**
 * What a gateway removes from the upstream server's stream features before a WebSocket client
 * sees them (digest §2.9): STARTTLS (RFC 7395 §3.9), stream compression (XEP-0138), and SASL
 * mechanisms that bind to the TLS channel (`-PLUS`), which ends at the gateway.
 *
 * @example
 * ```ts
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { filterFeaturesForWebSocket } from "./features.ts";
 * import { assertEquals } from "@std/assert";
 * const features = element("features", "http://etherx.jabber.org/streams", {}, [
 *   element("starttls", "urn:ietf:params:xml:ns:xmpp-tls"),
 *   element("mechanisms", "urn:ietf:params:xml:ns:xmpp-sasl", {}, [
 *     element("mechanism", "urn:ietf:params:xml:ns:xmpp-sasl", {}, ["SCRAM-SHA-1-PLUS"]),
 *     element("mechanism", "urn:ietf:params:xml:ns:xmpp-sasl", {}, ["SCRAM-SHA-1"]),
 *   ]),
 * ]);
 * assertEquals(filterFeaturesForWebSocket(features).children.length, 1);
 * ```
 * @module
 */

import { withChildren, type XmlElement, type XmlNode } from "../xml/element.ts";
import { NS } from "../xmpp/namespaces.ts";

const DROPPED_NAMESPACES: ReadonlySet<string> = new Set([
  NS.TLS,
  NS.COMPRESS_FEATURE,
  "urn:xmpp:sasl-cb:0", // XEP-0440 channel-binding types
]);

/**
 * The features without anything a WebSocket client cannot use.
 *
 * @example
 * ```ts
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { filterFeaturesForWebSocket } from "./features.ts";
 * import { assertEquals } from "@std/assert";
 * const f = element("features", "http://etherx.jabber.org/streams");
 * assertEquals(filterFeaturesForWebSocket(f) === f, true); // nothing to drop
 * ```
 */
export function filterFeaturesForWebSocket(features: XmlElement): XmlElement {
  let changed = false;
  const kept: XmlNode[] = [];
  for (const child of features.children) {
    if (typeof child === "string") continue;
    if (DROPPED_NAMESPACES.has(child.ns)) {
      changed = true;
      continue;
    }
    const filtered = withoutPlusMechanisms(child);
    if (filtered !== child) changed = true;
    kept.push(filtered);
  }
  if (!changed && kept.length === features.children.length) return features;
  return withChildren(features, kept);
}

/**
 * Whether the features offer STARTTLS, and whether they mark it required.
 *
 * @example
 * ```ts
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { startTlsOffer } from "./features.ts";
 * import { assertEquals } from "@std/assert";
 * const f = element("features", "http://etherx.jabber.org/streams", {}, [
 *   element("starttls", "urn:ietf:params:xml:ns:xmpp-tls", {}, [
 *     element("required", "urn:ietf:params:xml:ns:xmpp-tls"),
 *   ]),
 * ]);
 * assertEquals(startTlsOffer(f), "required");
 * ```
 */
export function startTlsOffer(features: XmlElement): "none" | "offered" | "required" {
  for (const child of features.children) {
    if (typeof child === "string" || child.name !== "starttls" || child.ns !== NS.TLS) continue;
    return child.children.some((c) => typeof c !== "string" && c.name === "required")
      ? "required"
      : "offered";
  }
  return "none";
}

function withoutPlusMechanisms(feature: XmlElement): XmlElement {
  // RFC 6120 <mechanisms/> and XEP-0388 <authentication/> list mechanisms the same way.
  const isList = (feature.name === "mechanisms" && feature.ns === NS.SASL) ||
    (feature.name === "authentication" && feature.ns === NS.SASL2);
  if (!isList) return feature;
  const kept = feature.children.filter((c) =>
    typeof c === "string" || c.name !== "mechanism" || !textOfNode(c).trim().endsWith("-PLUS")
  );
  return kept.length === feature.children.length ? feature : withChildren(feature, kept);
}

function textOfNode(el: XmlElement): string {
  return el.children.filter((c): c is string => typeof c === "string").join("");
}
