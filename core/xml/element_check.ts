/**
 * A fast, single-pass well-formedness checker for one XML element (issue 10): it accepts exactly
 * what {@link DocumentParser} accepts, without
 * building a tree, so that the gateway can relay an ordinary stanza as received.
 *
 * What it checks, in one left-to-right pass that is linear in the input for every shape of
 * input: the characters XML forbids (raw or as character references); element and attribute
 * names (XML 1.0 NameStartChar/NameChar in the Basic Multilingual Plane, as sax-ts and
 * `names.ts`; at most one colon, non-empty prefix and local part); whitespace between
 * attributes, `=`, quoted values without `<`; references (the five predefined entities, `&#N;`
 * and `&#xH;` to legal characters); matching end tags; CDATA sections; `]]>` in text; no
 * comment, processing instruction, DOCTYPE or other `<!` markup (RFC 6120 §11.1,
 * `restricted-xml`); only whitespace around the root; namespaces (bound prefixes, the reserved
 * `xml` and `xmlns` prefixes and URIs, no `xmlns:p=''`, duplicate attributes by qualified and
 * by expanded name); and every limit of {@link XmlLimits} with DocumentParser's conditions and
 * `tooBig` flag.
 *
 * When the text is refused, the error is DocumentParser's: its size check, then a forbidden
 * character anywhere, then the first error of its raw scanner (these run over the whole text
 * before sax-ts sees it, so the checker reruns them on the error path only), then the first
 * error in document order, with the sax-ts and tree-builder ordering of the checks in a start
 * tag (so `tooBig` agrees).
 *
 * Both refuse what sax-ts alone would let through (found by the differential test): entity
 * names other than the five exact ones (`&AMP;`, `&constructor;`), `&#X41;`, character
 * references to surrogates, whitespace after `</`, CDATA sections outside the root, and
 * prefixes named after `Object.prototype` members (`<constructor:a/>`) that nothing binds.
 *
 * Not handled: a text starting with `<?` (an XML declaration); callers give such texts to
 * DocumentParser. The check refuses them with `not-well-formed` and {@link DECLARATION_TEXT}.
 *
 * @example
 * ```ts
 * import { ElementChecker } from "./element_check.ts";
 * import { assertEquals } from "@std/assert";
 * const checker = new ElementChecker();
 * const ok = checker.check("<presence xmlns='jabber:client'/>");
 * assertEquals(ok.ok && ok.ns, "jabber:client");
 * const bad = checker.check("<a><!-- no --></a>");
 * assertEquals(!bad.ok && bad.error.condition, "restricted-xml");
 * ```
 * @module
 */

import { resolveXmlLimits, utf8Length, type XmlLimits } from "./limits.ts";
import { findIllegalCharacter, RawScanner } from "./restricted.ts";
import { type XmlError, xmlError, type XmlErrorCondition } from "./parse_error.ts";
import { escapeAttribute } from "./escape.ts";
import { isLegalChar, isNameCharHigh, isNameStartHigh } from "./names.ts";

/**
 * The namespace context an element is checked in: the default namespace and the prefixes
 * declared around it (an RFC 6120 stream header), or {@link NO_SCOPE} for a standalone
 * document.
 *
 * @example
 * ```ts
 * import type { OuterScope } from "./element_check.ts";
 * const stream: OuterScope = {
 *   defaultNs: "jabber:client",
 *   prefixes: new Map([["stream", "http://etherx.jabber.org/streams"]]),
 * };
 * console.log(stream.prefixes.size); // 1
 * ```
 */
export interface OuterScope {
  /** The default namespace in force around the element ("" for none). */
  readonly defaultNs: string;
  /** The prefixes declared around the element, to their namespace URIs. */
  readonly prefixes: ReadonlyMap<string, string>;
}

/**
 * A standalone document: no default namespace, no prefixes (`xml` is always bound).
 *
 * @example
 * ```ts
 * import { ElementChecker, NO_SCOPE } from "./element_check.ts";
 * import { assertEquals } from "@std/assert";
 * const result = new ElementChecker().check("<a/>", NO_SCOPE);
 * assertEquals(result.ok && result.ns, "");
 * ```
 */
export const NO_SCOPE: OuterScope = Object.freeze({
  defaultNs: "",
  prefixes: new Map<string, string>(),
});

/**
 * The outcome of {@link ElementChecker.check}.
 *
 * @example
 * ```ts
 * import { type ElementCheck, ElementChecker } from "./element_check.ts";
 * import { assertEquals } from "@std/assert";
 * const text = "<iq type='get' id='1'/> ";
 * const result: ElementCheck = new ElementChecker().check(text);
 * if (!result.ok) throw new Error(result.error.text);
 * assertEquals([result.name, result.start, result.nameEnd, result.end], ["iq", 0, 3, 23]);
 * ```
 */
