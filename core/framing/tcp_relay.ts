/**
 * RFC 6120 framing for a relay (the gateway's upstream, issue 10): the stream is cut into its
 * first-level elements by position ({@link StreamSplitter}), each one is validated whole by
 * {@link ElementChecker} (well-formedness, namespaces, limits) and, when the relay policy allows,
 * handed on as a {@link RawElement}: its own text with the stream's default namespace declared
 * on its start tag, so that it stands alone as an RFC 7395 message. No tree is built and nothing
 * is serialized again. Elements the policy keeps (features, SASL, STARTTLS, stream errors), and
 * any that uses a prefix declared on the stream header, are parsed into trees by sax-ts
 * (`DocumentParser`) inside a wrapper that declares the stream header's namespaces.
 *
 * @example
 * ```ts
 * import { RelayTcpFraming } from "./tcp_relay.ts";
 * import { assertEquals } from "@std/assert";
 * const framing = new RelayTcpFraming({ relay: (_name, ns) => ns === "jabber:client" });
 * const frames = framing.decode("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s1'><message to='a@b'><body>hi</body></message>");
 * assertEquals(frames[0]?.kind, "open");
 * assertEquals(frames[1]?.kind === "raw" && frames[1].element.text, "<message xmlns='jabber:client' to='a@b'><body>hi</body></message>");
 * ```
 * @module
 */

import { StreamSplitter } from "../xml/stream_splitter.ts";
import { DocumentParser } from "../xml/document_parser.ts";
import { ElementChecker, type OuterScope, standaloneText } from "../xml/element_check.ts";
import { type RelayPolicy, validatedRawElement } from "../xml/raw_element.ts";
import { resolveXmlLimits, sharedPerLimits, type XmlLimits } from "../xml/limits.ts";
import { NS } from "../namespaces.ts";
import { CLOSE_CODES } from "../close_codes.ts";
import type { StreamErrorCondition } from "../stream_errors.ts";
import { type Frame, type FramingCodec, streamAttributesOf } from "./types.ts";
import { StreamEncoding } from "./_stream_codec.ts";
import { escapeAttribute } from "../xml/escape.ts";

/** Options of the relay codec. */
export interface RelayTcpFramingOptions {
  /** XML limits; `maxBytes` bounds each first-level element. */
  readonly limits?: Partial<XmlLimits>;
  /** The content namespace (default `jabber:client`). */
  readonly contentNamespace?: string;
  /** Which elements to deliver as validated text rather than trees. */
  readonly relay: RelayPolicy;
}

/** The relay codec; see the module documentation. One instance per connection. */
export class RelayTcpFraming extends StreamEncoding implements FramingCodec {
  readonly transport = "tcp" as const;
  readonly #limits: XmlLimits;
  readonly #relay: RelayPolicy;
  readonly #splitter: StreamSplitter;
  readonly #checker: ElementChecker;
  /** The current stream header's start tag, and its end tag, to parse elements in context. */
  #header = "";
  #footer = "";
  #scope: OuterScope = { defaultNs: "", prefixes: new Map() };
  /** After SASL `<success/>` or STARTTLS `<proceed/>`: nothing more until `restart()`. */
  #paused = false;
  #failed = false;

  /** A relay codec for one RFC 6120 TCP stream. */
  constructor(options: RelayTcpFramingOptions) {
    super(options.contentNamespace ?? NS.CLIENT);
    this.#limits = resolveXmlLimits(options.limits);
    this.#relay = options.relay;
    this.#splitter = new StreamSplitter({ maxChars: this.#limits.maxBytes });
    this.#checker = sharedChecker(this.#limits);
  }

  decode(data: string | Uint8Array): readonly Frame[] {
    this.#splitter.push(data);
    return this.#drain();
  }

  restart(): readonly Frame[] {
    this.#splitter.restart();
    this.#paused = false;
    this.#header = "";
    return this.#drain();
  }

  #drain(): Frame[] {
    const frames: Frame[] = [];
    while (!this.#paused && !this.#failed) {
      const event = this.#splitter.next();
      if (event === undefined) break;
      switch (event.type) {
        case "header":
          frames.push(this.#headerFrame(event.text, event.declaration));
          break;
        case "element":
          frames.push(this.#elementFrame(event.text));
          break;
        case "whitespace":
          frames.push({ kind: "keepalive" });
          break;
        case "footer":
          frames.push(
            /^<\/([^\s>]+)\s*>$/.exec(event.text)?.[1] === this.#footer.slice(2, -1)
              ? { kind: "close" }
              : this.#invalid({
                condition: "not-well-formed",
                text: "The stream's end tag does not match its header",
              }),
          );
          break;
        case "error":
          frames.push(this.#invalid(event.error));
          break;
      }
    }
    return frames;
  }

