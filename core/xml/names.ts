/**
 * XML names (XML 1.0 §2.3, Namespaces in XML 1.0 §3): the check the serializer applies to every
 * element name, attribute name and prefix it writes. Names cannot be escaped, so a name that is
 * not an NCName must never reach the output (issue 8, finding 1: a namespace URI with `}` in it
 * once landed raw inside a tag).
 *
 * @example
 * ```ts
 * import { isNcName } from "./names.ts";
 * import { assert } from "@std/assert";
 * assert(isNcName("message"));
 * assert(!isNcName("x='1'/><message"));
 * ```
 * @module
 */

const START = "A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF" +
  "\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD";
const BODY = START + "\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040";
const NC_NAME = new RegExp(`^[${START}][${BODY}]*$`, "u");

/**
 * Whether `name` is a non-colonized XML name (a local name or a prefix).
 *
 * @example
 * ```ts
 * import { isNcName } from "./names.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(["body", "a:b", "1x", "", "é-x.1"].map(isNcName), [true, false, false, false, true]);
 * ```
 */
export function isNcName(name: string): boolean {
  return NC_NAME.test(name);
}

/**
 * XML 1.0 NameStartChar above ASCII, in the Basic Multilingual Plane (the set `sax-ts` and
 * {@link isNcName} accept), for scanners that walk character codes.
 *
 * @example
 * ```ts
 * import { isNameStartHigh } from "./names.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals([0xe9, 0xb7, 0x4e2d].map(isNameStartHigh), [true, false, true]);
 * ```
 */
export function isNameStartHigh(c: number): boolean {
  return (c >= 0xc0 && c <= 0xd6) || (c >= 0xd8 && c <= 0xf6) || (c >= 0xf8 && c <= 0x2ff) ||
    (c >= 0x370 && c <= 0x37d) || (c >= 0x37f && c <= 0x1fff) || c === 0x200c || c === 0x200d ||
    (c >= 0x2070 && c <= 0x218f) || (c >= 0x2c00 && c <= 0x2fef) || (c >= 0x3001 && c <= 0xd7ff) ||
    (c >= 0xf900 && c <= 0xfdcf) || (c >= 0xfdf0 && c <= 0xfffd);
}

/**
 * XML 1.0 NameChar above ASCII, in the Basic Multilingual Plane.
 *
 * @example
 * ```ts
 * import { isNameCharHigh } from "./names.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals([0xb7, 0x300, 0xd7].map(isNameCharHigh), [true, true, false]);
 * ```
 */
export function isNameCharHigh(c: number): boolean {
  return isNameStartHigh(c) || c === 0xb7 || (c >= 0x300 && c <= 0x36f) || c === 0x203f ||
    c === 0x2040;
}

/**
 * XML 1.0 Char: whether a character reference may name `code` (no controls but tab, LF and CR,
 * no surrogates, nothing past U+10FFFF).
 *
 * @example
 * ```ts
 * import { isLegalChar } from "./names.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals([0x41, 0x1, 0xd83d, 0x1f600].map(isLegalChar), [true, false, false, true]);
 * ```
 */
export function isLegalChar(code: number): boolean {
  return code >= 0x20
    ? code <= 0xd7ff || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff)
    : code === 9 || code === 10 || code === 13;
}
