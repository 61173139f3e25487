/**
 * A raw WebSocket client for the command-line tools: a hand-written HTTP/1.1 upgrade over
 * `Deno.connect` (and `Deno.startTls` for `wss:`), so the tools see the exact handshake and can
 * send what a browser never would (binary messages, no subprotocol). Pings are answered and a
 * peer's Close frame is echoed automatically; every event in or out goes to an observer.
 *
 * @example
 * ```ts ignore
 * import { openWebSocket } from "./_ws.ts";
 * const result = await openWebSocket(new URL("ws://127.0.0.1:5280/xmpp-websocket"), {
 *   protocols: ["xmpp"], timeoutMs: 3_000,
 * });
 * console.log(result.status); // 101
 * await result.socket?.shutdown(1_000);
 * ```
 * @module
 */

import { decodeFrames, encodeFrame, type Frame, OPCODE } from "./frames.ts";

/** Something the socket did or saw, for transcripts. `at` is from the observer's clock. */
export type WireEvent =
  | {
    readonly type: "connecting";
    readonly host: string;
    readonly port: number;
    readonly tls: boolean;
  }
  | { readonly type: "connected" }
  | { readonly type: "request"; readonly lines: readonly string[] }
  | {
    readonly type: "response";
    readonly statusLine: string;
    readonly headers: readonly (readonly [string, string])[];
  }
  | { readonly type: "text"; readonly dir: "in" | "out"; readonly data: string }
  | { readonly type: "binary"; readonly dir: "in" | "out"; readonly bytes: number }
  | {
    readonly type: "close";
    readonly dir: "in" | "out";
    readonly code: number | undefined;
    readonly reason: string;
  }
  | { readonly type: "ping" | "pong"; readonly dir: "in" | "out"; readonly bytes: number }
  | { readonly type: "end" }
  | { readonly type: "note"; readonly text: string };

/** What {@link RawWebSocket.next} returns. */
export type Inbound =
  | { readonly type: "text"; readonly data: string }
  | { readonly type: "binary"; readonly bytes: Uint8Array }
  | { readonly type: "close"; readonly code: number | undefined; readonly reason: string }
  | { readonly type: "end" }
  | { readonly type: "timeout" };

/** Options of {@link openWebSocket}. */
export interface OpenOptions {
  /** Offered in one `Sec-WebSocket-Protocol` header; empty or absent: no header. */
  readonly protocols?: readonly string[];
  /** Extra request headers (for example `Origin`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Bound on the TCP connect, the TLS handshake and the HTTP response. */
  readonly timeoutMs: number;
  /** PEM CA certificates for `wss:` (default: the system store). */
  readonly caCerts?: readonly string[];
  /** Receives every event as it happens. */
  readonly observer?: (event: WireEvent) => void;
}

/** The HTTP answer to the upgrade request, and the socket when it was a valid 101. */
export interface OpenResult {
  readonly status: number;
  readonly statusLine: string;
  /** Response headers in order, names lower-cased, repeats kept. */
  readonly headers: readonly (readonly [string, string])[];
  /** The start of a non-101 response body (at most 4 KiB). */
  readonly body: string;
  /** Set for a 101 with a valid `Sec-WebSocket-Accept`. */
  readonly socket: RawWebSocket | undefined;
  /** Why a 101 was not accepted (a wrong `Sec-WebSocket-Accept`). */
  readonly problem?: string;
}

/** The endpoint could not be reached or did not answer in HTTP (exit code 2 in the CLI). */
export class ConnectError extends Error {
  /** Creates the error; `message` says what failed. */
  constructor(message: string) {
    super(message);
    this.name = "ConnectError";
  }
}

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const MAX_HEAD = 16 * 1024;
const MAX_BODY = 4 * 1024;

/**
 * Connects and sends the upgrade request. Rejects with {@link ConnectError} when the endpoint
 * cannot be reached or does not answer in time; any HTTP answer resolves.
 */
