/**
 * The restricted-XML policy of RFC 6120 §11: no comments, processing instructions, DTDs or
 * other markup declarations, checked on the raw text before the parser sees it (so nothing is
 * ever expanded); and the XML 1.0 character rules, which the parser does not check itself.
 *
 * @example
 * ```ts
 * import { MarkupScanner, findIllegalCharacter } from "./restricted.ts";
 * const scanner = new MarkupScanner();
 * console.log(scanner.scan("<a><![CDATA[<!-- fine -->]]></a>")); // undefined
 * console.log(scanner.scan("<a><!-- no --></a>")); // "comment"
 * console.log(findIllegalCharacter("a\u0000b")); // 1
 * ```
 * @module
 */

/** What kind of forbidden markup was found. */
export type ForbiddenMarkup = "comment" | "doctype" | "declaration";

const CDATA_OPEN = "<![CDATA[";

/**
 * Finds `<!` markup other than CDATA sections in text that may arrive in chunks. CDATA sections
 * are skipped (their content may legally contain `<!--`). Keep one scanner per stream, or call
 * `reset()` before each standalone document.
 *
 * @example
 * ```ts
 * import { MarkupScanner } from "./restricted.ts";
 * const scanner = new MarkupScanner();
 * console.log(scanner.scan("<a><!")); // undefined (undecided until more text arrives)
 * console.log(scanner.scan("DOCTYPE x>")); // "doctype"
 * ```
 */
export class MarkupScanner {
  #carry = "";
  #inCdata = false;

  /** Forgets everything seen so far. */
  reset(): void {
    this.#carry = "";
    this.#inCdata = false;
  }

  /** Scans the next piece of text; returns the first forbidden markup found, if any. */
  scan(chunk: string): ForbiddenMarkup | undefined {
    const text = this.#carry === "" ? chunk : this.#carry + chunk;
    this.#carry = "";
    let from = 0;
    for (;;) {
      if (this.#inCdata) {
        const end = text.indexOf("]]>", from);
        if (end < 0) {
          this.#carry = text.slice(Math.max(from, text.length - 2));
          return undefined;
        }
        this.#inCdata = false;
        from = end + 3;
      }
      const start = text.indexOf("<!", from);
      if (start < 0) {
        if (text.charCodeAt(text.length - 1) === 60 /* < */) this.#carry = "<";
        return undefined;
      }
      const available = text.length - start;
      if (available < CDATA_OPEN.length) {
        if (CDATA_OPEN.startsWith(text.slice(start))) {
          this.#carry = text.slice(start);
          return undefined;
        }
        return classify(text, start);
      }
      if (!text.startsWith(CDATA_OPEN, start)) return classify(text, start);
      this.#inCdata = true;
      from = start + CDATA_OPEN.length;
    }
  }
}

function classify(text: string, start: number): ForbiddenMarkup {
  if (text.startsWith("<!-", start)) return "comment";
  if (text.startsWith("<!D", start)) return "doctype";
  return "declaration";
}

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
