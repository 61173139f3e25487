/**
 * An RFC 7395 (XMPP over WebSocket) client for Deno and browsers. It connects to a `wss://`
 * URL, or to a bare domain through XEP-0156 discovery (JRD and XRD fetched in parallel over
 * HTTPS, `wss:` links only unless `allowInsecure`, each candidate tried in turn, results
 * cached as HTTP allows), checks the `xmpp` subprotocol, logs in (SCRAM-SHA-256, SCRAM-SHA-1
 * with server-signature verification, PLAIN only on `wss` or loopback unless `allowPlain`,
 * ANONYMOUS when asked), binds a resource and enables XEP-0198. Then it keeps the session
 * alive: liveness probes after inbound silence, reconnection with capped exponential backoff
 * and full jitter after a transient failure (never after a fatal one, never two attempts at
 * once), XEP-0198 resumption with the unacknowledged stanzas sent again, and a
 * `stanzas-failed` event for those that could not be delivered.
 *
 * All protocol decisions are made by the pure core (`core/client/`); this file only runs it on
 * web APIs (`WebSocket`, `fetch`, `setTimeout`, `crypto`), so it can be bundled for browsers.
 *
 * @example
 * ```ts ignore
 * import { XmppClient } from "./client.ts";
 * const client = await XmppClient.connect({
 *   service: "wss://example.com/xmpp-websocket", username: "alice", password: "secret",
 * });
 * client.on("message", (message) => console.log(message));
 * client.message("bob@example.com", "Hello!");
 * await client.close();
 * ```
 * @module
 */

import {
  assertSendable,
  canQueue,
  type ClientConfig,
  type ClientError,
  type ClientState,
  type ClientStatus,
  createClient,
  describeClientError,
  iqErrorFor,
  iqStanza,
  messageStanza,
  presenceStanza,
  stanzaErrorCondition,
  type StanzaFailure,
} from "../core/client/mod.ts";
import type { XmlElement } from "../core/xml/element.ts";
import { XmppUsageError } from "../core/errors.ts";
import { ClientDriver, type ClientNotice, type WebSocketFactory } from "./_client_driver.ts";
import { discoverEndpoints, DiscoveryCache, DiscoveryError, type FetchLike } from "./_discovery.ts";

/**
 * A random id: `crypto.randomUUID` where the page is a secure context, else 128 bits from
 * `crypto.getRandomValues` (plain-http pages have no `randomUUID`).
 */
