/**
 * Turns SAX events into immutable elements while enforcing the limits and the restricted-XML
 * rules. Shared by the document parser (one element per RFC 7395 message) and the stream parser
 * (RFC 6120 header, first-level elements, footer).
 *
 * @example
 * ```ts
 * import { TreeBuilder } from "./_tree_builder.ts";
 * import { DEFAULT_XML_LIMITS } from "./limits.ts";
 * import { assertEquals } from "@std/assert";
 * const builder = new TreeBuilder(DEFAULT_XML_LIMITS, 0, {
 *   onElement: () => {}, onHeader: () => {}, onWhitespace: () => {},
 *   onFooter: () => {},
 * });
 * assertEquals(builder.depth(), 0);
 * ```
 * @module
 */

import type { XmlElement, XmlNode } from "./element.ts";
import type { SaxAttribute, SaxHandlers, SaxTag } from "./_sax.ts";
import type { XmlLimits } from "./limits.ts";
import { ParseStop, xmlError, type XmlErrorCondition } from "./parse_error.ts";

/** Receives what the builder completes. */
export interface TreeSink {
  /** The opening tag at `rootDepth` 1 (stream mode only): the stream header, no children. */
  onHeader(header: XmlElement): void;
  /** A completed element at the reporting depth. */
  onElement(element: XmlElement): void;
  /** Whitespace between first-level elements (stream mode only). */
  onWhitespace(): void;
  /** The end of the root element (stream mode: the stream footer). */
  onFooter(): void;
}

interface OpenElement {
  readonly name: string;
  readonly ns: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: XmlNode[];
}

const NO_ATTRS: Readonly<Record<string, string>> = Object.freeze({});
const XML_NS = "http://www.w3.org/XML/1998/namespace";
const XMLNS_NS = "http://www.w3.org/2000/xmlns/";
const WHITESPACE_ONLY = /^[ \t\r\n]*$/;
/** XML 1.0 §2.8 XMLDecl body: version, then optional encoding and standalone, in order. */
const XML_DECLARATION =
  /^version[ \t\n]*=[ \t\n]*(["'])1\.[0-9]+\1(?:[ \t\n]+encoding[ \t\n]*=[ \t\n]*(["'])(([A-Za-z][A-Za-z0-9._-]*))\2)?(?:[ \t\n]+standalone[ \t\n]*=[ \t\n]*(["'])(yes|no)\5)?[ \t\n]*$/;

/** SAX handlers that build elements; see the module documentation. */
export class TreeBuilder implements SaxHandlers {
  readonly #limits: XmlLimits;
  /** 0: every top-level element is reported. 1: depth 0 is a stream header. */
  readonly #rootDepth: number;
  readonly #sink: TreeSink;
  readonly #stack: OpenElement[] = [];
  #open = 0;
  /** Elements opened in the current first-level element (or document). */
  #elements = 0;
  #rootSeen = false;
  #rootClosed = false;
  #declarationAllowed = true;
  /** Reports the entity being read when the parser fails (set by the owner of the parser). */
  entityName: () => string = () => "";
  /** Whether the document began with `<?xml` (set by the owner, from its raw scanner). */
  declarationAtStart: () => boolean = () => false;

  constructor(limits: XmlLimits, rootDepth: 0 | 1, sink: TreeSink) {
    this.#limits = limits;
    this.#rootDepth = rootDepth;
    this.#sink = sink;
  }

  /** Number of elements currently open. */
  depth(): number {
    return this.#open;
  }

  /** Whether a complete root element has been seen (document mode) or the footer (stream). */
  rootClosed(): boolean {
    return this.#rootClosed;
  }

  /** Forget everything: the next input is a new document. */
  reset(): void {
    this.#stack.length = 0;
    this.#open = 0;
    this.#elements = 0;
    this.#rootSeen = false;
    this.#rootClosed = false;
    this.#declarationAllowed = true;
  }

  /**
   * sax-ts resolves prefixes through a prototype chain that ends at Object.prototype: an
   * undeclared `constructor:` finds a function there instead of failing. Namespaces in XML 1.0
   * §5: it is unbound. Checked where sax-ts checks other prefixes, before any limit.
   */
  onattribute(attribute: SaxAttribute): void {
    if (typeof attribute.uri !== "string") stop("not-well-formed", "Unbound namespace prefix");
  }

