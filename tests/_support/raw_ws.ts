/**
 * Test support: a raw WebSocket client over TCP (hand-written HTTP upgrade and frames), to see
 * and send exactly what is on the wire. Shared by the Deno and Node endpoint tests.
 *
 * @module
 */

import { assert } from "@std/assert";

const WAIT_MS = 5_000;

/** One WebSocket frame as read from the server. */
export interface Frame {
  readonly opcode: number;
  readonly payload: Uint8Array;
}

/** A raw TCP (or TLS) client: hand-written HTTP and WebSocket frames. */
export class RawClient {
  readonly #conn: Deno.Conn;
  #buffer = new Uint8Array(0);
  #closed = false;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  static async connect(port: number): Promise<RawClient> {
    return new RawClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  static async connectTls(port: number, caCert: string): Promise<RawClient> {
    return new RawClient(await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [caCert] }));
  }

  async write(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    for (let done = 0; done < bytes.length;) done += await this.#conn.write(bytes.subarray(done));
  }

  /** Reads more bytes; false at the end of the stream. */
  async #fill(): Promise<boolean> {
    const chunk = new Uint8Array(65_536);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.close();
    }, WAIT_MS);
    try {
      const n = await this.#conn.read(chunk);
      if (n === null) return false;
      const merged = new Uint8Array(this.#buffer.length + n);
      merged.set(this.#buffer);
      merged.set(chunk.subarray(0, n), this.#buffer.length);
      this.#buffer = merged;
      return true;
    } catch (error) {
      if (timedOut) throw new Error(`Timed out after ${WAIT_MS} ms reading from the server`);
      if (
        error instanceof Deno.errors.ConnectionReset || error instanceof Deno.errors.BadResource
      ) return false;
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async #take(length: number): Promise<Uint8Array | null> {
    while (this.#buffer.length < length) if (!(await this.#fill())) return null;
    const bytes = this.#buffer.slice(0, length);
    this.#buffer = this.#buffer.slice(length);
    return bytes;
  }

  /** Reads an HTTP response head and its `content-length` body. */
  async readResponse(): Promise<{ status: number; headers: [string, string][]; body: string }> {
    let end: number;
    while ((end = new TextDecoder().decode(this.#buffer).indexOf("\r\n\r\n")) < 0) {
      if (!(await this.#fill())) throw new Error("The connection closed before a response");
    }
    const [statusLine, ...lines] = new TextDecoder().decode((await this.#take(end + 4))!).trimEnd()
      .split("\r\n");
    const headers = lines.map((line): [string, string] => {
      const colon = line.indexOf(":");
      return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
    });
    const length = Number(headers.find(([name]) => name === "content-length")?.[1] ?? 0);
    const body = new TextDecoder().decode((await this.#take(length)) ?? new Uint8Array());
    return { status: Number(statusLine!.split(" ")[1]), headers, body };
  }

  /** Whether the server closed the connection (reads to the end). */
  async readEnd(): Promise<true> {
    while (await this.#fill());
    return true;
  }

  /** Reads one (unmasked, server) frame; null at the end of the stream. */
  async readFrame(): Promise<Frame | null> {
    const head = await this.#take(2);
    if (head === null) return null;
    let length = head[1]! & 0x7f;
    if (length === 126) length = new DataView((await this.#take(2))!.buffer).getUint16(0);
    else if (length === 127) {
      length = Number(new DataView((await this.#take(8))!.buffer).getBigUint64(0));
    }
    const payload = await this.#take(length);
    return payload === null ? null : { opcode: head[0]! & 0x0f, payload };
  }

  /** Reads one text frame as a string. */
  async readText(): Promise<string> {
    const frame = await this.readFrame();
    if (frame?.opcode !== 0x1) throw new Error(`Expected a text frame, got ${frame?.opcode}`);
    return new TextDecoder().decode(frame.payload);
  }

  /** Writes one final, masked frame. */
  writeFrame(opcode: number, payload: Uint8Array | string): Promise<void> {
    const bytes = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
    assert(bytes.length < 126);
    const mask = crypto.getRandomValues(new Uint8Array(4));
    const masked = bytes.map((byte, i) => byte ^ mask[i % 4]!);
    return this.write(new Uint8Array([0x80 | opcode, 0x80 | bytes.length, ...mask, ...masked]));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#conn.close();
  }
}

/** An HTTP/1.1 WebSocket upgrade request. */
export function upgradeRequest(port: number, headers: string[], path = "/xmpp-websocket"): string {
  return [
    `GET ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version: 13",
    ...headers,
    "",
    "",
  ].join("\r\n");
}

/** The close code of a Close frame. */
export function closeCodeOf(frame: Frame | null): number | undefined {
  if (frame === null || frame.opcode !== 0x8 || frame.payload.length < 2) return undefined;
  return (frame.payload[0]! << 8) | frame.payload[1]!;
}
