/**
 * The framing transcript of the command-line tools, like `curl -v`: every handshake line and
 * message with its offset in milliseconds, SASL payloads redacted before they are stored.
 *
 * @example
 * ```ts
 * import { formatEntry, Transcript } from "./transcript.ts";
 * const transcript = new Transcript(() => 12.5);
 * transcript.observer({ type: "text", dir: "out", data: "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>" });
 * console.log(formatEntry(transcript.entries[0]!));
 * // >     12.5 ms  <auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>[redacted 8 bytes]</auth>
 * ```
 * @module
 */

import type { WireEvent } from "./_ws.ts";

/** One line (or block) of a transcript. */
export interface TranscriptEntry {
  /** Milliseconds since the start of the run. */
  readonly at: number;
  /** `>` sent, `<` received, `*` a note of the tool. */
  readonly dir: ">" | "<" | "*";
  /** What happened: `http`, `text`, `binary`, `close`, `ping`, `pong`, `note`. */
  readonly kind: "http" | "text" | "binary" | "close" | "ping" | "pong" | "note";
  /** The text shown (several lines for HTTP heads); SASL payloads already redacted. */
  readonly text: string;
}

const SASL_ELEMENT =
  /^(\s*(?:<\?xml[\s\S]*?\?>\s*)?<(?:[A-Za-z_][\w.-]*:)?(auth|response|challenge|success)\b[^>]*>)([\s\S]*?)(<\/(?:[A-Za-z_][\w.-]*:)?\2\s*>\s*)$/;

/**
 * Replaces the content of SASL `<auth/>`, `<response/>`, `<challenge/>` and `<success/>`
 * with `[redacted N bytes]` (N: UTF-8 bytes). A message naming the SASL namespace that does not
 * have the expected shape is redacted whole, so no credential can slip through.
 *
 * @example
 * ```ts
 * import { redactSasl } from "./transcript.ts";
 * console.log(redactSasl("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>dj1=</success>"));
 * // <success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>[redacted 4 bytes]</success>
 * console.log(redactSasl("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")); // unchanged
 * ```
 */
export function redactSasl(text: string): string {
  const match = SASL_ELEMENT.exec(text);
  if (match) {
    const secret = match[3]!;
    if (secret === "") return text;
    return `${match[1]}[redacted ${new TextEncoder().encode(secret).length} bytes]${match[4]}`;
  }
  const selfClosed = /^\s*<(?:[\w.-]+:)?(?:auth|response|challenge|success)\b[^>]*\/>\s*$/;
  if (
    text.includes("xmpp-sasl") && !selfClosed.test(text) &&
    !/^\s*<(?:[\w.-]+:)?(?:failure|mechanisms|abort|features)\b/.test(text)
  ) {
    return `[SASL message redacted, ${new TextEncoder().encode(text).length} bytes]`;
  }
  return text;
}

/** Collects entries from {@link WireEvent}s and notes, timed by `clock`. */
export class Transcript {
  /** Every entry so far. */
  readonly entries: TranscriptEntry[] = [];
  readonly #clock: () => number;
  readonly #onEntry: ((entry: TranscriptEntry) => void) | undefined;

  /** `clock` gives milliseconds since the start; `onEntry` sees each entry as it is added. */
  constructor(clock: () => number, onEntry?: (entry: TranscriptEntry) => void) {
    this.#clock = clock;
    this.#onEntry = onEntry;
  }

  /** Adds a note of the tool. */
  note(text: string): void {
    this.#add("*", "note", text);
  }

  /** The observer to give {@link openWebSocket}. */
  readonly observer = (event: WireEvent): void => {
    switch (event.type) {
      case "connecting":
        return this.note(`connecting to ${event.host}:${event.port}${event.tls ? " (TLS)" : ""}`);
      case "connected":
        return this.note("connected");
      case "request":
        return this.#add(">", "http", event.lines.join("\n"));
      case "response":
        return this.#add(
          "<",
          "http",
          [event.statusLine, ...event.headers.map(([name, value]) => `${name}: ${value}`)].join(
            "\n",
          ),
        );
      case "text":
        return this.#add(event.dir === "in" ? "<" : ">", "text", redactSasl(event.data));
      case "binary":
        return this.#add(
          event.dir === "in" ? "<" : ">",
          "binary",
          `[binary, ${event.bytes} bytes]`,
        );
      case "close": {
        const code = event.code === undefined ? "without a code" : String(event.code);
        const why = event.reason ? ` ${JSON.stringify(event.reason)}` : "";
        return this.#add(event.dir === "in" ? "<" : ">", "close", `[Close ${code}${why}]`);
      }
      case "ping":
      case "pong":
        return this.#add(
          event.dir === "in" ? "<" : ">",
          event.type,
          `[${event.type === "ping" ? "Ping" : "Pong"}, ${event.bytes} bytes]`,
        );
      case "end":
        return this.note("TCP connection closed");
      case "note":
        return this.note(event.text);
    }
  };

  #add(dir: TranscriptEntry["dir"], kind: TranscriptEntry["kind"], text: string): void {
    const entry = { at: Math.round(this.#clock() * 10) / 10, dir, kind, text };
    this.entries.push(entry);
    this.#onEntry?.(entry);
  }
}

/**
 * One entry as text: direction, offset, then the text; the lines of a block are aligned.
 *
 * @example
 * ```ts
 * import { formatEntry } from "./transcript.ts";
 * console.log(formatEntry({ at: 3, dir: "<", kind: "http", text: "HTTP/1.1 101 Switching Protocols\nupgrade: websocket" }));
 * // <      3.0 ms  HTTP/1.1 101 Switching Protocols
 * // <              upgrade: websocket
 * ```
 */
export function formatEntry(entry: TranscriptEntry): string {
  const [first = "", ...rest] = entry.text.split("\n");
  const head = `${entry.dir} ${entry.at.toFixed(1).padStart(8)} ms  `;
  const pad = `${entry.dir} ${" ".repeat(head.length - 2)}`;
  return [head + first, ...rest.map((line) => pad + line)].join("\n");
}
