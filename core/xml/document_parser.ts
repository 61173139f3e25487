/**
 * Parses one standalone XML document holding exactly one element: the unit of RFC 7395
 * (§3.3.3: one complete element per WebSocket message). One parser is reused for every message
 * of a connection.
 *
 * @example
 * ```ts
 * import { DocumentParser } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { assertEquals } from "@std/assert";
 * const parser = new DocumentParser();
 * const result = parser.parse("<presence xmlns='jabber:client'/>");
 * assertEquals(result.ok && result.element.ns, "jabber:client");
 * const bad = parser.parse("<a/><b/>");
 * assertEquals(!bad.ok && bad.error.condition, "not-well-formed");
 * ```
 * @module
 */

import type { XmlElement } from "./element.ts";
import { createSaxDriver, type SaxDriver } from "./_sax.ts";
import { TreeBuilder } from "./_tree_builder.ts";
import { resolveXmlLimits, utf8Length, type XmlLimits } from "./limits.ts";
import { findIllegalCharacter, RawScanner } from "./restricted.ts";
import { ParseStop, type XmlError, xmlError } from "./parse_error.ts";

/** The outcome of parsing one document. */
export type ParseResult =
  | { readonly ok: true; readonly element: XmlElement }
  | { readonly ok: false; readonly error: XmlError };

/** A reusable parser for standalone single-element documents. */
export class DocumentParser {
  readonly #limits: XmlLimits;
  readonly #builder: TreeBuilder;
  readonly #sax: SaxDriver;
  readonly #scanner: RawScanner;
  #element: XmlElement | undefined;

  /** Creates a parser with the given limits (defaults: {@link resolveXmlLimits}). */
  constructor(limits: Partial<XmlLimits> = {}) {
    this.#limits = resolveXmlLimits(limits);
    this.#scanner = new RawScanner(this.#limits, true);
    this.#builder = new TreeBuilder(this.#limits, 0, {
      onHeader: () => {},
      onWhitespace: () => {},
      onFooter: () => {},
      onElement: (el) => {
        this.#element = el;
      },
    });
    this.#sax = createSaxDriver(this.#builder, {
      trackPosition: false,
      maxBufferLength: this.#limits.maxBytes,
    });
    this.#builder.entityName = () => this.#sax.entity();
    this.#builder.declarationAtStart = () => this.#scanner.declarationAtStart;
  }

  /** The limits in force. */
  get limits(): XmlLimits {
    return this.#limits;
  }

  /**
   * Parses `text`, which must hold exactly one element, optionally preceded by an XML
   * declaration and followed by whitespace. Never throws on bad input.
   */
  parse(text: string): ParseResult {
    const error = this.#precheck(text);
    if (error !== undefined) return { ok: false, error };
    this.#scanner.reset();
    const scanned = this.#scanner.scan(text, true);
    if (scanned.error !== undefined) {
      return {
        ok: false,
        error: xmlError(scanned.error.condition, scanned.error.text, scanned.error.tooBig),
      };
    }
    text = scanned.text;
    const builder = this.#builder;
    builder.reset();
    this.#sax.reset();
    this.#element = undefined;
    try {
      this.#sax.write(text);
    } catch (thrown) {
      return { ok: false, error: toXmlError(thrown) };
    }
    const element = this.#element;
    if (element === undefined || !builder.rootClosed() || !this.#sax.atBoundary()) {
      return {
        ok: false,
        error: xmlError("not-well-formed", "The message does not hold one complete element"),
      };
    }
    this.#element = undefined;
    return { ok: true, element };
  }

  #precheck(text: string): XmlError | undefined {
    const max = this.#limits.maxBytes;
    if (text.length > max || (text.length * 3 > max && utf8Length(text, max) > max)) {
      return xmlError("policy-violation", `The message exceeds ${max} bytes`, true);
    }
    const illegal = findIllegalCharacter(text);
    if (illegal >= 0) {
      return xmlError("not-well-formed", `Character forbidden by XML at offset ${illegal}`);
    }
    return undefined;
  }
}

/**
 * Converts whatever stopped the parser into an {@link XmlError}.
 *
 * @example
 * ```ts
 * import { toXmlError } from "./document_parser.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(toXmlError(new RangeError("Invalid code point")).condition, "not-well-formed");
 * ```
 */
export function toXmlError(thrown: unknown): XmlError {
  if (thrown instanceof ParseStop) return thrown.error;
  const message = thrown instanceof Error ? thrown.message.split("\n", 1)[0]! : String(thrown);
  return xmlError("not-well-formed", message);
}
