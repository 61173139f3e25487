/**
 * One lean XMPP client connection of the load client, over an RFC 7395 WebSocket (Deno's
 * native client) or a raw RFC 6120 TCP stream (`Deno.connect`, no XML parser): a pipelined
 * login (stream header and `<auth/>` in one go, then the restart and the bind request in one
 * go), then a counting mode where every `<message/>` that comes back is handed to a callback
 * without being parsed (over WebSocket, each request waits for the stream features: see
 * `#step`). Only for servers under test that the bench started itself.
 *
 * @example
 * ```ts ignore
 * import { Link } from "./link.ts";
 * const link = await Link.open({ kind: "ws", url: "ws://127.0.0.1:5280/xmpp-websocket", domain: "localhost" });
 * const jid = await link.login("u1", "secret", "PLAIN");
 * link.close();
 * ```
 * @module
 */

import type { Endpoint, Mechanism } from "./protocol.ts";
import { scramFinal, scramFirst } from "./scram.ts";

const FRAMING = "urn:ietf:params:xml:ns:xmpp-framing";
const SASL = "urn:ietf:params:xml:ns:xmpp-sasl";
const BIND = "<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>";
const MARKER = "</message>";
const encoder = new TextEncoder();

/** Called for every `<message/>` that comes back while counting. */
export type MessageHandler = (link: Link, isError: boolean) => void;

/**
 * A connection. `open` connects; `login` authenticates and binds; then set `onMessage`.
 *
 * @example
 * ```ts ignore
 * const link = await Link.open(endpoint);
 * await link.login("u1", "pw", "SCRAM-SHA-1");
 * link.onMessage = (l) => console.log("back from", l.jid);
 * ```
 */
export class Link {
  readonly endpoint: Endpoint;
  /** Set in counting mode. */
  onMessage: MessageHandler | undefined;
  /** The bound full JID. */
  jid = "";
  /** The message this link sends to itself. */
  message = "";
  /** When the message in flight was sent (performance.now()). */
  sentAt = 0;
  ended = false;
  #ws: WebSocket | undefined;
  #tcp: Deno.TcpConn | undefined;
  #writing: Promise<void> = Promise.resolve();
  #inbox = "";
  #tail = "";
  #wake: (() => void) | undefined;

  private constructor(endpoint: Endpoint) {
    this.endpoint = endpoint;
  }

