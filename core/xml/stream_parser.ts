/**
 * Splits an RFC 6120 stream, arriving in arbitrary chunks, into the stream header, first-level
 * elements, whitespace keepalives and the footer. Chunk boundaries may fall anywhere, including
 * inside a multi-byte UTF-8 character. One parser serves a connection's whole life; `restart()`
 * begins a new document after SASL success (RFC 6120 §4.3.3).
 *
 * @example
 * ```ts
 * import { StreamParser } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { assertEquals } from "@std/assert";
 * const parser = new StreamParser();
 * const events = [
 *   ...parser.push("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "),
 *   ...parser.push("xmlns:stream='http://etherx.jabber.org/streams'> <presence/>"),
 *   ...parser.push("</stream:stream>"),
 * ];
 * assertEquals(events.map((e) => e.type), ["header", "whitespace", "element", "footer"]);
 * ```
 * @module
 */

import type { XmlElement } from "./element.ts";
import { createSaxDriver, type SaxDriver } from "./_sax.ts";
import { TreeBuilder } from "./_tree_builder.ts";
import { resolveXmlLimits, type XmlLimits } from "./limits.ts";
import { findIllegalCharacter, RawScanner } from "./restricted.ts";
import { ParseStop, type XmlError, xmlError } from "./parse_error.ts";
import { toXmlError } from "./document_parser.ts";

/** One unit of an RFC 6120 stream. */
export type StreamEvent =
  | { readonly type: "header"; readonly element: XmlElement }
  | { readonly type: "element"; readonly element: XmlElement }
  | { readonly type: "whitespace" }
  | { readonly type: "footer" }
  | { readonly type: "error"; readonly error: XmlError };

/** Options of a {@link StreamParser}. */
export interface StreamParserOptions {
  /** Parsing limits; `maxBytes` bounds each first-level element (counted in characters). */
  readonly limits?: Partial<XmlLimits>;
  /**
   * Stop right after a first-level element for which this returns true (for example SASL
   * `<success/>` or STARTTLS `<proceed/>`): the rest of the chunk is kept as
   * {@link StreamParser.takeRemainder} instead of being parsed as part of the old document.
   */
  readonly pauseAfter?: (element: XmlElement) => boolean;
}

const PAUSE = Symbol("pause");

/** An incremental RFC 6120 stream splitter; see the module documentation. */
export class StreamParser {
  readonly #limits: XmlLimits;
  readonly #builder: TreeBuilder;
  readonly #sax: SaxDriver;
  readonly #scanner: RawScanner;
  readonly #pauseAfter: ((element: XmlElement) => boolean) | undefined;
  #decoder = new TextDecoder("utf-8", { fatal: true });
  #events: StreamEvent[] = [];
  #boundary = 0;
  #failed: XmlError | undefined;
  #remainder = "";
  #pausedAt = -1;

  /** Creates a splitter. */
  constructor(options: StreamParserOptions = {}) {
    this.#limits = resolveXmlLimits(options.limits);
    this.#scanner = new RawScanner(this.#limits);
    this.#pauseAfter = options.pauseAfter;
    this.#builder = new TreeBuilder(this.#limits, 1, {
      onHeader: (element) => {
        this.#events.push({ type: "header", element });
        this.#boundary = this.#sax.position();
      },
      onElement: (element) => {
        const max = this.#limits.maxBytes;
        if (this.#sax.position() - this.#boundary > max) {
          throw new ParseStop(
            xmlError("policy-violation", `An element exceeds ${max} characters`, true),
          );
        }
        this.#events.push({ type: "element", element });
        this.#boundary = this.#sax.position();
        if (this.#pauseAfter?.(element)) {
          this.#pausedAt = this.#sax.position();
          throw PAUSE;
        }
      },
      onWhitespace: () => {
        this.#events.push({ type: "whitespace" });
        this.#boundary = this.#sax.position();
      },
      onFooter: () => {
        this.#events.push({ type: "footer" });
      },
    });
    this.#sax = createSaxDriver(this.#builder, {
      trackPosition: true,
      maxBufferLength: this.#limits.maxBytes,
    });
    this.#builder.entityName = () => this.#sax.entity();
    this.#builder.declarationAtStart = () => this.#scanner.declarationAtStart;
  }

  /**
   * Feeds the next chunk: raw bytes (decoded as UTF-8, a character may straddle chunks) or
   * text. Returns the events it completes. After an `error` event the parser stays failed
   * until {@link restart}.
   */
  push(chunk: Uint8Array | string): StreamEvent[] {
    if (this.#failed !== undefined) return [{ type: "error", error: this.#failed }];
    let text: string;
    if (typeof chunk === "string") text = chunk;
    else {
      try {
        text = this.#decoder.decode(chunk, { stream: true });
      } catch {
        return this.#fail(xmlError("unsupported-encoding", "RFC 6120 §11.6: invalid UTF-8"));
      }
    }
    return this.#write(text);
  }

  /**
   * Begins a new document (the stream restart of RFC 6120 §4.3.3): the next input must be an
   * optional XML declaration and a new stream header. Text kept by `pauseAfter` is not
   * replayed; call {@link takeRemainder} first and push it again if it belongs to the new
   * document.
   */
  restart(): void {
    this.#builder.reset();
    this.#sax.reset();
    this.#scanner.reset();
    this.#decoder = new TextDecoder("utf-8", { fatal: true });
    this.#boundary = 0;
    this.#failed = undefined;
    this.#remainder = "";
    this.#pausedAt = -1;
  }

  /** Text received after a `pauseAfter` element, not yet parsed. Cleared by this call. */
  takeRemainder(): string {
    const remainder = this.#remainder;
    this.#remainder = "";
    return remainder;
  }

  #write(text: string): StreamEvent[] {
    if (this.#pausedAt >= 0) {
      this.#remainder += text;
      return [];
    }
    const illegal = findIllegalCharacter(text);
    if (illegal >= 0) return this.#fail(xmlError("not-well-formed", "Character forbidden by XML"));
    const scanned = this.#scanner.scan(text, false);
    if (scanned.error !== undefined) {
      return this.#fail(
        xmlError(scanned.error.condition, scanned.error.text, scanned.error.tooBig),
      );
    }
    text = scanned.text;
    const start = this.#sax.position();
    this.#events = [];
    try {
      this.#sax.write(text);
    } catch (thrown) {
      if (thrown !== PAUSE) return this.#fail(toXmlError(thrown), this.#events);
      this.#remainder = text.slice(this.#pausedAt - start) + this.#scanner.takeCarry();
      return this.#events;
    }
    const max = this.#limits.maxBytes;
    // Inside an element, or inside any unfinished markup (a start tag that never ends, even the
    // stream header's), the size since the last boundary is bounded.
    if (
      (this.#builder.depth() > 1 || !this.#sax.atBoundary()) &&
      this.#sax.position() - this.#boundary > max
    ) {
      return this.#fail(
        xmlError("policy-violation", `An element exceeds ${max} characters`, true),
        this.#events,
      );
    }
    return this.#events;
  }

  #fail(error: XmlError, before: StreamEvent[] = []): StreamEvent[] {
    this.#failed = error;
    return [...before, { type: "error", error }];
  }
}
