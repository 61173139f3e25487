/**
 * The runtime-neutral types of an RFC 7395 endpoint, shared by the Deno and Node bindings: the
 * application API, the socket surface the drivers need, the options every runtime reads the same
 * way, and what a running endpoint offers.
 *
 * @example
 * ```ts
 * import type { XmppApplication } from "./types.ts";
 * const echo: XmppApplication = {
 *   onOpenRequested: (conn) => conn.accept(),
 *   onElement: (conn, element) => conn.send(element),
 * };
 * console.log(typeof echo.onElement); // "function"
 * ```
 * @module
 */

import type {
  Output,
  SessionConfig,
  StreamAttributes,
  StreamErrorCondition,
  XmlElement,
} from "../session/mod.ts";
import type { ForwardedHeader } from "../http/forwarded.ts";
import type { Admission, AdmissionLimits, AdmissionStats } from "../http/admission.ts";

/** The notice that announces an open stream. */
export type StreamOpenedNotice = Extract<Output, { readonly type: "stream-opened" }>;

/** The notice that ends a session (exactly one per connection). */
export type TerminalNotice = Extract<
  Output,
  { readonly type: "stream-closed" | "stream-failed" | "stream-redirected" }
>;

/** How to answer a stream open request. */
export interface AcceptOptions {
  /** The `<features/>` element (streams namespace); default: empty features. */
  readonly features?: XmlElement;
  /** The stream id to use instead of a fresh one (a gateway relays the upstream id). */
  readonly id?: string;
}

/** How to close a stream. */
export interface CloseOptions {
  /** Send the client to another endpoint (`<close see-other-uri/>`, RFC 7395 §3.6.1). */
  readonly seeOtherUri?: string;
}

/**
 * One client connection, as the application sees it. The commands return `false`, doing
 * nothing, once the stream has ended (a late asynchronous answer is not an error); in any other
 * state they throw the core's `XmppUsageError` when the command is not allowed.
 */
export interface XmppConnection {
  /** A random connection id, for logs. */
  readonly id: string;
  /** The peer's address, `host:port`. */
  readonly remoteAddr: string;
  /** Whether the channel counts as secure (wss, or declared so by the operator). */
  readonly secure: boolean;
  /** The id of the current stream, once accepted. */
  readonly streamId: string | undefined;
  /** Answers `onOpenRequested`; may be called later, asynchronously. */
  accept(options?: AcceptOptions): boolean;
  /** Sends one element (a stanza or nonza) on the open stream. */
  send(element: XmlElement): boolean;
  /** Starts the close handshake (`<close/>`), or redirects. */
  close(options?: CloseOptions): boolean;
  /** Ends the stream with a stream error (RFC 6120 §4.9). */
  fail(condition: StreamErrorCondition, text?: string, extra?: XmlElement): boolean;
  /** Whether `send` is allowed now (the stream is open and no restart is due). */
  canSend(): boolean;
  /**
   * Tells the endpoint that the client has authenticated: admission control no longer counts
   * the connection as unauthenticated, and its pre-authentication deadline no longer applies.
   */
  markAuthenticated(): void;
}

/**
 * What the application does with connections. Every hook is optional; a hook may return a
 * promise, whose rejection is handled like a throw (see `onError`).
 */
export interface XmppApplication {
  /** The client sent `<open/>`; call `conn.accept()` now or later. Default: accept. */
  onOpenRequested?(
    conn: XmppConnection,
    attributes: StreamAttributes,
    restart: boolean,
  ): unknown;
  /** The stream is open (both headers exchanged). */
  onOpened?(conn: XmppConnection, opened: StreamOpenedNotice): unknown;
  /** The client sent an element. */
  onElement?(conn: XmppConnection, element: XmlElement): unknown;
  /** The session ended (called once). */
  onEnded?(conn: XmppConnection, notice: TerminalNotice): unknown;
  /**
   * A hook threw or rejected. Default: log it and end the stream with
   * `<internal-server-error/>`.
   */
  onError?(conn: XmppConnection, error: unknown): void;
}

