/**
 * The size of an element as the XEP-0198 byte budget counts it: the characters of its names,
 * namespace URIs, attribute names and values and text, plus a few per element and attribute for
 * the markup. Close to the serialized length (escaping aside) and linear in the tree, without
 * building the text.
 *
 * @example
 * ```ts
 * import { elementSize } from "./_size.ts";
 * import { element } from "../xml/element.ts";
 * console.log(elementSize(element("body", "jabber:client", {}, ["hello"]))); // 40
 * ```
 * @module
 */

import type { XmlElement } from "../xml/element.ts";

/** Markup per element (`<`, `>`, `</`, `>`, ` xmlns=''`). */
const PER_ELEMENT = 14;
/** Markup per attribute (` `, `=''`). */
const PER_ATTRIBUTE = 4;

/**
 * The element's size in characters (see the module documentation). Nesting is walked with an
 * explicit stack, so depth costs no call stack.
 *
 * @example
 * ```ts
 * import { elementSize } from "./_size.ts";
 * import { element } from "../xml/element.ts";
 * const big = element("message", "jabber:client", {}, ["x".repeat(1000)]);
 * console.log(elementSize(big) > 1000); // true
 * ```
 */
export function elementSize(root: XmlElement): number {
  let size = 0;
  const stack: XmlElement[] = [root];
  for (let el = stack.pop(); el !== undefined; el = stack.pop()) {
    size += PER_ELEMENT + 2 * el.name.length + el.ns.length;
    for (const key in el.attrs) size += PER_ATTRIBUTE + key.length + el.attrs[key]!.length;
    for (const child of el.children) {
      if (typeof child === "string") size += child.length;
      else stack.push(child);
    }
  }
  return size;
}
