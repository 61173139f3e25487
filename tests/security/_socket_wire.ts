/**
 * A raw WebSocket client over loopback TCP for the hostile suites (hand-written upgrade and
 * masked frames of any size, so that invalid UTF-8 in a text frame and binary frames go out
 * exactly as written), implementing the driver's {@link Wire}: server text frames become
 * `text` events, a Close frame is answered and becomes a `close` event, the end of TCP an `end`
 * event, and a bounded wait that runs out an `idle` event. Pings are answered with pongs.
 *
 * @module
 */

import type { Message } from "./_cases.ts";
import type { Wire, WireEvent } from "./_driver.ts";

/** How long `next` waits for the server (a correct server answers every case well within). */
export const WAIT_MS = 5_000;

const enc = new TextEncoder();
const dec = new TextDecoder();

/** One raw client connection. */
export class SocketWire implements Wire {
  readonly #conn: Deno.Conn;
  readonly #events: WireEvent[] = [];
  #wake: (() => void) | undefined;
  #buffer: Uint8Array = new Uint8Array(0);
  #fragments: Uint8Array[] = [];
  #fragmentOpcode = 0;
  #closeSent = false;
  #closeReceived = false;
  #eof = false;
  #dropped = false;
  readonly #reader: Promise<void>;
  /** Every text message received, in order. */
  readonly received: string[] = [];

  /** Every wire not yet disposed (so a test can wait for all readers to finish). */
  static readonly live: Set<SocketWire> = new Set();

  private constructor(conn: Deno.Conn, rest: Uint8Array) {
    this.#conn = conn;
    this.#buffer = rest;
    this.#reader = this.#readLoop();
    SocketWire.live.add(this);
  }

  /** Drops every live wire and waits for their readers. */
  static async disposeAll(): Promise<void> {
    await Promise.all([...SocketWire.live].map((w) => w.dispose()));
  }

