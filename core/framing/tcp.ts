/**
 * RFC 6120 framing over TCP: one long document, `<stream:stream>` header and footer, and
 * first-level elements in between (whitespace keepalives allowed).
 *
 * @example
 * ```ts
 * import { TcpFraming } from "@xmpp-websocket/xmpp-websocket/session";
 * import { assertEquals } from "@std/assert";
 * const framing = new TcpFraming();
 * assertEquals(framing.encodeOpen({ to: "localhost", version: "1.0" }), "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>");
 * ```
 * @module
 */

import { StreamParser } from "../xml/stream_parser.ts";
import type { XmlLimits } from "../xml/limits.ts";
import { NS } from "../namespaces.ts";
import { CLOSE_CODES } from "../close_codes.ts";
import type { Frame, FramingCodec } from "./types.ts";
import { StreamEncoding, streamFrames } from "./_stream_codec.ts";

/** Options of the RFC 6120 codec. */
export interface TcpFramingOptions {
  /** XML limits; `maxBytes` bounds each first-level element. */
  readonly limits?: Partial<XmlLimits>;
  /** The content namespace (default `jabber:client`). */
  readonly contentNamespace?: string;
}

/** The RFC 6120 codec. One instance per connection (it owns the stream parser). */
export class TcpFraming extends StreamEncoding implements FramingCodec {
  readonly transport = "tcp" as const;
  readonly #parser: StreamParser;

  /** A codec for one RFC 6120 TCP stream. */
  constructor(options: TcpFramingOptions = {}) {
    super(options.contentNamespace ?? NS.CLIENT);
    this.#parser = new StreamParser({
      ...(options.limits ? { limits: options.limits } : {}),
      // RFC 6120 §4.3.3 / §5.3.2: nothing after these belongs to the current document.
      pauseAfter: (el) =>
        (el.name === "success" && el.ns === NS.SASL) || (el.name === "proceed" && el.ns === NS.TLS),
    });
  }

  decode(data: string | Uint8Array): readonly Frame[] {
    return streamFrames(this.#parser.push(data), {
      keepalives: true,
      errorCode: CLOSE_CODES.PROTOCOL_ERROR,
    });
  }

  restart(): readonly Frame[] {
    const remainder = this.#parser.takeRemainder();
    this.#parser.restart();
    return remainder === "" ? [] : this.decode(remainder);
  }
}
