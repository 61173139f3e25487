/**
 * The immutable XML element type of the core, and small helpers to build and read it.
 *
 * Names are split into a local name and a namespace URI. Attribute keys are the local name for
 * unqualified attributes, `xml:<name>` for the XML namespace, and `{uri}local` (Clark notation)
 * for any other namespace, so namespace identity never depends on a prefix string.
 *
 * @example
 * ```ts
 * import { childElement, element, textOf } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { assertEquals } from "@std/assert";
 * const msg = element("message", "jabber:client", { to: "a@b" }, [
 *   element("body", "jabber:client", {}, ["hi"]),
 * ]);
 * assertEquals(textOf(childElement(msg, "body", "jabber:client")!), "hi");
 * ```
 * @module
 */

/** A node inside an element: a child element or character data. */
export type XmlNode = XmlElement | string;

/** An immutable, namespace-resolved XML element. */
export interface XmlElement {
  /** Local name, without any prefix. */
  readonly name: string;
  /** Namespace URI; the empty string means "no namespace". */
  readonly ns: string;
  /** Attributes (see the module documentation for the key format). */
  readonly attrs: Readonly<Record<string, string>>;
  /** Children in document order. */
  readonly children: readonly XmlNode[];
}

const NO_ATTRS: Readonly<Record<string, string>> = Object.freeze({});
const NO_CHILDREN: readonly XmlNode[] = Object.freeze([]);

/**
 * Builds an element. Attributes whose value is `undefined` are left out.
 *
 * @example
 * ```ts
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { assertEquals } from "@std/assert";
 * const ping = element("ping", "urn:xmpp:ping");
 * assertEquals(ping.name, "ping");
 * assertEquals(ping.ns, "urn:xmpp:ping");
 * ```
 */
export function element(
  name: string,
  ns: string,
  attrs: Readonly<Record<string, string | undefined>> = NO_ATTRS,
  children: readonly XmlNode[] = NO_CHILDREN,
): XmlElement {
  let clean: Record<string, string> | undefined;
  for (const key in attrs) {
    const value = attrs[key];
    if (value !== undefined) (clean ??= {})[key] = value;
  }
  return { name, ns, attrs: clean ?? NO_ATTRS, children };
}

/**
 * Whether `node` is an element with the given local name and namespace.
 *
 * @example
 * ```ts
 * import { element, isElement } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { assertEquals } from "@std/assert";
 * assertEquals(isElement(element("iq", "jabber:client"), "iq", "jabber:client"), true);
 * ```
 */
export function isElement(node: XmlNode | undefined, name: string, ns: string): node is XmlElement {
  return typeof node === "object" && node.name === name && node.ns === ns;
}

/**
 * The child elements of `parent`, optionally filtered by name and namespace.
 *
 * @example
 * ```ts
 * import { childElements, element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { assertEquals } from "@std/assert";
 * const f = element("features", "x", {}, [element("a", "y"), "text", element("b", "y")]);
 * assertEquals(childElements(f).length, 2);
 * ```
 */
export function childElements(parent: XmlElement, name?: string, ns?: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const child of parent.children) {
    if (typeof child === "string") continue;
    if (name !== undefined && child.name !== name) continue;
    if (ns !== undefined && child.ns !== ns) continue;
    out.push(child);
  }
  return out;
}

/**
 * The first child element with the given name (and namespace, when given).
 *
 * @example
 * ```ts
 * import { childElement, element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { assertEquals } from "@std/assert";
 * const iq = element("iq", "jabber:client", {}, [element("ping", "urn:xmpp:ping")]);
 * assertEquals(childElement(iq, "ping", "urn:xmpp:ping")?.name, "ping");
 * ```
 */
export function childElement(
  parent: XmlElement,
  name: string,
  ns?: string,
): XmlElement | undefined {
  for (const child of parent.children) {
    if (typeof child === "string" || child.name !== name) continue;
    if (ns === undefined || child.ns === ns) return child;
  }
  return undefined;
}

/**
 * The concatenated character data directly inside `el`.
 *
 * @example
 * ```ts
 * import { element, textOf } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { assertEquals } from "@std/assert";
 * assertEquals(textOf(element("body", "jabber:client", {}, ["a", "b"])), "ab");
 * ```
 */
export function textOf(el: XmlElement): string {
  let text = "";
  for (const child of el.children) if (typeof child === "string") text += child;
  return text;
}

/**
 * A copy of `el` with a different list of children.
 *
 * @example
 * ```ts
 * import { element, withChildren } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { assertEquals } from "@std/assert";
 * assertEquals(withChildren(element("a", ""), ["x"]).children, ["x"]);
 * ```
 */
export function withChildren(el: XmlElement, children: readonly XmlNode[]): XmlElement {
  return { name: el.name, ns: el.ns, attrs: el.attrs, children };
}
