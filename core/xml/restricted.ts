/**
 * Checks on the raw text, before the SAX parser sees it: the restricted-XML policy of
 * RFC 6120 §11 (no comments, processing instructions other than the leading XML declaration,
 * DTDs or other markup declarations: refused before anything is parsed, so nothing is ever
 * expanded), the XML 1.0 rules `sax-ts` does not enforce (`<` inside tags and attribute values,
 * `]]>` in character data, whitespace after `<`, legal characters), and the normalisations XML
 * 1.0 requires of a parser (line ends §2.11, attribute-value whitespace §3.3.3).
 *
 * @example
 * ```ts
 * import { RawScanner, findIllegalCharacter } from "./restricted.ts";
 * const scanner = new RawScanner();
 * console.log(scanner.scan("<a><![CDATA[<!-- fine -->]]></a>", true).error); // undefined
 * scanner.reset();
 * console.log(scanner.scan("<a><!-- no --></a>", true).error?.condition); // "restricted-xml"
 * console.log(findIllegalCharacter("a\u0000b")); // 1
 * ```
 * @module
 */

/** What kind of forbidden markup was found. */
export type ForbiddenMarkup = "comment" | "doctype" | "declaration";

/** A rule broken by the raw text. */
export interface RawError {
  readonly condition: "restricted-xml" | "not-well-formed";
  readonly text: string;
}

/** The result of scanning a piece of text. */
export interface RawScan {
  /** The text to give the parser (normalised; a few trailing characters may be held back). */
  readonly text: string;
  readonly error?: RawError;
}

const CDATA_OPEN = "<![CDATA[";
const TEXT = 0;
const TAG = 1;
const ATTRIBUTE = 2;
const CDATA = 3;
const PI = 4;

/**
 * A chunk-safe scanner; keep one per stream, or `reset()` before each standalone document.
 *
 * @example
 * ```ts
 * import { RawScanner } from "./restricted.ts";
 * const scanner = new RawScanner();
 * console.log(scanner.scan("<a b='1\n2'>x\r\ny</a>", true).text); // "<a b='1 2'>x\ny</a>"
 * ```
 */
export class RawScanner {
  #state = TEXT;
  #quote = 0;
  #carry = "";
  #consumed = 0;
  #declarationAtStart = false;

  /** Forgets everything: the next text starts a new document. */
  reset(): void {
    this.#state = TEXT;
    this.#quote = 0;
    this.#carry = "";
    this.#consumed = 0;
    this.#declarationAtStart = false;
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
    let i = 0;
    scan: while (i < n) {
      switch (this.#state) {
        case TEXT: {
          const lt = s.indexOf("<", i);
          const end = lt < 0 ? n : lt;
          const brackets = s.indexOf("]]>", i);
          if (brackets >= 0 && brackets < end) {
            return fail(s, "not-well-formed", "']]>' in character data");
          }
          if (lt < 0) {
            if (!final) hold = n - (s.endsWith("]]") ? 2 : s.endsWith("]") ? 1 : 0);
            break scan;
          }
          const next = lt + 1 < n ? s.charCodeAt(lt + 1) : -1;
          const undecided = next === -1 ||
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
            if (this.#consumed + lt === 0 && /^<\?xml[ \t\n]/.test(s.slice(0, 6))) {
              this.#declarationAtStart = true;
            }
            this.#state = PI;
            i = lt + 2;
          } else if (next === 32 || next === 9 || next === 10) {
            return fail(s, "not-well-formed", "Whitespace right after '<'");
          } else {
            this.#state = TAG;
            i = lt + 1;
          }
          break;
        }
        case TAG: {
          for (; i < n; i++) {
            const c = s.charCodeAt(i);
            if (c === 62 /* > */) {
              this.#state = TEXT;
              i++;
              continue scan;
            }
            if (c === 34 || c === 39) {
              this.#quote = c;
              this.#state = ATTRIBUTE;
              i++;
              continue scan;
            }
            if (c === 60) return fail(s, "not-well-formed", "'<' inside a tag");
          }
          break;
        }
        case ATTRIBUTE: {
          const close = s.indexOf(this.#quote === 34 ? '"' : "'", i);
          const end = close < 0 ? n : close;
          const lt = s.indexOf("<", i);
          if (lt >= 0 && lt < end) return fail(s, "not-well-formed", "'<' in an attribute value");
          const tab = s.indexOf("\t", i);
          const nl = s.indexOf("\n", i);
          if ((tab >= 0 && tab < end) || (nl >= 0 && nl < end)) (rewrites ??= []).push(i, end);
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

// deno-lint-ignore no-control-regex
const ILLEGAL_CHARACTER = /[\0-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF\uD800-\uDFFF]/u;

/**
 * Index of the first character that XML 1.0 forbids (controls other than tab, LF and CR,
 * U+FFFE, U+FFFF, unpaired surrogates), or -1.
 *
 * @example
 * ```ts
 * import { findIllegalCharacter } from "./restricted.ts";
 * console.log(findIllegalCharacter("ok 😀")); // -1
 * ```
 */
export function findIllegalCharacter(text: string): number {
  const match = ILLEGAL_CHARACTER.exec(text);
  return match === null ? -1 : match.index;
}
