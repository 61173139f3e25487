/**
 * The Deno-specific types of `serveXmpp`: its options (listener, fallback handler, WebSocket
 * layer) and its handle; the runtime-neutral ones are `core/endpoint/types.ts`'s, re-exported.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { XmppApplication } from "./_types.ts";
 * const echo: XmppApplication = {
 *   onOpenRequested: (conn) => conn.accept(),
 *   onElement: (conn, element) => conn.send(element),
 * };
 * assertEquals(typeof echo.onElement, "function");
 * ```
 * @module
 */

import type {
  AttachedSocket,
  EndpointOptions,
  EndpointServer,
  PeerInfo,
} from "../core/endpoint/types.ts";
import type { StrictLayerOptions } from "./strict/listener.ts";

export type { StrictLayerOptions };
export type {
  AcceptOptions,
  AttachedSocket,
  CloseOptions,
  ConnectionControl,
  EndpointOptions,
  EndpointServer,
  EndpointStats,
  OutboundLimits,
  PeerInfo,
  ServerSessionOptions,
  SocketLike,
  StreamOpenedNotice,
  TerminalNotice,
  XmppApplication,
  XmppConnection,
} from "../core/endpoint/types.ts";

/** A handler for requests outside the XMPP endpoint path. */
export type FallbackHandler = (
  request: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => Response | Promise<Response>;

/** Options of `serveXmpp`. */
export interface ServeXmppOptions extends Omit<EndpointOptions, "attach"> {
  /** Interface to listen on (Deno's default: `0.0.0.0`). */
  readonly hostname?: string;
  /** TCP port (default 5280; 0 picks a free port). */
  readonly port?: number;
  /** Answers requests for other paths (default: 404). */
  readonly handler?: FallbackHandler;
  /** Aborting it shuts the server down (see {@link XmppServer.shutdown}). */
  readonly signal?: AbortSignal;
  /** Called once listening (default: silent). */
  readonly onListen?: (addr: Deno.NetAddr) => void;
  /**
   * Drive each upgraded socket yourself instead of with a core session and `application`
   * (the gateway does this).
   */
  readonly attach?: (socket: WebSocket, peer: PeerInfo) => AttachedSocket;
  /**
   * Which WebSocket implementation serves the endpoint: `"strict"`, the core's RFC 6455 codec
   * over `Deno.listen` (every MUST of RFC 6455 enforced: handshake checks, masking, UTF-8 with
   * 1007, size before buffering, close timeout), or `"native"`, `Deno.serve` with
   * `Deno.upgradeWebSocket`. Default: `DEFAULT_WEBSOCKET_LAYER` of `serve.ts`.
   */
  readonly websocketLayer?: "strict" | "native";
  /** Limits and timeouts of the strict layer (ignored by the native one). */
  readonly strictLayer?: StrictLayerOptions;
}

/** A running endpoint. */
export interface XmppServer extends EndpointServer {
  /** The underlying HTTP server (native WebSocket layer only). */
  readonly server?: Deno.HttpServer<Deno.NetAddr>;
  /** The address listened on (the actual port when 0 was asked). */
  readonly addr: Deno.NetAddr;
}
