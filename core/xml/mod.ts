/**
 * The XML layer of the core: immutable elements, a serializer, a reusable single-document
 * parser (RFC 7395 messages) and an incremental stream splitter (RFC 6120), all enforcing the
 * restricted-XML policy of RFC 6120 §11 and configurable limits.
 *
 * @example
 * ```ts
 * import { DocumentParser, serialize } from "./mod.ts";
 * const result = new DocumentParser().parse("<iq xmlns='jabber:client' type='get' id='1'/>");
 * if (result.ok) console.log(serialize(result.element));
 * // <iq xmlns='jabber:client' type='get' id='1'/>
 * ```
 * @module
 */

export * from "./element.ts";
export * from "./escape.ts";
export * from "./serialize.ts";
export * from "./limits.ts";
export * from "./parse_error.ts";
export { findIllegalCharacter, type RawError, type RawScan, RawScanner } from "./restricted.ts";
export { DocumentParser, type ParseResult } from "./document_parser.ts";
export { type StreamEvent, StreamParser, type StreamParserOptions } from "./stream_parser.ts";
