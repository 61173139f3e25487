/**
 * The server side of an RFC 6455 connection after the handshake, sans I/O (in the spirit of
 * python-hyper/wsproto): bytes in, outputs out. It reassembles fragmented messages, validates
 * text as UTF-8 while it arrives (also across frames and reads), counts a message's size from
 * each frame header before reading the payload, answers Pings, runs the closing handshake, and
 * turns every violation by the peer into a Close frame with the right code and a `failed`
 * notice, never a throw. Only API misuse throws (`RangeError`).
 *
 * The codec is a mutable object (one per connection, updated in place for speed); it keeps no
 * reference to the bytes given to `receive`, which the caller may reuse at once.
 *
 * @example
 * ```ts
 * import { WebSocketCodec } from "@xmpp-websocket/xmpp-websocket/websocket";
 * import { assertEquals } from "@std/assert";
 * const codec = new WebSocketCodec({ maxMessageBytes: 1024 });
 * // A masked text frame "Hi" (mask 1 2 3 4):
 * const outputs = codec.receive(Uint8Array.of(0x81, 0x82, 1, 2, 3, 4, 0x48 ^ 1, 0x69 ^ 2));
 * assertEquals(outputs, [ { type: "text-received", text: "Hi" } ]);
 * assertEquals(codec.close(1000).map((o) => o.type), [ "send-bytes", "arm-close-timer" ]);
 * ```
 * @module
 */

import { readFrameHeader } from "./_frame_header.ts";
import { isValidCloseCode, readClosePayload } from "./close_payload.ts";
import { encodeClose, encodeFrame, encodeText, OPCODE } from "./frame_encoder.ts";
import {
  DEFAULT_WEBSOCKET_LIMITS,
  type WebSocketLimits,
  type WebSocketOutput,
  type WebSocketState,
} from "./types.ts";

type Out = WebSocketOutput[];

/** The codec of one server-side WebSocket connection (see the module documentation). */
export class WebSocketCodec {
  readonly #max: number;
  #state: WebSocketState = "open";
  // The frame header being read (at most 14 bytes), and how many bytes it needs.
  readonly #head = new Uint8Array(14);
  #headLength = 0;
  #headWant = 2;
  // The frame whose payload is being read (-1: reading a header).
  #remaining = -1;
  #opcode = 0;
  #fin = false;
  readonly #mask = new Uint8Array(4);
  #maskOffset = 0;
  /** No payload byte of the current frame has been taken yet. */
  #fresh = false;
  #control = new Uint8Array(0);
  #controlFill = 0;
  // The message being assembled.
  #inMessage = false;
  #binary = false;
  #messageBytes = 0;
  #skipping = false;
  #text = "";
  #parts: Uint8Array[] = [];
  /** The streaming decoder of a message that arrives in pieces (made when first needed). */
  #decoder: TextDecoder | undefined;
  // Keepalive (the opening counts as hearing from the peer).
  #heard = true;
  #pinged = false;

  /** A codec for one open connection; throws `RangeError` on an invalid limit. */
  constructor(limits: WebSocketLimits = DEFAULT_WEBSOCKET_LIMITS) {
    if (!(limits.maxMessageBytes >= 0)) {
      throw new RangeError(`Invalid maxMessageBytes ${limits.maxMessageBytes}`);
    }
    this.#max = limits.maxMessageBytes;
  }

  /** `open`, `closing` (our Close is out, the peer's is awaited) or `closed`. */
  get state(): WebSocketState {
    return this.#state;
  }

