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
