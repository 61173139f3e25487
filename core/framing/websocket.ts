/**
 * RFC 7395 framing: every WebSocket text message is one standalone element; the stream is
 * opened with `<open/>` and closed with `<close/>` in the framing namespace.
 *
 * @example
 * ```ts
 * import { WebSocketFraming } from "@xmpp-websocket/xmpp-websocket/session";
 * import { assertEquals } from "@std/assert";
 * const framing = new WebSocketFraming();
 * const [frame] = framing.decode("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>");
 * assertEquals(frame?.kind, "open");
 * assertEquals(framing.encodeClose(), "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>");
 * ```
 * @module
 */

import { DocumentParser } from "../xml/document_parser.ts";
import { LegacyWebSocketFraming, looksLikeLegacyHeader } from "./legacy_websocket.ts";
import { sharedPerLimits, type XmlLimits } from "../xml/limits.ts";
import type { XmlElement } from "../xml/element.ts";
import type { XmlError } from "../xml/parse_error.ts";
import { ElementChecker } from "../xml/element_check.ts";
import { type RelayPolicy, validatedRawElement } from "../xml/raw_element.ts";
import { element } from "../xml/element.ts";
import { serialize, type SerializeContext } from "../xml/serialize.ts";
import { NS } from "../namespaces.ts";
import { CLOSE_CODES, type CloseCode } from "../close_codes.ts";
import type { StreamErrorCondition } from "../stream_errors.ts";
import {
  type Frame,
  type FramingCodec,
  headerAttrs,
  type StreamAttributes,
  streamAttributesOf,
} from "./types.ts";

/** Options of the RFC 7395 codec. */
export interface WebSocketFramingOptions {
  /** XML limits; `maxBytes` is the largest message accepted. */
  readonly limits?: Partial<XmlLimits>;
  /** The stream error condition for an oversized message (default `policy-violation`). */
  readonly oversizeCondition?: StreamErrorCondition;
  /** Serve draft-ietf-xmpp-websocket-00 clients too, detected from the first message. */
  readonly legacyFraming?: boolean;
  /**
   * Which elements to deliver as validated text ({@link RawElement}) rather than trees (a
   * gateway's relay path, issue 10). Framing elements and elements in no namespace are always
   * trees.
   */
  readonly relay?: RelayPolicy;
}

/** Output context: stream-namespace elements carry their own `stream` prefix declaration. */
const OUTPUT: SerializeContext = { prefixes: { [NS.STREAMS]: "stream" } };

/**
 * One parser per set of limits, shared by every WebSocket connection: each message is a whole
 * document, parsed synchronously from a reset parser, so no state outlives a `parse` call and
 * the core's single-threaded steps cannot interleave inside one. A parser per connection cost
 * about 5 KB of memory each (measured with 2 000 codecs).
 */
const PARSERS = new Map<string, DocumentParser>();

function sharedParser(limits: Partial<XmlLimits> | undefined): DocumentParser {
  return sharedPerLimits(PARSERS, limits, (resolved) => new DocumentParser(resolved));
}
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Checkers for the relay path, shared like the parsers. */
const CHECKERS = new Map<string, ElementChecker>();

function sharedChecker(limits: Partial<XmlLimits> | undefined): ElementChecker {
  return sharedPerLimits(CHECKERS, limits, (resolved) => new ElementChecker(resolved));
}

/** The RFC 7395 codec. One instance per connection (it owns a reusable parser). */
export class WebSocketFraming implements FramingCodec {
  readonly transport = "websocket" as const;
  readonly #parser: DocumentParser;
  readonly #oversize: StreamErrorCondition;
  readonly #limits: Partial<XmlLimits> | undefined;
  #legacyAllowed: boolean;
  #legacy: LegacyWebSocketFraming | undefined;
  readonly #relay: RelayPolicy | undefined;
  readonly #checker: ElementChecker | undefined;

  /** A codec for one RFC 7395 WebSocket connection. */
  constructor(options: WebSocketFramingOptions = {}) {
    this.#parser = sharedParser(options.limits);
    this.#oversize = options.oversizeCondition ?? "policy-violation";
    this.#limits = options.limits;
    this.#legacyAllowed = options.legacyFraming ?? false;
    this.#relay = options.relay;
    this.#checker = options.relay === undefined ? undefined : sharedChecker(options.limits);
  }

  /** Whether this connection turned out to use draft-00 framing (digest §3). */
  get legacy(): boolean {
    return this.#legacy !== undefined;
  }

  /** Whether an error during the open goes out as one message (draft-00 only). */
  get batchOpenError(): boolean {
    return this.#legacy !== undefined;
  }

