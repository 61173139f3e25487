/**
 * An HTTP/1.x request head reader (RFC 9112 §2-§5), sans I/O: bytes in as they arrive, the
 * request line and header fields out once the blank line has come. Strict: CRLF line ends, no
 * obsolete line folding, no whitespace before a colon, token names, no control characters in
 * values, only HTTP/1.0 and HTTP/1.1. Limits on the head's size (431) and its number of fields
 * (431) are checked as bytes arrive, so a peer never makes it hold more than `maxHeadBytes`.
 *
 * @example
 * ```ts
 * import { RequestHeadReader } from "@xmpp-websocket/xmpp-websocket/websocket";
 * import { assertEquals } from "@std/assert";
 * const reader = new RequestHeadReader();
 * const bytes = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
 * const read = reader.push(bytes);
 * assertEquals(read.kind === "head" && read.head.fields, [ [ "host", "a" ] ]);
 * ```
 * @module
 */

/** The reader's limits. */
export interface HttpHeadLimits {
  /** The largest head (request line, fields and the blank line), bytes. */
  readonly maxHeadBytes: number;
  /** The most header fields. */
  readonly maxHeaderCount: number;
}

/** Default limits: 16 KiB and 100 fields. */
export const DEFAULT_HTTP_HEAD_LIMITS: HttpHeadLimits = {
  maxHeadBytes: 16_384,
  maxHeaderCount: 100,
};

/** A request head. Field names are lower-cased; values are trimmed, bytes read as Latin-1. */
export interface HttpRequestHead {
  /** The request method, as sent. */
  readonly method: string;
  /** The request target (a path, usually). */
  readonly target: string;
  /** The HTTP version. */
  readonly version: "1.0" | "1.1";
  /** The header fields in order, as `[name, value]`. */
  readonly fields: readonly (readonly [string, string])[];
}

/** The outcome of feeding bytes. `rest`: bytes after the head (a body, or WebSocket frames). */
export type HeadRead =
  | { readonly kind: "incomplete" }
  | { readonly kind: "head"; readonly head: HttpRequestHead; readonly rest: Uint8Array }
  | { readonly kind: "error"; readonly status: 400 | 431 | 505; readonly text: string };

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const TARGET = /^[\x21-\x7e]+$/;
// Field values: HTAB, SP, visible ASCII and obs-text; nothing else (RFC 9110 §5.5).
const VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * The value of a field: every line of that name joined with ", " (as `Headers.get` does), or
 * `null`.
 *
 * @example
 * ```ts
 * import { fieldValue } from "@xmpp-websocket/xmpp-websocket/websocket";
 * import { assertEquals } from "@std/assert";
 * const head = { method: "GET", target: "/", version: "1.1" as const, fields: [["a", "1"], ["a", "2"]] as const };
 * assertEquals(fieldValue(head, "A"), "1, 2");
 * ```
 */
export function fieldValue(head: HttpRequestHead, name: string): string | null {
  const wanted = name.toLowerCase();
  let value: string | null = null;
  for (const [field, v] of head.fields) {
    if (field === wanted) value = value === null ? v : `${value}, ${v}`;
  }
  return value;
}

/** Reads one request head from bytes pushed as they arrive (one reader per request). */
export class RequestHeadReader {
  readonly #limits: HttpHeadLimits;
  #buffer = new Uint8Array(0);
  #scanned = 0;
  #done = false;

  /** A reader for one request head, bounded by `limits`. */
  constructor(limits: HttpHeadLimits = DEFAULT_HTTP_HEAD_LIMITS) {
    this.#limits = limits;
  }

  /** Feeds bytes; after a `head` or an `error`, the reader must not be fed again. */
  push(bytes: Uint8Array): HeadRead {
    if (this.#done) throw new RangeError("This request head has already been read");
    const merged = new Uint8Array(this.#buffer.length + bytes.length);
    merged.set(this.#buffer);
    merged.set(bytes, this.#buffer.length);
    this.#buffer = merged;
    // Empty lines before the request line are ignored (RFC 9112 §2.2).
    let start = 0;
    while (merged[start] === 13 && merged[start + 1] === 10) start += 2;
    const end = findBlankLine(merged, Math.max(start, this.#scanned - 3));
    if (end < 0) {
      this.#scanned = merged.length;
      if (merged.length - start > this.#limits.maxHeadBytes) {
        return this.#stop(431, "Request Header Fields Too Large");
      }
      return { kind: "incomplete" };
    }
    if (end + 4 - start > this.#limits.maxHeadBytes) {
      return this.#stop(431, "Request Header Fields Too Large");
    }
    this.#done = true;
    const rest = merged.slice(end + 4);
    this.#buffer = new Uint8Array(0);
    const parsed = parseHead(latin1(merged.subarray(start, end)), this.#limits.maxHeaderCount);
    return "status" in parsed ? { kind: "error", ...parsed } : { kind: "head", head: parsed, rest };
  }

  #stop(status: 431, text: string): HeadRead {
    this.#done = true;
    this.#buffer = new Uint8Array(0);
    return { kind: "error", status, text };
  }
}

function findBlankLine(bytes: Uint8Array, from: number): number {
  for (
    let i = bytes.indexOf(13, from);
    i >= 0 && i + 3 < bytes.length;
    i = bytes.indexOf(13, i + 1)
  ) {
    if (bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i;
  }
  return -1;
}

function latin1(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 4096) {
    text += String.fromCharCode(...bytes.subarray(i, i + 4096));
  }
  return text;
}

type Refusal = { readonly status: 400 | 431 | 505; readonly text: string };

function parseHead(text: string, maxFields: number): HttpRequestHead | Refusal {
  const lines = text.split("\r\n");
  const parts = lines[0]!.split(" ");
  if (parts.length !== 3) return { status: 400, text: "Bad Request: malformed request line" };
  const [method, target, protocol] = parts as [string, string, string];
  if (!TOKEN.test(method)) return { status: 400, text: "Bad Request: malformed method" };
  if (!TARGET.test(target)) return { status: 400, text: "Bad Request: malformed request target" };
  const version = /^HTTP\/(\d)\.(\d)$/.exec(protocol);
  if (version === null) return { status: 400, text: "Bad Request: malformed HTTP version" };
  if (version[1] !== "1") return { status: 505, text: "HTTP Version Not Supported" };
  if (lines.length - 1 > maxFields) {
    return { status: 431, text: `Request Header Fields Too Large: more than ${maxFields} fields` };
  }
  const fields: [string, string][] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(":");
    const name = line.slice(0, colon);
    if (colon <= 0 || !TOKEN.test(name)) {
      return { status: 400, text: "Bad Request: malformed header field" };
    }
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
    if (!VALUE.test(value)) return { status: 400, text: "Bad Request: invalid header value" };
    fields.push([name.toLowerCase(), value]);
  }
  return { method, target, version: version[2] === "0" ? "1.0" : "1.1", fields };
}