  #headerFrame(text: string, declaration: string): Frame {
    const open = text.endsWith("/>") ? text : text.slice(0, -1) + "/>";
    const parsed = sharedParser(this.#limits, 0).parse(declaration + open);
    if (!parsed.ok) return this.#invalid(parsed.error);
    const header = parsed.element;
    if (header.name !== "stream" || header.ns !== NS.STREAMS) {
      return this.#invalid({
        condition: "invalid-namespace",
        text: `RFC 6120 §4.8.1: the stream header must be <stream> in ${NS.STREAMS}`,
      });
    }
    // Kept for the stream's life: copies, never slices of the chunk they came in (a slice would
    // keep the whole chunk, up to 64 KiB, alive per connection).
    const qname = detach(/^<([^\s/>]+)/.exec(text)![1]!);
    const scope = declarationsOf(text);
    let wrapper = `<${qname}`;
    if (scope.defaultNs !== "") wrapper += ` xmlns='${escapeAttribute(scope.defaultNs)}'`;
    for (const [prefix, uri] of scope.prefixes) {
      wrapper += ` xmlns:${prefix}='${escapeAttribute(uri)}'`;
    }
    this.#header = detach(wrapper + ">");
    this.#footer = detach(`</${qname}>`);
    this.#scope = scope;
    return { kind: "open", attributes: streamAttributesOf(header), element: header };
  }

  #elementFrame(text: string): Frame {
    const check = this.#checker.check(text, this.#scope);
    if (!check.ok) return this.#invalid(check.error);
    const pause = (check.name === "success" && check.ns === NS.SASL) ||
      (check.name === "proceed" && check.ns === NS.TLS);
    if (!pause && !check.usesOuterPrefix && this.#relay(check.name, check.ns)) {
      return {
        kind: "raw",
        element: validatedRawElement(
          check.name,
          check.ns,
          standaloneText(text, check, this.#scope),
        ),
      };
    }
    // Inside a wrapper declaring the stream header's namespaces, so that they apply as they did
    // on the wire.
    const parsed = sharedParser(this.#limits, 1).parse(this.#header + text + this.#footer);
    if (!parsed.ok) return this.#invalid(parsed.error);
    const element = parsed.element.children[0];
    if (element === undefined || typeof element === "string") {
      return this.#invalid({ condition: "not-well-formed", text: "Not one element" });
    }
    // RFC 6120 §4.3.3 / §5.3.2: nothing after these belongs to the current document.
    if (pause) this.#paused = true;
    return { kind: "element", element };
  }

  #invalid(
    error: {
      readonly condition: StreamErrorCondition;
      readonly text: string;
      readonly tooBig?: boolean;
    },
  ): Frame {
    this.#failed = true;
    return {
      kind: "invalid",
      condition: error.condition,
      text: error.text,
      closeCode: error.tooBig ? CLOSE_CODES.MESSAGE_TOO_BIG : CLOSE_CODES.PROTOCOL_ERROR,
      streamError: true,
    };
  }
}

/**
 * The namespace declarations of a start tag that a parser has already accepted (so its syntax is
 * known to be right): the default namespace and the prefixes, values decoded.
 */
function declarationsOf(tag: string): OuterScope {
  let defaultNs = "";
  const prefixes = new Map<string, string>();
  const attribute = /\s(xmlns(?::([^\s=]+))?)\s*=\s*(?:'([^']*)'|"([^"]*)")/g;
  for (let m = attribute.exec(tag); m !== null; m = attribute.exec(tag)) {
    const value = detach(decodeValue(m[3] ?? m[4] ?? ""));
    if (m[2] === undefined) defaultNs = value;
    else prefixes.set(detach(m[2]), value);
  }
  return { defaultNs, prefixes };
}

/**
 * A copy of `text` that does not keep the string it was cut from alive: V8 represents substrings
 * as slices of their parent; concatenating flattens into a new string, whose slice then refers
 * to that copy only.
 */
function detach(text: string): string {
  return (" " + text).slice(1);
}

function decodeValue(raw: string): string {
  return raw.replace(/[\t\n\r]/g, " ").replace(
    /&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g,
    (_, ref: string) => {
      if (ref[0] === "#") {
        return String.fromCodePoint(
          ref[1] === "x" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10),
        );
      }
      return ENTITIES[ref]!;
    },
  );
}

const ENTITIES: Readonly<Record<string, string>> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
};

/**
 * Parsers and checkers shared by every relay codec with the same limits (each parse is
 * synchronous from a reset state, as for the WebSocket codec). `extraDepth` 1 is the parser for
 * an element inside a copy of its stream header: one level, one element and the header's
 * size more.
 */
const HEADER_PARSERS = new Map<string, DocumentParser>();
const PARSERS = new Map<string, DocumentParser>();
const CHECKERS = new Map<string, ElementChecker>();

function sharedParser(limits: XmlLimits, extraDepth: 0 | 1): DocumentParser {
  if (extraDepth === 0) {
    return sharedPerLimits(HEADER_PARSERS, limits, (resolved) => new DocumentParser(resolved));
  }
  const wider = {
    ...limits,
    maxBytes: 2 * limits.maxBytes + 64,
    maxDepth: limits.maxDepth + 1,
    maxElements: limits.maxElements + 1,
  };
  return sharedPerLimits(PARSERS, wider, (resolved) => new DocumentParser(resolved));
}

function sharedChecker(limits: XmlLimits): ElementChecker {
  return sharedPerLimits(CHECKERS, limits, (resolved) => new ElementChecker(resolved));
}