  /** Feeds bytes read from the transport. */
  receive(bytes: Uint8Array): readonly WebSocketOutput[] {
    const out: Out = [];
    if (bytes.length > 0) this.#heard = true;
    let i = 0;
    while (i < bytes.length && this.#state !== "closed") {
      if (this.#remaining < 0) {
        const take = Math.min(this.#headWant - this.#headLength, bytes.length - i);
        this.#head.set(bytes.subarray(i, i + take), this.#headLength);
        this.#headLength += take;
        i += take;
        if (this.#headLength < this.#headWant) break;
        const read = readFrameHeader(this.#head, this.#headLength);
        if (read.kind === "error") return this.#fail(out, 1002, read.text);
        if (read.kind === "need") {
          this.#headWant = read.size;
          continue;
        }
        const { header } = read;
        this.#mask.set(this.#head.subarray(header.maskAt, header.maskAt + 4));
        this.#headLength = 0;
        this.#headWant = 2;
        if (!this.#startFrame(out, header.opcode, header.fin, header.length)) return out;
        if (this.#remaining === 0) this.#endFrame(out);
        continue;
      }
      const take = Math.min(this.#remaining, bytes.length - i);
      if (take === this.#remaining && this.#whole()) {
        // Fast path: a whole unfragmented message in this read, decoded in one call.
        if (!this.#wholeMessage(out, bytes.subarray(i, i + take))) return out;
        i += take;
        this.#remaining = -1;
        continue;
      }
      if (!this.#payload(out, bytes.subarray(i, i + take))) return out;
      i += take;
      this.#remaining -= take;
      if (this.#remaining === 0) this.#endFrame(out);
    }
    return out;
  }

  /** A text message, as one frame; nothing once our Close is out (§5.5.1). */
  sendText(text: string): readonly WebSocketOutput[] {
    return this.#state === "open" ? [{ type: "send-bytes", bytes: encodeText(text) }] : [];
  }

  /** A binary message, as one frame; nothing once our Close is out. */
  sendBinary(data: Uint8Array): readonly WebSocketOutput[] {
    if (this.#state !== "open") return [];
    return [{ type: "send-bytes", bytes: encodeFrame(OPCODE.BINARY, data) }];
  }

  /** A Ping (payload of at most 125 bytes). */
  ping(payload: Uint8Array = new Uint8Array()): readonly WebSocketOutput[] {
    if (payload.length > 125) throw new RangeError("A Ping payload is at most 125 bytes");
    if (this.#state !== "open") return [];
    return [{ type: "send-bytes", bytes: encodeFrame(OPCODE.PING, payload) }];
  }

  /**
   * Starts the closing handshake (§7.1.2): our Close frame, then wait for the peer's (arm the
   * close timer; call {@link closeTimedOut} when it fires). No code: an empty Close. The reason
   * is cut to 123 UTF-8 bytes. Throws `RangeError` on a code that may not be sent.
   */
  close(code?: number, reason = ""): readonly WebSocketOutput[] {
    if (code !== undefined && !isValidCloseCode(code)) {
      throw new RangeError(`Close code ${code} may not be sent (RFC 6455 §7.4)`);
    }
    if (this.#state !== "open") return [];
    this.#state = "closing";
    return [{ type: "send-bytes", bytes: encodeClose(code, reason) }, { type: "arm-close-timer" }];
  }

  /** The peer did not answer our Close in time: close the transport at once (§7.1.1). */
  closeTimedOut(): readonly WebSocketOutput[] {
    if (this.#state !== "closing") return [];
    this.#state = "closed";
    return [
      { type: "close-transport", graceful: false },
      { type: "closed", code: 1006, reason: "", clean: false },
    ];
  }

  /** The transport ended (end of stream or error). */
  transportClosed(): readonly WebSocketOutput[] {
    if (this.#state === "closed") return [];
    this.#state = "closed";
    return [{ type: "closed", code: 1006, reason: "", clean: false }];
  }

  /**
   * Call every keepalive interval: nothing when the peer sent anything since the last call (or
   * the connection opened); else a Ping; and when that Ping went unanswered for a whole
   * interval, a Close with 1001.
   */
  keepaliveTick(): readonly WebSocketOutput[] {
    if (this.#heard) {
      this.#heard = this.#pinged = false;
      return [];
    }
    if (this.#pinged) return this.close(1001, "No answer to ping");
    this.#pinged = true;
    return this.ping();
  }

  /** Starts a frame; false when the connection failed. */
  #startFrame(out: Out, opcode: number, fin: boolean, length: number): boolean {
    this.#opcode = opcode;
    this.#fin = fin;
    this.#remaining = length;
    this.#maskOffset = 0;
    this.#fresh = true;
    if (opcode >= 0x8) {
      this.#control = new Uint8Array(length);
      this.#controlFill = 0;
      return true;
    }
    if (opcode === OPCODE.CONTINUATION) {
      if (!this.#inMessage) return !this.#fail(out, 1002, "A continuation frame with no message");
    } else {
      if (this.#inMessage) {
        return !this.#fail(out, 1002, "A new message before the previous one ended");
      }
      this.#inMessage = true;
      this.#binary = opcode === OPCODE.BINARY;
      this.#messageBytes = 0;
      this.#skipping = false;
    }
    this.#messageBytes += length;
    if (!this.#skipping && this.#messageBytes > this.#max) {
      this.#skipping = true;
      this.#text = "";
      this.#parts = [];
      this.#decoder = undefined;
      out.push({ type: "message-too-big", binary: this.#binary, announced: this.#messageBytes });
    }
    return true;
  }

  /** Takes payload bytes of the current frame; false when the connection failed. */
  #payload(out: Out, bytes: Uint8Array): boolean {
    this.#fresh = false;
    if (this.#opcode >= 0x8) {
      unmask(bytes, this.#mask, this.#maskOffset, this.#control, this.#controlFill);
      this.#controlFill += bytes.length;
    } else if (!this.#skipping) {
      const part = new Uint8Array(bytes.length);
      unmask(bytes, this.#mask, this.#maskOffset, part, 0);
      if (this.#binary) {
        this.#parts.push(part);
      } else {
        try {
          this.#decoder ??= newDecoder();
          this.#text += this.#decoder.decode(part, { stream: true });
        } catch {
          return !this.#fail(out, 1007, "Invalid UTF-8 in a text message (RFC 6455 §8.1)");
        }
      }
    }
    this.#maskOffset = (this.#maskOffset + bytes.length) & 3;
    return true;
  }

  /** Whether the current frame is a whole message whose payload has not been started. */
  #whole(): boolean {
    return this.#fresh && this.#fin && this.#opcode !== OPCODE.CONTINUATION &&
      this.#opcode < 0x8 && !this.#skipping;
  }

  /** Delivers a whole unfragmented message; false when the connection failed. */
  #wholeMessage(out: Out, bytes: Uint8Array): boolean {
    const data = new Uint8Array(bytes.length);
    unmask(bytes, this.#mask, 0, data, 0);
    this.#inMessage = false;
    if (this.#binary) return out.push({ type: "binary-received", data }) > 0;
    let text: string;
    try {
      text = WHOLE.decode(data);
    } catch {
      return !this.#fail(out, 1007, "Invalid UTF-8 in a text message (RFC 6455 §8.1)");
    }
    out.push({ type: "text-received", text });
    return true;
  }

  #endFrame(out: Out): void {
    this.#remaining = -1;
    if (this.#opcode >= 0x8) return this.#controlFrame(out, this.#opcode, this.#control);
    if (!this.#fin) return;
    this.#inMessage = false;
    if (this.#skipping) return;
    if (this.#binary) {
      const parts = this.#parts;
      this.#parts = [];
      return void out.push({ type: "binary-received", data: concat(parts) });
    }
    let text: string;
    try {
      text = this.#text + (this.#decoder?.decode() ?? "");
    } catch {
      return void this.#fail(out, 1007, "A text message ends inside a UTF-8 sequence");
    }
    this.#text = "";
    out.push({ type: "text-received", text });
  }

  #controlFrame(out: Out, opcode: number, payload: Uint8Array): void {
    if (opcode === OPCODE.PING) {
      if (this.#state === "open") {
        out.push({ type: "send-bytes", bytes: encodeFrame(OPCODE.PONG, payload) });
      }
      return void out.push({ type: "ping-received", payload });
    }
    if (opcode === OPCODE.PONG) return void out.push({ type: "pong-received", payload });
    const close = readClosePayload(payload);
    if (!close.ok) return void this.#fail(out, close.failCode, close.text);
    if (this.#state === "open") {
      // §5.5.1: answer with a Close echoing the code; the server closes TCP first (§7.1.1).
      const echo = close.code === 1005 ? undefined : close.code;
      out.push({ type: "send-bytes", bytes: encodeClose(echo) });
    }
    this.#state = "closed";
    out.push(
      { type: "close-transport", graceful: true },
      { type: "closed", code: close.code, reason: close.reason, clean: true },
    );
  }

  /** Fails the connection (§7.1.7); returns the outputs so far. */
  #fail(out: Out, code: number, text: string): Out {
    if (this.#state === "open") out.push({ type: "send-bytes", bytes: encodeClose(code, text) });
    this.#state = "closed";
    this.#parts = [];
    this.#text = "";
    out.push(
      { type: "failed", code, reason: text },
      { type: "close-transport", graceful: true },
      { type: "closed", code, reason: text, clean: false },
    );
    return out;
  }
}

/** Decodes whole messages (never in streaming mode, so it holds no state between calls). */
const WHOLE = newDecoder();

function newDecoder(): TextDecoder {
  return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
}

/** Writes `source` XOR the masking key (from key index `offset`) into `target` at `at`. */
function unmask(
  source: Uint8Array,
  key: Uint8Array,
  offset: number,
  target: Uint8Array,
  at: number,
): void {
  const k0 = key[offset & 3]!, k1 = key[(offset + 1) & 3]!;
  const k2 = key[(offset + 2) & 3]!, k3 = key[(offset + 3) & 3]!;
  const n = source.length;
  let j = 0;
  for (; j + 3 < n; j += 4) {
    target[at + j] = source[j]! ^ k0;
    target[at + j + 1] = source[j + 1]! ^ k1;
    target[at + j + 2] = source[j + 2]! ^ k2;
    target[at + j + 3] = source[j + 3]! ^ k3;
  }
  for (; j < n; j++) target[at + j] = source[j]! ^ key[(offset + j) & 3]!;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
