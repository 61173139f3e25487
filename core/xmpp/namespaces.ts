/**
 * Every XMPP namespace URI the core recognises or writes, in one place. Elements are always
 * matched by these URIs, never by the prefix a peer happened to use.
 *
 * @example
 * ```ts
 * import { NS } from "@xmpp-websocket/xmpp-websocket/xmpp";
 * import { assertEquals } from "@std/assert";
 * assertEquals(NS.FRAMING, "urn:ietf:params:xml:ns:xmpp-framing");
 * assertEquals(NS.PING, "urn:xmpp:ping");
 * ```
 * @module
 */

/** Namespace URIs by short name (RFC 7395, RFC 6120, RFC 6121 and the XEPs the core speaks). */
export const NS = {
  /** RFC 7395 §3.3.2: qualifies `<open/>` and `<close/>`. */
  FRAMING: "urn:ietf:params:xml:ns:xmpp-framing",
  /** RFC 6120 stream namespace: `<stream:stream>`, `<stream:features>`, `<stream:error>`. */
  STREAMS: "http://etherx.jabber.org/streams",
  /** RFC 6120 §4.9.2: stream error conditions. */
  STREAM_ERRORS: "urn:ietf:params:xml:ns:xmpp-streams",
  /** RFC 6120 §8.3.2: stanza error conditions. */
  STANZAS: "urn:ietf:params:xml:ns:xmpp-stanzas",
  /** RFC 6120 client content namespace. */
  CLIENT: "jabber:client",
  /** RFC 6120 server content namespace (never valid from a client). */
  SERVER: "jabber:server",
  /** RFC 6120 §5: STARTTLS. */
  TLS: "urn:ietf:params:xml:ns:xmpp-tls",
  /** RFC 6120 §6: SASL. */
  SASL: "urn:ietf:params:xml:ns:xmpp-sasl",
  /** XEP-0388: SASL2 (no stream restart after success). */
  SASL2: "urn:xmpp:sasl:2",
  /** RFC 6120 §7: resource binding. */
  BIND: "urn:ietf:params:xml:ns:xmpp-bind",
  /** RFC 3921 §3: the legacy session feature and request (a no-op since RFC 6121). */
  SESSION: "urn:ietf:params:xml:ns:xmpp-session",
  /** XEP-0198 stream management. */
  SM: "urn:xmpp:sm:3",
  /** RFC 6121 §2: the roster. */
  ROSTER: "jabber:iq:roster",
  /** XEP-0030: service discovery, information. */
  DISCO_INFO: "http://jabber.org/protocol/disco#info",
  /** XEP-0030: service discovery, items. */
  DISCO_ITEMS: "http://jabber.org/protocol/disco#items",
  /** XEP-0199: XMPP ping. */
  PING: "urn:xmpp:ping",
  /** XEP-0138 stream compression feature. */
  COMPRESS_FEATURE: "http://jabber.org/features/compress",
  /** The `xml:` prefix namespace. */
  XML: "http://www.w3.org/XML/1998/namespace",
} as const;
