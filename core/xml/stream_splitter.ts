/**
 * Cuts an RFC 6120 stream, arriving in arbitrary chunks, into the texts of its parts by
 * position: the stream header's start tag, each first-level element, whitespace runs and the
 * footer. It builds nothing and checks only what it needs to find the boundaries (tags, quoted
 * values, CDATA sections, nesting depth); each element's text is then validated whole by
 * {@link ElementChecker} (the relay path of the gateway, issue 10) or parsed by
 * {@link DocumentParser}. Its cost is linear: every character is looked at once, and the part
 * of an unfinished element already scanned is set aside as pieces (joined once, when the element
 * is complete), so an element trickling in over many chunks is never copied again per chunk.
 *
 * @example
 * ```ts
 * import { StreamSplitter } from "./stream_splitter.ts";
 * import { assertEquals } from "@std/assert";
 * const splitter = new StreamSplitter();
 * splitter.push("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'> <presence/><message><bo");
 * assertEquals(splitter.next()?.type, "header");
 * assertEquals(splitter.next()?.type, "whitespace");
 * assertEquals(splitter.next(), { type: "element", text: "<presence/>" });
 * assertEquals(splitter.next(), undefined); // the message is not complete yet
 * splitter.push("dy>hi</body></message></stream:stream>");
 * assertEquals(splitter.next(), { type: "element", text: "<message><body>hi</body></message>" });
 * assertEquals(splitter.next()?.type, "footer");
 * ```
 * @module
 */

import { type XmlError, xmlError } from "./parse_error.ts";

/** One part of the stream, as text. */
export type SplitEvent =
  | {
    readonly type: "header";
    /** The start tag (`<stream:stream ...>`), without the XML declaration. */
    readonly text: string;
    /** The XML declaration that preceded it, or "". */
    readonly declaration: string;
  }
  | { readonly type: "element"; readonly text: string }
  | { readonly type: "whitespace" }
  | { readonly type: "footer"; readonly text: string }
  | { readonly type: "error"; readonly error: XmlError };

/** Limits of a {@link StreamSplitter}. */
export interface SplitterLimits {
  /** Longest header or first-level element, in characters (counted while scanning). */
  readonly maxChars: number;
}

const TEXT = 0;
const TAG = 1;
const QUOTED = 2;
const CDATA = 3;
const DECLARATION = 4;

/**
 * The splitter; see the module documentation. One per stream; `restart()` begins a new
 * document after SASL success (RFC 6120 §4.3.3) with whatever input is still unread.
 *
 * @example
 * ```ts
 * import { StreamSplitter } from "./stream_splitter.ts";
 * import { assertEquals } from "@std/assert";
 * const splitter = new StreamSplitter({ maxChars: 10 });
 * splitter.push("<s:stream xmlns:s='x'><message><body>far too long</body></message>");
 * assertEquals(splitter.next()?.type, "header");
 * assertEquals(splitter.next()?.type, "error");
 * ```
 */
export class StreamSplitter {
  readonly #maxChars: number;
  /** The last bytes of a character that has not fully arrived (0 to 3 bytes). */
  #tail: Uint8Array | undefined;
  #bomChecked = false;
  /** Text not yet set aside: from the current part's start (or resume point) onwards. */
  #buffer = "";
  /** The current part's text scanned before `#buffer` began (joined when the part is complete). */
  #pieces: string[] = [];
  #piecesLength = 0;
  /** The last character of the tag being scanned outside quotes (`/` makes it empty). */
  #lastTagChar = 0;
  /** Start of the unconsumed text (of the current part, if one is in progress). */
  #start = 0;
  /** Where the scan resumes. */
  #scan = 0;
  #state = TEXT;
  #quote = 0;
  /** 0: before the header; 1: between first-level elements; more: inside one. */
  #depth = 0;
  /** The tag being scanned is an end tag. */
  #endTag = false;
  /** Anything but whitespace seen in this document (an XML declaration must come first). */
  #begun = false;
  #declaration = "";
  #failed: XmlError | undefined;
  #ended = false;

  /** Creates a splitter (default limit: 1 MiB characters per header or element). */
  constructor(limits: Partial<SplitterLimits> = {}) {
    this.#maxChars = limits.maxChars ?? 1_048_576;
  }

