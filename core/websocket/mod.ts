/**
 * A sans-I/O RFC 6455 server: the HTTP request head reader, the opening handshake checks and
 * answer, and the codec of an open connection (frames, fragmentation, UTF-8, control frames,
 * the closing handshake, limits). Runtime adapters carry its bytes; it decides everything.
 *
 * @example
 * ```ts
 * import { WebSocketCodec } from "@xmpp-websocket/xmpp-websocket/websocket";
 * import { assertEquals } from "@std/assert";
 * const codec = new WebSocketCodec({ maxMessageBytes: 10 });
 * // An unmasked client frame fails the connection with 1002 (RFC 6455 §5.1):
 * const outputs = codec.receive(Uint8Array.of(0x81, 0x01, 0x41));
 * assertEquals(outputs.find((o) => o.type === "failed"), { type: "failed", code: 1002, reason: "An unmasked client frame (RFC 6455 §5.1)" });
 * ```
 * @module
 */
export {
  DEFAULT_WEBSOCKET_LIMITS,
  type WebSocketLimits,
  type WebSocketOutput,
  type WebSocketState,
} from "./types.ts";
export {
  DEFAULT_HTTP_HEAD_LIMITS,
  fieldValue,
  type HeadRead,
  type HttpHeadLimits,
  type HttpRequestHead,
  RequestHeadReader,
} from "./http_head.ts";
export {
  checkHandshake,
  type HandshakeCheck,
  type HandshakeRequest,
  switchingProtocolsHead,
  webSocketAccept,
} from "./handshake.ts";
export { closePayload, encodeClose, encodeFrame, encodeText, OPCODE } from "./frame_encoder.ts";
export { type ClosePayload, isValidCloseCode, readClosePayload } from "./close_payload.ts";
export { WebSocketCodec } from "./codec.ts";
