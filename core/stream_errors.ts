/**
 * RFC 6120 §4.9 stream errors: the conditions, and how to build and read `<stream:error/>`.
 *
 * @example
 * ```ts
 * import { readStreamError, streamError } from "@xmpp-websocket/xmpp-websocket/session";
 * import { assertEquals } from "@std/assert";
 * const error = streamError("host-unknown", "example.net is not served here");
 * assertEquals(readStreamError(error).condition, "host-unknown");
 * ```
 * @module
 */

import { element, type XmlElement } from "./xml/element.ts";
import { NS } from "./namespaces.ts";

/** Every defined stream error condition of RFC 6120 §4.9.3. */
export const STREAM_ERROR_CONDITIONS = [
  "bad-format",
  "bad-namespace-prefix",
  "conflict",
  "connection-timeout",
  "host-gone",
  "host-unknown",
  "improper-addressing",
  "internal-server-error",
  "invalid-from",
  "invalid-namespace",
  "invalid-xml",
  "not-authorized",
  "not-well-formed",
  "policy-violation",
  "remote-connection-failed",
  "reset",
  "resource-constraint",
  "restricted-xml",
  "see-other-host",
  "system-shutdown",
  "undefined-condition",
  "unsupported-encoding",
  "unsupported-feature",
  "unsupported-stanza-type",
  "unsupported-version",
] as const;

/** A stream error condition (RFC 6120 §4.9.3). */
export type StreamErrorCondition = typeof STREAM_ERROR_CONDITIONS[number];

const CONDITIONS: ReadonlySet<string> = new Set(STREAM_ERROR_CONDITIONS);

/**
 * Whether `name` is a defined stream error condition.
 *
 * @example
 * ```ts
 * import { isStreamErrorCondition } from "@xmpp-websocket/xmpp-websocket/session";
 * import { assertEquals } from "@std/assert";
 * assertEquals(isStreamErrorCondition("conflict"), true);
 * assertEquals(isStreamErrorCondition("nope"), false);
 * ```
 */
export function isStreamErrorCondition(name: string): name is StreamErrorCondition {
  return CONDITIONS.has(name);
}

/**
 * Builds a `<stream:error/>` element (namespace-resolved; serialization adds declarations).
 * `content` is the character data of the condition element (only `see-other-host` has any).
 *
 * @example
 * ```ts
 * import { streamError } from "@xmpp-websocket/xmpp-websocket/session";
 * import { serialize } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { assertEquals } from "@std/assert";
 * assertEquals(serialize(streamError("conflict")), "<error xmlns='http://etherx.jabber.org/streams'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></error>");
 * ```
 */
export function streamError(
  condition: StreamErrorCondition,
  text?: string,
  content?: string,
  extra?: XmlElement,
): XmlElement {
  const children = [element(condition, NS.STREAM_ERRORS, {}, content ? [content] : [])];
  if (text) children.push(element("text", NS.STREAM_ERRORS, { "xml:lang": "en" }, [text]));
  // RFC 6120 §4.9.4: an application-specific condition in its own namespace.
  if (extra) children.push(extra);
  return element("error", NS.STREAMS, {}, children);
}

/** A stream error as read from a peer. */
export interface StreamErrorInfo {
  /** The defined condition (`undefined-condition` when unknown). */
  readonly condition: StreamErrorCondition;
  /** The `<text/>`, if any (for logs; never to be interpreted, RFC 6120 §4.9.2). */
  readonly text?: string;
  /** Character data of the condition (the host of `see-other-host`). */
  readonly content?: string;
}

/**
 * Reads a `<stream:error/>`; unknown or missing conditions become `undefined-condition`, and
 * the RFC 3920 name `xml-not-well-formed` becomes `not-well-formed`.
 *
 * @example
 * ```ts
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { readStreamError } from "@xmpp-websocket/xmpp-websocket/session";
 * import { assertEquals } from "@std/assert";
 * const el = element("error", "http://etherx.jabber.org/streams", {}, [
 *   element("xml-not-well-formed", "urn:ietf:params:xml:ns:xmpp-streams"),
 * ]);
 * assertEquals(readStreamError(el).condition, "not-well-formed");
 * ```
 */
export function readStreamError(error: XmlElement): StreamErrorInfo {
  let condition: StreamErrorCondition = "undefined-condition";
  let text: string | undefined;
  let content: string | undefined;
  for (const child of error.children) {
    if (typeof child === "string" || child.ns !== NS.STREAM_ERRORS) continue;
    if (child.name === "text") text = textContent(child);
    else if (child.name === "xml-not-well-formed") condition = "not-well-formed";
    else if (isStreamErrorCondition(child.name)) {
      condition = child.name;
      const data = textContent(child).trim();
      if (data) content = data;
    }
  }
  return { condition, ...(text !== undefined ? { text } : {}), ...(content ? { content } : {}) };
}

function textContent(el: XmlElement): string {
  let text = "";
  for (const child of el.children) if (typeof child === "string") text += child;
  return text;
}

/**
 * Whether `el` is a stream error (`<error/>` in the streams namespace, any prefix).
 *
 * @example
 * ```ts
 * import { isStreamError, streamError } from "@xmpp-websocket/xmpp-websocket/session";
 * import { assertEquals } from "@std/assert";
 * assertEquals(isStreamError(streamError("reset")), true);
 * ```
 */
export function isStreamError(el: XmlElement): boolean {
  return el.name === "error" && el.ns === NS.STREAMS;
}