  onopentag(tag: SaxTag, attributeEvents: number): void {
    if (typeof tag.uri !== "string") stop("not-well-formed", "Unbound namespace prefix");
    const limits = this.#limits;
    this.#declarationAllowed = false;
    if (this.#open === 0) {
      if (this.#rootSeen) stop("not-well-formed", "More than one top-level element");
      this.#rootSeen = true;
    }
    if (this.#open === this.#rootDepth) this.#elements = 0;
    if (++this.#elements > limits.maxElements) {
      stop("policy-violation", `More than ${limits.maxElements} elements`, true);
    }
    if (this.#open + 1 - this.#rootDepth > limits.maxDepth) {
      stop("policy-violation", `Elements nested deeper than ${limits.maxDepth}`, true);
    }
    if (hasTwoColons(tag.name)) stop("not-well-formed", `Invalid qualified name ${tag.name}`);
    if (tag.name.startsWith("xmlns:")) {
      stop(
        "not-well-formed",
        "Namespaces in XML 1.0 §3: element names must not have the prefix xmlns",
      );
    }
    if (tag.name.length > limits.maxNameLength) {
      stop("policy-violation", `Element name longer than ${limits.maxNameLength}`, true);
    }

    let attrs: Record<string, string> | undefined;
    let count = 0;
    const attributes = tag.attributes;
    for (const raw in attributes) {
      count++;
      const a: SaxAttribute = attributes[raw]!;
      this.#checkAttribute(a);
      if (a.prefix === "xmlns" || raw === "xmlns") continue;
      const key = a.uri === ""
        ? a.local
        : a.uri === XML_NS
        ? "xml:" + a.local
        : "{" + a.uri + "}" + a.local;
      // Keys are peer text: own-property checks only (`valueOf` is not a duplicate), and a
      // defined property, so that `__proto__` is an attribute like any other.
      if (attrs === undefined) attrs = {};
      else if (Object.hasOwn(attrs, key)) stop("not-well-formed", `Duplicate attribute ${raw}`);
      if (key !== "__proto__") attrs[key] = a.value;
      else {
        Object.defineProperty(attrs, key, {
          value: a.value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
    }
    if (count !== attributeEvents) stop("not-well-formed", "Duplicate attribute");
    if (count > limits.maxAttributes) {
      stop("policy-violation", `More than ${limits.maxAttributes} attributes`, true);
    }
    const el: OpenElement = {
      name: tag.local,
      ns: tag.uri,
      attrs: attrs ?? NO_ATTRS,
      children: [],
    };
    this.#open++;
    if (this.#open === this.#rootDepth) {
      this.#sink.onHeader(el);
      return;
    }
    const parent = this.#stack[this.#stack.length - 1];
    if (parent !== undefined) parent.children.push(el);
    this.#stack.push(el);
  }

  #checkAttribute(a: SaxAttribute): void {
    const limits = this.#limits;
    if (a.name.length > limits.maxNameLength) {
      stop("policy-violation", `Attribute name longer than ${limits.maxNameLength}`, true);
    }
    const value = a.value;
    if (value.length > limits.maxAttributeValueLength) {
      stop(
        "policy-violation",
        `Attribute value longer than ${limits.maxAttributeValueLength}`,
        true,
      );
    }
    if (a.prefix === "xmlns" && a.local !== "" && value === "") {
      stop("not-well-formed", `Namespaces in XML 1.0 §6.1: ${a.name} cannot undeclare a prefix`);
    }
    if (a.prefix === "xmlns" || a.name === "xmlns") {
      checkDeclaration(a.prefix === "xmlns" ? a.local : "", value);
    }
    if (hasTwoColons(a.name)) stop("not-well-formed", `Invalid qualified name ${a.name}`);
  }

  onclosetag(): void {
    this.#open--;
    if (this.#open === 0 && this.#rootDepth === 1) {
      this.#rootClosed = true;
      this.#sink.onFooter();
      return;
    }
    const el = this.#stack.pop()!;
    if (this.#open === this.#rootDepth) {
      if (this.#open === 0) this.#rootClosed = true;
      this.#sink.onElement(el);
    }
  }

  ontext(text: string): void {
    // References were checked by RawScanner (only the five entities and references to
    // characters XML allows), and raw text by findIllegalCharacter: decoded text is legal.
    const parent = this.#stack[this.#stack.length - 1];
    if (parent === undefined) {
      if (this.#open === 0 || WHITESPACE_ONLY.test(text)) {
        if (this.#open > 0) this.#sink.onWhitespace();
        return;
      }
      stop("bad-format", "Character data between first-level elements");
    }
    const children = parent.children;
    const last = children.length - 1;
    if (last >= 0 && typeof children[last] === "string") children[last] += text;
    else children.push(text);
  }

  onopencdata(): void {
    // XML 1.0 §2.1: only comments, PIs and whitespace may surround the root (sax-ts accepts a
    // CDATA section there); in a stream, only whitespace stands between first-level elements.
    if (this.#stack.length === 0) {
      stop(
        "not-well-formed",
        this.#open === 0
          ? "A CDATA section outside the root element"
          : "A CDATA section between first-level elements",
      );
    }
  }

  onprocessinginstruction(name: string, body: string): void {
    if (name !== "xml" || !this.#declarationAllowed || !this.declarationAtStart()) {
      stop("restricted-xml", "RFC 6120 §11.1: processing instructions are not allowed");
    }
    this.#declarationAllowed = false;
    const declaration = XML_DECLARATION.exec(body);
    if (declaration === null) stop("not-well-formed", "Malformed XML declaration (XML 1.0 §2.8)");
    if (declaration[4] !== undefined && declaration[4].toLowerCase() !== "utf-8") {
      stop("unsupported-encoding", "RFC 6120 §11.6: only UTF-8 is allowed");
    }
    if (declaration[6] !== undefined) {
      stop("restricted-xml", "RFC 6120 §11.5: the XML declaration must not contain standalone");
    }
  }

  onmarkup(kind: "comment" | "doctype" | "declaration"): void {
    stop("restricted-xml", forbiddenText(kind));
  }

  onerror(error: Error): never {
    const message = error.message.split("\n", 1)[0]!;
    if (message.startsWith("Invalid character entity") && !this.entityName().startsWith("#")) {
      stop("restricted-xml", "RFC 6120 §11.1: only the five predefined entities are allowed");
    }
    if (message.startsWith("Max buffer length exceeded")) {
      stop("policy-violation", "Element exceeds the size limit", true);
    }
    stop("not-well-formed", message);
  }
}

/**
 * Namespaces in XML 1.0 §3: `xml` is bound to its namespace only, `xmlns` is never declared,
 * and neither namespace is bound to another prefix or made the default.
 */
function checkDeclaration(prefix: string, uri: string): void {
  if (prefix === "xmlns") {
    stop("not-well-formed", "Namespaces in XML 1.0 §3: the prefix xmlns must not be declared");
  }
  if ((prefix === "xml") !== (uri === XML_NS)) {
    stop(
      "not-well-formed",
      "Namespaces in XML 1.0 §3: the prefix xml is bound to its namespace, and only it is",
    );
  }
  if (uri === XMLNS_NS) {
    stop("not-well-formed", "Namespaces in XML 1.0 §3: the xmlns namespace must not be bound");
  }
}

function hasTwoColons(name: string): boolean {
  const first = name.indexOf(":");
  return first >= 0 &&
    (first === 0 || name.indexOf(":", first + 1) >= 0 || first === name.length - 1);
}

/**
 * The explanation used for forbidden markup.
 *
 * @example
 * ```ts
 * import { forbiddenText } from "./_tree_builder.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(forbiddenText("doctype"), "RFC 6120 §11.1: a DTD is not allowed");
 * ```
 */
export function forbiddenText(kind: "comment" | "doctype" | "declaration"): string {
  switch (kind) {
    case "comment":
      return "RFC 6120 §11.1: comments are not allowed";
    case "doctype":
      return "RFC 6120 §11.1: a DTD is not allowed";
    case "declaration":
      return "RFC 6120 §11.1: markup declarations are not allowed";
  }
}

/**
 * Stops parsing with the given error (thrown as {@link ParseStop}, caught by the parsers).
 *
 * @example
 * ```ts
 * import { stop } from "./_tree_builder.ts";
 * import { ParseStop } from "./parse_error.ts";
 * import { assert } from "@std/assert";
 * let thrown: unknown;
 * try {
 *   stop("bad-format", "x");
 * } catch (e) {
 *   thrown = e;
 * }
 * assert(thrown instanceof ParseStop);
 * ```
 */
export function stop(
  condition: XmlErrorCondition,
  text: string,
  tooBig = false,
): never {
  throw new ParseStop(xmlError(condition, text, tooBig));
}
