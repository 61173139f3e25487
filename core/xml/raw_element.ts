/**
 * An element kept as the text it arrived in, once validated: what the gateway relays without
 * building a tree or serializing again (issue 10). Only the framing codecs create one, after a
 * complete well-formedness and namespace check of exactly this text; the class cannot be
 * forged from outside (its brand is a private field, its constructor needs a module-private
 * token), so a session that sends a `RawElement` sends a validated, standalone,
 * namespace-complete element and nothing else.
 *
 * @example
 * ```ts
 * import { RawElement } from "./raw_element.ts";
 * import { assertEquals, assertThrows } from "@std/assert";
 * assertEquals(RawElement.isValidated({ name: "x", ns: "y", text: "<x/>" }), false);
 * assertThrows(() => new RawElement(Symbol("forged"), "x", "", "<x/>"), TypeError);
 * ```
 * @module
 */

const TOKEN = Symbol("validated element text");

/** A validated element as text; see the module documentation. */
export class RawElement {
  /** The root's local name. */
  readonly name: string;
  /** The root's namespace. */
  readonly ns: string;
  /** The element as a standalone document: no XML declaration, every prefix declared within. */
  readonly text: string;
  readonly #validated = true;

  /** Only for the codecs (the token is private to this module); throws `TypeError` otherwise. */
  constructor(token: symbol, name: string, ns: string, text: string) {
    if (token !== TOKEN) throw new TypeError("A RawElement is made only by a validating codec");
    this.name = name;
    this.ns = ns;
    this.text = text;
  }

  /**
   * Whether `value` is a `RawElement` made by a codec.
   *
   * @example
   * ```ts
   * import { RawElement, validatedRawElement } from "./raw_element.ts";
   * import { assertEquals } from "@std/assert";
   * assertEquals(RawElement.isValidated(validatedRawElement("presence", "jabber:client", "<presence xmlns='jabber:client'/>")), true);
   * ```
   */
  static isValidated(value: unknown): value is RawElement {
    return typeof value === "object" && value !== null && #validated in value;
  }
}

/**
 * Wraps text that the caller has just validated completely as one standalone element (framing
 * codecs only: it is not exported from any entry point).
 *
 * @example
 * ```ts
 * import { validatedRawElement } from "./raw_element.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(validatedRawElement("r", "urn:xmpp:sm:3", "<r xmlns='urn:xmpp:sm:3'/>").name, "r");
 * ```
 */
export function validatedRawElement(name: string, ns: string, text: string): RawElement {
  return new RawElement(TOKEN, name, ns, text);
}

/**
 * Which elements a codec may deliver as {@link RawElement}s rather than trees: those whose
 * root (local name, namespace) the consumer never needs to look inside.
 */
export type RelayPolicy = (name: string, ns: string) => boolean;
