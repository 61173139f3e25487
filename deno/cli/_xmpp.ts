/**
 * The few XMPP steps the command-line tools need over a {@link RawWebSocket}: open the stream,
 * log in with SASL (SCRAM-SHA-256, SCRAM-SHA-1 with server-signature check, or PLAIN), restart,
 * bind a resource, and close with the `<close/>` handshake. Every step is bounded by a timeout
 * and fails with a {@link StreamStepError} saying what the server did instead.
 *
 * @example
 * ```ts ignore
 * import { openWebSocket } from "./_ws.ts";
 * import { XmppWire } from "./_xmpp.ts";
 * const { socket } = await openWebSocket(new URL("ws://127.0.0.1:5280/xmpp-websocket"), {
 *   protocols: ["xmpp"], timeoutMs: 3_000,
 * });
 * const wire = new XmppWire(socket!, 3_000);
 * const { features } = await wire.openStream("localhost");
 * console.log(features.name); // "features"
 * await wire.closeStream();
 * ```
 * @module
 */

import {
  childElement,
  childElements,
  DocumentParser,
  escapeAttribute,
  escapeText,
  NS,
  plainClientMessage,
  readStreamError,
  scramClientContinue,
  scramClientFinish,
  scramClientStart,
  type ScramMechanism,
  textOf,
  type XmlElement,
} from "../../core/mod.ts";
import type { Inbound, RawWebSocket } from "./_ws.ts";

/** What the server said when a step failed, when it said anything. */
export interface StreamStepDetail {
  /** The stream error condition (`host-unknown`, ...), when the server sent a stream error. */
  readonly condition?: string;
  /**
   * The `from` of the server's `<open/>` answering ours: the domain it names itself by. With a
   * `host-unknown` error it is the hint of RFC 6120 §4.9.3.6 (our server and gateway name their
   * first served domain there; Prosody 0.12 echoes the refused `to`).
   */
  readonly serverDomain?: string;
}

/** A step of the XMPP exchange failed (exit code 1 in the CLI). */
export class StreamStepError extends Error {
  /** The stream error condition, when there was one. */
  readonly condition: string | undefined;
  /** The `from` of the server's `<open/>`, when the failure followed one. */
  readonly serverDomain: string | undefined;
  /** Creates the error; `message` says what the server did. */
  constructor(message: string, detail: StreamStepDetail = {}) {
    super(message);
    this.name = "StreamStepError";
    this.condition = detail.condition;
    this.serverDomain = detail.serverDomain;
  }
}

/** A `<message type='error'>` answering one we sent (RFC 6120 §8.3). */
export interface Bounce {
  /** The stanza error condition (`service-unavailable`, ...). */
  readonly condition: string;
  /** The error type (`cancel`, `wait`, ...). */
  readonly type?: string;
  /** The server's human-readable text, if any. */
  readonly text?: string;
  /** Who bounced it (the `from` of the error). */
  readonly from?: string;
}

/**
 * Reads the bounce out of `el` if it is a `<message type='error'>` answering the message with
 * id `id`; `undefined` otherwise.
 *
 * @example
 * ```ts
 * import { element } from "../../core/mod.ts";
 * import { readBounce } from "./_xmpp.ts";
 * const stanzas = "urn:ietf:params:xml:ns:xmpp-stanzas";
 * const bounce = element("message", "jabber:client", { type: "error", id: "m1" }, [
 *   element("error", "jabber:client", { type: "cancel" }, [element("service-unavailable", stanzas)]),
 * ]);
 * console.log(readBounce(bounce, "m1")?.condition, readBounce(bounce, "m2")); // "service-unavailable" undefined
 * ```
 */
export function readBounce(el: XmlElement, id: string): Bounce | undefined {
  if (el.name !== "message" || el.attrs.type !== "error" || el.attrs.id !== id) return undefined;
  const error = childElement(el, "error", el.ns);
  const conditions = error ? childElements(error).filter((c) => c.ns === STANZA_ERRORS) : [];
  const condition = conditions.find((c) => c.name !== "text")?.name ?? "undefined-condition";
  const text = conditions.find((c) => c.name === "text");
  return {
    condition,
    ...(error?.attrs.type ? { type: error.attrs.type } : {}),
    ...(text ? { text: textOf(text) } : {}),
    ...(el.attrs.from ? { from: el.attrs.from } : {}),
  };
}

const STANZA_ERRORS = "urn:ietf:params:xml:ns:xmpp-stanzas";

/** Credentials for {@link XmppWire.login}. */
export interface Credentials {
  /** The SASL username (the local part of the JID). */
  readonly username: string;
  readonly password: string;
  /** Allow PLAIN when SCRAM is not offered (default false). */
  readonly allowPlain?: boolean;
}

const MECHANISM_ORDER = ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"] as const;

/** Element-level access to a raw socket: one parsed element per text message. */
export class XmppWire {
  /** The socket carried. */
  readonly socket: RawWebSocket;
  readonly #timeoutMs: number;
  readonly #parser = new DocumentParser();
  #to = "";