  /** Appends a chunk: bytes (UTF-8, a character may straddle chunks) or text. */
  push(chunk: Uint8Array | string): void {
    if (this.#failed !== undefined) return;
    if (typeof chunk === "string") {
      this.#buffer += chunk;
      return;
    }
    // One decoder shared by every splitter, on whole characters only: a streaming decoder per
    // connection holds a native resource and takes a slower path (issue 10).
    let bytes = chunk;
    if (this.#tail !== undefined) {
      bytes = new Uint8Array(this.#tail.length + chunk.length);
      bytes.set(this.#tail);
      bytes.set(chunk, this.#tail.length);
      this.#tail = undefined;
    }
    const cut = completeCharacters(bytes);
    if (cut < bytes.length) this.#tail = bytes.slice(cut);
    try {
      let text = UTF8.decode(cut === bytes.length ? bytes : bytes.subarray(0, cut));
      if (!this.#bomChecked && text.length > 0) {
        // A byte order mark may open the byte stream (XML 1.0 §4.3.3), nowhere else.
        this.#bomChecked = true;
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      }
      this.#buffer += text;
    } catch {
      this.#failed = xmlError("unsupported-encoding", "RFC 6120 §11.6: invalid UTF-8");
    }
  }

  /** Begins a new document at the current position (the unread input is kept). */
  restart(): void {
    this.#pieces = [];
    this.#piecesLength = 0;
    this.#state = TEXT;
    this.#depth = 0;
    this.#scan = this.#start;
    this.#begun = false;
    this.#declaration = "";
    this.#ended = false;
  }

  /** The next complete part, or `undefined` when more input is needed. */
  next(): SplitEvent | undefined {
    if (this.#failed !== undefined) return { type: "error", error: this.#failed };
    const event = this.#next();
    if (event === undefined) this.#spill();
    return event;
  }

  #fail(condition: XmlError["condition"], text: string, tooBig = false): SplitEvent {
    this.#failed = xmlError(condition, text, tooBig);
    return { type: "error", error: this.#failed };
  }

  /**
   * Waiting for more input: what the current part holds up to the resume point goes to the
   * pieces, and the buffer keeps only the rest (a few characters at most), so the next chunk is
   * appended to a short string rather than to the whole unfinished element.
   */
  #spill(): void {
    const s = this.#buffer;
    if (this.#scan > this.#start) {
      this.#pieces.push(s.slice(this.#start, this.#scan));
      this.#piecesLength += this.#scan - this.#start;
    }
    this.#buffer = s.slice(this.#scan);
    this.#start = 0;
    this.#scan = 0;
  }

  /** The text of the part that ends at `end`, from its start; the pieces are taken. */
  #partText(s: string, end: number): string {
    let text = s.slice(this.#start, end);
    if (this.#pieces.length > 0) {
      text = this.#pieces.join("") + text;
      this.#pieces = [];
      this.#piecesLength = 0;
    }
    return text;
  }

  #next(): SplitEvent | undefined {
    const s = this.#buffer;
    const n = s.length;
    let i = this.#scan;
    if (this.#ended) {
      this.#start = this.#scan = n; // nothing after the footer belongs to the stream
      return undefined;
    }
    while (i < n) {
      switch (this.#state) {
        case TEXT: {
          if (this.#depth >= 2) {
            const lt = s.indexOf("<", i);
            if (lt < 0) {
              i = n;
              break;
            }
            i = lt;
          } else {
            // Between first-level elements (or before the header): whitespace only.
            const from = i;
            while (i < n && isSpace(s.charCodeAt(i))) i++;
            if (i > from) this.#begun = true; // no XML declaration after whitespace
            if (i > from && this.#depth === 1) {
              this.#start = this.#scan = i;
              return { type: "whitespace" };
            }
            if (i >= n) {
              this.#start = i;
              break;
            }
            if (s.charCodeAt(i) !== 60 /* < */) {
              return this.#fail(
                this.#depth === 1 ? "bad-format" : "not-well-formed",
                this.#depth === 1
                  ? "Character data between first-level elements"
                  : "Text before the stream header",
              );
            }
            this.#start = i;
          }
          // At a '<': decide what it opens (two more characters may be needed).
          if (i + 1 >= n) {
            this.#scan = i;
            return this.#checkSize(i);
          }
          const next = s.charCodeAt(i + 1);
          if (next === 33 /* ! */) {
            if (i + 9 > n && "<![CDATA[".startsWith(s.slice(i, n))) {
              this.#scan = i;
              return this.#checkSize(i);
            }
            if (this.#depth >= 2 && s.startsWith("<![CDATA[", i)) {
              this.#state = CDATA;
              i += 9;
              break;
            }
            if (s.startsWith("<![CDATA[", i)) {
              // As the tree parser: character data between first-level elements is not XML here.
              return this.#fail("not-well-formed", "A CDATA section between first-level elements");
            }
            return this.#fail(
              "restricted-xml",
              "RFC 6120 §11.1: markup declarations and comments are not allowed",
            );
          }
          if (next === 63 /* ? */) {
            if (this.#depth === 0 && !this.#begun) {
              if (i + 6 > n && "<?xml".startsWith(s.slice(i, Math.min(n, i + 5)))) {
                this.#scan = i;
                return undefined;
              }
              if (/^<\?xml[ \t\r\n]/.test(s.slice(i, i + 6))) {
                this.#begun = true;
                this.#state = DECLARATION;
                i += 2;
                break;
              }
            }
            return this.#fail(
              "restricted-xml",
              "RFC 6120 §11.1: processing instructions are not allowed",
            );
          }
          this.#begun = true;
          this.#endTag = next === 47;
          this.#lastTagChar = 0;
          this.#state = TAG;
          i += 1;
          break;
        }
        case TAG: {
          for (; i < n; i++) {
            const c = s.charCodeAt(i);
            if (c === 34 || c === 39) {
              this.#quote = c;
              this.#state = QUOTED;
              i++;
              break;
            }
            if (c === 60) return this.#fail("not-well-formed", "'<' inside a tag");
            if (c !== 62 /* > */) {
              this.#lastTagChar = c;
              continue;
            }
            i++;
            this.#state = TEXT;
            const event = this.#tagEnded(s, i, this.#lastTagChar === 47 /* / */);
            if (event !== undefined) return event;
            break;
          }
          break;
        }
        case QUOTED: {
          const close = s.indexOf(this.#quote === 34 ? '"' : "'", i);
          if (close < 0) {
            i = n;
            break;
          }
          this.#state = TAG;
          this.#lastTagChar = this.#quote;
          i = close + 1;
          break;
        }
        case CDATA: {
          const end = s.indexOf("]]>", i);
          if (end < 0) {
            i = Math.max(i, n - 2);
            this.#scan = i;
            return this.#checkSize(i);
          }
          this.#state = TEXT;
          i = end + 3;
          break;
        }
        case DECLARATION: {
          const end = s.indexOf("?>", i);
          if (end < 0) {
            i = Math.max(i, n - 1);
            this.#scan = i;
            return this.#checkSize(i);
          }
          this.#declaration = this.#partText(s, end + 2);
          this.#state = TEXT;
          i = end + 2;
          this.#start = i;
          break;
        }
      }
    }
    this.#scan = i;
    return this.#checkSize(i);
  }

  /** A tag ended at `end` (exclusive); returns the part it completes, if any. */
  #tagEnded(s: string, end: number, empty: boolean): SplitEvent | undefined {
    this.#scan = end;
    const before = this.#depth;
    if (this.#endTag) {
      if (before === 0) return this.#fail("not-well-formed", "An end tag before the stream header");
      this.#depth--;
    } else if (!empty) this.#depth++;
    if (before === 0) {
      // The stream header; written as an empty tag, the stream opens and ends at once.
      const declaration = this.#declaration;
      this.#declaration = "";
      this.#ended = empty;
      const text = this.#partText(s, end);
      this.#start = end;
      return { type: "header", text, declaration };
    }
    if (this.#depth === 0) {
      this.#ended = true;
      const text = this.#partText(s, end);
      this.#start = end;
      return { type: "footer", text };
    }
    if (this.#depth !== 1) return undefined;
    const text = this.#partText(s, end);
    this.#start = end;
    return text.length > this.#maxChars ? this.#tooBig() : { type: "element", text };
  }

  /** Fails if the unfinished part starting at the consumed position has grown too long. */
  #checkSize(at: number): SplitEvent | undefined {
    return this.#piecesLength + at - this.#start > this.#maxChars ? this.#tooBig() : undefined;
  }

  #tooBig(): SplitEvent {
    return this.#fail("policy-violation", `An element exceeds ${this.#maxChars} characters`, true);
  }
}

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * How many leading bytes of `bytes` hold whole UTF-8 characters: all of them, unless the last
 * character is still incomplete (its lead byte and fewer continuation bytes than it announces).
 * Invalid sequences are left in, for the decoder to refuse.
 */
function completeCharacters(bytes: Uint8Array): number {
  const n = bytes.length;
  let lead = n - 1;
  while (lead >= 0 && lead > n - 4 && (bytes[lead]! & 0xc0) === 0x80) lead--;
  if (lead < 0) return n;
  const b = bytes[lead]!;
  const size = b < 0x80
    ? 1
    : (b & 0xe0) === 0xc0
    ? 2
    : (b & 0xf0) === 0xe0
    ? 3
    : (b & 0xf8) === 0xf0
    ? 4
    : 1;
  return n - lead >= size ? n : lead;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 13;
}