  /** Opens TCP and does the upgrade with the `xmpp` subprotocol. */
  static async connect(port: number, path = "/xmpp-websocket"): Promise<SocketWire> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    await writeAll(
      conn,
      enc.encode(
        [
          `GET ${path} HTTP/1.1`,
          `Host: 127.0.0.1:${port}`,
          "Upgrade: websocket",
          "Connection: Upgrade",
          `Sec-WebSocket-Key: ${key}`,
          "Sec-WebSocket-Version: 13",
          "Sec-WebSocket-Protocol: xmpp",
          "",
          "",
        ].join("\r\n"),
      ),
    );
    let head: Uint8Array = new Uint8Array(0);
    const deadline = setTimeout(() => conn.close(), WAIT_MS);
    try {
      for (;;) {
        const end = findHeadEnd(head);
        if (end >= 0) {
          const status = dec.decode(head.subarray(0, end)).split("\r\n")[0] ?? "";
          if (!/^HTTP\/1\.1 101 /.test(status)) {
            conn.close();
            throw new Error(`upgrade refused: ${status}`);
          }
          return new SocketWire(conn, head.slice(end + 4));
        }
        const chunk = new Uint8Array(16_384);
        const n = await conn.read(chunk);
        if (n === null) throw new Error("the server closed during the upgrade");
        head = concat(head, chunk.subarray(0, n));
      }
    } finally {
      clearTimeout(deadline);
    }
  }

  async #readLoop(): Promise<void> {
    const chunk = new Uint8Array(65_536);
    try {
      this.#parseFrames();
      for (;;) {
        const n = await this.#conn.read(chunk);
        if (n === null) break;
        this.#buffer = concat(this.#buffer, chunk.subarray(0, n));
        this.#parseFrames();
      }
    } catch {
      // reset, or closed by us
    }
    this.#eof = true;
    this.#push({ type: "end" });
  }

  #parseFrames(): void {
    for (;;) {
      const b = this.#buffer;
      if (b.length < 2) return;
      let length = b[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (b.length < 4) return;
        length = (b[2]! << 8) | b[3]!;
        offset = 4;
      } else if (length === 127) {
        if (b.length < 10) return;
        length = Number(new DataView(b.buffer, b.byteOffset + 2, 8).getBigUint64(0));
        offset = 10;
      }
      if (b[1]! & 0x80) offset += 4; // a server must not mask; tolerate and ignore
      if (b.length < offset + length) return;
      const fin = (b[0]! & 0x80) !== 0;
      const opcode = b[0]! & 0x0f;
      const payload = b.slice(offset, offset + length);
      this.#buffer = b.slice(offset + length);
      this.#frame(fin, opcode, payload);
    }
  }

  #frame(fin: boolean, opcode: number, payload: Uint8Array): void {
    if (opcode === 0x9) return void this.#sendFrame(0xa, payload).catch(() => {});
    if (opcode === 0xa) return;
    if (opcode === 0x8) {
      const code = payload.length >= 2 ? (payload[0]! << 8) | payload[1]! : null;
      this.#closeReceived = true;
      if (!this.#closeSent) {
        this.#closeSent = true;
        // Echo the code (RFC 6455 §5.5.1).
        this.#sendFrame(0x8, payload.subarray(0, 2)).catch(() => {});
      }
      this.#push({ type: "close", code });
      return;
    }
    if (opcode === 0x0) this.#fragments.push(payload);
    else {
      this.#fragmentOpcode = opcode;
      this.#fragments = [payload];
    }
    if (!fin) return;
    const whole = this.#fragments.reduce(concat, new Uint8Array(0));
    this.#fragments = [];
    if (this.#fragmentOpcode === 0x1) {
      const text = dec.decode(whole);
      this.received.push(text);
      this.#push({ type: "text", text });
    } else {
      this.#push({ type: "text", text: `(binary message of ${whole.length} bytes)` });
    }
  }

  #push(event: WireEvent): void {
    this.#events.push(event);
    this.#wake?.();
  }

  async #sendFrame(opcode: number, payload: Uint8Array): Promise<void> {
    const mask = crypto.getRandomValues(new Uint8Array(4));
    const n = payload.length;
    const head = n < 126
      ? [0x80 | opcode, 0x80 | n]
      : n < 65_536
      ? [0x80 | opcode, 0x80 | 126, n >> 8, n & 0xff]
      : [
        0x80 | opcode,
        0x80 | 127,
        0,
        0,
        0,
        0,
        (n >>> 24) & 0xff,
        (n >> 16) & 0xff,
        (n >> 8) & 0xff,
        n & 0xff,
      ];
    const frame = new Uint8Array(head.length + 4 + n);
    frame.set(head);
    frame.set(mask, head.length);
    const start = head.length + 4;
    for (let i = 0; i < n; i++) frame[start + i] = payload[i]! ^ mask[i & 3]!;
    await writeAll(this.#conn, frame);
  }

  async send(message: Message): Promise<void> {
    if (this.#closeSent || this.#eof) return;
    try {
      if (typeof message === "string") await this.#sendFrame(0x1, enc.encode(message));
      else if ("textBytes" in message) await this.#sendFrame(0x1, message.textBytes);
      else await this.#sendFrame(0x2, message.binary);
    } catch {
      // the server closed first: what it said is in the events
    }
  }

  /** Sends several messages in one write (pipelined). */
  async sendMany(messages: readonly string[]): Promise<void> {
    if (this.#closeSent || this.#eof) return;
    const frames: Uint8Array[] = [];
    for (const m of messages) {
      const payload = enc.encode(m);
      const mask = crypto.getRandomValues(new Uint8Array(4));
      const n = payload.length;
      const head = n < 126 ? [0x81, 0x80 | n] : n < 65_536 ? [0x81, 0xfe, n >> 8, n & 0xff] : [
        0x81,
        0xff,
        0,
        0,
        0,
        0,
        (n >>> 24) & 0xff,
        (n >> 16) & 0xff,
        (n >> 8) & 0xff,
        n & 0xff,
      ];
      const frame = new Uint8Array(head.length + 4 + n);
      frame.set(head);
      frame.set(mask, head.length);
      for (let i = 0; i < n; i++) frame[head.length + 4 + i] = payload[i]! ^ mask[i & 3]!;
      frames.push(frame);
    }
    try {
      await writeAll(this.#conn, frames.reduce(concat, new Uint8Array(0)));
    } catch {
      // closed by the server
    }
  }

  async close(code: number): Promise<void> {
    if (this.#closeSent || this.#eof) return;
    this.#closeSent = true;
    await this.#sendFrame(0x8, Uint8Array.from([code >> 8, code & 0xff])).catch(() => {});
  }

  async next(timeoutMs = WAIT_MS): Promise<WireEvent> {
    const deadline = performance.now() + timeoutMs;
    while (this.#events.length === 0) {
      const left = deadline - performance.now();
      if (left <= 0 || this.#dropped) return { type: "idle" };
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
      this.#wake = undefined;
    }
    const event = this.#events.shift()!;
    // After a Close, the end of TCP is read by transportEnded.
    if (event.type === "end" && this.#closeReceived) return this.next(timeoutMs);
    return event;
  }

  async transportEnded(): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<boolean>((resolve) =>
      timer = setTimeout(() => resolve(false), WAIT_MS)
    );
    const ended = await Promise.race([this.#reader.then(() => true), timedOut]);
    clearTimeout(timer);
    return ended;
  }

  abort(): void {
    if (this.#dropped) return;
    this.#dropped = true;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }

  /** Drops the connection and waits for the reader to finish (resource sanitizers). */
  async dispose(): Promise<void> {
    this.abort();
    await this.#reader;
    SocketWire.live.delete(this);
  }
}

function findHeadEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length;) done += await conn.write(bytes.subarray(done));
}