  /** Connects (WebSocket with the `xmpp` subprotocol, or TCP with Nagle off). */
  static async open(endpoint: Endpoint): Promise<Link> {
    const link = new Link(endpoint);
    if (endpoint.kind === "ws") {
      const ws = link.#ws = new WebSocket(endpoint.url, ["xmpp"]);
      await new Promise<void>((resolve, reject) => {
        ws.onopen = () => resolve();
        ws.onerror = (e) => reject(new Error(`WebSocket: ${(e as ErrorEvent).message}`));
      });
      ws.onerror = () => {};
      ws.onclose = () => link.#end();
      ws.onmessage = (event) => link.#wsMessage(event.data);
    } else {
      const conn = link.#tcp = await Deno.connect({
        hostname: endpoint.hostname,
        port: endpoint.port,
      });
      conn.setNoDelay(true);
      void link.#readTcp(conn);
    }
    return link;
  }

  /** Sends elements: one WebSocket message each, or one TCP write for all. */
  write(...parts: string[]): void {
    if (this.ended) return;
    if (this.#ws !== undefined) {
      for (const part of parts) this.#ws.send(part);
      return;
    }
    const bytes = encoder.encode(parts.length === 1 ? parts[0]! : parts.join(""));
    const conn = this.#tcp!;
    this.#writing = this.#writing.then(async () => {
      for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
    }).catch(() => this.#end());
  }

  /** Logs in and binds; resolves with the bound full JID (also kept in `jid`). */
  async login(username: string, password: string, mechanism: Mechanism): Promise<string> {
    const open = this.#header();
    if (mechanism === "PLAIN") {
      await this.#step(open, auth("PLAIN", btoa(`\0${username}\0${password}`)));
    } else {
      const start = scramFirst(username);
      await this.#step(open, auth("SCRAM-SHA-1", btoa(start.message)));
      const challenge = await this.expect(/<challenge\b[^>]*>([^<]*)<\/challenge>/, "challenge");
      const final = await scramFinal(start, atob(challenge[1]!), password);
      this.write(`<response xmlns='${SASL}'>${btoa(final.message)}</response>`);
      const success = await this.expect(/<success\b[^>]*?(?:\/>|>([^<]*)<\/success>)/, "success");
      if (atob(success[1] ?? "") !== `v=${final.serverSignature}`) {
        throw new Error(`SCRAM: wrong server signature in ${success[0]}`);
      }
      return this.#bind(open);
    }
    await this.expect(/<success\b[^>]*?(?:\/>|>[^<]*<\/success>)/, "SASL success");
    return this.#bind(open);
  }

  /**
   * Sends a stream header and the next request. Over TCP both go in one write (pipelined);
   * over WebSocket the request waits for the features: ejabberd 23.01's WebSocket handler
   * crashes (function_clause on the `<auth/>` text) when the request arrives that early under
   * a burst of logins.
   */
  async #step(open: string, request: string): Promise<void> {
    if (this.endpoint.kind === "tcp") return this.write(open, request);
    this.write(open);
    await this.expect(/<(?:stream:)?features\b[\s\S]*?<\/(?:stream:)?features>/, "features");
    this.write(request);
  }

  async #bind(open: string): Promise<string> {
    await this.#step(open, this.endpoint.kind === "ws" ? withClientNs(BIND) : BIND);
    const result = await this.expect(
      /<iq\b[^>]*\bid=['"]b1['"][^>]*(?:\/>|>[\s\S]*?<\/iq>)/,
      "bind result",
    );
    const jid = /<jid>([^<]+)<\/jid>/.exec(result[0])?.[1];
    if (jid === undefined || !/type=['"]result['"]/.test(result[0])) {
      throw new Error(`bind failed: ${result[0]}`);
    }
    return this.jid = jid;
  }

  /** Waits until the received text matches `pattern`; drops the text up to the match. */
  async expect(pattern: RegExp, what: string, timeoutMs = 60_000): Promise<RegExpExecArray> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.#inbox);
      if (match !== null) {
        this.#inbox = this.#inbox.slice(match.index + match[0].length);
        return match;
      }
      if (/<failure\b|<stream:error|<close\b/.test(this.#inbox)) {
        throw new Error(`${what}: got ${this.#inbox.slice(0, 300)}`);
      }
      if (this.ended) {
        throw new Error(`${what}: the connection closed (${this.#inbox.slice(0, 200)})`);
      }
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`${what}: timed out (${this.#inbox.slice(0, 200)})`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
      this.#wake = undefined;
    }
  }

  /** Ends the stream and the connection without waiting for the server. */
  close(): void {
    if (this.ended) return;
    if (this.#ws !== undefined) {
      try {
        this.#ws.send(`<close xmlns='${FRAMING}'/>`);
        this.#ws.close(1000);
      } catch { /* closing already */ }
      return;
    }
    const conn = this.#tcp!;
    this.write("</stream:stream>");
    void this.#writing.finally(() => {
      try {
        conn.close();
      } catch { /* closed */ }
    });
    this.#end();
  }

  #header(): string {
    const domain = this.endpoint.domain;
    return this.endpoint.kind === "ws"
      ? `<open xmlns='${FRAMING}' to='${domain}' version='1.0'/>`
      : `<?xml version='1.0'?><stream:stream xmlns='jabber:client' ` +
        `xmlns:stream='http://etherx.jabber.org/streams' to='${domain}' version='1.0'>`;
  }

  #wsMessage(data: unknown): void {
    if (typeof data !== "string") return;
    const handler = this.onMessage;
    if (handler !== undefined) {
      if (data.startsWith("<message")) handler(this, data.includes("type='error'"));
      return;
    }
    this.#inbox += data;
    this.#wake?.();
  }

  async #readTcp(conn: Deno.TcpConn): Promise<void> {
    const decoder = new TextDecoder();
    const buffer = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) break;
        const text = decoder.decode(buffer.subarray(0, n), { stream: true });
        const handler = this.onMessage;
        if (handler === undefined) {
          this.#inbox += text;
          this.#wake?.();
          continue;
        }
        // Counting mode: one `</message>` per message back; the marker may straddle reads.
        const s = this.#tail + text;
        let from = 0;
        for (let at = s.indexOf(MARKER); at >= 0; at = s.indexOf(MARKER, from)) {
          const isError = s.lastIndexOf("type='error'", at) >= from ||
            s.lastIndexOf('type="error"', at) >= from;
          from = at + MARKER.length;
          handler(this, isError);
        }
        this.#tail = s.slice(Math.max(from, s.length - MARKER.length + 1));
      }
    } catch { /* reset */ }
    this.#end();
  }

  #end(): void {
    this.ended = true;
    this.#wake?.();
  }
}

function auth(mechanism: string, initial: string): string {
  return `<auth xmlns='${SASL}' mechanism='${mechanism}'>${initial}</auth>`;
}

/**
 * RFC 7395 messages are standalone documents: stanzas carry `xmlns='jabber:client'`.
 *
 * @example
 * ```ts
 * import { withClientNs } from "./link.ts";
 * console.log(withClientNs("<iq type='get'/>")); // "<iq xmlns='jabber:client' type='get'/>"
 * ```
 */
export function withClientNs(stanza: string): string {
  return stanza.replace(/^<(\w+)/, "<$1 xmlns='jabber:client'");
}
