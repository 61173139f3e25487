/**
 * Checks on the raw text, before the SAX parser sees it: the restricted-XML policy of
 * RFC 6120 §11 (no comments, processing instructions other than the leading XML declaration,
 * DTDs or other markup declarations: refused before anything is parsed, so nothing is ever
 * expanded), the XML 1.0 rules `sax-ts` does not enforce (`<` inside tags and attribute values,
 * `]]>` in character data, whitespace after `<` or `</`, legal characters, references: only the
 * five predefined entities spelt exactly and `&#N;`/`&#xH;` to characters XML allows, so that
 * no entity name ever reaches sax-ts's table or its lower-casing), and the normalisations XML
 * 1.0 requires of a parser (line ends §2.11, attribute-value whitespace §3.3.3).
 *
 * @example
 * ```ts
 * import { RawScanner, findIllegalCharacter } from "./restricted.ts";
 * import { assertEquals } from "@std/assert";
 * const scanner = new RawScanner();
 * assertEquals(scanner.scan("<a><![CDATA[<!-- fine -->]]></a>", true).error, undefined);
 * scanner.reset();
 * assertEquals(scanner.scan("<a><!-- no --></a>", true).error?.condition, "restricted-xml");
 * assertEquals(findIllegalCharacter("a\u0000b"), 1);
 * ```
 * @module
 */

import { isLegalChar, isNameCharHigh, isNameStartHigh } from "./names.ts";

/** What kind of forbidden markup was found. */
export type ForbiddenMarkup = "comment" | "doctype" | "declaration";

/** A rule broken by the raw text. */
export interface RawError {
  readonly condition: "restricted-xml" | "not-well-formed" | "policy-violation";
  readonly text: string;
  /** True when a counted limit was exceeded (WebSocket close code 1009). */
  readonly tooBig?: boolean;
}

/** The limits the scanner counts itself, before any parser builds anything. */
export interface ScanLimits {
  /** Most attributes (namespace declarations included) in one start tag. */
  readonly maxAttributes: number;
  /** Most namespace declarations in one start tag. */
  readonly maxNamespaceDeclarations: number;
  /** Longest element or attribute name, in characters. */
  readonly maxNameLength: number;
}

const UNLIMITED: ScanLimits = {
  maxAttributes: Infinity,
  maxNamespaceDeclarations: Infinity,
  maxNameLength: Infinity,
};
/** "xmlns" as character codes, to recognise declarations one character at a time. */
const XMLNS = [120, 109, 108, 110, 115];

/** The result of scanning a piece of text. */
export interface RawScan {
  /** The text to give the parser (normalised; a few trailing characters may be held back). */
  readonly text: string;
  readonly error?: RawError;
}

const CDATA_OPEN = "<![CDATA[";
/** Where a reference (`&...;`, in text or an attribute value) stands; it may straddle chunks. */
const R_NONE = 0;
const R_AMP = 1; // after '&'
const R_HASH = 2; // after '&#'
const R_DEC = 3; // decimal digits
const R_HEX = 4; // after '&#x'
const R_NAME = 5; // an entity name
/** ASCII classes of entity-name characters, as sax-ts (and ElementChecker) read them. */
const ENTITY_START = 1;
const ENTITY_CHAR = 2;
const ENTITY_ASCII = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 58 ||
    c === 35;
  if (letter) ENTITY_ASCII[c] = ENTITY_START | ENTITY_CHAR;
  else if ((c >= 48 && c <= 57) || c === 45 || c === 46) ENTITY_ASCII[c] = ENTITY_CHAR;
}
const ONLY_FIVE = "RFC 6120 §11.1: only the five predefined entities are allowed";
const TEXT = 0;
const TAG = 1;
const ATTRIBUTE = 2;
const CDATA = 3;
const PI = 4;

/**
 * A chunk-safe scanner; keep one per stream, or `reset()` before each standalone document.
 * Its cost is linear in the input for every shape of input (issue 8, finding 2): each search
 * result is reused until the scan moves past it, and the attribute, declaration and name-length
 * limits are counted here, so `sax-ts` (whose attribute handling is quadratic) never sees a
 * start tag over the limits.
 *
 * @example
 * ```ts
 * import { RawScanner } from "./restricted.ts";
 * import { assertEquals } from "@std/assert";
 * const scanner = new RawScanner();
 * assertEquals(scanner.scan("<a b='1\n2'>x\r\ny</a>", true).text, "<a b='1 2'>x\ny</a>");
 * ```
 */
