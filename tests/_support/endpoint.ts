/**
 * Test support for the endpoint tests (Deno and Node): bounded waits, a message queue, Deno's WebSocket
 * client with a queue, and a raw client (hand-written HTTP and WebSocket frames, plain or TLS)
 * to see the wire exactly.
 *
 * @module
 */

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

export { closeCodeOf, type Frame, RawClient, upgradeRequest } from "./raw_ws.ts";
