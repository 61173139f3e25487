/**
 * Namespace URIs used by XMPP over WebSocket. Elements are always matched by these URIs, never
 * by the prefix a peer happened to use.
 *
 * @example
 * ```ts
 * import { NS } from "@xmpp-websocket/xmpp-websocket/session";
 * import { assertEquals } from "@std/assert";
 * assertEquals(NS.FRAMING, "urn:ietf:params:xml:ns:xmpp-framing");
 * ```
 * @module
 */

/** Every namespace the core needs to recognise. */
export const NS = {
  /** RFC 7395 §3.3.2: qualifies `<open/>` and `<close/>`. */
  FRAMING: "urn:ietf:params:xml:ns:xmpp-framing",
  /** RFC 6120 stream namespace: `<stream:stream>`, `<stream:features>`, `<stream:error>`. */
  STREAMS: "http://etherx.jabber.org/streams",
  /** RFC 6120 §4.9.2: stream error conditions. */
  STREAM_ERRORS: "urn:ietf:params:xml:ns:xmpp-streams",
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
  /** XEP-0198 stream management. */
  SM: "urn:xmpp:sm:3",
  /** XEP-0138 stream compression feature. */
  COMPRESS_FEATURE: "http://jabber.org/features/compress",
  /** The `xml:` prefix namespace. */
  XML: "http://www.w3.org/XML/1998/namespace",
} as const;
