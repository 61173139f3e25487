/**
 * A pragmatic SASLprep (RFC 4013, the stringprep profile SCRAM and PLAIN name) for usernames and
 * passwords. It uses the runtime's Unicode data (`String.prototype.normalize`) rather than
 * stringprep's frozen Unicode 3.2 tables.
 *
 * Covered, in order:
 * 1. Mapping (RFC 4013 §2.1): the "commonly mapped to nothing" characters of RFC 3454 table
 *    B.1 (soft hyphen, zero-width joiners and spaces, variation selectors, BOM ...) are removed;
 *    the non-ASCII spaces of table C.1.2 (no-break space, en/em spaces, ideographic space ...)
 *    become U+0020.
 * 2. Normalisation (§2.2): Unicode NFKC.
 * 3. Prohibited output (§2.3): tables C.1.2, C.2.1 and C.2.2 (ASCII and non-ASCII controls, line
 *    and paragraph separators), C.3 (private use), C.4 (non-characters), C.5 (surrogates, that
 *    is lone surrogates in a JS string), C.6, C.7, C.8 (display-changing and deprecated
 *    characters) and C.9 (tags). Any of these makes the result `undefined`.
 *
 * Not covered: the bidirectional rule (§2.4, RFC 3454 §6: mixing right-to-left and
 * left-to-right characters is not refused), and the "stored strings" check for code points
 * unassigned in Unicode 3.2 (§2.5): only queries are prepared here, which may contain them.
 * RFC 7613's OpaqueString profile differs mainly in using NFC; NFKC is kept because peers
 * implementing RFC 5802 apply SASLprep, and the two agree on nearly all real passwords.
 *
 * @example
 * ```ts
 * import { saslprep } from "./saslprep.ts";
 * console.log(saslprep("I\u00ADX")); // "IX" (RFC 4013 §3 example)
 * console.log(saslprep("\u2168")); // "IX" (NFKC)
 * console.log(saslprep("a\u00A0b")); // "a b"
 * console.log(saslprep("\u0007")); // undefined (control character)
 * ```
 * @module
 */

const MAPPED_TO_NOTHING =
  /[\u00AD\u034F\u1806\u180B-\u180D\u200B-\u200D\u2060\uFE00-\uFE0F\uFEFF]/gu;
const NON_ASCII_SPACE = /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/gu;

// Planes 1 to 16 each end with two non-characters (C.4).
const PLANE_ENDS = Array.from({ length: 16 }, (_, i) => {
  const plane = (i + 1).toString(16).toUpperCase();
  return `\\u{${plane}FFFE}\\u{${plane}FFFF}`;
}).join("");

const PROHIBITED = new RegExp(
  "[" +
    "\\u00A0\\u1680\\u2000-\\u200B\\u202F\\u205F\\u3000" + // C.1.2
    "\\u0000-\\u001F\\u007F" + // C.2.1
    "\\u0080-\\u009F\\u06DD\\u070F\\u180E\\u200C\\u200D\\u2028\\u2029\\u2060-\\u2063" +
    "\\u206A-\\u206F\\uFEFF\\uFFF9-\\uFFFC\\u{1D173}-\\u{1D17A}" + // C.2.2
    "\\uE000-\\uF8FF\\u{F0000}-\\u{FFFFD}\\u{100000}-\\u{10FFFD}" + // C.3
    "\\uFDD0-\\uFDEF\\uFFFE\\uFFFF" + PLANE_ENDS + // C.4
    "\\uD800-\\uDFFF" + // C.5 (lone surrogates)
    "\\uFFF9-\\uFFFD" + // C.6
    "\\u2FF0-\\u2FFB" + // C.7
    "\\u0340\\u0341\\u200E\\u200F\\u202A-\\u202E" + // C.8
    "\\u{E0001}\\u{E0020}-\\u{E007F}" + // C.9
    "]",
  "u",
);

/**
 * Prepares a username or password; `undefined` when it contains a prohibited character.
 * The result may be empty; callers decide whether that is acceptable.
 *
 * @example
 * ```ts
 * import { saslprep } from "./saslprep.ts";
 * console.log(saslprep("user")); // "user"
 * console.log(saslprep("\u00AA")); // "a"
 * console.log(saslprep("pass\u0000word")); // undefined
 * ```
 */
export function saslprep(input: string): string | undefined {
  const mapped = input.replace(MAPPED_TO_NOTHING, "").replace(NON_ASCII_SPACE, " ");
  const normalized = mapped.normalize("NFKC");
  return PROHIBITED.test(normalized) ? undefined : normalized;
}
