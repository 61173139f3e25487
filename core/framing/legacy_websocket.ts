/**
 * The framing of draft-ietf-xmpp-websocket-00 (digest §3), for old clients when the operator
 * enables it: the messages of a connection are fragments of one RFC 6120 stream (an open
 * `<stream:stream>` header, stanzas relying on its namespace context, `</stream:stream>`).
 * Detected per connection from the first message; everything else of RFC 7395 is unaffected.
 *
 * @example
 * ```ts
 * import { LegacyWebSocketFraming, looksLikeLegacyHeader } from "./legacy_websocket.ts";
 * import { assertEquals } from "@std/assert";
 * const first = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";
 * assertEquals(looksLikeLegacyHeader(first), true);
 * const framing = new LegacyWebSocketFraming();
 * assertEquals(framing.decode(first)[0]?.kind, "open");
 * ```
 * @module
 */

import { StreamParser } from "../xml/stream_parser.ts";
import type { XmlLimits } from "../xml/limits.ts";
import type { XmlElement } from "../xml/element.ts";
import { serialize, type SerializeContext } from "../xml/serialize.ts";
import { NS } from "../namespaces.ts";
import { CLOSE_CODES } from "../close_codes.ts";
import type { StreamErrorCondition } from "../stream_errors.ts";
import type { Frame, FramingCodec, StreamAttributes } from "./types.ts";
import { streamFrames, streamHeader } from "./_stream_codec.ts";

// Messages stay standalone-parseable: the extra declarations are harmless to draft-00 clients,
// which parse each message inside a wrapper that already declares them (digest §3.2).
const OUTPUT: SerializeContext = { prefixes: { [NS.STREAMS]: "stream" } };
const LEGACY_HEADER = /^(?:<\?xml[^>]*\?>)?\s*<stream:stream[\s>][^]*[^/]>\s*$/;

/**
 * Whether a first message is a draft-00 stream header (an open `<stream:stream>` tag, maybe
 * after an XML declaration), as opposed to RFC 7395's `<open/>`.
 *
 * @example
 * ```ts
 * import { looksLikeLegacyHeader } from "./legacy_websocket.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(looksLikeLegacyHeader("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>"), false);
 * ```
 */
export function looksLikeLegacyHeader(message: string): boolean {
  return LEGACY_HEADER.test(message);
}

/** The draft-00 codec (one per connection). */
export class LegacyWebSocketFraming implements FramingCodec {
  readonly transport = "websocket" as const;
  /** Errors during the open go out as one message: header, error and footer (digest §3.2). */
  readonly batchOpenError = true;
  readonly #parser: StreamParser;
  readonly #oversize: StreamErrorCondition;

  constructor(limits?: Partial<XmlLimits>, oversize: StreamErrorCondition = "policy-violation") {
    this.#parser = new StreamParser(limits ? { limits } : {});
    this.#oversize = oversize;
  }

  decode(data: string | Uint8Array): readonly Frame[] {
    // Draft-00 clients may send whitespace keepalives (ejabberd #698): ignored.
    return streamFrames(this.#parser.push(data), {
      keepalives: false,
      errorCode: CLOSE_CODES.NORMAL,
      oversize: this.#oversize,
    });
  }

  encodeOpen(attributes: StreamAttributes): string {
    return streamHeader(NS.CLIENT, attributes, false);
  }

  encodeClose(): string {
    return "</stream:stream>";
  }

  encodeElement(el: XmlElement): string {
    return serialize(el, OUTPUT);
  }

  restart(): readonly Frame[] {
    const remainder = this.#parser.takeRemainder();
    this.#parser.restart();
    return remainder === "" ? [] : this.decode(remainder);
  }
}