  decode(data: string | Uint8Array): readonly Frame[] {
    if (this.#legacy !== undefined) return this.#legacy.decode(data);
    if (this.#legacyAllowed) {
      // Decided once, from the first message (digest §3.2).
      this.#legacyAllowed = false;
      const text = typeof data === "string" ? data : undefined;
      if (text !== undefined && looksLikeLegacyHeader(text)) {
        this.#legacy = new LegacyWebSocketFraming(this.#limits, this.#oversize);
        return this.#legacy.decode(text);
      }
    }
    let text: string;
    if (typeof data === "string") text = data;
    else {
      try {
        text = decoder.decode(data);
      } catch {
        return [
          invalid(
            "unsupported-encoding",
            "RFC 7395 §3.2: text messages must be UTF-8",
            CLOSE_CODES.INVALID_PAYLOAD,
            false,
          ),
        ];
      }
    }
    if (text.charCodeAt(0) !== 60 /* < */) {
      return [
        invalid(
          "bad-format",
          "RFC 7395 §3.3.3: a message must begin with '<' (no whitespace keepalives, §3.8)",
          CLOSE_CODES.NORMAL, // like every stream error: the XMPP error says what was wrong
          true,
        ),
      ];
    }
    if (this.#checker !== undefined && text.charCodeAt(1) !== 63 /* ? */) {
      // The relay path: one complete validating pass over the text, no tree (issue 10). The
      // checker accepts exactly what the parser below accepts (tests/core/element_check_test.ts).
      const check = this.#checker.check(text);
      if (!check.ok) return [this.#refused(check.error)];
      if (
        check.ns !== "" && check.ns !== NS.FRAMING && check.ns !== NS.STREAMS &&
        check.name !== "open" && check.name !== "close" && this.#relay!(check.name, check.ns)
      ) {
        const raw = check.start === 0 && check.end === text.length
          ? text
          : text.slice(check.start, check.end);
        return [{ kind: "raw", element: validatedRawElement(check.name, check.ns, raw) }];
      }
    }
    const result = this.#parser.parse(text);
    if (!result.ok) return [this.#refused(result.error)];
    return [classify(result.element)];
  }

  #refused(error: XmlError): Frame {
    if (error.tooBig) return invalid(this.#oversize, error.text, CLOSE_CODES.MESSAGE_TOO_BIG, true);
    return invalid(error.condition, error.text, CLOSE_CODES.NORMAL, true);
  }

  encodeOpen(attributes: StreamAttributes): string {
    if (this.#legacy !== undefined) return this.#legacy.encodeOpen(attributes);
    return serialize(element("open", NS.FRAMING, headerAttrs(attributes)));
  }

  encodeClose(seeOtherUri?: string): string {
    if (this.#legacy !== undefined) return this.#legacy.encodeClose();
    return serialize(element("close", NS.FRAMING, { "see-other-uri": seeOtherUri }));
  }

  encodeElement(el: XmlElement): string {
    return serialize(el, OUTPUT);
  }

  restart(): readonly Frame[] {
    return this.#legacy !== undefined ? this.#legacy.restart() : [];
  }
}

function classify(el: XmlElement): Frame {
  if (el.ns === NS.FRAMING) {
    if (el.children.length > 0) {
      return invalid(
        "invalid-xml",
        `RFC 7395 Appendix A: <${el.name}/> must be empty`,
        CLOSE_CODES.NORMAL,
        true,
      );
    }
    if (el.name === "open") {
      return { kind: "open", attributes: streamAttributesOf(el), element: el };
    }
    if (el.name === "close") {
      const uri = el.attrs["see-other-uri"];
      return uri === undefined ? { kind: "close" } : { kind: "close", seeOtherUri: uri };
    }
    return invalid(
      "unsupported-stanza-type",
      `Unknown framing element <${el.name}/>`,
      CLOSE_CODES.NORMAL,
      true,
    );
  }
  if (el.name === "open" || el.name === "close" || (el.name === "stream" && el.ns === NS.STREAMS)) {
    // #11 / #51: a stream header in any other namespace (even a differently cased framing
    // namespace) MUST get <invalid-namespace/>.
    return invalid(
      "invalid-namespace",
      `RFC 7395 §3.3.2: <${el.name}/> must be qualified by ${NS.FRAMING}`,
      CLOSE_CODES.NORMAL,
      true,
    );
  }
  return { kind: "element", element: el };
}

function invalid(
  condition: StreamErrorCondition,
  text: string,
  closeCode: CloseCode,
  streamError: boolean,
): Frame {
  return { kind: "invalid", condition, text, closeCode, streamError };
}
