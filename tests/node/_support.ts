/**
 * Test support for the Node adapter tests: bounded waits, a message queue, Deno's WebSocket
 * client with a queue, and a raw client (hand-written HTTP and WebSocket frames, plain or TLS)
 * to see the wire exactly.
 *
 * @module
 */

import { assert } from "@std/assert";
import { DocumentParser, NS, type XmlElement } from "../../core/mod.ts";
import type { TerminalNotice, XmppApplication, XmppConnection } from "../../node_adapter/mod.ts";

export const OPEN = `<open xmlns='${NS.FRAMING}' to='localhost' version='1.0'/>`;
export const CLOSE = `<close xmlns='${NS.FRAMING}'/>`;
export const WAIT_MS = 5_000;

// A throwaway self-signed P-256 certificate for 127.0.0.1 and localhost (valid 2000-2999), made
// for this test only; the key protects nothing.
export const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBfTCCASOgAwIBAgIUdY2cWKZVUybpVuOsTFeCcMUm0BswCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTAwMDEwMTAwMDAwMFoYDzI5OTkxMjMx
MDAwMDAwWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAARpFYuzJHeoemet32tw4gZhNcVv/P/nwMOXIBZ1RDKUf1T9eN7y0oZu
s/8vFuqVr95EiZAuWz4sBSerKCsjXYGQo1EwTzAaBgNVHREEEzARgglsb2NhbGhv
c3SHBH8AAAEwDAYDVR0TAQH/BAIwADAOBgNVHQ8BAf8EBAMCB4AwEwYDVR0lBAww
CgYIKwYBBQUHAwEwCgYIKoZIzj0EAwIDSAAwRQIgJMrZ4xIfXa7XYNyMg1lDBYcK
84x/jvztt0kN0jkDm7QCIQDUaTK/YbSQEDnMHUMIr078q650LVMwskQjJgpOBtV4
RQ==
-----END CERTIFICATE-----
`;
export const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgBV3NqtAtw6gTOJeC
BouSQ0AY8CcAImz3t3eMbpuJcTGhRANCAARpFYuzJHeoemet32tw4gZhNcVv/P/n
wMOXIBZ1RDKUf1T9eN7y0oZus/8vFuqVr95EiZAuWz4sBSerKCsjXYGQ
-----END PRIVATE KEY-----
`;

/** Rejects when `promise` has not settled within `ms`. */
export function deadline<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A queue whose `next` waits (bounded) for the next item. */
export class Queue<T> {
  readonly items: T[] = [];
  #wake: (() => void) | undefined;

  push(item: T): void {
    this.items.push(item);
    this.#wake?.();
  }

  async next(what: string, ms = WAIT_MS): Promise<T> {
    if (this.items.length === 0) {
      await deadline(new Promise<void>((resolve) => this.#wake = resolve), what, ms);
      this.#wake = undefined;
    }
    return this.items.shift()!;
  }
}

export function parse(text: string): XmlElement {
  const result = new DocumentParser().parse(text);
  if (!result.ok) throw new Error(`Not one well-formed element: ${text}`);
  return result.element;
}

/** An application that records what happens, plus overrides. */
export function recorder(overrides: XmppApplication = {}): {
  application: XmppApplication;
  opened: Queue<XmppConnection>;
  elements: Queue<XmlElement>;
  ended: Queue<TerminalNotice>;
} {
  const opened = new Queue<XmppConnection>();
  const elements = new Queue<XmlElement>();
  const ended = new Queue<TerminalNotice>();
  const application: XmppApplication = {
    onOpened: (conn) => opened.push(conn),
    onElement: (_conn, el) => elements.push(el),
    onEnded: (_conn, notice) => ended.push(notice),
    ...overrides,
  };
  return { application, opened, elements, ended };
}

/** Deno's WebSocket client with a message queue. */
export class Client {
  readonly ws: WebSocket;
  readonly messages = new Queue<string | ArrayBuffer>();
  readonly opened: Promise<void>;
  readonly closed: Promise<CloseEvent>;

  constructor(url: string, protocols: string[] = ["xmpp"]) {
    this.ws = new WebSocket(url, protocols);
    this.ws.binaryType = "arraybuffer";
    this.ws.onmessage = (event) => this.messages.push(event.data);
    this.opened = new Promise((resolve, reject) => {
      this.ws.onopen = () => resolve();
      this.ws.onerror = (event) =>
        reject(new Error(`WebSocket error: ${(event as ErrorEvent).message}`));
    });
    this.closed = new Promise((resolve) => this.ws.addEventListener("close", resolve));
  }

  static async open(url: string, protocols?: string[]): Promise<Client> {
    const client = new Client(url, protocols);
    await deadline(client.opened, "the WebSocket to open");
    return client;
  }

  async next(what = "a message"): Promise<string> {
    const data = await this.messages.next(what);
    if (typeof data !== "string") throw new Error("Unexpected binary message");
    return data;
  }

  /** Sends `<open/>` and reads the response header and the features. */
  async openStream(): Promise<{ open: XmlElement; features: XmlElement }> {
    this.ws.send(OPEN);
    return {
      open: parse(await this.next("<open/>")),
      features: parse(await this.next("<features/>")),
    };
  }

  closeEvent(): Promise<CloseEvent> {
    return deadline(this.closed, "the WebSocket to close");
  }
}

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