  /** Wraps `socket`; each wait is bounded by `timeoutMs`. */
  constructor(socket: RawWebSocket, timeoutMs: number) {
    this.socket = socket;
    this.#timeoutMs = timeoutMs;
  }

  /** Sends one text message. */
  send(text: string): Promise<void> {
    return this.socket.sendText(text);
  }

  /** The next element; throws {@link StreamStepError} on anything else or a stream error. */
  async next(what: string): Promise<XmlElement> {
    const event = await this.socket.next(this.#timeoutMs);
    if (event.type !== "text") {
      throw new StreamStepError(`Waiting for ${what}: ${describe(event, this.#timeoutMs)}`);
    }
    return this.#element(event.data, what);
  }

  /** Parses one message; a stream error or `<close/>` fails the step. */
  #element(data: string, what: string): XmlElement {
    const parsed = this.#parser.parse(data);
    if (!parsed.ok) {
      throw new StreamStepError(`Waiting for ${what}: unparseable message (${parsed.error.text})`);
    }
    const el = parsed.element;
    if (el.name === "error" && el.ns === NS.STREAMS) {
      const error = readStreamError(el);
      throw new StreamStepError(
        `Waiting for ${what}: stream error <${error.condition}/>${
          error.text ? ` (${error.text})` : ""
        }`,
        { condition: error.condition },
      );
    }
    if (el.name === "close" && el.ns === NS.FRAMING) {
      const uri = el.attrs["see-other-uri"];
      throw new StreamStepError(
        `Waiting for ${what}: the server closed the stream${uri ? ` (see-other-uri ${uri})` : ""}`,
      );
    }
    return el;
  }

  /** Sends `<open/>` to `to` and reads the server's `<open/>` and features. */
  async openStream(to: string): Promise<{ open: XmlElement; features: XmlElement }> {
    this.#to = to;
    await this.send(
      `<open xmlns='${NS.FRAMING}' to='${escapeAttribute(to)}' version='1.0' xml:lang='en'/>`,
    );
    const open = await this.next("the server's <open/>");
    if (open.name !== "open" || open.ns !== NS.FRAMING) {
      throw new StreamStepError(`Expected <open/> in the framing namespace, got <${open.name}/>`);
    }
    let features: XmlElement;
    try {
      features = await this.next("stream features");
    } catch (error) {
      if (!(error instanceof StreamStepError) || open.attrs.from === undefined) throw error;
      throw new StreamStepError(error.message, {
        ...(error.condition ? { condition: error.condition } : {}),
        serverDomain: open.attrs.from,
      });
    }
    if (features.name !== "features" || features.ns !== NS.STREAMS) {
      throw new StreamStepError(`Expected stream features, got <${features.name}/>`);
    }
    return { open, features };
  }

  /**
   * Authenticates with the best offered mechanism, then restarts the stream. Resolves with the
   * mechanism used and the post-restart `<open/>` and features.
   */
  async login(
    features: XmlElement,
    credentials: Credentials,
  ): Promise<{ mechanism: string; open: XmlElement; features: XmlElement }> {
    const offered = new Set(
      childElements(childElement(features, "mechanisms", NS.SASL) ?? features, "mechanism", NS.SASL)
        .map((el) => textOf(el).trim()),
    );
    const mechanism = MECHANISM_ORDER.find((name) =>
      offered.has(name) && (name !== "PLAIN" || credentials.allowPlain)
    );
    if (mechanism === undefined) {
      const list = [...offered].join(" ") || "none";
      throw new StreamStepError(
        `No usable SASL mechanism (offered: ${list}${
          offered.has("PLAIN") ? "; PLAIN needs wss:, loopback or --allow-plain" : ""
        })`,
      );
    }
    if (mechanism === "PLAIN") {
      const data = plainClientMessage(credentials.username, credentials.password);
      await this.send(`<auth xmlns='${NS.SASL}' mechanism='PLAIN'>${data}</auth>`);
      this.#expectSuccess(await this.next("SASL success"));
    } else {
      await this.#scram(mechanism, credentials);
    }
    const restarted = await this.openStream(this.#to);
    return { mechanism, ...restarted };
  }

  async #scram(mechanism: ScramMechanism, credentials: Credentials): Promise<void> {
    const nonce = crypto.randomUUID().replaceAll("-", "");
    const first = scramClientStart(mechanism, credentials.username, credentials.password, nonce);
    await this.send(`<auth xmlns='${NS.SASL}' mechanism='${mechanism}'>${first.data}</auth>`);
    const challenge = await this.next("SASL challenge");
    if (challenge.name !== "challenge" || challenge.ns !== NS.SASL) this.#expectSuccess(challenge);
    const response = scramClientContinue(first.state, textOf(challenge).trim());
    if (response.type === "failure") {
      await this.send(`<abort xmlns='${NS.SASL}'/>`);
      throw new StreamStepError(`SASL ${mechanism}: ${response.text}`);
    }
    await this.send(`<response xmlns='${NS.SASL}'>${response.data}</response>`);
    const success = await this.next("SASL success");
    this.#expectSuccess(success);
    const verified = scramClientFinish(response.state, textOf(success).trim());
    if (verified.type === "failure") {
      throw new StreamStepError(`SASL ${mechanism}: ${verified.text}`);
    }
  }

