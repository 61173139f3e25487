/**
 * What the two framings built on one long RFC 6120 document share (TCP, and the draft-00
 * WebSocket framing): turning stream-parser events into frames, and writing the stream header.
 *
 * @example
 * ```ts
 * import { streamHeader } from "./_stream_codec.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(streamHeader("jabber:client", { to: "localhost", version: "1.0" }, false), "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>");
 * ```
 * @module
 */

import type { StreamEvent } from "../xml/stream_parser.ts";
import { escapeAttribute } from "../xml/escape.ts";
import type { XmlElement } from "../xml/element.ts";
import { serialize, type SerializeContext } from "../xml/serialize.ts";
import { NS } from "../namespaces.ts";
import type { CloseCode } from "../close_codes.ts";
import { CLOSE_CODES } from "../close_codes.ts";
import type { StreamErrorCondition } from "../stream_errors.ts";
import { type Frame, headerAttrs, type StreamAttributes, streamAttributesOf } from "./types.ts";

/** How a framing maps the events it does not treat alike. */
export interface StreamFrameRules {
  /** Whether whitespace between elements is reported (TCP) or ignored (draft-00). */
  readonly keepalives: boolean;
  /** The close code of a malformed stream (a size limit always gets 1009). */
  readonly errorCode: CloseCode;
  /** The condition for an oversized element (default: the parser's, `policy-violation`). */
  readonly oversize?: StreamErrorCondition;
}

/**
 * Converts stream-parser events into frames.
 *
 * @example
 * ```ts
 * import { streamFrames } from "./_stream_codec.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(streamFrames([{ type: "footer" }], { keepalives: true, errorCode: 1002 }), [{ kind: "close" }]);
 * ```
 */
export function streamFrames(events: readonly StreamEvent[], rules: StreamFrameRules): Frame[] {
  const frames: Frame[] = [];
  for (const event of events) {
    switch (event.type) {
      case "header": {
        const el = event.element;
        frames.push(
          el.name === "stream" && el.ns === NS.STREAMS
            ? { kind: "open", attributes: streamAttributesOf(el), element: el }
            : {
              kind: "invalid",
              condition: "invalid-namespace",
              text: `RFC 6120 §4.8.1: the stream header must be <stream> in ${NS.STREAMS}`,
              closeCode: rules.errorCode,
              streamError: true,
            },
        );
        break;
      }
      case "element":
        frames.push({ kind: "element", element: event.element });
        break;
      case "whitespace":
        if (rules.keepalives) frames.push({ kind: "keepalive" });
        break;
      case "footer":
        frames.push({ kind: "close" });
        break;
      case "error": {
        const tooBig = event.error.tooBig;
        frames.push({
          kind: "invalid",
          condition: tooBig && rules.oversize ? rules.oversize : event.error.condition,
          text: event.error.text,
          closeCode: tooBig ? CLOSE_CODES.MESSAGE_TOO_BIG : rules.errorCode,
          streamError: true,
        });
        break;
      }
    }
  }
  return frames;
}

/**
 * An open `<stream:stream>` header declaring the content namespace and the `stream` prefix,
 * optionally preceded by the XML declaration (RFC 6120 §11.5 SHOULD, over TCP).
 *
 * @example
 * ```ts
 * import { streamHeader } from "./_stream_codec.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(streamHeader("jabber:client", {}, true).startsWith("<?xml version='1.0'?>"), true);
 * ```
 */
export function streamHeader(
  content: string,
  attributes: StreamAttributes,
  declaration: boolean,
): string {
  let header = (declaration ? "<?xml version='1.0'?>" : "") + "<stream:stream xmlns='" +
    escapeAttribute(content) + "' xmlns:stream='" + NS.STREAMS + "'";
  const attrs = headerAttrs(attributes);
  for (const key in attrs) {
    const value = attrs[key];
    if (value !== undefined) header += " " + key + "='" + escapeAttribute(value) + "'";
  }
  return header + ">";
}

/**
 * The writing half of RFC 6120 framing over TCP (the header with the XML declaration, the
 * footer, elements serialized in the stream's context), shared by the tree and relay codecs.
 *
 * @example
 * ```ts
 * import { StreamEncoding } from "./_stream_codec.ts";
 * import { assertEquals } from "@std/assert";
 * const encoding = new StreamEncoding("jabber:client");
 * assertEquals(encoding.encodeClose(), "</stream:stream>");
 * ```
 */
export class StreamEncoding {
  readonly #content: string;
  readonly #context: SerializeContext;

  /** `content` is the stream's content namespace (`jabber:client`). */
  constructor(content: string) {
    this.#content = content;
    this.#context = {
      defaultNs: content,
      prefixes: { [NS.STREAMS]: "stream" },
      declared: { stream: NS.STREAMS },
    };
  }

  /** The XML declaration and an open `<stream:stream>` header. */
  encodeOpen(attributes: StreamAttributes): string {
    return streamHeader(this.#content, attributes, true);
  }

  /** The stream footer. */
  encodeClose(): string {
    return "</stream:stream>";
  }

  /** One element, in the stream's namespace context. */
  encodeElement(el: XmlElement): string {
    return serialize(el, this.#context);
  }
}