export class RawScanner {
  readonly #limits: ScanLimits;
  readonly #standalone: boolean;
  #state = TEXT;
  #quote = 0;
  #carry = "";
  #consumed = 0;
  #declarationAtStart = false;
  // Counters of the current tag (they survive chunk boundaries).
  #attributes = 0;
  #declarations = 0;
  /** Names seen in this tag so far (the first is the element name). */
  #names = 0;
  /** Length of the name being read, or 0 between names. */
  #nameLength = 0;
  /** Characters of "xmlns" matched at the start of the current name; -1 once it differs. */
  #xmlnsMatched = 0;
  // The reference being read (it survives chunk boundaries).
  #ref = R_NONE;
  #refCode = 0;
  #refDigits = 0;
  /** The entity name's first four characters (longer names are none of the five). */
  #refName = "";
  #refNameLength = 0;
  #refError: RawError | undefined;

  /**
   * Creates a scanner; without limits it only applies the restricted-XML rules. With
   * `standalone` (one document per scan, as an RFC 7395 message), any processing instruction
   * other than at the very start is refused here; a stream scanner leaves them to the parser,
   * since the next document may begin, with its XML declaration, right after SASL success.
   */
  constructor(limits: ScanLimits = UNLIMITED, standalone = false) {
    this.#limits = limits;
    this.#standalone = standalone;
  }

  /** Forgets everything: the next text starts a new document. */
  reset(): void {
    this.#state = TEXT;
    this.#quote = 0;
    this.#carry = "";
    this.#consumed = 0;
    this.#declarationAtStart = false;
    this.#ref = R_NONE;
    this.#startTag();
  }

