/**
 * The public types of the Node bindings. The application API (`XmppApplication`,
 * `XmppConnection`, the `attach` hook's `PeerInfo` and `AttachedSocket`) is the Deno adapter's,
 * unchanged; only the listener's options and handle differ (Node's `http.Server`, an
 * asynchronous start, no `Deno` types).
 *
 * @example
 * ```ts
 * import type { ServeXmppNodeOptions } from "./_types.ts";
 * const options: ServeXmppNodeOptions = { port: 0, session: { domains: ["localhost"] } };
 * console.log(options.port); // 0
 * ```
 * @module
 */

import type { Server as HttpServer } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type {
  AttachedSocket,
  EndpointOptions,
  EndpointStats,
  PeerInfo,
  ServerSessionOptions,
  XmppApplication,
  XmppConnection,
} from "../core/endpoint/types.ts";
import type { ForwardedHeader } from "../core/http/forwarded.ts";

/** A host and port. */
export interface NetAddress {
  /** The IP address (or host name). */
  readonly hostname: string;
  /** The TCP port. */
  readonly port: number;
}

/** What a fallback handler learns about the request beyond the `Request` itself. */
export interface NodeHandlerInfo {
  /** The TCP peer (not rewritten by `trustedProxies`). */
  readonly remoteAddr: NetAddress;
}

/** A handler for requests outside the XMPP endpoint path (web-standard `Request`/`Response`). */
export type NodeFallbackHandler = (
  request: Request,
  info: NodeHandlerInfo,
) => Response | Promise<Response>;

/** Options of `serveXmppNode`; the same as Deno's `serveXmpp` except `handler` and `onListen`. */
export interface ServeXmppNodeOptions {
  /** Interface to listen on (default `0.0.0.0`, like Deno). */
  readonly hostname?: string;
  /** TCP port (default 5280; 0 picks a free port). */
  readonly port?: number;
  /** The endpoint path (default `/xmpp-websocket`). */
  readonly path?: string;
  /** Origins allowed to connect (RFC 6455 §10.2); others get 403. Default: any origin. */
  readonly allowedOrigins?: readonly string[];
  /** Whether a handshake without `Origin` (a non-browser client) is allowed (default true). */
  readonly allowMissingOrigin?: boolean;
  /** PEM certificate chain; with `key`, the endpoint serves wss (`node:https`). */
  readonly cert?: string;
  /** PEM private key for `cert`. */
  readonly key?: string;
  /** Whether sessions count as secure (default: when `cert` and `key` are given). */
  readonly secure?: boolean;
  /**
   * Keepalive, in ms (default 25 000; below 60 000; 0: off): after an interval without any
   * frame from the client, a WebSocket Ping; when nothing (no Pong) comes back within the next
   * interval, the connection is terminated.
   */
  readonly pingIntervalMs?: number;
  /**
   * Settings of every connection's session (domains, limits, timeouts). `limits.maxBytes` also
   * bounds the WebSocket frames `ws` buffers: a message over twice `maxBytes` is refused with
   * close code 1009 before it is read whole; a smaller oversized one gets the core's stream error.
   */
  readonly session?: ServerSessionOptions;
  /** What to do with connections (default: accept every stream with empty features). */
  readonly application?: XmppApplication;
  /** Answers requests for other paths (default: 404). */
  readonly handler?: NodeFallbackHandler;
  /** Aborting it shuts the server down (see {@link XmppNodeServer.shutdown}). */
  readonly signal?: AbortSignal;
  /** Called once listening (default: silent). */
  readonly onListen?: (addr: NetAddress) => void;
  /**
   * Peers (addresses or CIDR ranges) whose forwarded-address header names the real client (a
   * reverse proxy). Headers from anyone else are ignored.
   */
  readonly trustedProxies?: readonly string[];
  /** The one header believed from `trustedProxies` (default `x-forwarded-for`; see Deno's). */
  readonly forwardedHeader?: ForwardedHeader;
  /**
   * Drive each upgraded socket yourself instead of with a core session and `application`
   * (the gateway does this). The socket is a `ws` WebSocket presented through the web-standard
   * surface (`onopen`, `onmessage`, `onclose`, `send`, `close`, `readyState`, `protocol`,
   * `bufferedAmount`, `binaryType` `"arraybuffer"`): it is already open, and its `open` event is
   * dispatched right after the hook returns, so the same driver works on Deno and Node.
   */
  readonly attach?: (socket: WebSocket, peer: PeerInfo) => AttachedSocket;
  /** Admission control of upgrades (503 with `Retry-After`); see Deno's `serveXmpp`. */
  readonly admission?: NonNullable<EndpointOptions["admission"]>;
  /** The outbound byte budget of each connection (slow readers); see Deno's `serveXmpp`. */
  readonly outbound?: NonNullable<EndpointOptions["outbound"]>;
}

/** A running endpoint on Node. */
export interface XmppNodeServer {
  /** The underlying HTTP(S) server. */
  readonly server: HttpServer | HttpsServer;
  /** The address listened on (the actual port when 0 was asked). */
  readonly addr: NetAddress;
  /** The live connections (not those driven by `attach`). */
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
  /** Admission control's and the slow readers' counters (for `/metrics`). */
  endpointStats(): EndpointStats;
}
