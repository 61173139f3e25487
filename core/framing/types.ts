/**
 * The framing interface: the one place where RFC 7395 (WebSocket) and RFC 6120 (TCP) differ.
 * The session reducer sees only decoded {@link Frame}s and asks a codec to encode.
 *
 * @example
 * ```ts
 * import type { Frame } from "@xmpp-websocket/xmpp-websocket/session";
 * import { assertEquals } from "@std/assert";
 * const frame: Frame = { kind: "keepalive" };
 * assertEquals(frame.kind, "keepalive");
 * ```
 * @module
 */

import type { XmlElement } from "../xml/element.ts";
import type { RawElement } from "../xml/raw_element.ts";
import type { StreamErrorCondition } from "../stream_errors.ts";
import type { CloseCode } from "../close_codes.ts";

/** The attributes of a stream header (RFC 6120 §4.7). */
export interface StreamAttributes {
  /** The domain the stream is addressed to. */
  readonly to?: string;
  /** The sender's address (a JID or a domain). */
  readonly from?: string;
  /** The stream id chosen by the receiving entity. */
  readonly id?: string;
  /** The default language (`xml:lang`). */
  readonly lang?: string;
  /** The protocol version (`1.0`). */
  readonly version?: string;
}

/** One decoded unit of the framed stream. */
export type Frame =
  /** RFC 7395 `<open/>` or an RFC 6120 stream header. */
  | { readonly kind: "open"; readonly attributes: StreamAttributes; readonly element: XmlElement }
  /** RFC 7395 `<close/>` (maybe with `see-other-uri`) or an RFC 6120 stream footer. */
  | { readonly kind: "close"; readonly seeOtherUri?: string }
  /** Any other first-level element: a stanza, a nonza, features, a stream error. */
  | { readonly kind: "element"; readonly element: XmlElement }
  /** A validated element kept as text (codecs given a relay policy, issue 10). */
  | { readonly kind: "raw"; readonly element: RawElement }
  /** RFC 6120 whitespace keepalive (TCP only). */
  | { readonly kind: "keepalive" }
  /** Input that breaks a framing or XML rule. */
  | {
    readonly kind: "invalid";
    readonly condition: StreamErrorCondition;
    readonly text: string;
    /** The WebSocket close code this calls for. */
    readonly closeCode: CloseCode;
    /** False when the transport must fail without a stream error (binary data, bad UTF-8). */
    readonly streamError: boolean;
  };

/** Encoder and decoder of one transport's framing, owned by one session. */
export interface FramingCodec {
  /** Which wire form this is. */
  readonly transport: "websocket" | "tcp";
  /** Whether an error during the open goes out as one message (draft-00 framing only). */
  readonly batchOpenError?: boolean;
  /** Decodes one WebSocket text message, or one chunk of a TCP stream. */
  decode(data: string | Uint8Array): readonly Frame[];
  /** The stream header (`<open/>`, or `<?xml?><stream:stream ...>`). */
  encodeOpen(attributes: StreamAttributes): string;
  /** The end of the stream (`<close/>`, or `</stream:stream>`). */
  encodeClose(seeOtherUri?: string): string;
  /** Any first-level element. */
  encodeElement(element: XmlElement): string;
  /**
   * Begin a new stream after a restart (RFC 6120 §4.3.3). Returns frames decoded from input
   * that arrived after the restart trigger and belongs to the new stream.
   */
  restart(): readonly Frame[];
}

/**
 * Reads the header attributes of RFC 6120 §4.7 from an `<open/>` or `<stream:stream>`.
 *
 * @example
 * ```ts
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { streamAttributesOf } from "./types.ts";
 * import { assertEquals } from "@std/assert";
 * const open = element("open", "urn:ietf:params:xml:ns:xmpp-framing", {
 *   to: "example.com", version: "1.0", "xml:lang": "en",
 * });
 * assertEquals(streamAttributesOf(open), { to: "example.com", version: "1.0", lang: "en" });
 * ```
 */
export function streamAttributesOf(header: XmlElement): StreamAttributes {
  const a = header.attrs;
  const out: { -readonly [K in keyof StreamAttributes]: string } = {};
  if (a.to !== undefined) out.to = a.to;
  if (a.from !== undefined) out.from = a.from;
  if (a.id !== undefined) out.id = a.id;
  if (a.version !== undefined) out.version = a.version;
  if (a["xml:lang"] !== undefined) out.lang = a["xml:lang"];
  return out;
}

/**
 * The attributes as `element()` expects them (`lang` becomes `xml:lang`).
 *
 * @example
 * ```ts
 * import { headerAttrs } from "./types.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(headerAttrs({ lang: "en", id: "x" }), { from: undefined, to: undefined, id: "x", version: undefined, "xml:lang": "en" });
 * ```
 */
export function headerAttrs(attributes: StreamAttributes): Record<string, string | undefined> {
  return {
    from: attributes.from,
    to: attributes.to,
    id: attributes.id,
    version: attributes.version,
    "xml:lang": attributes.lang,
  };
}