  #startTag(): void {
    this.#attributes = 0;
    this.#declarations = 0;
    this.#names = 0;
    this.#nameLength = 0;
    this.#xmlnsMatched = 0;
  }

  /** A name just ended; returns an error text if a limit is passed. */
  #endName(): string | undefined {
    const declaration = this.#names > 0 && this.#xmlnsMatched >= 5;
    this.#names++;
    this.#nameLength = 0;
    this.#xmlnsMatched = 0;
    if (declaration && ++this.#declarations > this.#limits.maxNamespaceDeclarations) {
      return `More than ${this.#limits.maxNamespaceDeclarations} namespace declarations`;
    }
    return undefined;
  }

  /** Returns (and forgets) the characters held back for the next call. */
  takeCarry(): string {
    const carry = this.#carry;
    this.#carry = "";
    return carry;
  }

  /** Whether the document began with an XML declaration (`<?xml` as its very first text). */
  get declarationAtStart(): boolean {
    return this.#declarationAtStart;
  }

  /**
   * Reads the reference begun before `i` (`#ref` says how far it got) up to its ';'. Returns the
   * index after the ';', `s.length` when the text ends first (the reference goes on in the next
   * chunk; an error when `final`), or -1 with `#refError` set. XML 1.0 §4.1 and §4.6: only the
   * five predefined names, exactly (sax-ts would lower-case them and look them up in a plain
   * object), and `&#N;` or `&#xH;` (lower-case x) to a character matching Char. The conditions
   * are ElementChecker's: a name ended by ';' is `restricted-xml`, anything else
   * `not-well-formed`. Costs one step per character of the reference.
   */
  #reference(s: string, i: number, final: boolean): number {
    const n = s.length;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      let state = this.#ref;
      if (state === R_AMP) {
        if (c === 35 /* # */) {
          this.#ref = R_HASH;
          this.#refCode = 0;
          this.#refDigits = 0;
          continue;
        }
        state = this.#ref = R_NAME;
        this.#refName = "";
        this.#refNameLength = 0;
      } else if (state === R_HASH) {
        if (c === 120 /* x */) {
          this.#ref = R_HEX;
          continue;
        }
        state = this.#ref = R_DEC;
      }
      if (state === R_NAME) {
        const length = this.#refNameLength;
        if (c === 59 /* ; */) {
          this.#ref = R_NONE;
          if (length <= 4) {
            const name = this.#refName;
            if (
              name === "amp" || name === "lt" || name === "gt" || name === "quot" ||
              name === "apos"
            ) return i + 1;
          }
          return this.#refFail("restricted-xml", ONLY_FIVE);
        }
        const legal = c < 128
          ? (ENTITY_ASCII[c]! & (length === 0 ? ENTITY_START : ENTITY_CHAR)) !== 0
          : length === 0
          ? isNameStartHigh(c)
          : isNameCharHigh(c);
        if (!legal) return this.#refFail("not-well-formed", "Invalid character in entity name");
        if (length < 4) this.#refName += String.fromCharCode(c);
        this.#refNameLength = length + 1;
        continue;
      }
      // A character reference: digits, then ';'.
      const v = c >= 48 && c <= 57
        ? c - 48
        : state === R_DEC
        ? -1
        : c >= 97 && c <= 102
        ? c - 87
        : c >= 65 && c <= 70
        ? c - 55
        : -1;
      if (v >= 0) {
        const code = this.#refCode;
        if (code <= 0x10ffff) this.#refCode = code * (state === R_DEC ? 10 : 16) + v;
        this.#refDigits++;
        continue;
      }
      this.#ref = R_NONE;
      if (c !== 59 || this.#refDigits === 0) {
        return this.#refFail("not-well-formed", "A malformed character reference");
      }
      const code = this.#refCode;
      if (code === 0 || code > 0x10ffff) {
        return this.#refFail("not-well-formed", "A character reference to no character");
      }
      if (!isLegalChar(code)) {
        return this.#refFail("not-well-formed", "Character reference to a character XML forbids");
      }
      return i + 1;
    }
    if (!final) return n;
    const name = this.#ref === R_AMP || this.#ref === R_NAME;
    this.#ref = R_NONE;
    return this.#refFail(
      "not-well-formed",
      name ? "An unterminated entity reference" : "A malformed character reference",
    );
  }

  #refFail(condition: RawError["condition"], text: string): number {
    this.#ref = R_NONE;
    this.#refError = { condition, text };
    return -1;
  }

  /**
   * Scans the next piece of text. With `final` false, characters that cannot be judged yet
   * (a `<` at the very end, part of `<![CDATA[`, ...) are held back until the next call.
   */
  scan(chunk: string, final: boolean): RawScan {
    let s = this.#carry === "" ? chunk : this.#carry + chunk;
    this.#carry = "";
    if (s.indexOf("\r") >= 0) {
      if (!final && s.charCodeAt(s.length - 1) === 13) {
        this.#carry = "\r";
        s = s.slice(0, -1);
      }
      s = s.replace(/\r\n?/g, "\n"); // XML 1.0 §2.11
    }
    const n = s.length;
    let hold = n; // output s[0, hold); s[hold, n) is carried to the next call
    let rewrites: number[] | undefined; // attribute-value ranges holding tabs or newlines
    // Next occurrences at or after the scan position, reused until the scan passes them, so
    // that no search is repeated over the same text (-2: not searched yet; -1: none to the end).
    let nextBrackets = -2;
    let nextLt = -2;
    let nextTab = -2;
    let nextNl = -2;
    let nextAmp = -2;
    const limits = this.#limits;
    let i = 0;
    scan: while (i < n) {
      switch (this.#state) {
        case TEXT: {
          if (this.#ref !== R_NONE) {
            i = this.#reference(s, i, final);
            if (i < 0) return { text: s, error: this.#refError! };
            if (i >= n) break scan;
          }
          const lt = s.indexOf("<", i);
          const end = lt < 0 ? n : lt;
          if (nextBrackets !== -1 && nextBrackets < i) nextBrackets = s.indexOf("]]>", i);
          const brackets = nextBrackets;
          // References before the end of this text run (and before a ']]>', document order).
          const refsEnd = brackets >= 0 && brackets < end ? brackets : end;
          if (nextAmp !== -1 && nextAmp < i) nextAmp = s.indexOf("&", i);
          while (nextAmp >= 0 && nextAmp < refsEnd) {
            this.#ref = R_AMP;
            const after = this.#reference(s, nextAmp + 1, final);
            if (after < 0) return { text: s, error: this.#refError! };
            if (after >= n) break scan; // unfinished: continued by the next call
            nextAmp = s.indexOf("&", after);
          }
          if (brackets >= 0 && brackets < end) {
            return fail(s, "not-well-formed", "']]>' in character data");
          }
          if (lt < 0) {
            if (!final) hold = n - (s.endsWith("]]") ? 2 : s.endsWith("]") ? 1 : 0);
            break scan;
          }
          const next = lt + 1 < n ? s.charCodeAt(lt + 1) : -1;
          const undecided = next === -1 ||
            (next === 47 && lt + 2 === n) ||
            (next === 33 && lt + 9 > n && CDATA_OPEN.startsWith(s.slice(lt))) ||
            (next === 63 && lt + 6 > n && this.#consumed + lt === 0);
          if (undecided && !final) {
            hold = lt;
            break scan;
          }
          if (next === 33 /* ! */) {
            if (!s.startsWith(CDATA_OPEN, lt)) return fail(s, "restricted-xml", forbidden(s, lt));
            this.#state = CDATA;
            i = lt + CDATA_OPEN.length;
          } else if (next === 63 /* ? */) {
            if (this.#standalone && this.#consumed + lt !== 0) {
              // Only the XML declaration, at the very start, may be a processing instruction
              // (RFC 6120 §11.1); refused here, not left to sax-ts, which misses the end of a
              // PI written `<??>` and would then report an incomplete element instead.
              return fail(
                s,
                "restricted-xml",
                "RFC 6120 §11.1: processing instructions are not allowed",
              );
            }
            if (this.#consumed + lt === 0 && /^<\?xml[ \t\n]/.test(s.slice(0, 6))) {
              this.#declarationAtStart = true;
            }
            this.#state = PI;
            i = lt + 2;
          } else if (next === 32 || next === 9 || next === 10) {
            return fail(s, "not-well-formed", "Whitespace right after '<'");
          } else if (next === 47 /* / */) {
            const after = s.charCodeAt(lt + 2);
            if (after === 32 || after === 9 || after === 10) {
              // sax-ts skips it; XML 1.0 §3.1: ETag ::= '</' Name S? '>'.
              return fail(s, "not-well-formed", "Whitespace right after '</'");
            }
            this.#state = TAG;
            this.#startTag();
            i = lt + 1;
          } else {
            this.#state = TAG;
            this.#startTag();
            i = lt + 1;
          }
          break;
        }
        case TAG: {
          for (; i < n; i++) {
            const c = s.charCodeAt(i);
            if (
              c === 62 /* > */ || c === 61 /* = */ || c === 47 /* / */ || c === 32 || c === 9 ||
              c === 10 || c === 34 || c === 39 || c === 60
            ) {
              if (this.#nameLength > 0) {
                const passed = this.#endName();
                if (passed !== undefined) return tooMany(s, passed);
              }
              if (c === 62) {
                this.#state = TEXT;
                i++;
                continue scan;
              }
              if (c === 34 || c === 39) {
                if (++this.#attributes > limits.maxAttributes) {
                  return tooMany(s, `More than ${limits.maxAttributes} attributes`);
                }
                this.#quote = c;
                this.#state = ATTRIBUTE;
                i++;
                continue scan;
              }
              if (c === 60) return fail(s, "not-well-formed", "'<' inside a tag");
              continue;
            }
            const length = this.#nameLength++;
            if (length >= limits.maxNameLength) {
              return tooMany(s, `A name longer than ${limits.maxNameLength} characters`);
            }
            const matched = this.#xmlnsMatched;
            if (matched === length && length < 5) {
              this.#xmlnsMatched = c === XMLNS[length] ? matched + 1 : -1;
            } else if (length === 5 && matched === 5 && c !== 58 /* : */) {
              this.#xmlnsMatched = -1; // "xmlnsfoo" is an ordinary name
            }
          }
          break;
        }
        case ATTRIBUTE: {
          if (this.#ref !== R_NONE) {
            i = this.#reference(s, i, final);
            if (i < 0) return { text: s, error: this.#refError! };
            if (i >= n) break scan;
          }
          const close = s.indexOf(this.#quote === 34 ? '"' : "'", i);
          const end = close < 0 ? n : close;
          if (nextLt !== -1 && nextLt < i) nextLt = s.indexOf("<", i);
          // References in the value, up to its end or a '<' (document order).
          const refsEnd = nextLt >= 0 && nextLt < end ? nextLt : end;
          if (nextAmp !== -1 && nextAmp < i) nextAmp = s.indexOf("&", i);
          while (nextAmp >= 0 && nextAmp < refsEnd) {
            this.#ref = R_AMP;
            const after = this.#reference(s, nextAmp + 1, final);
            if (after < 0) return { text: s, error: this.#refError! };
            if (after >= n) break; // unfinished (so no quote follows): continued next call
            nextAmp = s.indexOf("&", after);
          }
          if (nextLt >= 0 && nextLt < end) {
            return fail(s, "not-well-formed", "'<' in an attribute value");
          }
          if (nextTab !== -1 && nextTab < i) nextTab = s.indexOf("\t", i);
          if (nextNl !== -1 && nextNl < i) nextNl = s.indexOf("\n", i);
          if ((nextTab >= 0 && nextTab < end) || (nextNl >= 0 && nextNl < end)) {
            (rewrites ??= []).push(i, end);
          }
          if (close < 0) break scan;
          this.#state = TAG;
          i = close + 1;
          break;
        }
        case CDATA: {
          const end = s.indexOf("]]>", i);
          if (end < 0) {
            if (!final) hold = Math.max(i, n - 2);
            break scan;
          }
          this.#state = TEXT;
          i = end + 3;
          break;
        }
        case PI: {
          const end = s.indexOf("?>", i);
          if (end < 0) {
            if (!final) hold = Math.max(i, n - 1);
            break scan;
          }
          this.#state = TEXT;
          i = end + 2;
          break;
        }
      }
    }
    if (hold < n) this.#carry = s.slice(hold) + this.#carry;
    let text = hold < n ? s.slice(0, hold) : s;
    if (rewrites !== undefined) text = normaliseAttributes(text, rewrites);
    this.#consumed += text.length;
    return { text };
  }
}

/** XML 1.0 §3.3.3: literal tabs and line feeds in attribute values become spaces. */
function normaliseAttributes(text: string, ranges: readonly number[]): string {
  let out = "";
  let from = 0;
  for (let r = 0; r < ranges.length; r += 2) {
    const start = ranges[r]!;
    const end = Math.min(ranges[r + 1]!, text.length);
    out += text.slice(from, start) + text.slice(start, end).replace(/[\t\n]/g, " ");
    from = end;
  }
  return out + text.slice(from);
}

function forbidden(s: string, at: number): string {
  if (s.startsWith("<!-", at)) return "RFC 6120 §11.1: comments are not allowed";
  if (s.startsWith("<!D", at)) return "RFC 6120 §11.1: a DTD is not allowed";
  return "RFC 6120 §11.1: markup declarations are not allowed";
}

function fail(s: string, condition: RawError["condition"], text: string): RawScan {
  return { text: s, error: { condition, text } };
}

function tooMany(s: string, text: string): RawScan {
  return { text: s, error: { condition: "policy-violation", text, tooBig: true } };
}

// deno-lint-ignore no-control-regex
const ILLEGAL_CHARACTER = /[\0-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF\uD800-\uDFFF]/u;

/**
 * Index of the first character that XML 1.0 forbids (controls other than tab, LF and CR,
 * U+FFFE, U+FFFF, unpaired surrogates), or -1.
 *
 * @example
 * ```ts
 * import { findIllegalCharacter } from "./restricted.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(findIllegalCharacter("ok 😀"), -1);
 * ```
 */
export function findIllegalCharacter(text: string): number {
  const match = ILLEGAL_CHARACTER.exec(text);
  return match === null ? -1 : match.index;
}