export async function openWebSocket(url: URL, options: OpenOptions): Promise<OpenResult> {
  const tls = url.protocol === "wss:";
  if (!tls && url.protocol !== "ws:") {
    throw new ConnectError(`Not a WebSocket URL (ws: or wss:): ${url.href}`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = url.port ? Number(url.port) : tls ? 443 : 80;
  const observe = options.observer ?? (() => {});
  observe({ type: "connecting", host, port, tls });
  const controller = new AbortController();
  let conn: Deno.Conn | undefined;
  const timer = setTimeout(() => {
    controller.abort();
    try {
      conn?.close();
    } catch { /* already closed */ }
  }, options.timeoutMs);
  try {
    conn = await Deno.connect({ hostname: host, port, signal: controller.signal });
    if (tls) {
      const tlsConn = await Deno.startTls(conn as Deno.TcpConn, {
        hostname: host,
        ...(options.caCerts ? { caCerts: [...options.caCerts] } : {}),
      });
      conn = tlsConn;
      await tlsConn.handshake(); // certificate errors surface here, not at the first read
    }
  } catch (error) {
    clearTimeout(timer);
    try {
      conn?.close();
    } catch { /* already closed */ }
    const why = controller.signal.aborted
      ? `timed out after ${options.timeoutMs} ms`
      : reason(error);
    throw new ConnectError(`Cannot connect to ${host}:${port}${tls ? " (TLS)" : ""}: ${why}`);
  }
  observe({ type: "connected" });
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const lines = [
    `GET ${url.pathname}${url.search} HTTP/1.1`,
    `Host: ${url.host}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Key: ${key}`,
    "Sec-WebSocket-Version: 13",
    ...(options.protocols?.length
      ? [`Sec-WebSocket-Protocol: ${options.protocols.join(", ")}`]
      : []),
    ...Object.entries(options.headers ?? {}).map(([name, value]) => `${name}: ${value}`),
  ];
  const socket = new RawWebSocket(conn, observe);
  observe({ type: "request", lines });
  try {
    await socket.writeRaw(new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n"));
    const head = await socket.readHead();
    clearTimeout(timer);
    if (head === undefined) {
      throw new ConnectError(`${host}:${port} closed the connection without an HTTP response`);
    }
    observe({ type: "response", statusLine: head.statusLine, headers: head.headers });
    if (head.status !== 101) {
      const body = await socket.readBody(head.headers, Math.min(options.timeoutMs, 1_000));
      await socket.close();
      return { ...head, body, socket: undefined };
    }
    const accept = head.headers.find(([name]) => name === "sec-websocket-accept")?.[1];
    const expected = await acceptFor(key);
    if (accept !== expected) {
      await socket.close();
      return {
        ...head,
        body: "",
        socket: undefined,
        problem: `Sec-WebSocket-Accept is ${accept ?? "missing"}, expected ${expected}`,
      };
    }
    socket.startFrames();
    return { ...head, body: "", socket };
  } catch (error) {
    clearTimeout(timer);
    await socket.close();
    if (error instanceof ConnectError && !controller.signal.aborted) throw error;
    const why = controller.signal.aborted
      ? `no HTTP response within ${options.timeoutMs} ms`
      : reason(error);
    throw new ConnectError(`Upgrade request to ${url.href} failed: ${why}`);
  }
}

async function acceptFor(key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(key + GUID));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A client WebSocket over one TCP (or TLS) connection. Create it with {@link openWebSocket}. */
export class RawWebSocket {
  readonly #conn: Deno.Conn;
  readonly #observe: (event: WireEvent) => void;
  #buffer: Uint8Array = new Uint8Array(0);
  #inbox: Inbound[] = [];
  #wake: (() => void) | undefined;
  #ended = false;
  #connClosed = false;
  #closeSent = false;
  #closeReceived = false;
  #reading: Promise<void> | undefined;
  #writing: Promise<void> = Promise.resolve();
  #fragments: { opcode: number; parts: Uint8Array[] } | undefined;

  /** Wraps a connected stream; use {@link openWebSocket}. */
  constructor(conn: Deno.Conn, observe: (event: WireEvent) => void) {
    this.#conn = conn;
    this.#observe = observe;
  }

  /** Whether the TCP connection has ended. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Whether a Close frame was sent. */
  get closeSent(): boolean {
    return this.#closeSent;
  }

  /** Whether a Close frame was received. */
  get closeReceived(): boolean {
    return this.#closeReceived;
  }

  /** Sends a text message. */
  sendText(data: string): Promise<void> {
    this.#observe({ type: "text", dir: "out", data });
    return this.#frame(OPCODE.TEXT, new TextEncoder().encode(data));
  }

  /** Sends `bytes` as a text message as they are (even when they are not UTF-8). */
  sendRawText(bytes: Uint8Array): Promise<void> {
    this.#observe({ type: "note", text: `sending ${bytes.length} raw bytes as a text message` });
    return this.#frame(OPCODE.TEXT, bytes);
  }

  /** Sends a binary message. */
  sendBinary(bytes: Uint8Array): Promise<void> {
    this.#observe({ type: "binary", dir: "out", bytes: bytes.length });
    return this.#frame(OPCODE.BINARY, bytes);
  }

  /** Sends a Close frame (once; later calls do nothing). */
  sendClose(code = 1000, why = ""): Promise<void> {
    if (this.#closeSent) return this.#writing;
    this.#closeSent = true;
    this.#observe({ type: "close", dir: "out", code, reason: why });
    const text = new TextEncoder().encode(why);
    const payload = new Uint8Array(2 + text.length);
    payload[0] = code >> 8;
    payload[1] = code & 0xff;
    payload.set(text, 2);
    return this.#frame(OPCODE.CLOSE, payload);
  }

  /** The next message, Close frame or end of the connection; `timeout` after `timeoutMs`. */
  async next(timeoutMs: number): Promise<Inbound> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const event = this.#inbox.shift();
      if (event) return event;
      if (this.#ended) return { type: "end" };
      const left = deadline - performance.now();
      if (left <= 0) return { type: "timeout" };
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
      this.#wake = undefined;
    }
  }

  /** Waits up to `timeoutMs` for the server to end the TCP connection. */
  async waitEnd(timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (!this.#ended) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      const event = await this.next(left);
      if (event.type === "timeout") return this.#ended;
    }
    return true;
  }

  /** A polite end: a Close frame if none was sent, up to `graceMs` for the server, then close. */
  async shutdown(graceMs: number): Promise<void> {
    if (!this.#ended) {
      await this.sendClose(1000);
      await this.waitEnd(graceMs);
    }
    await this.close();
  }

  /** Closes the connection at once and waits for the reader to stop. Idempotent. */
  async close(): Promise<void> {
    this.#closeConn();
    await this.#writing;
    await this.#reading;
  }

  /** @internal Writes bytes as they are (the upgrade request). */
  writeRaw(bytes: Uint8Array): Promise<void> {
    const write = this.#writing.then(async () => {
      if (this.#connClosed) return;
      try {
        for (let done = 0; done < bytes.length;) {
          done += await this.#conn.write(bytes.subarray(done));
        }
      } catch (error) {
        this.#observe({ type: "note", text: `write failed: ${reason(error)}` });
      }
    });
    this.#writing = write;
    return write;
  }

  /** @internal Reads the HTTP response head; undefined when the connection ends first. */
  async readHead(): Promise<
    { status: number; statusLine: string; headers: [string, string][] } | undefined
  > {
    let end: number;
    while ((end = indexOfCrlfCrlf(this.#buffer)) < 0) {
      if (this.#buffer.length > MAX_HEAD) throw new ConnectError("HTTP response head too large");
      if (!(await this.#fill())) return undefined;
    }
    const text = new TextDecoder().decode(this.#buffer.subarray(0, end));
    this.#buffer = this.#buffer.slice(end + 4);
    const [statusLine = "", ...lines] = text.split("\r\n");
    const match = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(statusLine);
    if (!match) throw new ConnectError(`Not an HTTP response: ${statusLine.slice(0, 80)}`);
    const headers = lines.map((line): [string, string] => {
      const colon = line.indexOf(":");
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
    });
    return { status: Number(match[1]), statusLine, headers };
  }

  /** @internal Reads the start of a non-101 body, within `timeoutMs`. */
  async readBody(
    headers: readonly (readonly [string, string])[],
    timeoutMs: number,
  ): Promise<string> {
    const length = Number(headers.find(([name]) => name === "content-length")?.[1] ?? "NaN");
    const want = Number.isFinite(length) ? Math.min(length, MAX_BODY) : MAX_BODY;
    const timer = setTimeout(() => this.#closeConn(), timeoutMs);
    try {
      while (this.#buffer.length < want) if (!(await this.#fill())) break;
    } finally {
      clearTimeout(timer);
    }
    return new TextDecoder().decode(this.#buffer.subarray(0, want));
  }

  /** @internal Starts reading frames in the background. */
  startFrames(): void {
    this.#reading = (async () => {
      this.#decode();
      while (await this.#fill()) this.#decode();
      this.#finish();
    })();
  }

  #decode(): void {
    const { frames, rest, error } = decodeFrames(this.#buffer);
    this.#buffer = rest;
    for (const frame of frames) this.#onFrame(frame);
    if (error) {
      this.#observe({ type: "note", text: `bad frame from the server: ${error}` });
      this.#closeConn();
    }
  }

  #onFrame(frame: Frame): void {
    if (frame.masked) this.#observe({ type: "note", text: "the server masked a frame" });
    switch (frame.opcode) {
      case OPCODE.PING:
        this.#observe({ type: "ping", dir: "in", bytes: frame.payload.length });
        if (!this.#closeSent) {
          this.#observe({ type: "pong", dir: "out", bytes: frame.payload.length });
          void this.#frame(OPCODE.PONG, frame.payload);
        }
        return;
      case OPCODE.PONG:
        return this.#observe({ type: "pong", dir: "in", bytes: frame.payload.length });
      case OPCODE.CLOSE: {
        const code = frame.payload.length >= 2
          ? (frame.payload[0]! << 8) | frame.payload[1]!
          : undefined;
        const why = new TextDecoder().decode(frame.payload.subarray(2));
        this.#closeReceived = true;
        this.#observe({ type: "close", dir: "in", code, reason: why });
        this.#push({ type: "close", code, reason: why });
        if (!this.#closeSent) void this.sendClose(code ?? 1000);
        return;
      }
      case OPCODE.CONTINUATION:
      case OPCODE.TEXT:
      case OPCODE.BINARY:
        return this.#onData(frame);
      default:
        this.#observe({ type: "note", text: `unknown opcode ${frame.opcode} from the server` });
    }
  }

  #onData(frame: Frame): void {
    if (frame.opcode !== OPCODE.CONTINUATION) {
      this.#fragments = { opcode: frame.opcode, parts: [] };
    }
    const message = this.#fragments;
    if (!message) {
      return this.#observe({ type: "note", text: "continuation frame without a message" });
    }
    message.parts.push(frame.payload);
    if (!frame.fin) return;
    this.#fragments = undefined;
    const bytes = concat(message.parts);
    if (message.parts.length > 1) {
      this.#observe({ type: "note", text: `message in ${message.parts.length} fragments` });
    }
    if (message.opcode === OPCODE.BINARY) {
      this.#observe({ type: "binary", dir: "in", bytes: bytes.length });
      return this.#push({ type: "binary", bytes });
    }
    let data: string;
    try {
      data = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      this.#observe({ type: "note", text: "a text message is not valid UTF-8" });
      data = new TextDecoder().decode(bytes);
    }
    this.#observe({ type: "text", dir: "in", data });
    this.#push({ type: "text", data });
  }

  #push(event: Inbound): void {
    this.#inbox.push(event);
    this.#wake?.();
  }

  #frame(opcode: number, payload: Uint8Array): Promise<void> {
    return this.writeRaw(encodeFrame(opcode, payload));
  }

  async #fill(): Promise<boolean> {
    if (this.#connClosed) return false;
    const chunk = new Uint8Array(65_536);
    let n: number | null;
    try {
      n = await this.#conn.read(chunk);
    } catch {
      return false;
    }
    if (n === null) return false;
    const merged = new Uint8Array(this.#buffer.length + n);
    merged.set(this.#buffer);
    merged.set(chunk.subarray(0, n), this.#buffer.length);
    this.#buffer = merged;
    return true;
  }

  #finish(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#observe({ type: "end" });
    this.#closeConn();
    this.#wake?.();
  }

  #closeConn(): void {
    if (this.#connClosed) return;
    this.#connClosed = true;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }
}

function indexOfCrlfCrlf(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