export type ElementCheck =
  | {
    readonly ok: true;
    /** The root's local name. */
    readonly name: string;
    /** The root's namespace (in `outer`'s default namespace unless it declares or prefixes). */
    readonly ns: string;
    /** Index of the root's `<` (after an optional byte order mark and whitespace). */
    readonly start: number;
    /** Index just past the root's name in text (where ` xmlns='...'` can be inserted). */
    readonly nameEnd: number;
    /** The root's start tag declares a default namespace (`xmlns='...'`) itself. */
    readonly declaresDefault: boolean;
    /** Some element or attribute name inside resolved a prefix through `outer.prefixes`. */
    readonly usesOuterPrefix: boolean;
    /** End of the root element (index after its last `>`); only whitespace may follow. */
    readonly end: number;
  }
  | { readonly ok: false; readonly error: XmlError };

/**
 * The error text of a text starting with `<?` (an XML declaration or processing instruction),
 * which the checker leaves to DocumentParser.
 *
 * @example
 * ```ts
 * import { DECLARATION_TEXT, ElementChecker } from "./element_check.ts";
 * import { assertEquals } from "@std/assert";
 * const result = new ElementChecker().check("<?xml version='1.0'?><a/>");
 * assertEquals(!result.ok && result.error.text, DECLARATION_TEXT);
 * ```
 */
export const DECLARATION_TEXT =
  "The text starts with '<?' (an XML declaration): parse it with DocumentParser";

const XML_NS = "http://www.w3.org/XML/1998/namespace";
const XMLNS_NS = "http://www.w3.org/2000/xmlns/";

// Character classes of ASCII code units.
const NAME_START = 1; // sax-ts nameStart (colon included)
const NAME_CHAR = 2; // sax-ts nameBody (colon included)
const TEXT_PLAIN = 4; // character data needing no attention: not < & ] nor a control
const VALUE_PLAIN = 8; // attribute value: not < & ' " nor a control, tab, LF or CR
const SPACE = 16; // XML whitespace
const ENTITY_START = 32; // sax-ts entityStart (# and colon included)
const ENTITY_CHAR = 64; // sax-ts entityBody
const ASCII = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  let k = 0;
  const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 58;
  if (letter) k |= NAME_START | NAME_CHAR | ENTITY_START | ENTITY_CHAR;
  if ((c >= 48 && c <= 57) || c === 45 || c === 46) k |= NAME_CHAR | ENTITY_CHAR;
  if (c === 35) k |= ENTITY_START | ENTITY_CHAR;
  if (c >= 32 && c !== 60 && c !== 38 && c !== 93) k |= TEXT_PLAIN;
  if (c === 9 || c === 10 || c === 13) k |= TEXT_PLAIN | SPACE;
  if (c === 32) k |= SPACE;
  if (c >= 32 && c !== 60 && c !== 38 && c !== 39 && c !== 34) k |= VALUE_PLAIN;
  ASCII[c] = k;
}

function isNameStart(c: number): boolean {
  return c < 128 ? (ASCII[c]! & NAME_START) !== 0 : isNameStartHigh(c);
}

function isSpace(c: number): boolean {
  return c < 128 && (ASCII[c]! & SPACE) !== 0;
}

/** A refusal found by the pass (mutable, reused). */
const FAIL = -1;

/** Attribute flags. */
const A_DECL = 1; // a namespace declaration (xmlns or xmlns:*)
const A_ILLEGAL_REF = 2; // a reference to a character XML forbids (refused after the tag)
const A_DECODE = 4; // the value holds references or whitespace to normalise

/**
 * A reusable checker; keep one per connection (it reuses its arrays between calls). Not
 * reentrant.
 *
 * @example
 * ```ts
 * import { ElementChecker } from "./element_check.ts";
 * import { assertEquals } from "@std/assert";
 * const checker = new ElementChecker({ maxDepth: 2 });
 * assertEquals(checker.check("<a><b/></a>").ok, true);
 * const deep = checker.check("<a><b><c/></b></a>");
 * assertEquals(!deep.ok && deep.error.tooBig, true);
 * ```
 */
export class ElementChecker {
  readonly #limits: XmlLimits;
  readonly #scanner: RawScanner;
  // The error of the pass.
  #condition: XmlErrorCondition = "not-well-formed";
  #text = "";
  #tooBig = false;
  // Open elements: name ranges and the undo mark of their namespace declarations.
  readonly #openStart: number[] = [];
  readonly #openEnd: number[] = [];
  readonly #openMark: number[] = [];
  #depth = 0;
  #elements = 0;
  #rootClosed = false;
  #rootEnd = 0;
  #poisoned = false;
  // Prefix bindings of the open elements, with an undo log.
  readonly #bindings = new Map<string, string>();
  readonly #undoPrefix: string[] = [];
  readonly #undoValue: (string | undefined)[] = [];
  // The attributes of the current start tag.
  #count = 0;
  readonly #aStart: number[] = [];
  readonly #aEnd: number[] = [];
  readonly #aColon: number[] = [];
  readonly #aVStart: number[] = [];
  readonly #aVEnd: number[] = [];
  readonly #aLength: number[] = [];
  readonly #aFlags: number[] = [];
  /** Offset of the first reference to a forbidden character in the value. */
  readonly #aBadRef: number[] = [];
  readonly #aValue: string[] = [];
  readonly #aUri: string[] = [];
  readonly #aFirst: number[] = [];
  readonly #aLast: number[] = [];
  readonly #names = new Map<string, number>();
  // What the current reference decodes to (in UTF-16 code units), and whether XML allows it.
  #refLength = 0;
  #refIllegal = false;
  // Scope of the current call.
  #outer: OuterScope = NO_SCOPE;
  #usesOuter = false;
  // About the root.
  #rootName = "";
  #rootNs = "";
  #rootStart = 0;
  #rootNameEnd = 0;
  #rootDeclares = false;

