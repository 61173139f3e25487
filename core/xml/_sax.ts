/**
 * The one file that touches `sax-ts`. It wraps a strict, namespace-aware SAX parser so that one
 * instance can be reset and reused: constructing a parser costs about 0.25 ms, so the core
 * never creates one per message.
 *
 * @example
 * ```ts
 * import { createSaxDriver } from "./_sax.ts";
 * import { assertEquals } from "@std/assert";
 * const names: string[] = [];
 * const sax = createSaxDriver({
 *   onopentag: (tag) => names.push(tag.local),
 *   onattribute: () => {},
 *   onclosetag: () => {},
 *   ontext: () => {},
 *   onprocessinginstruction: () => {},
 *   onmarkup: () => {},
 *   onopencdata: () => {},
 *   onerror: (error) => { throw error; },
 * }, { trackPosition: false, maxBufferLength: 65536 });
 * sax.write("<a xmlns='urn:x'><b/></a>");
 * assertEquals(names, ["a", "b"]);
 * ```
 * @module
 */

import { SAXParser } from "sax-ts";

/** An attribute as reported by the namespace-aware parser. */
export interface SaxAttribute {
  readonly name: string;
  readonly value: string;
  readonly prefix: string;
  readonly local: string;
  readonly uri: string;
}

/** An opening tag as reported by the namespace-aware parser. */
export interface SaxTag {
  readonly name: string;
  readonly local: string;
  readonly uri: string;
  readonly attributes: Readonly<Record<string, SaxAttribute>>;
  readonly isSelfClosing: boolean;
}

/** Callbacks of the driver. Any of them may throw to stop parsing at once. */
export interface SaxHandlers {
  onopentag(tag: SaxTag, attributeEvents: number): void;
  /** An attribute of the tag being opened, once its prefix is resolved (before `onopentag`). */
  onattribute(attribute: SaxAttribute): void;
  onclosetag(): void;
  /** Character data, entity-decoded; CDATA sections are reported here too. */
  ontext(text: string): void;
  /** A CDATA section begins (reported even when it is empty or outside any element). */
  onopencdata(): void;
  onprocessinginstruction(name: string, body: string): void;
  /** A comment, DTD or other markup declaration (RFC 6120 §11.1 forbids them all). */
  onmarkup(kind: "comment" | "doctype" | "declaration"): void;
  onerror(error: Error): void;
}

/** A reusable parser. */
export interface SaxDriver {
  /** Feeds text; handlers run synchronously. Exceptions thrown by handlers propagate. */
  write(text: string): void;
  /** Puts the parser back into its initial state, as if freshly constructed. */
  reset(): void;
  /** Characters consumed since the last reset (only when `trackPosition` is on). */
  position(): number;
  /** Whether the parser stands between markup (not inside a tag, comment, reference, ...). */
  atBoundary(): boolean;
  /** The entity reference being read when an error was reported (without `&` and `;`). */
  entity(): string;
}

/** Driver options. */
export interface SaxOptions {
  /** Track the character position (needed for incremental size checks on streams). */
  readonly trackPosition: boolean;
  /** Longest internal buffer (text run, attribute value, name) before sax flushes or fails. */
  readonly maxBufferLength: number;
}

const BUFFERS = [
  "comment",
  "sgmlDecl",
  "textNode",
  "tagName",
  "doctype",
  "procInstName",
  "procInstBody",
  "entity",
  "attribName",
  "attribValue",
  "cdata",
  "script",
] as const;

// deno-lint-ignore no-explicit-any
type Loose = any;

/** XML 1.0 §4.6: the five predefined entities, the only ones RFC 6120 §11.1 allows. */
const XML_ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" } as const;

/**
 * Creates a reusable strict, namespace-aware parser that only knows the five predefined
 * entities.
 *
 * @example
 * ```ts
 * import { createSaxDriver } from "./_sax.ts";
 * import { assertEquals } from "@std/assert";
 * let text = "";
 * const sax = createSaxDriver({
 *   onopentag: () => {}, onattribute: () => {}, onclosetag: () => {},
 *   onprocessinginstruction: () => {},
 *   onmarkup: () => {}, onopencdata: () => {}, onerror: (e) => { throw e; },
 *   ontext: (t) => { text += t; },
 * }, { trackPosition: false, maxBufferLength: 1024 });
 * sax.write("<a>&lt;&#x41;</a>");
 * assertEquals(text, "<A");
 * ```
 */
export function createSaxDriver(handlers: SaxHandlers, options: SaxOptions): SaxDriver {
  const parser: Loose = new SAXParser(true, {
    xmlns: true,
    strictEntities: true,
    position: options.trackPosition,
    MAX_BUFFER_LENGTH: options.maxBufferLength,
  });
  // Entity names are peer text: a table without a prototype, so that no lookup ever reaches
  // Object.prototype (`&constructor;`). RawScanner refuses every other name before sax-ts sees
  // it (sax-ts also retries a name lower-cased: `&AMP;`); this is the second line of defence.
  parser.ENTITIES = Object.assign(Object.create(null), XML_ENTITIES);
  const S = parser.S;
  const rootScope = parser.ns;
  let attributeEvents = 0;
  parser.onopentag = (tag: SaxTag) => {
    const count = attributeEvents;
    attributeEvents = 0;
    handlers.onopentag(tag, count);
  };
  parser.onattribute = (attribute: SaxAttribute) => {
    attributeEvents++;
    handlers.onattribute(attribute);
  };
  parser.onclosetag = () => handlers.onclosetag();
  parser.ontext = (text: string) => handlers.ontext(text);
  parser.oncdata = (text: string) => handlers.ontext(text);
  parser.onopencdata = () => handlers.onopencdata();
  parser.onprocessinginstruction = (pi: { name: string; body: string }) =>
    handlers.onprocessinginstruction(pi.name, pi.body);
  parser.oncomment = () => handlers.onmarkup("comment");
  parser.ondoctype = () => handlers.onmarkup("doctype");
  parser.onsgmldeclaration = () => handlers.onmarkup("declaration");
  parser.onerror = (error: Error) => handlers.onerror(error);

  return {
    write(text: string): void {
      parser.write(text);
    },
    reset(): void {
      for (const buffer of BUFFERS) parser[buffer] = "";
      parser.error = null;
      parser.closed = false;
      parser.closedRoot = false;
      parser.sawRoot = false;
      parser.tag = null;
      parser.tags = [];
      parser.attribList = [];
      parser.q = "";
      parser.c = "";
      // The same root scope object every time: sax never writes to it (each element with
      // declarations gets its own child scope), and a fresh prototype per document would
      // cost V8 a prototype-map transition on every message.
      parser.ns = rootScope;
      parser.state = S.BEGIN;
      parser.position = 0;
      parser.line = 0;
      parser.column = 0;
      parser.startTagPosition = 0;
      parser.bufferCheckPosition = parser.opt.MAX_BUFFER_LENGTH;
      attributeEvents = 0;
    },
    position(): number {
      return parser.position;
    },
    entity(): string {
      return parser.entity;
    },
    atBoundary(): boolean {
      const state = parser.state;
      return state === S.TEXT || state === S.BEGIN || state === S.BEGIN_WHITESPACE;
    },
  };
}
