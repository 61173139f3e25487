/**
 * The XML layer of the core: immutable elements, a serializer, a reusable single-document
 * parser (RFC 7395 messages) and an incremental stream splitter (RFC 6120), all enforcing the
 * restricted-XML policy of RFC 6120 §11 and configurable limits.
 *
 * @example
 * ```ts
 * import { DocumentParser, serialize } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { assertEquals } from "@std/assert";
 * const result = new DocumentParser().parse("<iq xmlns='jabber:client' type='get' id='1'/>");
 * if (!result.ok) throw new Error(result.error.text);
 * assertEquals(serialize(result.element), "<iq xmlns='jabber:client' type='get' id='1'/>");
 * ```
 * @module
 */

export {
  childElement,
  childElements,
  element,
  isElement,
  textOf,
  withChildren,
  type XmlElement,
  type XmlNode,
} from "./element.ts";
export { escapeAttribute, escapeText } from "./escape.ts";
export { serialize, type SerializeContext, XmlNameError } from "./serialize.ts";
export { DEFAULT_XML_LIMITS, resolveXmlLimits, type XmlLimits } from "./limits.ts";
export type { XmlError, XmlErrorCondition } from "./parse_error.ts";
export { DocumentParser, type ParseResult } from "./document_parser.ts";
export { RawElement, type RelayPolicy } from "./raw_element.ts";
export {
  DECLARATION_TEXT,
  type ElementCheck,
  ElementChecker,
  NO_SCOPE,
  type OuterScope,
  standaloneText,
} from "./element_check.ts";
export { type SplitEvent, type SplitterLimits, StreamSplitter } from "./stream_splitter.ts";
export { type StreamEvent, StreamParser, type StreamParserOptions } from "./stream_parser.ts";
