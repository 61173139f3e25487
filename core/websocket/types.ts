/**
 * The types of the sans-I/O RFC 6455 server codec: its limits, and what it asks of the adapter
 * (orders, in the imperative) and tells it (notices, in the past tense).
 *
 * @example
 * ```ts
 * import type { WebSocketOutput } from "@xmpp-websocket/xmpp-websocket/websocket";
 * import { assertEquals } from "@std/assert";
 * const order: WebSocketOutput = { type: "close-transport", graceful: true };
 * assertEquals(order.type, "close-transport");
 * ```
 * @module
 */

/** The codec's limits. */
export interface WebSocketLimits {
  /**
   * The largest message, in payload bytes summed over its frames. Counted from each frame
   * header, before its payload is read: a message that would exceed it is never buffered.
   */
  readonly maxMessageBytes: number;
}

/** The default limits (the XMPP default message size). */
export const DEFAULT_WEBSOCKET_LIMITS: WebSocketLimits = { maxMessageBytes: 262_144 };

/** The codec's state of the connection (as the web `readyState`, minus CONNECTING). */
export type WebSocketState = "open" | "closing" | "closed";

/**
 * What the codec outputs, in order. Orders: `send-bytes`, `arm-close-timer`, `close-transport`.
 * Notices: the rest. A misbehaving peer produces outputs (a Close frame and `failed`), never a
 * throw.
 */
export type WebSocketOutput =
  /** Write these bytes (a Pong, a Close frame). */
  | { readonly type: "send-bytes"; readonly bytes: Uint8Array }
  /** A complete text message, valid UTF-8. */
  | { readonly type: "text-received"; readonly text: string }
  /** A complete binary message. */
  | { readonly type: "binary-received"; readonly data: Uint8Array }
  /**
   * A message announced more than `maxMessageBytes`: nothing of it is buffered and the rest
   * of it is skipped. The application decides (RFC 6455 §7.4.1: close with 1009).
   */
  | {
    readonly type: "message-too-big";
    readonly binary: boolean;
    /** Bytes announced so far (at least `maxMessageBytes + 1`). */
    readonly announced: number;
  }
  /** A Ping arrived (its Pong is already in a `send-bytes` before this notice). */
  | { readonly type: "ping-received"; readonly payload: Uint8Array }
  /** A Pong arrived. */
  | { readonly type: "pong-received"; readonly payload: Uint8Array }
  /**
   * The peer broke RFC 6455: a Close frame with `code` is already in a `send-bytes` before
   * this notice (§7.1.7 "Fail the WebSocket Connection").
   */
  | { readonly type: "failed"; readonly code: number; readonly reason: string }
  /** Our Close frame is out: close the transport if no answer comes in time (§7.1.1). */
  | { readonly type: "arm-close-timer" }
  /**
   * Close the TCP connection after writing what is queued. `graceful`: stop sending, then let
   * the peer finish (read and discard until it closes, bounded); otherwise close at once.
   */
  | { readonly type: "close-transport"; readonly graceful: boolean }
  /**
   * The WebSocket is closed (the web `close` event): `code` is the status code of the peer's
   * Close frame (1005 when it had none), or 1006 without one; `clean` when both Close frames
   * were exchanged.
   */
  | {
    readonly type: "closed";
    readonly code: number;
    readonly reason: string;
    readonly clean: boolean;
  };
