/**
 * A server-side WebSocket over a raw `Deno.Conn`, driven by the core's RFC 6455 codec
 * (`core/websocket/`): it reads bytes into the codec and carries out its outputs. It offers the
 * web-standard surface the connection drivers use (`onopen`, `onmessage` with a string or an
 * `ArrayBuffer`, `onclose` with `code`/`reason`/`wasClean`, `onerror`, `send`, `close`,
 * `readyState`, `protocol`, `binaryType`, `bufferedAmount`), so `deno/_connection.ts` and the
 * gateway drive it unchanged. No `addEventListener`: handler properties only.
 *
 * What the codec decides, this file only executes: the Close frame and TCP close on a peer's
 * violation, the TCP close when our Close stays unanswered for `closeTimeoutMs` (RFC 6455
 * §7.1.1, digest rule #29), keepalive Pings. A message over `maxMessageBytes` is never
 * buffered: the application receives, instead of it, a stand-in text of `maxMessageBytes + 1`
 * characters (`<` and spaces), so that an XMPP session with the same limit answers as for any
 * oversized message (`policy-violation`, then 1009); an oversized binary message arrives as an
 * empty `ArrayBuffer`.
 *
 * @example
 * ```ts ignore
 * import { StrictWebSocket } from "./socket.ts";
 * const socket = new StrictWebSocket(conn, writer, { protocol: "xmpp", maxMessageBytes: 262_144,
 *   closeTimeoutMs: 5_000, pingIntervalMs: 25_000 });
 * socket.onmessage = (event) => socket.send(event.data);
 * await socket.run(new Uint8Array());
 * ```
 * @module
 */

import { WebSocketCodec, type WebSocketOutput } from "../../core/mod.ts";
import type { ByteWriter } from "./_writer.ts";

/** The socket's settings. */
export interface StrictSocketOptions {
  /** The negotiated subprotocol (`""` for none). */
  readonly protocol: string;
  /** The largest message, bytes (counted before buffering). */
  readonly maxMessageBytes: number;
  /** How long our Close waits for the peer's before TCP is closed, ms. */
  readonly closeTimeoutMs: number;
  /** A Ping after this much silence, 1001 after twice it; 0: off. */
  readonly pingIntervalMs: number;
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;
const MAX_READ = 65_536;

/** A web-standard-like WebSocket over a byte stream (see the module documentation). */
export class StrictWebSocket {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSING = CLOSING;
  static readonly CLOSED = CLOSED;
  readonly CONNECTING = CONNECTING;
  readonly OPEN = OPEN;
  readonly CLOSING = CLOSING;
  readonly CLOSED = CLOSED;
  readonly protocol: string;
  readonly extensions = "";
  readonly url = "";
  binaryType: BinaryType = "blob";
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  readonly #conn: Deno.Conn;
  readonly #writer: ByteWriter;
  readonly #options: StrictSocketOptions;
  readonly #codec: WebSocketCodec;
  #readyState = CONNECTING;
  #discarding = false;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  #lingerTimer: ReturnType<typeof setTimeout> | undefined;
  #keepalive: (() => void) | undefined;

  constructor(conn: Deno.Conn, writer: ByteWriter, options: StrictSocketOptions) {
    this.#conn = conn;
    this.#writer = writer;
    this.#options = options;
    this.protocol = options.protocol;
    this.#codec = new WebSocketCodec({ maxMessageBytes: options.maxMessageBytes });
  }

  get readyState(): number {
    return this.#readyState;
  }

  get bufferedAmount(): number {
    return this.#writer.bufferedAmount;
  }

  /** Sends a text or binary message (discarded once closing, as the web API does). */
  send(data: string | ArrayBufferLike | ArrayBufferView): void {
    if (this.#readyState === CONNECTING) {
      throw new DOMException("The WebSocket is not open yet", "InvalidStateError");
    }
    if (typeof data === "string") return this.#execute(this.#codec.sendText(data));
    const bytes = ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data);
    this.#execute(this.#codec.sendBinary(bytes));
  }

