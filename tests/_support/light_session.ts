/**
 * Fault-test and soak support: a light XMPP-over-WebSocket session on Deno's native WebSocket,
 * cheap enough to open by the thousand (no XML parsing: messages are matched as text). It logs in
 * with SASL PLAIN (loopback only), restarts the stream and binds a resource, then records every
 * message with its arrival time and the close code.
 *
 * @example
 * ```ts ignore
 * import { LightSession } from "./light_session.ts";
 * const session = await LightSession.login("ws://127.0.0.1:5280/xmpp-websocket", "alice", "pw");
 * session.send(`<iq xmlns='jabber:client' type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
 * await session.until((m) => m.includes("id='p1'"), "pong");
 * await session.close();
 * ```
 * @module
 */

/** The RFC 7395 framing namespace. */
export const FRAMING = "urn:ietf:params:xml:ns:xmpp-framing";

/** Waits for a session step, in ms (every wait is bounded). */
export const STEP_MS = 15_000;

/** One message received, with `performance.now()` at arrival. */
export interface Received {
  readonly text: string;
  readonly at: number;
}

/** A raw session; see the module documentation. */
export class LightSession {
  readonly socket: WebSocket;
  /** Everything received, in order. */
  readonly received: Received[] = [];
  /** Resolves once the socket has opened; rejects on a handshake failure. */
  readonly opened: Promise<void>;
  /** Resolves when the socket is closed (never rejects). */
  readonly closed: Promise<void>;
  /** The close code, once closed. */
  closeCode: number | undefined;
  /** `performance.now()` at close. */
  closedAt: number | undefined;
  /** The bound full JID, after {@link LightSession.login}. */
  jid = "";
  /** Called on each message (after it is recorded), e.g. by the soak's round-trip timer. */
  onMessage: ((text: string) => void) | undefined;
  /** Whether messages are kept in `received` (turn off for long runs). */
  record = true;
  #read = 0;
  #wake: (() => void) | undefined;

  constructor(url: string) {
    this.socket = new WebSocket(url, ["xmpp"]);
    this.opened = new Promise((resolve, reject) => {
      this.socket.onopen = () => resolve();
      this.socket.onerror = (e) =>
        reject(new Error(`WebSocket error: ${(e as ErrorEvent).message}`));
    });
    this.opened.catch(() => {}); // observed through `closed` too
    this.closed = new Promise((resolve) => {
      this.socket.onclose = (event) => {
        this.closeCode = event.code;
        this.closedAt = performance.now();
        this.#wake?.();
        resolve();
      };
    });
    this.socket.onmessage = (event) => {
      const text = typeof event.data === "string" ? event.data : "<binary/>";
      // Like any client (RFC 6120 §8.2.3: an iq get is answered), it answers the server's
      // XEP-0199 pings, which the embedded server sends to sessions silent for a while.
      if (text.startsWith("<iq") && text.includes("urn:xmpp:ping") && /\btype='get'/.test(text)) {
        const id = /\bid='([^']*)'/.exec(text)?.[1] ?? "";
        const from = /\bfrom='([^']*)'/.exec(text)?.[1];
        this.send(
          `<iq xmlns='jabber:client' type='result' id='${id}'${from ? ` to='${from}'` : ""}/>`,
        );
      }
      if (this.record) this.received.push({ text, at: performance.now() });
      this.onMessage?.(text);
      this.#wake?.();
    };
  }

  /** Opens a socket and logs in (PLAIN, restart, bind); rejects with the step that failed. */
  static async login(
    url: string,
    username: string,
    password: string,
    options: { readonly domain?: string; readonly resource?: string } = {},
  ): Promise<LightSession> {
    const session = new LightSession(url);
    try {
      await session.#login(username, password, options.domain ?? "localhost", options.resource);
      return session;
    } catch (error) {
      session.abort();
      await session.closed;
      throw error;
    }
  }

  async #login(username: string, password: string, domain: string, resource?: string) {
    await withTimeout(this.opened, "the WebSocket handshake", STEP_MS);
    const open = `<open xmlns='${FRAMING}' to='${domain}' version='1.0'/>`;
    this.send(open);
    await this.until((t) => t.includes("<mechanisms"), "SASL features");
    this.send(
      `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${
        btoa(`\0${username}\0${password}`)
      }</auth>`,
    );
    await this.until((t) => t.includes("<success"), "SASL success");
    this.send(open);
    await this.until((t) => t.includes("urn:ietf:params:xml:ns:xmpp-bind"), "bind feature");
    this.send(
      "<iq xmlns='jabber:client' type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>" +
        (resource ? `<resource>${resource}</resource>` : "") + "</bind></iq>",
    );
    const result = await this.until((t) => /id=['"]bind1['"]/.test(t), "bind result");
    const jid = /<jid>([^<]+)<\/jid>/.exec(result)?.[1];
    if (jid === undefined || !/type=['"]result['"]/.test(result)) {
      throw new Error(`bind failed: ${result}`);
    }
    this.jid = jid;
  }

  /** Sends one message; false when the socket is not open. */
  send(text: string): boolean {
    if (this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(text);
    return true;
  }

  /**
   * The next unread message matching `test` (unread ones before it are skipped; a stream error
   * or SASL failure among them rejects). Rejects after `ms` or when the socket closes first.
   */
  async until(test: (text: string) => boolean, what: string, ms = STEP_MS): Promise<string> {
    const deadline = performance.now() + ms;
    for (;;) {
      while (this.#read < this.received.length) {
        const text = this.received[this.#read++]!.text;
        if (test(text)) return text;
        if (/<(stream:)?error[ >]|<failure[ >]/.test(text)) throw new Error(`${what}: got ${text}`);
      }
      if (this.closeCode !== undefined) {
        throw new Error(`${what}: the connection closed (${this.closeCode})`);
      }
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`${what}: timed out after ${ms} ms`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
      this.#wake = undefined;
    }
  }

  /** Messages received since `index` (a length of `received` taken earlier). */
  since(index: number): string[] {
    return this.received.slice(index).map((r) => r.text);
  }

  /** The XMPP close handshake (`<close/>`, then the WebSocket), bounded by `ms`. */
  async close(ms = 2_000): Promise<void> {
    if (this.send(`<close xmlns='${FRAMING}'/>`)) {
      const timer = setTimeout(() => this.abort(), ms);
      await this.#closedWithin(2 * ms);
      clearTimeout(timer);
      return;
    }
    this.abort();
    await this.#closedWithin(ms);
  }

  /** Waits for the close event, at most `ms` (a WebSocket close can wait forever for a peer). */
  async #closedWithin(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.closed, new Promise((resolve) => timer = setTimeout(resolve, ms))]);
    clearTimeout(timer);
  }

  /** Closes the WebSocket at once (1000, no `<close/>`). */
  abort(): void {
    try {
      this.socket.close(1000);
    } catch { /* already closing */ }
  }
}

/** `promise`, or a rejection naming `what` after `ms`. */
export function withTimeout<T>(promise: Promise<T>, what: string, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Runs `task` over `items` with at most `width` at a time; collects results in order. */
export async function pool<T, R>(
  items: readonly T[],
  width: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await task(items[index]!, index);
      }
    }),
  );
  return results;
}
