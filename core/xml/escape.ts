/**
 * XML escaping for character data and single-quoted attribute values.
 *
 * @example
 * ```ts
 * import { escapeAttribute, escapeText } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { assertEquals } from "@std/assert";
 * assertEquals(escapeText("a < b & c"), "a &lt; b &amp; c");
 * assertEquals(escapeAttribute("it's"), "it&apos;s");
 * ```
 * @module
 */

const TEXT_SPECIAL = /[&<>\r]/;
const TEXT_SPECIAL_ALL = /[&<>\r]/g;
const ATTR_SPECIAL = /[&<>'"\t\n\r]/;
const ATTR_SPECIAL_ALL = /[&<>'"\t\n\r]/g;

const REPLACEMENTS: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  "'": "&apos;",
  '"': "&quot;",
  "\t": "&#9;",
  "\n": "&#10;",
  "\r": "&#13;",
};

function replace(char: string): string {
  return REPLACEMENTS[char] ?? char;
}

/**
 * Escapes character data (`&`, `<`, `>` and carriage return, which a parser would normalise).
 *
 * @example
 * ```ts
 * import { escapeText } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { assertEquals } from "@std/assert";
 * assertEquals(escapeText("]]>"), "]]&gt;");
 * ```
 */
export function escapeText(text: string): string {
  return TEXT_SPECIAL.test(text) ? text.replace(TEXT_SPECIAL_ALL, replace) : text;
}

/**
 * Escapes an attribute value for use inside single or double quotes; tabs and line breaks
 * become character references so that attribute-value normalisation cannot change them.
 *
 * @example
 * ```ts
 * import { escapeAttribute } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { assertEquals } from "@std/assert";
 * assertEquals(escapeAttribute("a\nb"), "a&#10;b");
 * ```
 */
export function escapeAttribute(value: string): string {
  return ATTR_SPECIAL.test(value) ? value.replace(ATTR_SPECIAL_ALL, replace) : value;
}
