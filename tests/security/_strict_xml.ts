/**
 * An independent, strict XML checker for the hostile suites, built on `saxes` (a conforming,
 * namespace-aware XML parser from npm that no one here wrote, installed in
 * tests/interop/node_clients by scripts/install_test_deps.sh) rather than on the core's own
 * parser: well-formedness, namespace well-formedness, and RFC 6120 §11 restricted XML (no DTD,
 * comment or processing instruction; only the predefined entities).
 *
 * - {@link checkStandalone}: one RFC 7395 message is exactly one such element (#12, #13, #15).
 * - {@link StreamChecker}: every byte of one direction of an RFC 6120 TCP stream is one such
 *   document per stream (a restart begins a new document with an XML declaration, RFC 6120
 *   §4.3.3; nothing but whitespace between first-level elements).
 *
 * @module
 */

import { createRequire } from "node:module";

interface SaxesTag {
  readonly name: string;
  readonly uri: string;
}
interface SaxesParserLike {
  on(event: string, handler: (arg: never) => void): void;
  write(chunk: string): SaxesParserLike;
  close(): SaxesParserLike;
}
type SaxesCtor = new (options: { xmlns: boolean; position?: boolean }) => SaxesParserLike;

const require = createRequire(import.meta.url);
const { SaxesParser } = require(
  new URL("../interop/node_clients/node_modules/saxes/saxes.js", import.meta.url).pathname,
) as { SaxesParser: SaxesCtor };

const WHITESPACE = /^[ \t\r\n]*$/;

/**
 * Why `text` is not exactly one well-formed, namespace-well-formed element without DTD, comment,
 * PI or XML declaration, starting with `<` (undefined: it is).
 */
export function checkStandalone(text: string): string | undefined {
  if (!text.startsWith("<")) return "does not start with '<'";
  const problems: string[] = [];
  let roots = 0;
  let depth = 0;
  const parser = new SaxesParser({ xmlns: true });
  parser.on("error", (e: Error) => problems.push(e.message));
  parser.on("doctype", () => problems.push("DOCTYPE"));
  parser.on("comment", () => problems.push("comment"));
  parser.on("processinginstruction", () => problems.push("processing instruction"));
  parser.on("xmldecl", () => problems.push("XML declaration"));
  parser.on("opentag", () => {
    if (depth++ === 0) roots++;
  });
  parser.on("closetag", () => void depth--);
  parser.on("text", (t: string) => {
    if (depth === 0 && !WHITESPACE.test(t)) problems.push("text outside the root");
  });
  try {
    parser.write(text).close();
  } catch (error) {
    problems.push(`parser threw: ${(error as Error).message}`);
  }
  if (roots !== 1) problems.push(`${roots} root elements`);
  return problems.length > 0 ? problems.slice(0, 3).join("; ") : undefined;
}

const RESTART = "<?xml";

/**
 * Checks one direction of an RFC 6120 stream, chunk by chunk, as it passes. Problems are kept in
 * `problems` (with the offset and a window of the text around), never thrown.
 */
export class StreamChecker {
  readonly label: string;
  readonly problems: string[] = [];
  /** First-level elements seen (all streams). */
  elements = 0;
  /** Streams (documents) begun. */
  streams = 0;
  /**
   * Called with each first-level element's name and namespace (a pair of checkers uses it to
   * tell each other that SASL `<success/>` or TLS `<proceed/>` makes the next bytes a new
   * stream, RFC 6120 §4.3.3).
   */
  onElement: ((name: string, uri: string) => void) | undefined;
  #restartDue = false;
  #parser: SaxesParserLike | undefined;
  #depth = 0;
  #ended = false;
  #held = "";
  #recent = "";
  #offset = 0;
  readonly #decoder = new TextDecoder("utf-8", { fatal: true });

  constructor(label: string) {
    this.label = label;
  }

  /**
   * The stream restarts (RFC 6120 §4.3.3): the next bytes must begin a new stream (an optional
   * XML declaration and a stream header), never continue or close the old one.
   */
  restart(): void {
    this.#restartDue = true;
  }

  /** Feeds raw bytes. */
  push(bytes: Uint8Array): void {
    let text: string;
    try {
      text = this.#decoder.decode(bytes, { stream: true });
    } catch {
      this.#problem("invalid UTF-8");
      return;
    }
    this.#feed(this.#held + text);
  }