  /** Creates a checker with the given limits (defaults: {@link resolveXmlLimits}). */
  constructor(limits: Partial<XmlLimits> = {}) {
    this.#limits = resolveXmlLimits(limits);
    this.#scanner = new RawScanner(this.#limits, true);
  }

  /** The limits in force. */
  get limits(): XmlLimits {
    return this.#limits;
  }

  /**
   * Checks that `text` is exactly one element (after an optional byte order mark and
   * whitespace), followed only by whitespace, in the namespace context `outer`. Never throws on
   * bad input.
   */
  check(text: string, outer: OuterScope = NO_SCOPE): ElementCheck {
    const max = this.#limits.maxBytes;
    if (text.length > max || (text.length * 3 > max && utf8Length(text, max) > max)) {
      return refuse("policy-violation", `The message exceeds ${max} bytes`, true);
    }
    this.#outer = outer;
    const passed = this.#pass(text);
    this.#outer = NO_SCOPE;
    this.#bindings.clear();
    this.#undoPrefix.length = 0;
    this.#undoValue.length = 0;
    if (passed) {
      return {
        ok: true,
        name: this.#rootName,
        ns: this.#rootNs,
        start: this.#rootStart,
        nameEnd: this.#rootNameEnd,
        declaresDefault: this.#rootDeclares,
        usesOuterPrefix: this.#usesOuter,
        end: this.#rootEnd,
      };
    }
    // DocumentParser's order: forbidden characters anywhere, then its raw scanner's first
    // error anywhere, then the first error in document order (ours).
    const illegal = findIllegalCharacter(text);
    if (illegal >= 0) {
      return refuse("not-well-formed", `Character forbidden by XML at offset ${illegal}`);
    }
    this.#scanner.reset();
    const scanned = this.#scanner.scan(text, true).error;
    if (scanned !== undefined) {
      return refuse(scanned.condition, scanned.text, scanned.tooBig === true);
    }
    return refuse(this.#condition, this.#text, this.#tooBig);
  }

  #fail(text: string, at: number, condition: XmlErrorCondition = "not-well-formed"): number {
    this.#condition = condition;
    this.#text = `${text} (offset ${at})`;
    this.#tooBig = false;
    return FAIL;
  }

