/**
 * Test support: a small promise-based XMPP-over-WebSocket client built on the core's client
 * session and Deno's own WebSocket, for loopback and interop tests (login, chat, close).
 *
 * @module
 */

import {
  childElement,
  createSession,
  element,
  type Input,
  NS,
  type Output,
  serialize,
  type Session,
  step,
  textOf,
  type XmlElement,
} from "../../core/mod.ts";
import {
  scramClientContinue,
  scramClientFinish,
  scramClientStart,
} from "../../core/sasl/scram_client.ts";

type Terminal = Extract<Output, { type: "stream-closed" | "stream-failed" | "stream-redirected" }>;

/** A connected client. */
export class WsTestClient {
  readonly socket: WebSocket;
  #session: Session;
  #inbox: XmlElement[] = [];
  #waiters: Array<() => void> = [];
  #timers = new Map<string, ReturnType<typeof setTimeout>>();
  features: XmlElement | undefined;
  streamId: string | undefined;
  terminal: Terminal | undefined;
  closeCode: number | undefined;
  readonly closed: Promise<void>;
  /** Every message sent and received, in order (">" out, "<" in). */
  readonly transcript: string[] = [];

  private constructor(socket: WebSocket, domain: string) {
    this.socket = socket;
    this.#session = createSession({
      role: "client",
      to: domain,
      openTimeoutMs: 10_000,
      closeTimeoutMs: 2_000,
    });
    this.closed = new Promise((resolve) => {
      socket.onclose = (event) => {
        this.closeCode = event.code;
        this.#input({ type: "transport-closed", now: performance.now(), code: event.code });
        for (const t of this.#timers.values()) clearTimeout(t);
        this.#wake();
        resolve();
      };
    });
    socket.onmessage = (event) => {
      if (typeof event.data === "string") this.transcript.push("< " + event.data);
      this.#input(
        typeof event.data === "string"
          ? { type: "text-received", now: performance.now(), data: event.data }
          : { type: "binary-received", now: performance.now(), byteLength: 0 },
      );
    };
  }

  /** Connects and waits for the stream features. */
  static async connect(
    url: string,
    domain = "localhost",
    timeoutMs = 10_000,
  ): Promise<WsTestClient> {
    const socket = new WebSocket(url, ["xmpp"]);
    const client = new WsTestClient(socket, domain);
    await new Promise<void>((resolve, reject) => {
      socket.onopen = () => resolve();
      socket.onerror = (e) =>
        reject(new Error(`WebSocket error: ${(e as ErrorEvent).message ?? e}`));
    });
    client.#input({
      type: "transport-opened",
      now: performance.now(),
      secure: url.startsWith("wss:"),
      protocol: socket.protocol,
    });
    await client.waitFeatures(timeoutMs);
    return client;
  }

  #input(input: Input): void {
    const { state: session, outputs } = step(this.#session, input);
    this.#session = session;
    for (const output of outputs) this.#execute(output);
  }

  #execute(output: Output): void {
    switch (output.type) {
      case "send-text":
        this.transcript.push("> " + output.text);
        if (this.socket.readyState === WebSocket.OPEN) this.socket.send(output.text);
        return;
      case "close-transport":
        if (this.socket.readyState <= WebSocket.OPEN) this.socket.close(1000);
        return;
      case "set-timer": {
        clearTimeout(this.#timers.get(output.timer));
        this.#timers.set(
          output.timer,
          setTimeout(
            () => this.#input({ type: "timer-fired", now: performance.now(), timer: output.timer }),
            Math.max(0, output.at - performance.now()),
          ),
        );
        return;
      }
      case "clear-timer":
        clearTimeout(this.#timers.get(output.timer));
        this.#timers.delete(output.timer);
        return;
      case "stream-opened":
        this.streamId = output.id;
        return;
      case "element-received":
        if (output.element.name === "features" && output.element.ns === NS.STREAMS) {
          this.features = output.element;
        } else this.#inbox.push(output.element);
        this.#wake();
        return;
      case "stream-closed":
      case "stream-failed":
      case "stream-redirected":
        this.terminal = output;
        this.#wake();
        return;
      default:
        return;
    }
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  async #until<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value !== undefined) return value;
      if (this.terminal) {
        throw new Error(
          `${what}: the stream ended: ${JSON.stringify(this.terminal)}\n${
            this.transcript.join("\n")
          }`,
        );
      }
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`${what}: timed out\n${this.transcript.join("\n")}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  /** Waits for a features element (after open or a restart). */
  async waitFeatures(timeoutMs = 10_000): Promise<XmlElement> {
    return await this.#until(() => this.features, timeoutMs, "features");
  }

  /** Sends one element. */
  send(el: XmlElement): void {
    this.#input({ type: "send-element", now: performance.now(), element: el });
  }

  /** Waits for the next received element matching `predicate` (removing it from the inbox). */
  async next(
    predicate: (el: XmlElement) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<XmlElement> {
    return await this.#until(
      () => {
        const index = this.#inbox.findIndex(predicate);
        return index < 0 ? undefined : this.#inbox.splice(index, 1)[0];
      },
      timeoutMs,
      "next element",
    );
  }

  /** The SASL mechanisms offered. */
  mechanisms(): string[] {
    const list = this.features && childElement(this.features, "mechanisms", NS.SASL);
    return list
      ? list.children.filter((c): c is XmlElement => typeof c !== "string").map(textOf)
      : [];
  }

  /** SASL PLAIN or SCRAM login, then the stream restart; resolves with the new features. */
  async login(
    username: string,
    password: string,
    mechanism: "PLAIN" | "SCRAM-SHA-1" | "SCRAM-SHA-256" = "SCRAM-SHA-256",
  ): Promise<XmlElement> {
    this.features = undefined;
    if (mechanism === "PLAIN") {
      this.send(element("auth", NS.SASL, { mechanism }, [btoa(`\0${username}\0${password}`)]));
    } else {
      const start = scramClientStart(
        mechanism,
        username,
        password,
        crypto.randomUUID().replaceAll("-", ""),
      );
      this.send(element("auth", NS.SASL, { mechanism }, [start.data]));
      const challenge = await this.next((e) => e.ns === NS.SASL);
      if (challenge.name !== "challenge") throw new Error(`SASL: ${serialize(challenge)}`);
      const response = scramClientContinue(start.state, textOf(challenge));
      if (response.type !== "response") throw new Error(`SCRAM: ${JSON.stringify(response)}`);
      this.send(element("response", NS.SASL, {}, [response.data]));
      const success = await this.next((e) => e.ns === NS.SASL);
      if (success.name !== "success") throw new Error(`SASL: ${serialize(success)}`);
      const verified = scramClientFinish(response.state, textOf(success));
      if (verified.type !== "verified") {
        throw new Error(`SCRAM server signature: ${JSON.stringify(verified)}`);
      }
      this.#input({ type: "restart-stream", now: performance.now() });
      return await this.waitFeatures();
    }
    const result = await this.next((e) => e.ns === NS.SASL);
    if (result.name !== "success") throw new Error(`SASL: ${serialize(result)}`);
    this.#input({ type: "restart-stream", now: performance.now() });
    return await this.waitFeatures();
  }

  /** Resource binding; resolves with the full JID. */
  async bind(resource?: string): Promise<string> {
    const id = "bind-" + crypto.randomUUID().slice(0, 8);
    this.send(element("iq", NS.CLIENT, { type: "set", id }, [
      element("bind", NS.BIND, {}, resource ? [element("resource", NS.BIND, {}, [resource])] : []),
    ]));
    const result = await this.next((e) => e.name === "iq" && e.attrs.id === id);
    const jid = result.children.length > 0
      ? childElement(childElement(result, "bind", NS.BIND)!, "jid", NS.BIND)
      : undefined;
    if (result.attrs.type !== "result" || jid === undefined) {
      throw new Error(`bind failed: ${serialize(result)}`);
    }
    return textOf(jid);
  }

  /** Sends an iq and waits for its response. */
  async iq(type: "get" | "set", payload: XmlElement, to?: string): Promise<XmlElement> {
    const id = "iq-" + crypto.randomUUID().slice(0, 8);
    this.send(element("iq", NS.CLIENT, { type, id, to }, [payload]));
    return await this.next((e) => e.name === "iq" && e.attrs.id === id);
  }

  /** The close handshake (#27, #28); resolves once the socket is closed. */
  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.OPEN && this.#session.phase !== "closed") {
      this.#input({ type: "close-stream", now: performance.now() });
    }
    await this.closed;
  }

  /** Drops the connection without `<close/>` (a network cut, as seen by the server). */
  async cut(): Promise<void> {
    this.socket.close(4000, "cut");
    await this.closed;
  }
}