/** The session settings a server passes to each connection's core session. */
export type ServerSessionOptions = Pick<
  SessionConfig,
  "domains" | "limits" | "oversizeCondition" | "openTimeoutMs" | "closeTimeoutMs" | "defaultLang"
>;

/**
 * The options of an endpoint that every runtime reads the same way (`serveXmpp` on Deno and
 * `serveXmppNode` on Node add their listener, fallback handler and runtime-specific settings).
 */
export interface EndpointOptions {
  /** The endpoint path (default `/xmpp-websocket`). */
  readonly path?: string;
  /** Origins allowed to connect (RFC 6455 §10.2); others get 403. Default: any origin. */
  readonly allowedOrigins?: readonly string[];
  /** Whether a handshake without `Origin` (a non-browser client) is allowed (default true). */
  readonly allowMissingOrigin?: boolean;
  /** PEM certificate chain; with `key`, the endpoint serves wss (TLS). */
  readonly cert?: string;
  /** PEM private key for `cert`. */
  readonly key?: string;
  /** Whether sessions count as secure (default: when `cert` and `key` are given). */
  readonly secure?: boolean;
  /** Ping after this much client silence, in ms (default 25 000; below 60 000; 0: off). */
  readonly pingIntervalMs?: number;
  /** Settings of every connection's session (domains, limits, timeouts). */
  readonly session?: ServerSessionOptions;
  /** What to do with connections (default: accept every stream with empty features). */
  readonly application?: XmppApplication;
  /**
   * Peers (addresses or CIDR ranges) whose forwarded-address header names the real client (a
   * reverse proxy). Headers from anyone else are ignored.
   */
  readonly trustedProxies?: readonly string[];
  /**
   * The one header believed from `trustedProxies` (default `x-forwarded-for`; `forwarded` is
   * RFC 7239's; `none` believes no header). It is read from the right: the first hop that is not
   * a trusted proxy is the client. Any other forwarding header is ignored.
   */
  readonly forwardedHeader?: ForwardedHeader;
  /**
   * Drive each upgraded socket yourself instead of with a core session and `application`
   * (the gateway does this).
   */
  readonly attach?: (socket: SocketLike, peer: PeerInfo) => AttachedSocket;
  /**
   * Admission control of upgrades (HTTP 503 with `Retry-After` when refused): limits (every one
   * has a default, see `ADMISSION_DEFAULTS` of `core/http/admission.ts`), or an `Admission`
   * shared with something else.
   */
  readonly admission?: Admission | Partial<AdmissionLimits>;
  /** The outbound byte budget of each connection (slow readers). */
  readonly outbound?: OutboundLimits;
}

/** The outbound byte budget of a connection: how much may wait for a client that reads slowly. */
export interface OutboundLimits {
  /**
   * Bytes buffered for the client (`bufferedAmount`) beyond which it is a slow reader (default
   * 4 MiB). Past twice this, or past it for longer than `slowReaderGraceMs`, the stream ends with
   * `resource-constraint` (an XEP-0198 session then waits for resumption with its queue).
   */
  readonly maxBufferedBytes?: number;
  /** How long a slow reader may stay over the budget, ms (default 10 000). */
  readonly slowReaderGraceMs?: number;
}

/** What the endpoint gives each connection's driver: its outbound budget and where to report. */
export interface ConnectionControl {
  /** Bytes buffered for the client beyond which it is a slow reader. */
  readonly maxBufferedBytes: number;
  /** How long a slow reader may stay over the budget, ms. */
  readonly slowReaderGraceMs: number;
  /** The client has authenticated (see {@link XmppConnection.markAuthenticated}). */
  authenticated(): void;
  /** The connection is being ended as a slow reader (counted in metrics). */
  slowReader(): void;
}

/** Counters of an endpoint, for metrics. */
export interface EndpointStats {
  /** Admission control's counters. */
  readonly admission: AdmissionStats;
  /** Connections ended as slow readers (`resource-constraint`) since the start. */
  readonly slowReaders: number;
}