  #tooMuch(text: string, at: number): number {
    this.#condition = "policy-violation";
    this.#text = `${text} (offset ${at})`;
    this.#tooBig = true;
    return FAIL;
  }

  /** The whole pass; true when the text is one acceptable element. */
  #pass(text: string): boolean {
    this.#depth = 0;
    this.#elements = 0;
    this.#rootClosed = false;
    this.#poisoned = false;
    this.#usesOuter = false;
    this.#rootDeclares = false;
    const n = text.length;
    let i = 0;
    if (n > 0 && text.charCodeAt(0) === 0xfeff) i = 1; // sax-ts skips a leading BOM
    if (i === 0 && text.startsWith("<?")) {
      this.#fail("", 0);
      this.#text = DECLARATION_TEXT;
      return false;
    }
    while (i < n) {
      let c = text.charCodeAt(i);
      if (this.#depth === 0) {
        if (isSpace(c)) {
          i++;
          continue;
        }
        if (c !== 60 /* < */) {
          this.#fail(
            this.#rootClosed ? "Text after the root element" : "Text before the root element",
            i,
          );
          return false;
        }
      } else if (c !== 60) {
        i = this.#content(text, i);
        if (i === FAIL) return false;
        if (i >= n) break;
      }
      // text[i] is '<'
      c = i + 1 < n ? text.charCodeAt(i + 1) : -1;
      if (c === 47 /* / */) i = this.#endTag(text, i);
      else if (c === 33 /* ! */) {
        if (!text.startsWith("<![CDATA[", i)) {
          i = this.#fail(forbidden(text, i), i, "restricted-xml");
        } else if (this.#depth === 0) {
          // sax-ts ignores CDATA outside the root; XML 1.0 §2.1 and §2.7 do not allow it.
          i = this.#fail("A CDATA section outside the root element", i);
        } else i = this.#cdata(text, i);
      } else if (c === 63 /* ? */) {
        i = text.indexOf("?>", i + 2) < 0
          ? this.#fail("An unterminated processing instruction", i)
          : this.#fail(
            "RFC 6120 §11.1: processing instructions are not allowed",
            i,
            "restricted-xml",
          );
      } else if (c >= 0 && isSpace(c)) i = this.#fail("Whitespace right after '<'", i);
      else if (c >= 0 && isNameStart(c)) i = this.#startTag(text, i);
      else i = this.#fail(c < 0 ? "An unterminated tag" : "Unencoded '<'", i);
      if (i === FAIL) return false;
    }
    if (!this.#rootClosed || this.#depth > 0) {
      this.#fail("The message does not hold one complete element", n);
      return false;
    }
    return true;
  }

  /** Character data from `i` (not '<'); returns the index of the next '<' or the end. */
  #content(text: string, i: number): number {
    const n = text.length;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c < 128) {
        if ((ASCII[c]! & TEXT_PLAIN) !== 0) {
          i++;
          continue;
        }
        if (c === 60) return i;
        if (c === 38 /* & */) {
          i = this.#reference(text, i, false);
          if (i === FAIL) return FAIL;
          continue;
        }
        if (c === 93 /* ] */) {
          let j = i + 1;
          while (j < n && text.charCodeAt(j) === 93) j++;
          if (j - i >= 2 && j < n && text.charCodeAt(j) === 62) {
            return this.#fail("']]>' in character data", j - 2);
          }
          i = j;
          continue;
        }
        return this.#fail("A character XML forbids", i);
      }
      i = this.#high(text, i);
      if (i === FAIL) return FAIL;
    }
    return i;
  }

  /** A character at or above 128 at `i` (text, value or CDATA); returns the next index. */
  #high(text: string, i: number): number {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || (c >= 0xe000 && c < 0xfffe)) return i + 1;
    if (c <= 0xdbff) {
      const d = text.charCodeAt(i + 1); // NaN past the end
      if (d >= 0xdc00 && d <= 0xdfff) return i + 2;
    }
    return this.#fail("A character XML forbids", i);
  }

  /** A CDATA section at `i` (inside the root). */
  #cdata(text: string, i: number): number {
    const n = text.length;
    let j = i + 9;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c < 128) {
        if (c === 93 && text.charCodeAt(j + 1) === 93 && text.charCodeAt(j + 2) === 62) {
          return j + 3;
        }
        if (c < 32 && !isSpace(c)) return this.#fail("A character XML forbids", j);
        j++;
      } else {
        j = this.#high(text, j);
        if (j === FAIL) return FAIL;
      }
    }
    return this.#fail("An unterminated CDATA section", i);
  }

  /**
   * A reference at `i` ('&'). Sets #refLength and #refIllegal; returns the index after ';'.
   * In text, a reference to a forbidden character is refused at once; in a value, the caller
   * refuses it after the start tag (DocumentParser's order).
   */
  #reference(text: string, i: number, inValue: boolean): number {
    const n = text.length;
    let j = i + 1;
    const c = j < n ? text.charCodeAt(j) : -1;
    if (c === 35 /* # */) {
      let code = 0;
      let digits = 0;
      j++;
      if (text.charCodeAt(j) === 120 /* x */) {
        j++;
        for (; j < n; j++, digits++) {
          const d = text.charCodeAt(j);
          const v = d >= 48 && d <= 57
            ? d - 48
            : d >= 97 && d <= 102
            ? d - 87
            : d >= 65 && d <= 70
            ? d - 55
            : -1;
          if (v < 0) break;
          if (code <= 0x10ffff) code = code * 16 + v;
        }
      } else {
        for (; j < n; j++, digits++) {
          const d = text.charCodeAt(j);
          if (d < 48 || d > 57) break;
          if (code <= 0x10ffff) code = code * 10 + d - 48;
        }
      }
      if (digits === 0 || text.charCodeAt(j) !== 59 /* ; */) {
        return this.#fail("A malformed character reference", i);
      }
      if (code === 0 || code > 0x10ffff) {
        return this.#fail("A character reference to no character", i);
      }
      const legal = isLegalChar(code);
      if (!legal && !inValue) {
        return this.#fail("Character reference to a character XML forbids", i);
      }
      this.#refIllegal = !legal;
      this.#refLength = code > 0xffff ? 2 : 1;
      return j + 1;
    }
    // The five predefined entities (XML 1.0 §4.6), exactly.
    this.#refLength = 1;
    this.#refIllegal = false;
    if (c === 97 /* a */) {
      if (text.startsWith("amp;", j)) return j + 4;
      if (text.startsWith("apos;", j)) return j + 5;
    } else if (c === 108 /* l */ || c === 103 /* g */) {
      if (text.charCodeAt(j + 1) === 116 && text.charCodeAt(j + 2) === 59) return j + 3;
    } else if (c === 113 /* q */ && text.startsWith("quot;", j)) return j + 5;
    // Anything else: sax-ts's conditions (an entity name ended by ';' is restricted-xml).
    let k = j;
    while (k < n) {
      const d = text.charCodeAt(k);
      if (d === 59) break; // sax-ts reads `&;` as an (unknown) empty entity name
      const kind = d < 128
        ? ASCII[d]! & (k === j ? ENTITY_START : ENTITY_CHAR)
        : k === j
        ? isNameStartHigh(d)
        : isNameCharHigh(d);
      if (!kind) return this.#fail("Invalid character in entity name", k);
      k++;
    }
    if (k >= n) return this.#fail("An unterminated entity reference", i);
    return this.#fail(
      "RFC 6120 §11.1: only the five predefined entities are allowed",
      i,
      "restricted-xml",
    );
  }

  /** A start tag at `i` ('<' then a name start character). */
  #startTag(text: string, i: number): number {
    const n = text.length;
    const limits = this.#limits;
    const nameStart = i + 1;
    let j = nameStart;
    let colon = -1;
    for (; j < n; j++) {
      const c = text.charCodeAt(j);
      if (c < 128) {
        if ((ASCII[c]! & NAME_CHAR) === 0) break;
        if (c === 58 && colon < 0) colon = j;
      } else if (!isNameCharHigh(c)) break;
    }
    const nameEnd = j;
    if (nameEnd - nameStart > limits.maxNameLength) {
      return this.#tooMuch(`A name longer than ${limits.maxNameLength} characters`, nameStart);
    }
    let count = 0;
    let declarations = 0;
    let afterValue = false;
    let selfClosing = false;
    for (;;) {
      if (j >= n) return this.#fail("An unterminated start tag", i);
      let c = text.charCodeAt(j);
      if (c === 62 /* > */) {
        j++;
        break;
      }
      if (c === 47 /* / */) {
        if (text.charCodeAt(j + 1) !== 62) {
          return this.#fail("Forward-slash in opening tag not followed by >", j);
        }
        selfClosing = true;
        j += 2;
        break;
      }
      if (!isSpace(c)) {
        return this.#fail(
          afterValue ? "No whitespace between attributes" : "Invalid character in tag name",
          j,
        );
      }
      do j++; while (j < n && isSpace(text.charCodeAt(j)));
      if (j >= n) return this.#fail("An unterminated start tag", i);
      c = text.charCodeAt(j);
      if (c === 62 || c === 47) {
        afterValue = false;
        continue;
      }
      if (!isNameStart(c)) return this.#fail("Invalid attribute name", j);
      // The attribute's name.
      const aStart = j;
      let aColon = c === 58 ? j : -1;
      for (j++; j < n; j++) {
        const d = text.charCodeAt(j);
        if (d < 128) {
          if ((ASCII[d]! & NAME_CHAR) === 0) break;
          if (d === 58 && aColon < 0) aColon = j;
        } else if (!isNameCharHigh(d)) break;
      }
      const aEnd = j;
      if (aEnd - aStart > limits.maxNameLength) {
        return this.#tooMuch(`A name longer than ${limits.maxNameLength} characters`, aStart);
      }
      while (j < n && isSpace(text.charCodeAt(j))) j++;
      if (text.charCodeAt(j) !== 61 /* = */) {
        return this.#fail(j >= n ? "An unterminated start tag" : "Attribute without value", j);
      }
      do j++; while (j < n && isSpace(text.charCodeAt(j)));
      const quote = text.charCodeAt(j);
      if (quote !== 39 && quote !== 34) {
        return this.#fail(j >= n ? "An unterminated start tag" : "Unquoted attribute value", j);
      }
      // The value.
      const vStart = ++j;
      let shrink = 0;
      let flags = 0;
      let badRef = -1;
      for (;;) {
        if (j >= n) return this.#fail("An unterminated attribute value", vStart);
        const d = text.charCodeAt(j);
        if (d < 128) {
          if ((ASCII[d]! & VALUE_PLAIN) !== 0) {
            j++;
            continue;
          }
          if (d === quote) break;
          if (d === 39 || d === 34) {
            j++;
            continue;
          }
          if (d === 60) return this.#fail("'<' in an attribute value", j);
          if (d === 38) {
            const after = this.#reference(text, j, true);
            if (after === FAIL) return FAIL;
            shrink += after - j - this.#refLength;
            if (this.#refIllegal && badRef < 0) {
              flags |= A_ILLEGAL_REF;
              badRef = j;
            }
            flags |= A_DECODE;
            j = after;
            continue;
          }
          if (d === 13) {
            if (text.charCodeAt(j + 1) === 10) {
              shrink++;
              j++;
            }
            flags |= A_DECODE;
            j++;
            continue;
          }
          if (d === 9 || d === 10) {
            flags |= A_DECODE;
            j++;
            continue;
          }
          return this.#fail("A character XML forbids", j);
        }
        j = this.#high(text, j);
        if (j === FAIL) return FAIL;
      }
      const vEnd = j++;
      if (++count > limits.maxAttributes) {
        return this.#tooMuch(`More than ${limits.maxAttributes} attributes`, aStart);
      }
      const k = count - 1;
      this.#aStart[k] = aStart;
      this.#aEnd[k] = aEnd;
      this.#aColon[k] = aColon;
      this.#aVStart[k] = vStart;
      this.#aVEnd[k] = vEnd;
      this.#aLength[k] = vEnd - vStart - shrink;
      // A declaration for the raw scanner and sax-ts alike: "xmlns" or "xmlns:...".
      if (
        aEnd - aStart >= 5 && text.startsWith("xmlns", aStart) &&
        (aEnd - aStart === 5 || aColon === aStart + 5)
      ) {
        if (++declarations > limits.maxNamespaceDeclarations) {
          return this.#tooMuch(
            `More than ${limits.maxNamespaceDeclarations} namespace declarations`,
            aStart,
          );
        }
        flags |= A_DECL;
        const value = flags & A_DECODE ? decodeValue(text, vStart, vEnd) : text.slice(vStart, vEnd);
        this.#aValue[k] = value;
        // sax-ts checks these as each value ends.
        const local = declaredPrefix(text, aStart, aEnd);
        if (local === "xml" && value !== XML_NS) {
          return this.#fail("xml: prefix must be bound to " + XML_NS, aStart);
        }
        if (local === "xmlns" && value !== XMLNS_NS) {
          return this.#fail("xmlns: prefix must be bound to " + XMLNS_NS, aStart);
        }
      }
      this.#aFlags[k] = flags;
      this.#aBadRef[k] = badRef;
      afterValue = true;
    }
    this.#count = count;
    return this.#openElement(text, nameStart, nameEnd, colon, selfClosing, j);
  }

  /** A prefix's namespace, as sax-ts resolves it at the current tag (undefined: unbound). */
  #resolve(prefix: string): string | undefined {
    const bound = this.#bindings.get(prefix);
    if (bound !== undefined) return bound === "" ? undefined : bound;
    if (prefix === "xml") return XML_NS;
    if (prefix === "xmlns") return XMLNS_NS;
    const outer = this.#outer.prefixes.get(prefix);
    if (outer !== undefined && outer !== "") {
      this.#usesOuter = true;
      return outer;
    }
    return undefined;
  }

  /**
   * The end of a start tag: namespace and attribute checks in the order of sax-ts
   * (`openTag`) and the tree builder (`onopentag`), then the element is open (or closed).
   */
  #openElement(
    text: string,
    nameStart: number,
    nameEnd: number,
    colon: number,
    selfClosing: boolean,
    after: number,
  ): number {
    const limits = this.#limits;
    const count = this.#count;
    const isRoot = this.#depth === 0 && !this.#rootClosed;
    // Bind this tag's declarations (sax-ts binds as each value ends; the last one wins).
    const mark = this.#undoPrefix.length;
    let defaultNs: string | undefined;
    let decls = false;
    for (let k = 0; k < count; k++) {
      if ((this.#aFlags[k]! & A_DECL) === 0) continue;
      decls = true;
      const local = declaredPrefix(text, this.#aStart[k]!, this.#aEnd[k]!);
      if (local === "") {
        defaultNs = this.#aValue[k]!;
        continue;
      }
      if (local === "hasOwnProperty") this.#poisoned = true;
      this.#undoPrefix.push(local);
      this.#undoValue.push(this.#bindings.get(local));
      this.#bindings.set(local, this.#aValue[k]!);
    }
    // sax-ts: unbound prefixes of the element, then of each attribute.
    let ns = "";
    if (colon > nameStart) {
      const uri = this.#resolve(text.slice(nameStart, colon));
      if (uri === undefined) {
        return this.#fail("Unbound namespace prefix", nameStart);
      }
      ns = uri;
    } else if (isRoot) {
      ns = defaultNs ?? this.#outer.defaultNs;
    }
    let prefixed = 0;
    for (let k = 0; k < count; k++) {
      const aColon = this.#aColon[k]!;
      const aStart = this.#aStart[k]!;
      this.#aUri[k] = "";
      if (aColon <= aStart || (this.#aFlags[k]! & A_DECL) !== 0) continue;
      const uri = this.#resolve(text.slice(aStart, aColon));
      if (uri === undefined) return this.#fail("Unbound namespace prefix", aStart);
      this.#aUri[k] = uri;
      prefixed++;
    }
    // The tree builder.
    if (this.#depth === 0 && this.#rootClosed) {
      return this.#fail("More than one top-level element", nameStart);
    }
    if (++this.#elements > limits.maxElements) {
      return this.#tooMuch(`More than ${limits.maxElements} elements`, nameStart);
    }
    if (this.#depth + 1 > limits.maxDepth) {
      return this.#tooMuch(`Elements nested deeper than ${limits.maxDepth}`, nameStart);
    }
    if (colon >= 0 && !isQName(text, nameStart, nameEnd, colon)) {
      return this.#fail("Invalid qualified name", nameStart);
    }
    if (colon === nameStart + 5 && text.startsWith("xmlns", nameStart)) {
      return this.#fail(
        "Namespaces in XML 1.0 §3: element names must not have the prefix xmlns",
        nameStart,
      );
    }
    if (count > 0 && this.#attributes(text, prefixed, decls) === FAIL) return FAIL;
    // Open.
    const d = this.#depth++;
    this.#openStart[d] = nameStart;
    this.#openEnd[d] = nameEnd;
    this.#openMark[d] = mark;
    if (isRoot) {
      this.#rootStart = nameStart - 1;
      this.#rootNameEnd = nameEnd;
      this.#rootName = text.slice(colon >= 0 ? colon + 1 : nameStart, nameEnd);
      this.#rootNs = ns;
      this.#rootDeclares = defaultNs !== undefined;
    }
    return selfClosing ? this.#closeElement(after, nameStart) : after;
  }

  /** The tree builder's attribute loop: first occurrences in order, with the last value. */
  #attributes(text: string, prefixed: number, decls: boolean): number {
    const limits = this.#limits;
    const count = this.#count;
    const first = this.#aFirst;
    const last = this.#aLast;
    let duplicate = false;
    // Duplicate qualified names.
    if (count === 1) {
      first[0] = 0;
      last[0] = 0;
    } else if (count <= 12) {
      for (let k = 0; k < count; k++) {
        first[k] = k;
        last[k] = k;
        const s = this.#aStart[k]!;
        const len = this.#aEnd[k]! - s;
        for (let m = 0; m < k; m++) {
          if (first[m] !== m) continue;
          const t = this.#aStart[m]!;
          if (this.#aEnd[m]! - t !== len || !sameRange(text, s, t, len)) continue;
          first[k] = m;
          last[m] = k;
          duplicate = true;
          break;
        }
      }
    } else {
      const names = this.#names;
      names.clear();
      for (let k = 0; k < count; k++) {
        const name = text.slice(this.#aStart[k]!, this.#aEnd[k]!);
        const m = names.get(name);
        last[k] = k;
        if (m === undefined) {
          names.set(name, k);
          first[k] = k;
        } else {
          first[k] = m;
          last[m] = k;
          duplicate = true;
        }
      }
      names.clear();
    }
    for (let k = 0; k < count; k++) {
      if (first[k] !== k) continue;
      const l = last[k]!;
      const aStart = this.#aStart[k]!;
      const aEnd = this.#aEnd[k]!;
      const aColon = this.#aColon[k]!;
      if (this.#aLength[l]! > limits.maxAttributeValueLength) {
        return this.#tooMuch(
          `Attribute value longer than ${limits.maxAttributeValueLength}`,
          aStart,
        );
      }
      const flags = this.#aFlags[l]!;
      if (decls && (flags & A_DECL) !== 0) {
        const local = declaredPrefix(text, aStart, aEnd);
        const value = this.#aValue[l]!;
        if (aColon >= 0 && local !== "" && value === "") {
          return this.#fail("Namespaces in XML 1.0 §6.1: a prefix cannot be undeclared", aStart);
        }
        if (local === "xmlns") {
          return this.#fail(
            "Namespaces in XML 1.0 §3: the prefix xmlns must not be declared",
            aStart,
          );
        }
        if ((local === "xml") !== (value === XML_NS)) {
          return this.#fail(
            "Namespaces in XML 1.0 §3: the prefix xml is bound to its namespace, and only it is",
            aStart,
          );
        }
        if (value === XMLNS_NS) {
          return this.#fail(
            "Namespaces in XML 1.0 §3: the xmlns namespace must not be bound",
            aStart,
          );
        }
      }
      if (aColon >= 0 && !isQName(text, aStart, aEnd, aColon)) {
        return this.#fail("Invalid qualified name", aStart);
      }
      if ((flags & A_ILLEGAL_REF) !== 0) {
        return this.#fail("Character reference to a character XML forbids", this.#aBadRef[l]!);
      }
      // Duplicate expanded names: two prefixes bound to one namespace, one local name.
      if (prefixed > 1 && aColon > aStart && (flags & A_DECL) === 0) {
        const uri = this.#aUri[k]!;
        const localLength = aEnd - aColon;
        for (let m = 0; m < k; m++) {
          if (first[m] !== m || this.#aUri[m] !== uri) continue;
          const mColon = this.#aColon[m]!;
          if (mColon <= this.#aStart[m]! || (this.#aFlags[m]! & A_DECL) !== 0) continue;
          if (this.#aEnd[m]! - mColon !== localLength) continue;
          if (sameRange(text, aColon, mColon, localLength)) {
            return this.#fail("Duplicate attribute (expanded name)", aStart);
          }
        }
      }
    }
    if (duplicate) return this.#fail("Duplicate attribute", this.#aStart[0]!);
    return 0;
  }

  /** Closes the innermost element; `after` is the index after its last '>'. */
  #closeElement(after: number, at: number): number {
    if (this.#poisoned) {
      // sax-ts calls `tag.ns.hasOwnProperty(...)` as an element closes: a declared prefix
      // `hasOwnProperty` makes it throw, so DocumentParser refuses the document.
      return this.#fail("A namespace prefix named hasOwnProperty (refused by sax-ts)", at);
    }
    const d = --this.#depth;
    const mark = this.#openMark[d]!;
    const prefixes = this.#undoPrefix;
    const values = this.#undoValue;
    for (let u = prefixes.length - 1; u >= mark; u--) {
      const previous = values[u];
      if (previous === undefined) this.#bindings.delete(prefixes[u]!);
      else this.#bindings.set(prefixes[u]!, previous);
    }
    prefixes.length = mark;
    values.length = mark;
    if (d === 0) {
      this.#rootClosed = true;
      this.#rootEnd = after;
    }
    return after;
  }

  /** An end tag at `i` ('</'). */
  #endTag(text: string, i: number): number {
    const n = text.length;
    let j = i + 2;
    const c = j < n ? text.charCodeAt(j) : -1;
    if (c >= 0 && isSpace(c)) {
      // sax-ts skips it; XML 1.0 §3.1 (ETag ::= '</' Name S? '>') does not allow it.
      return this.#fail("Whitespace right after '</'", i);
    }
    if (c < 0 || !isNameStart(c)) return this.#fail("Invalid tagname in closing tag", j);
    const nameStart = j;
    for (j++; j < n; j++) {
      const d = text.charCodeAt(j);
      if (d < 128 ? (ASCII[d]! & NAME_CHAR) === 0 : !isNameCharHigh(d)) break;
    }
    const nameEnd = j;
    while (j < n && isSpace(text.charCodeAt(j))) j++;
    if (j >= n) return this.#fail("An unterminated end tag", i);
    if (text.charCodeAt(j) !== 62) return this.#fail("Invalid characters in closing tag", j);
    const d = this.#depth - 1;
    if (d < 0) return this.#fail("Unmatched closing tag", i);
    const openStart = this.#openStart[d]!;
    const length = nameEnd - nameStart;
    if (
      this.#openEnd[d]! - openStart !== length || !sameRange(text, nameStart, openStart, length)
    ) {
      return this.#fail("Unexpected close tag", i);
    }
    return this.#closeElement(j + 1, i);
  }
}

function refuse(condition: XmlErrorCondition, text: string, tooBig = false): ElementCheck {
  return { ok: false, error: xmlError(condition, text, tooBig) };
}

function forbidden(s: string, at: number): string {
  if (s.startsWith("<!-", at)) return "RFC 6120 §11.1: comments are not allowed";
  if (s.startsWith("<!D", at)) return "RFC 6120 §11.1: a DTD is not allowed";
  return "RFC 6120 §11.1: markup declarations are not allowed";
}

/** Whether text[a, a+length) equals text[b, b+length). */
function sameRange(text: string, a: number, b: number, length: number): boolean {
  for (let k = 0; k < length; k++) {
    if (text.charCodeAt(a + k) !== text.charCodeAt(b + k)) return false;
  }
  return true;
}

/** Namespaces in XML 1.0 §4: one colon, neither first nor last (`colon` is the first). */
function isQName(text: string, start: number, end: number, colon: number): boolean {
  if (colon === start || colon === end - 1) return false;
  for (let k = colon + 1; k < end; k++) if (text.charCodeAt(k) === 58) return false;
  return true;
}

/**
 * The prefix a declaration binds, as sax-ts reads it: "" for `xmlns` (the default namespace),
 * else the text between the first and the second colon.
 */
function declaredPrefix(text: string, start: number, end: number): string {
  if (end - start === 5) return "";
  let second = start + 6;
  while (second < end && text.charCodeAt(second) !== 58) second++;
  return text.slice(start + 6, second);
}

/**
 * A checked attribute value as the parser reports it: references decoded, line ends and
 * whitespace normalised (XML 1.0 §2.11, §3.3.3). Only used for namespace declarations.
 */
function decodeValue(text: string, start: number, end: number): string {
  let out = "";
  let from = start;
  let j = start;
  while (j < end) {
    const c = text.charCodeAt(j);
    if (c === 38) {
      out += text.slice(from, j);
      const semi = text.indexOf(";", j);
      const name = text.slice(j + 1, semi);
      if (name.charCodeAt(0) === 35) {
        const code = name.charCodeAt(1) === 120
          ? parseInt(name.slice(2), 16)
          : parseInt(name.slice(1), 10);
        out += String.fromCodePoint(code);
      } else {
        out += name === "amp"
          ? "&"
          : name === "lt"
          ? "<"
          : name === "gt"
          ? ">"
          : name === "quot"
          ? '"'
          : "'";
      }
      j = semi + 1;
      from = j;
    } else if (c === 9 || c === 10 || c === 13) {
      out += text.slice(from, j) + " ";
      j += c === 13 && text.charCodeAt(j + 1) === 10 ? 2 : 1;
      from = j;
    } else j++;
  }
  return out + text.slice(from, end);
}

/**
 * The checked element as a standalone document: the root gets ` xmlns='<outer default>'` after
 * its name unless it declares a default namespace itself or `outer.defaultNs` is empty; text
 * before the root's `<` and after its end is dropped. Only meaningful when
 * `check.usesOuterPrefix` is false: an element that uses the outer scope's prefixes would need
 * their declarations too, so callers take the DocumentParser path for those.
 *
 * @example
 * ```ts
 * import { ElementChecker, standaloneText } from "./element_check.ts";
 * import { assertEquals } from "@std/assert";
 * const outer = { defaultNs: "jabber:client", prefixes: new Map<string, string>() };
 * const text = "<message to='a@b'><body>hi</body></message>\n";
 * const check = new ElementChecker().check(text, outer);
 * assertEquals(
 *   standaloneText(text, check, outer),
 *   "<message xmlns='jabber:client' to='a@b'><body>hi</body></message>",
 * );
 * ```
 */
export function standaloneText(text: string, check: ElementCheck, outer: OuterScope): string {
  if (!check.ok) throw new TypeError("standaloneText needs an accepted element");
  if (check.declaresDefault || outer.defaultNs === "") return text.slice(check.start, check.end);
  return text.slice(check.start, check.nameEnd) + ` xmlns='${escapeAttribute(outer.defaultNs)}'` +
    text.slice(check.nameEnd, check.end);
}
