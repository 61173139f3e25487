/**
 * Server frames (RFC 6455 §5.2): never masked (§5.1), lengths in their minimal encoding, and
 * the Close frame's payload (§5.5.1: a status code, then a UTF-8 reason of at most 123 bytes).
 *
 * @example
 * ```ts
 * import { encodeFrame, OPCODE } from "@xmpp-websocket/xmpp-websocket/websocket";
 * import { assertEquals } from "@std/assert";
 * assertEquals(encodeFrame(OPCODE.PONG, new Uint8Array()), Uint8Array.of(138, 0));
 * ```
 * @module
 */

/** Frame opcodes (RFC 6455 §5.2, §11.8). */
export const OPCODE = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

const encoder = new TextEncoder();

/**
 * One unmasked frame: header and payload in one buffer.
 *
 * @example
 * ```ts
 * import { encodeFrame, OPCODE } from "@xmpp-websocket/xmpp-websocket/websocket";
 * import { assertEquals } from "@std/assert";
 * const frame = encodeFrame(OPCODE.BINARY, new Uint8Array(300));
 * assertEquals(frame.length, 304);
 * assertEquals(frame[1], 126);
 * assertEquals((frame[2]! << 8) | frame[3]!, 300);
 * ```
 */
export function encodeFrame(opcode: number, payload: Uint8Array, fin = true): Uint8Array {
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = new Uint8Array(headerLength + length);
  frame[0] = (fin ? 0x80 : 0) | opcode;
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65_536) {
    frame[1] = 126;
    frame[2] = length >>> 8;
    frame[3] = length & 0xff;
  } else {
    frame[1] = 127;
    const high = Math.floor(length / 0x1_0000_0000);
    new DataView(frame.buffer).setUint32(2, high);
    new DataView(frame.buffer).setUint32(6, length >>> 0);
  }
  frame.set(payload, headerLength);
  return frame;
}

/**
 * One final text frame holding `text` as UTF-8.
 *
 * @example
 * ```ts
 * import { encodeText } from "@xmpp-websocket/xmpp-websocket/websocket";
 * import { assertEquals } from "@std/assert";
 * assertEquals(encodeText("é"), Uint8Array.of(129, 2, 195, 169));
 * ```
 */
export function encodeText(text: string): Uint8Array {
  return encodeFrame(OPCODE.TEXT, encoder.encode(text));
}

/**
 * The payload of a Close frame: the code, then the reason cut to at most 123 UTF-8 bytes at a
 * character boundary (§5.5: control payloads are at most 125 bytes). No code: empty payload.
 *
 * @example
 * ```ts
 * import { closePayload } from "@xmpp-websocket/xmpp-websocket/websocket";
 * import { assertEquals } from "@std/assert";
 * assertEquals(closePayload(1000, "ok"), Uint8Array.of(3, 232, 111, 107));
 * assertEquals(closePayload(1000, "é".repeat(100)).length, 124); // 2 + 61 characters of 2 bytes
 * ```
 */
export function closePayload(code: number | undefined, reason = ""): Uint8Array {
  if (code === undefined) return new Uint8Array();
  const bytes = new Uint8Array(125);
  bytes[0] = code >>> 8;
  bytes[1] = code & 0xff;
  return bytes.slice(0, 2 + encoder.encodeInto(reason, bytes.subarray(2)).written);
}

/**
 * One Close frame.
 *
 * @example
 * ```ts
 * import { encodeClose } from "@xmpp-websocket/xmpp-websocket/websocket";
 * import { assertEquals } from "@std/assert";
 * assertEquals(encodeClose(1002), Uint8Array.of(136, 2, 3, 234));
 * ```
 */
export function encodeClose(code: number | undefined, reason = ""): Uint8Array {
  return encodeFrame(OPCODE.CLOSE, closePayload(code, reason));
}
