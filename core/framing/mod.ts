/**
 * Framing codecs: RFC 7395 over WebSocket and RFC 6120 over TCP.
 *
 * @example
 * ```ts
 * import { TcpFraming, WebSocketFraming } from "@xmpp-websocket/xmpp-websocket/session";
 * import { assertEquals } from "@std/assert";
 * assertEquals(new WebSocketFraming().transport, "websocket");
 * assertEquals(new TcpFraming().transport, "tcp");
 * ```
 * @module
 */
export type { Frame, FramingCodec, StreamAttributes } from "./types.ts";
export { WebSocketFraming, type WebSocketFramingOptions } from "./websocket.ts";
export { TcpFraming, type TcpFramingOptions } from "./tcp.ts";
export { StreamEncoding } from "./_stream_codec.ts";