  /** Starts the closing handshake. Throws `RangeError` on a code that may not be sent. */
  close(code?: number, reason?: string): void {
    const outputs = this.#codec.close(code, reason);
    if (this.#readyState === OPEN && outputs.length > 0) this.#readyState = CLOSING;
    this.#execute(outputs);
  }

  /**
   * Opens the socket (`onopen`), feeds it `leftover` (bytes read after the handshake) and reads
   * until the connection ends; resolves once the TCP connection is closed.
   */
  async run(leftover: Uint8Array): Promise<void> {
    this.#readyState = OPEN;
    this.onopen?.(new Event("open"));
    if (this.#options.pingIntervalMs > 0) {
      this.#keepalive = () => this.#execute(this.#codec.keepaliveTick());
      keepaliveTicker(this.#options.pingIntervalMs).add(this.#keepalive);
    }
    if (leftover.length > 0) this.#execute(this.#codec.receive(leftover));
    let buffer = new Uint8Array(1_024); // grows while reads fill it: idle sockets stay small
    try {
      for (;;) {
        const n = await this.#conn.read(buffer);
        if (n === null) break;
        if (this.#discarding) continue;
        this.#execute(this.#codec.receive(buffer.subarray(0, n)));
        if (n === buffer.length && n < MAX_READ) buffer = new Uint8Array(n * 2);
      }
    } catch {
      // Reset, or closed by us: the end of the transport either way.
    }
    this.#execute(this.#codec.transportClosed());
    clearTimeout(this.#lingerTimer);
    closeQuietly(this.#conn);
  }

  #execute(outputs: readonly WebSocketOutput[]): void {
    for (const output of outputs) {
      switch (output.type) {
        case "send-bytes":
          this.#writer.write(output.bytes);
          break;
        case "text-received":
          this.onmessage?.({ data: output.text } as MessageEvent);
          break;
        case "binary-received":
          this.onmessage?.({ data: this.#binary(output.data) } as MessageEvent);
          break;
        case "message-too-big":
          this.onmessage?.({
            data: output.binary
              ? this.#binary(new Uint8Array())
              : "<" + " ".repeat(this.#options.maxMessageBytes),
          } as MessageEvent);
          break;
        case "ping-received":
        case "pong-received":
          break;
        case "failed":
          this.onerror?.(new Event("error"));
          break;
        case "arm-close-timer":
          this.#closeTimer = setTimeout(
            () => this.#execute(this.#codec.closeTimedOut()),
            this.#options.closeTimeoutMs,
          );
          break;
        case "close-transport":
          this.#closeTransport(output.graceful);
          break;
        case "closed":
          this.#readyState = CLOSED;
          clearTimeout(this.#closeTimer);
          if (this.#keepalive) {
            keepaliveTicker(this.#options.pingIntervalMs).delete(this.#keepalive);
          }
          this.onclose?.(
            { code: output.code, reason: output.reason, wasClean: output.clean } as CloseEvent,
          );
          break;
      }
    }
  }

  #binary(bytes: Uint8Array): ArrayBuffer | Blob {
    const buffer = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
      ? bytes.buffer as ArrayBuffer
      : bytes.slice().buffer;
    return this.binaryType === "arraybuffer" ? buffer : new Blob([buffer]);
  }

  /**
   * Graceful: write what is queued, send FIN, then read and discard until the peer closes,
   * for at most `closeTimeoutMs` (so that a peer still sending does not get a reset before it
   * reads our Close frame). Otherwise: close at once.
   */
  #closeTransport(graceful: boolean): void {
    this.#discarding = true;
    if (!graceful) return closeQuietly(this.#conn);
    this.#lingerTimer = setTimeout(() => closeQuietly(this.#conn), this.#options.closeTimeoutMs);
    void this.#writer.idle().then(() => {
      try {
        this.#conn.closeWrite().catch(() => {});
      } catch {
        // Already closed.
      }
    });
  }
}

/**
 * One interval timer per keepalive period, shared by every socket using it (a timer per idle
 * socket would cost memory); it stops when its last socket is gone.
 */
interface Ticker {
  readonly ticks: Set<() => void>;
  readonly timer: ReturnType<typeof setInterval>;
}
const tickers = new Map<number, Ticker>();

function keepaliveTicker(
  periodMs: number,
): { add(tick: () => void): void; delete(tick: () => void): void } {
  return {
    add(tick) {
      let entry = tickers.get(periodMs);
      if (entry === undefined) {
        const ticks = new Set<() => void>();
        const timer = setInterval(() => {
          for (const each of [...ticks]) each();
        }, periodMs);
        entry = { ticks, timer };
        tickers.set(periodMs, entry);
      }
      entry.ticks.add(tick);
    },
    delete(tick) {
      const entry = tickers.get(periodMs);
      if (entry === undefined || !entry.ticks.delete(tick) || entry.ticks.size > 0) return;
      clearInterval(entry.timer);
      tickers.delete(periodMs);
    },
  };
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}
