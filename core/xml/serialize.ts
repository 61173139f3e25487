/**
 * Serializes elements to standalone XML text, declaring every namespace the output needs.
 *
 * The output never contains an XML declaration, comments, processing instructions or a DTD
 * (RFC 6120 §11.1), and never begins with whitespace (RFC 7395 §3.3.3).
 *
 * @example
 * ```ts
 * import { element, serialize } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { assertEquals } from "@std/assert";
 * const msg = element("message", "jabber:client", { to: "a@b" }, [
 *   element("body", "jabber:client", {}, ["1 < 2"]),
 * ]);
 * assertEquals(
 *   serialize(msg),
 *   "<message xmlns='jabber:client' to='a@b'><body>1 &lt; 2</body></message>",
 * );
 * ```
 * @module
 */

import type { XmlElement } from "./element.ts";
import { escapeAttribute, escapeText } from "./escape.ts";
import { isNcName } from "./names.ts";

/** Where the serialized element will be placed. */
export interface SerializeContext {
  /**
   * The default namespace in scope where the output is inserted (`""` for a standalone
   * document, `"jabber:client"` inside an RFC 6120 client stream).
   */
  readonly defaultNs?: string;
  /**
   * Namespaces that should be written with a prefix (`{ [uri]: prefix }`), e.g. the stream
   * namespace as `stream`. A declaration is added unless `declared` already binds it.
   */
  readonly prefixes?: Readonly<Record<string, string>>;
  /** Prefixes already declared where the output is inserted (`{ [prefix]: uri }`). */
  readonly declared?: Readonly<Record<string, string>>;
}

const EMPTY: Readonly<Record<string, string>> = Object.freeze({});

/**
 * Serializes `el` (and its subtree) for insertion into `context`.
 *
 * @example
 * ```ts
 * import { element, serialize } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { assertEquals } from "@std/assert";
 * const features = element("features", "http://etherx.jabber.org/streams");
 * const text = serialize(features, { prefixes: { "http://etherx.jabber.org/streams": "stream" } });
 * assertEquals(text, "<stream:features xmlns:stream='http://etherx.jabber.org/streams'/>");
 * ```
 */
export function serialize(el: XmlElement, context: SerializeContext = EMPTY): string {
  return write(
    el,
    context.defaultNs ?? "",
    context.prefixes ?? EMPTY,
    context.declared ?? EMPTY,
  );
}

function write(
  el: XmlElement,
  defaultNs: string,
  prefixes: Readonly<Record<string, string>>,
  declared: Readonly<Record<string, string>>,
): string {
  checkName(el.name, "element name");
  let qname = el.name;
  let out = "";
  let childDefault = defaultNs;
  let scope = declared;
  const prefix = own(prefixes, el.ns);
  if (prefix !== undefined && el.ns !== "") {
    checkName(prefix, "prefix");
    qname = prefix + ":" + el.name;
    if (own(scope, prefix) !== el.ns) {
      out += " xmlns:" + prefix + "='" + escapeAttribute(el.ns) + "'";
      scope = { ...scope, [prefix]: el.ns };
    }
  } else if (el.ns !== defaultNs) {
    out += " xmlns='" + escapeAttribute(el.ns) + "'";
    childDefault = el.ns;
  }
  const attrs = el.attrs;
  for (const key in attrs) {
    const value = escapeAttribute(attrs[key]!);
    if (key.charCodeAt(0) !== 123 /* { */) {
      checkName(key.startsWith("xml:") ? key.slice(4) : key, "attribute name");
      out += " " + key + "='" + value + "'";
      continue;
    }
    // `{uri}local`: a URI may contain `}` (it is peer text), a local name never does, so the
    // name starts after the last `}`; the URI is only ever written escaped, inside quotes.
    const close = key.lastIndexOf("}");
    const uri = key.slice(1, close);
    const local = key.slice(close + 1);
    checkName(local, "attribute name");
    let attrPrefix = own(prefixes, uri);
    if (attrPrefix === undefined || own(scope, attrPrefix) !== uri) {
      attrPrefix = attrPrefix ?? freePrefix(scope);
      if (own(scope, attrPrefix) !== uri) {
        out += " xmlns:" + attrPrefix + "='" + escapeAttribute(uri) + "'";
        scope = { ...scope, [attrPrefix]: uri };
      }
    }
    out += " " + attrPrefix + ":" + local + "='" + value + "'";
  }
  const children = el.children;
  if (children.length === 0) return "<" + qname + out + "/>";
  out = "<" + qname + out + ">";
  for (let i = 0; i < children.length; i++) {
    const child = children[i]!;
    out += typeof child === "string"
      ? escapeText(child)
      : write(child, childDefault, prefixes, scope);
  }
  return out + "</" + qname + ">";
}

/**
 * An own property of a record, or `undefined`. Namespace URIs are peer text: a plain lookup of
 * `constructor` or `toString` would find `Object.prototype`'s functions.
 */
function own(record: Readonly<Record<string, string>>, key: string): string | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Names cannot be escaped: one that is not an NCName is a programming error, never output. */
function checkName(name: string, what: string): void {
  if (!isNcName(name)) throw new XmlNameError(what, name);
}

/**
 * Thrown by {@link serialize} for an element or attribute name that is not an XML NCName: names
 * cannot be escaped, so such an element cannot be written. Elements from the core's parsers
 * always have valid names; this only happens to elements an application built by hand.
 *
 * @example
 * ```ts
 * import { element, serialize, XmlNameError } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { assertThrows } from "@std/assert";
 * assertThrows(() => serialize(element("a b", "")), XmlNameError);
 * ```
 */
export class XmlNameError extends TypeError {
  /** What kind of name it was (`element name`, `attribute name`, `prefix`). */
  readonly what: string;
  /** The offending name. */
  readonly value: string;

  /** Reports `value`, an invalid name of kind `what`. */
  constructor(what: string, value: string) {
    super(`Cannot serialize: invalid XML ${what} ${JSON.stringify(value.slice(0, 64))}`);
    this.name = "XmlNameError";
    this.what = what;
    this.value = value;
  }
}

function freePrefix(scope: Readonly<Record<string, string>>): string {
  let n = 0;
  while (own(scope, "ns" + n) !== undefined) n++;
  return "ns" + n;
}
