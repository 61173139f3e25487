/**
 * Limits applied while parsing peer XML (RFC 6120 §13.12, RFC 6455 §10.4). Every limit is
 * configurable; the defaults are safe for XMPP.
 *
 * @example
 * ```ts
 * import { DEFAULT_XML_LIMITS, resolveXmlLimits } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { assertEquals } from "@std/assert";
 * const limits = resolveXmlLimits({ maxDepth: 32 });
 * assertEquals(limits.maxDepth, 32);
 * assertEquals(limits.maxBytes === DEFAULT_XML_LIMITS.maxBytes, true);
 * ```
 * @module
 */

/** Parsing limits; each is checked incrementally while parsing. */
export interface XmlLimits {
  /**
   * Largest element (RFC 7395 message, or RFC 6120 first-level element) in bytes of UTF-8.
   * RFC 6120 §13.12 requires at least 10000.
   */
  readonly maxBytes: number;
  /** Deepest element nesting, counting the top-level element as 1. */
  readonly maxDepth: number;
  /**
   * Most elements in one message (RFC 6120: in one first-level element), itself included.
   * Tiny elements are the costliest bytes to parse; this keeps a message of them cheap to
   * refuse.
   */
  readonly maxElements: number;
  /** Most attributes (namespace declarations included) on one element. */
  readonly maxAttributes: number;
  /** Most namespace declarations on one element. */
  readonly maxNamespaceDeclarations: number;
  /** Longest element or attribute name, in characters. */
  readonly maxNameLength: number;
  /** Longest attribute value, in characters. */
  readonly maxAttributeValueLength: number;
}

/**
 * The defaults: 256 KiB elements, depth 64, 10 000 elements per message, 64 attributes of
 * which at most 32 namespace declarations, 256-char names, 32 KiB values.
 */
export const DEFAULT_XML_LIMITS: XmlLimits = Object.freeze({
  maxBytes: 262_144,
  maxDepth: 64,
  maxElements: 10_000,
  maxAttributes: 64,
  maxNamespaceDeclarations: 32,
  maxNameLength: 256,
  maxAttributeValueLength: 32_768,
});

/**
 * Fills unspecified limits with defaults and checks that every limit is a positive integer.
 * Throws `RangeError` on a bad value (a configuration mistake, not peer input).
 *
 * @example
 * ```ts
 * import { resolveXmlLimits } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { assertEquals } from "@std/assert";
 * assertEquals(resolveXmlLimits().maxAttributes, 64);
 * ```
 */
export function resolveXmlLimits(partial: Partial<XmlLimits> = {}): XmlLimits {
  const limits = { ...DEFAULT_XML_LIMITS, ...withoutUndefined(partial) };
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value <= 0) {
      throw new RangeError(`Invalid XML limit ${key}: expected a positive integer, got ${value}`);
    }
  }
  return Object.freeze(limits);
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => v !== undefined),
  ) as Partial<T>;
}

/**
 * Number of UTF-8 bytes needed to encode `text`, stopping early once `stopAbove` is passed.
 *
 * @example
 * ```ts
 * import { utf8Length } from "./limits.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(utf8Length("é€😀"), 2 + 3 + 4);
 * ```
 */
export function utf8Length(text: string, stopAbove = Infinity): number {
  let bytes = 0;
  for (let i = 0; i < text.length && bytes <= stopAbove; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * The one instance of something built per set of limits (a parser, a checker), kept in `cache`
 * under the resolved limits: parsers and checkers are reused by every connection, since each
 * parse or check runs synchronously from a reset state. A few distinct configurations at most
 * are kept (16); others are built on every call. Throws `RangeError` on a bad limit.
 *
 * @example
 * ```ts
 * import { sharedPerLimits } from "./limits.ts";
 * import { assertEquals } from "@std/assert";
 * const cache = new Map<string, object>();
 * const a = sharedPerLimits(cache, { maxDepth: 8 }, () => ({}));
 * assertEquals(sharedPerLimits(cache, { maxDepth: 8 }, () => ({})), a);
 * ```
 */
export function sharedPerLimits<T>(
  cache: Map<string, T>,
  limits: Partial<XmlLimits> | undefined,
  make: (resolved: XmlLimits) => T,
): T {
  const resolved = resolveXmlLimits(limits);
  const key = JSON.stringify(resolved);
  let shared = cache.get(key);
  if (shared === undefined) {
    shared = make(resolved);
    if (cache.size < 16) cache.set(key, shared);
  }
  return shared;
}