function randomId(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  return Array.from(
    crypto.getRandomValues(new Uint8Array(16)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

// Element helpers, so that a page bundling only the client can build and read stanzas.
export {
  childElement,
  childElements,
  element,
  NS,
  serialize,
  STREAM_ERROR_CONDITIONS,
  textOf,
} from "../core/mod.ts";
export type { SerializeContext, XmlElement, XmlNode } from "../core/mod.ts";
export type {
  BackoffOptions,
  ClientConfig,
  ClientError,
  ClientStatus,
  ConnectionFailure,
  ReconnectAdvice,
  StanzaFailure,
} from "../core/client/mod.ts";
export type {
  SaslClientFailureReason,
  SaslFailureCondition,
  StreamErrorCondition,
} from "../core/mod.ts";
export type { DiscoveryOptions } from "./_discovery.ts";

export {
  discoverEndpoints,
  DiscoveryCache,
  DiscoveryError,
  type FetchLike,
  type WebSocketFactory,
  XmppUsageError,
};

/** What {@link XmppClient.presence} announces (RFC 6121 §4.7); every field is optional. */
export interface PresenceOptions {
  /** The addressee (a directed presence); none for a broadcast. */
  readonly to?: string;
  /** `unavailable`, `subscribe`, `subscribed`, `unsubscribe`, `unsubscribed` or `probe`. */
  readonly type?: string;
  /** `away`, `chat`, `dnd` or `xa`. */
  readonly show?: string;
  /** A human-readable status text. */
  readonly status?: string;
  /** The stanza id. */
  readonly id?: string;
}

/** Options of {@link XmppClient.connect}. */
export interface XmppClientOptions extends Omit<ClientConfig, "domain" | "endpoints"> {
  /** A `wss://` URL (or `ws://` on loopback, or with `allowInsecure`), or a bare XMPP domain. */
  readonly service: string;
  /** The XMPP domain when `service` is a URL (default: the URL's host name). */
  readonly domain?: string;
  /** The `fetch` used for discovery (default: the global one). */
  readonly fetch?: FetchLike;
  /** Discovery cache (default: one shared by all clients of this module). */
  readonly discoveryCache?: DiscoveryCache;
  /** Creates the WebSockets (default: `new WebSocket(url, protocols)`). */
  readonly webSocket?: WebSocketFactory;
  /** A fresh random string per call (default `crypto.randomUUID()`); see `core/client` types. */
  readonly random?: () => string;
  /**
   * Answers iq get/set requests (XEP-0199 pings are answered already). Return the response,
   * or `undefined` to answer `service-unavailable` (also the answer without a handler).
   */
  readonly onIq?: (iq: XmlElement) => XmlElement | undefined | Promise<XmlElement | undefined>;
  /** Aborting it closes the client (also while `connect` is still logging in). */
  readonly signal?: AbortSignal;
}

/** The events of an {@link XmppClient}, with what `on` passes to the listener. */
export interface XmppClientEvents {
  /** Every stanza for the application (message, presence, and iq requests). */
  stanza: XmlElement;
  /** A `<message/>` (also dispatched as `stanza`). */
  message: XmlElement;
  /** A `<presence/>` (also dispatched as `stanza`). */
  presence: XmlElement;
  /** The status changed. */
  status: ClientStatus;
  /** Logged in, or resumed (`resumed: true`). */
  online: { readonly jid: string; readonly resumed: boolean; readonly streamManagement: boolean };
  /** A connection ended; another attempt starts at `retryAt` (monotonic ms). */
  disconnected: { readonly error: ClientError; readonly retryAt: number };
  /** XEP-0198: the server acknowledged these stanzas. */
  "stanzas-acked": readonly XmlElement[];
  /** These stanzas were probably not delivered. */
  "stanzas-failed": { readonly elements: readonly XmlElement[]; readonly reason: StanzaFailure };
  /** The client stopped: `undefined` after `close()`, else the fatal error. */
  closed: ClientError | undefined;
}

/** The client stopped with an error (`connect` rejects with it, as do pending iqs). */
export class XmppClientError extends Error {
  /** The typed reason (see `core/client/errors.ts`). */
  readonly error: ClientError;

  /** Wraps a typed error. */
  constructor(error: ClientError) {
    super(describeClientError(error));
    this.name = "XmppClientError";
    this.error = error;
  }
}

/** An iq failed: an error response (`response` set), a timeout, or the session was lost. */
export class IqError extends Error {
  /** The id of the request. */
  readonly id: string;
  /** The stanza error condition, or `timeout` / `session-lost` / `closed`. */
  readonly condition: string;
  /** The `error` response, when there was one. */
  readonly response: XmlElement | undefined;

  /** An error about request `id`. */
  constructor(id: string, condition: string, response?: XmlElement) {
    super(`iq ${id} failed: ${condition}`);
    this.name = "IqError";
    this.id = id;
    this.condition = condition;
    this.response = response;
  }
}

const sharedCache = new DiscoveryCache();

/** A connected XMPP client. Create it with {@link XmppClient.connect}. */
export class XmppClient extends EventTarget {
  readonly #driver: ClientDriver;
  readonly #iqs = new Map<string, (result: XmlElement | IqError) => void>();
  readonly #random: () => string;
  readonly #onIq: XmppClientOptions["onIq"];
  readonly #closed: Promise<ClientError | undefined>;
  #online!: (jid: string) => void;
  #failed!: (error: XmppClientError) => void;
  #ended!: (error: ClientError | undefined) => void;

  private constructor(state: ClientState, options: XmppClientOptions) {
    super();
    this.#random = options.random ?? randomId;
    this.#onIq = options.onIq;
    this.#closed = new Promise((resolve) => this.#ended = resolve);
    this.#driver = new ClientDriver(
      state,
      (notice) => this.#notice(notice),
      this.#random,
      options.webSocket ?? ((url, protocols) => new WebSocket(url, protocols)),
    );
  }

  /**
   * Resolves the endpoints (discovery for a bare domain), connects and logs in. Resolves once
   * online; rejects with {@link XmppClientError} when the first login fails (nothing is retried
   * before a first success), {@link DiscoveryError} when no endpoint is found, or `RangeError`
   * on invalid options.
   */
  static async connect(options: XmppClientOptions): Promise<XmppClient> {
    const isUrl = /^wss?:\/\//i.test(options.service);
    const domain = options.domain ?? (isUrl ? new URL(options.service).hostname : options.service);
    const endpoints = isUrl ? [options.service] : await discoverEndpoints(options.service, {
      ...(options.fetch ? { fetch: options.fetch } : {}),
      allowInsecure: options.allowInsecure ?? false,
      cache: options.discoveryCache ?? sharedCache,
    });
    const {
      service: _s,
      fetch: _f,
      discoveryCache: _c,
      webSocket: _w,
      random: _r,
      onIq: _i,
      signal,
      ...rest
    } = options;
    signal?.throwIfAborted();
    const client = new XmppClient(createClient({ ...rest, domain, endpoints }), options);
    if (signal) {
      const abort = () => client.#driver.input({ type: "close" });
      signal.addEventListener("abort", abort, { once: true });
      client.#closed.then(() => signal.removeEventListener("abort", abort));
    }
    const online = new Promise<string>((resolve, reject) => {
      client.#online = resolve;
      client.#failed = reject;
    });
    client.#driver.input({ type: "connect" });
    try {
      await online;
    } catch (error) {
      await client.#driver.settled(2_000);
      throw error;
    }
    return client;
  }

  /** The current status. */
  get status(): ClientStatus {
    return this.#driver.state.status;
  }

  /** The full JID of the session (once online). */
  get jid(): string | undefined {
    return this.#driver.state.jid;
  }

  /** Resolves when the client stops: `undefined` after `close()`, else the fatal error. */
  get closed(): Promise<ClientError | undefined> {
    return this.#closed;
  }

  /**
   * Listens to an event; returns a function that removes the listener.
   */
  on<K extends keyof XmppClientEvents>(
    type: K,
    listener: (detail: XmppClientEvents[K]) => void,
  ): () => void {
    // Typed through EventListener, not Event: @types/node (pulled in by the Node adapter's
    // `ws` types when both are checked together) declares a different global Event.
    const wrapped: EventListener = (event) => listener((event as CustomEvent).detail);
    this.addEventListener(type, wrapped);
    return () => this.removeEventListener(type, wrapped);
  }

  /**
   * Sends a stanza (`message`, `presence` or `iq` in `jabber:client`); queued while
   * reconnecting. Throws `TypeError` for anything else, {@link XmppUsageError} once closed.
   */
  send(element: XmlElement): void {
    assertSendable(element);
    this.#checkOpen();
    this.#driver.input({ type: "send", element });
  }

  /** Sends a chat message (or another type). */
  message(to: string, body: string, options: { readonly type?: string } = {}): void {
    this.send(messageStanza(to, body, { ...options, id: this.#random() }));
  }

  /** Sends presence (available, with no option). */
  presence(options: PresenceOptions = {}): void {
    this.send(presenceStanza(options));
  }

  /**
   * Sends an iq request and resolves with its `result`; rejects with {@link IqError} on an
   * `error` response, a timeout (default `iqTimeoutMs`) or the loss of the session.
   */
  iq(
    type: "get" | "set",
    payload: XmlElement,
    to?: string,
    options: { readonly timeoutMs?: number } = {},
  ): Promise<XmlElement> {
    this.#checkOpen();
    const element = iqStanza(type, this.#random(), payload, to);
    assertSendable(element);
    const id = element.attrs.id!;
    const answer = new Promise<XmlElement>((resolve, reject) => {
      this.#iqs.set(id, (result) => result instanceof IqError ? reject(result) : resolve(result));
    });
    this.#driver.input({
      type: "send-iq",
      element,
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
    return answer;
  }

  /**
   * Closes: the close handshake when connected (bounded by `closeTimeoutMs`), at once
   * otherwise. Resolves when the client has stopped and its sockets are closed.
   */
  async close(): Promise<void> {
    this.#driver.input({ type: "close" });
    await this.#closed;
    await this.#driver.settled(this.#driver.state.config.closeTimeoutMs);
  }

  #checkOpen(): void {
    const state = this.#driver.state;
    if (!canQueue(state)) {
      throw new XmppUsageError(
        "send",
        state.status,
        state.status === "closed" || state.status === "closing"
          ? "the client is closed"
          : `the offline queue is full (${state.config.maxQueue} stanzas)`,
      );
    }
  }

  #emit<K extends keyof XmppClientEvents>(type: K, detail: XmppClientEvents[K]): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  #notice(notice: ClientNotice): void {
    switch (notice.type) {
      case "status-changed":
        return this.#emit("status", notice.status);
      case "online":
        this.#online(notice.jid);
        return this.#emit("online", notice);
      case "stanza-received":
        return this.#stanza(notice.element);
      case "iq-answered": {
        const settle = this.#iqs.get(notice.id);
        this.#iqs.delete(notice.id);
        const el = notice.element;
        settle?.(
          el.attrs.type === "error"
            ? new IqError(notice.id, stanzaErrorCondition(el) ?? "undefined-condition", el)
            : el,
        );
        return;
      }
      case "iq-failed": {
        const settle = this.#iqs.get(notice.id);
        this.#iqs.delete(notice.id);
        settle?.(new IqError(notice.id, notice.reason));
        return;
      }
      case "stanzas-acked":
        return this.#emit("stanzas-acked", notice.elements);
      case "stanzas-failed":
        return this.#emit("stanzas-failed", { elements: notice.elements, reason: notice.reason });
      case "disconnected":
        return this.#emit("disconnected", { error: notice.error, retryAt: notice.retryAt });
      case "closed":
        if (notice.error) this.#failed(new XmppClientError(notice.error));
        else {this.#failed(
            new XmppClientError({
              kind: "connection",
              reason: "transport-lost",
              text: "closed before login",
              reconnect: "never",
            }),
          );}
        this.#ended(notice.error);
        return this.#emit("closed", notice.error);
    }
  }

  #stanza(element: XmlElement): void {
    this.#emit("stanza", element);
    if (element.name === "message") return this.#emit("message", element);
    if (element.name === "presence") return this.#emit("presence", element);
    const type = element.attrs.type;
    if (element.name === "iq" && (type === "get" || type === "set")) this.#answerIq(element);
  }

  async #answerIq(request: XmlElement): Promise<void> {
    let response: XmlElement | undefined;
    try {
      response = await this.#onIq?.(request);
      if (response) assertSendable(response);
    } catch {
      response = iqErrorFor(request, "internal-server-error", "wait");
    }
    if (!canQueue(this.#driver.state)) return; // closed, or offline with a full queue
    this.#driver.input({ type: "send", element: response ?? iqErrorFor(request) });
  }
}