/** Who is connecting. */
export interface PeerInfo {
  /** The client's address (from a trusted proxy's headers when there is one). */
  readonly client: { readonly hostname: string; readonly port: number };
  /** The local address of the listener. */
  readonly local: { readonly hostname: string; readonly port: number };
  /** Whether the channel counts as secure. */
  readonly secure: boolean;
  /** The connection's outbound budget, and where to report authentication and slow reading. */
  readonly control?: ConnectionControl;
}

/** A socket driven by an `attach` hook. */
export interface AttachedSocket {
  /** Resolves once the connection has ended. */
  readonly ended: Promise<void>;
  /** Ends the session for a shutdown, optionally redirecting the client. */
  shutdown(seeOtherUri?: string): void;
  /**
   * Ends the session for a limit of the endpoint: `connection-timeout` when the client did not
   * authenticate in time (admission control's pre-authentication deadline).
   */
  expire?(condition: "connection-timeout", text: string): void;
}

/** A running endpoint, whatever the runtime (each binding adds its server and address). */
export interface EndpointServer {
  /** The live connections. */
  readonly connections: ReadonlySet<XmppConnection>;
  /** Resolves once the server has stopped and every connection has ended. */
  readonly finished: Promise<void>;
  /** Ends every live stream with `<system-shutdown/>`, then stops the server; resolves like `finished`. */
  shutdown(): Promise<void>;
  /**
   * Stops accepting new connections (503), ends live sessions spread evenly over `windowMs`
   * (with `<system-shutdown/>`, or a redirect to `seeOtherUri`), then stops the server.
   */
  drain(windowMs: number, seeOtherUri?: string): Promise<void>;
  /** Number of live connections. */
  readonly liveCount: number;
  /** Whether `shutdown` or `drain` has begun (new connections get 503; `/healthz` says so). */
  readonly draining: boolean;
  /**
   * Serves new connections with another PEM certificate chain and key; live connections keep
   * theirs. Resolves `false`, changing nothing, where that is impossible: a plain (no TLS)
   * endpoint, or the native WebSocket layer (`Deno.serve` cannot change its certificate, and
   * restarting it closes every upgraded WebSocket). Rejects on an invalid pair (the old one
   * stays in use).
   */
  replaceCertificate(cert: string, key: string): Promise<boolean>;
  /** Admission control's and the slow readers' counters (for `/metrics`). */
  endpointStats(): EndpointStats;
}

/**
 * An event handler property of {@link SocketLike}, checked like a method parameter (bivariantly)
 * so that the DOM's `(ev: MessageEvent) => any` handlers fit.
 */
export type SocketHandler<E> = { handle(event: E): void }["handle"];

/** A WebSocket message event, as the drivers read it. */
export interface SocketMessageEvent {
  /** A string for a text message; an `ArrayBuffer` (or view, or blob) for a binary one. */
  readonly data: unknown;
}

/** A WebSocket close event, as the drivers read it. */
export interface SocketCloseEvent {
  /** The close code (RFC 6455 §7.4; 1005 when the peer gave none). */
  readonly code: number;
  /** The close reason, possibly empty. */
  readonly reason: string;
}

/**
 * The web-standard WebSocket surface the drivers use (event handler properties, `send`, `close`,
 * `readyState`, `protocol`, `bufferedAmount`, `binaryType`): Deno's `WebSocket`, the strict
 * layer's socket and Node's `ws` sockets (presented through the same surface) all have it.
 */
export interface SocketLike {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** The subprotocol agreed in the handshake. */
  readonly protocol: string;
  /** Bytes queued for the peer and not yet sent. */
  readonly bufferedAmount: number;
  /** How binary messages are delivered; the drivers set `"arraybuffer"`. */
  binaryType: string;
  /** Called once the socket is open. */
  onopen: SocketHandler<unknown> | null;
  /** Called for each message. */
  onmessage: SocketHandler<SocketMessageEvent> | null;
  /** Called once the socket is closed. */
  onclose: SocketHandler<SocketCloseEvent> | null;
  /** Called on an error (a close event follows, except when the upgrade itself failed). */
  onerror: SocketHandler<unknown> | null;
  /** Sends a text message. */
  send(data: string): void;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void;
}
