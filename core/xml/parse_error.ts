/**
 * What the XML layer reports when peer input breaks a rule, as data (never a throw to callers).
 *
 * @example
 * ```ts
 * import { xmlError } from "./parse_error.ts";
 * import { assertEquals } from "@std/assert";
 * const error = xmlError("restricted-xml", "RFC 6120 §11.1: comments are not allowed");
 * assertEquals(error.condition, "restricted-xml");
 * ```
 * @module
 */

/** The stream error conditions the XML layer can produce (RFC 6120 §4.9.3). */
export type XmlErrorCondition =
  | "not-well-formed"
  | "restricted-xml"
  | "policy-violation"
  | "unsupported-encoding"
  | "bad-format";

/** A rule broken by peer XML, with the stream error condition it calls for. */
export interface XmlError {
  /** The stream error condition to send to the peer. */
  readonly condition: XmlErrorCondition;
  /** A human-readable explanation (for logs and the `<text/>` of the stream error). */
  readonly text: string;
  /** True when a size limit was exceeded (WebSocket close code 1009). */
  readonly tooBig: boolean;
}

/**
 * Builds an {@link XmlError}.
 *
 * @example
 * ```ts
 * import { xmlError } from "./parse_error.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(xmlError("policy-violation", "too big", true).tooBig, true);
 * ```
 */
export function xmlError(condition: XmlErrorCondition, text: string, tooBig = false): XmlError {
  return { condition, text, tooBig };
}

/** Thrown inside the parser callbacks to stop parsing; caught before it leaves the XML layer. */
export class ParseStop {
  /** The rule that was broken. */
  readonly error: XmlError;
  /** Wraps `error` to be thrown out of a parser callback. */
  constructor(error: XmlError) {
    this.error = error;
  }
}
