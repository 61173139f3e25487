/**
 * Framing codecs: RFC 7395 over WebSocket and RFC 6120 over TCP.
 *
 * @example
 * ```ts
 * import { TcpFraming, WebSocketFraming } from "./mod.ts";
 * console.log(new WebSocketFraming().transport, new TcpFraming().transport); // websocket tcp
 * ```
 * @module
 */
export type { Frame, FramingCodec, StreamAttributes } from "./types.ts";
export { WebSocketFraming, type WebSocketFramingOptions } from "./websocket.ts";
export { TcpFraming, type TcpFramingOptions } from "./tcp.ts";