  /** The end of the byte stream: an unterminated multi-byte character is a problem. */
  end(): void {
    try {
      this.#decoder.decode();
    } catch {
      this.#problem("truncated UTF-8 at the end");
    }
    if (this.#held !== "") this.#feed(this.#held, true);
  }

  #feed(text: string, final = false): void {
    this.#held = "";
    // Hold back a tail that may be the start of "<?xml", so the restart test sees it whole.
    if (!final) {
      for (let k = Math.min(RESTART.length - 1, text.length); k > 0; k--) {
        if (RESTART.startsWith(text.slice(text.length - k))) {
          this.#held = text.slice(text.length - k);
          text = text.slice(0, text.length - k);
          break;
        }
      }
    }
    let at = 0;
    for (;;) {
      const next = text.indexOf(RESTART, at);
      if (next < 0) {
        this.#write(text.slice(at));
        return;
      }
      this.#write(text.slice(at, next));
      // A new document may begin only where the previous one allows it: between first-level
      // elements of an open stream (a restart), or after its footer, or at the very start.
      if (this.#parser !== undefined && this.#depth !== 1 && !this.#ended) {
        this.#problem("an XML declaration inside an element");
      }
      this.#parser = undefined;
      const end = text.indexOf("?>", next);
      // The declaration itself goes to the new parser (saxes checks it at the document start).
      at = next;
      if (end < 0) {
        this.#write(text.slice(at));
        return;
      }
      this.#write(text.slice(at, end + 2));
      at = end + 2;
    }
  }

  #write(text: string): void {
    if (text === "") return;
    this.#recent = (this.#recent + text).slice(-300);
    if (this.#restartDue && !WHITESPACE.test(text)) {
      this.#restartDue = false;
      this.#parser = undefined;
    }
    if (this.#parser === undefined) {
      if (WHITESPACE.test(text) && this.streams > 0) {
        this.#offset += text.length;
        return;
      }
      this.#parser = this.#newParser();
    }
    if (this.#ended && !WHITESPACE.test(text)) this.#problem("data after the stream footer");
    try {
      this.#parser.write(text);
    } catch (error) {
      this.#problem(`parser threw: ${(error as Error).message}`);
    }
    this.#offset += text.length;
  }

  #newParser(): SaxesParserLike {
    this.streams++;
    this.#depth = 0;
    this.#ended = false;
    const parser = new SaxesParser({ xmlns: true });
    parser.on("error", (e: Error) => this.#problem(e.message));
    parser.on("doctype", () => this.#problem("DOCTYPE"));
    parser.on("comment", () => this.#problem("comment"));
    parser.on("processinginstruction", () => this.#problem("processing instruction"));
    parser.on("opentag", (tag: SaxesTag) => {
      if (this.#depth === 0 && !(tag.name.endsWith("stream") && tag.uri === NS_STREAMS)) {
        this.#problem(`the root is <${tag.name}/> in '${tag.uri}', not a stream header`);
      }
      this.#depth++;
    });
    parser.on("closetag", (tag: SaxesTag) => {
      this.#depth--;
      if (this.#depth === 1) {
        this.elements++;
        this.onElement?.(tag.name.slice(tag.name.indexOf(":") + 1), tag.uri);
      }
      if (this.#depth === 0) this.#ended = true;
    });
    parser.on("text", (t: string) => {
      if (this.#depth <= 1 && !WHITESPACE.test(t)) {
        this.#problem("text between first-level elements");
      }
    });
    return parser;
  }

  #problem(what: string): void {
    if (this.problems.length < 20) {
      this.problems.push(
        `${this.label} @${this.#offset}: ${what} (near ${
          JSON.stringify(this.#recent.slice(-160))
        })`,
      );
    }
  }
}

const NS_STREAMS = "http://etherx.jabber.org/streams";

/**
 * Two checkers for the two directions of one RFC 6120 connection (`client` is what the
 * initiating entity sends): SASL `<success/>` and TLS `<proceed/>` from the server restart both.
 */
export function streamPair(label: string): { client: StreamChecker; server: StreamChecker } {
  const client = new StreamChecker(`${label} gateway->server`);
  const server = new StreamChecker(`${label} server->gateway`);
  server.onElement = (name, uri) => {
    if (
      (name === "success" && uri === "urn:ietf:params:xml:ns:xmpp-sasl") ||
      (name === "proceed" && uri === "urn:ietf:params:xml:ns:xmpp-tls")
    ) {
      client.restart();
      server.restart();
    }
  };
  return { client, server };
}