  #expectSuccess(el: XmlElement): void {
    if (el.ns === NS.SASL && el.name === "success") return;
    if (el.ns === NS.SASL && el.name === "failure") {
      const condition = childElements(el).find((c) => c.name !== "text")?.name ?? "unknown";
      const text = childElement(el, "text", NS.SASL);
      throw new StreamStepError(
        `Authentication failed: <${condition}/>${text ? ` (${textOf(text)})` : ""}`,
      );
    }
    throw new StreamStepError(`Unexpected <${el.name}/> during SASL`);
  }

  /** Binds `resource` (RFC 6120 §7); resolves with the full JID. */
  async bind(resource: string): Promise<string> {
    await this.send(
      `<iq xmlns='jabber:client' type='set' id='bind-1'><bind xmlns='${NS.BIND}'><resource>${
        escapeText(resource)
      }</resource></bind></iq>`,
    );
    for (;;) {
      const el = await this.next("the bind result");
      if (el.name !== "iq" || el.attrs.id !== "bind-1") continue;
      const jid = childElement(childElement(el, "bind", NS.BIND) ?? el, "jid", NS.BIND);
      if (el.attrs.type !== "result" || jid === undefined) {
        throw new StreamStepError(`Resource binding failed (iq type '${el.attrs.type}')`);
      }
      return textOf(jid);
    }
  }

  /**
   * Reads what arrives during `waitMs` (at most `maxElements` elements) and resolves with the
   * first bounce of the message `id` (then at once), or `undefined` when none came in time.
   * Other elements (presence, pushes, acks) are passed to `onOther` and otherwise ignored; a
   * stream error or `<close/>` fails the step.
   */
  async waitForBounce(
    id: string,
    waitMs: number,
    onOther: (el: XmlElement) => void = () => {},
    maxElements = 1_000,
  ): Promise<Bounce | undefined> {
    const deadline = performance.now() + waitMs;
    for (let seen = 0; seen < maxElements; seen++) {
      const left = Math.ceil(deadline - performance.now());
      if (left <= 0) return undefined;
      const event = await this.socket.next(left);
      if (event.type === "timeout") return undefined;
      if (event.type !== "text") {
        throw new StreamStepError(`Waiting for a bounce: ${describe(event, waitMs)}`);
      }
      const el = this.#element(event.data, "a bounce");
      const bounce = readBounce(el, id);
      if (bounce) return bounce;
      onOther(el);
    }
    return undefined;
  }

  /**
   * Sends `<close/>`, reads up to the server's `<close/>` (passing other elements to
   * `onElement`), then runs the WebSocket closing handshake. Resolves with the server's Close
   * code.
   */
  async closeStream(onElement: (el: XmlElement) => void = () => {}): Promise<number | undefined> {
    await this.send(`<close xmlns='${NS.FRAMING}'/>`);
    for (;;) {
      const event = await this.socket.next(this.#timeoutMs);
      if (event.type === "text") {
        const parsed = this.#parser.parse(event.data);
        if (parsed.ok && parsed.element.name === "close" && parsed.element.ns === NS.FRAMING) break;
        if (parsed.ok) onElement(parsed.element);
        continue;
      }
      if (event.type === "close") {
        await this.socket.waitEnd(this.#timeoutMs);
        throw new StreamStepError("The server closed the WebSocket without answering <close/>");
      }
      throw new StreamStepError(
        `Waiting for the server's <close/>: ${describe(event, this.#timeoutMs)}`,
      );
    }
    await this.socket.sendClose(1000);
    let code: number | undefined;
    for (;;) {
      const event = await this.socket.next(this.#timeoutMs);
      if (event.type === "close") code = event.code;
      if (event.type === "end") return code;
      if (event.type === "timeout") {
        throw new StreamStepError(
          `The server did not close the connection within ${this.#timeoutMs} ms`,
        );
      }
    }
  }
}

/** A short description of a non-message event. */
export function describe(event: Inbound, timeoutMs: number): string {
  switch (event.type) {
    case "timeout":
      return `nothing within ${timeoutMs} ms`;
    case "end":
      return "the connection ended";
    case "close":
      return `the server closed the WebSocket (${event.code ?? "no code"}${
        event.reason ? ` ${JSON.stringify(event.reason)}` : ""
      })`;
    case "binary":
      return `a binary message of ${event.bytes.length} bytes`;
    case "text":
      return `the message ${event.data.slice(0, 200)}`;
  }
}
