/**
 * RFC 6455 §5.2 frame codec for the command-line client: encodes masked client frames and
 * decodes server frames from a byte buffer.
 *
 * @example
 * ```ts
 * import { decodeFrames, encodeFrame, OPCODE } from "./frames.ts";
 * const bytes = encodeFrame(OPCODE.TEXT, new TextEncoder().encode("<a/>"));
 * const { frames } = decodeFrames(bytes);
 * console.log(new TextDecoder().decode(frames[0]!.payload)); // "<a/>"
 * ```
 * @module
 */

/** Frame opcodes (RFC 6455 §5.2). */
export const OPCODE = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

/** One decoded frame, unmasked. */
export interface Frame {
  readonly fin: boolean;
  readonly opcode: number;
  /** Whether the frame was masked (servers must not mask, RFC 6455 §5.1). */
  readonly masked: boolean;
  readonly payload: Uint8Array;
}

/** The largest frame payload accepted from a server. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

/**
 * Encodes one final client frame, masked with a fresh random key.
 *
 * @example
 * ```ts
 * import { encodeFrame, OPCODE } from "./frames.ts";
 * const frame = encodeFrame(OPCODE.PING, new Uint8Array([1, 2]));
 * console.log(frame.length, frame[0], frame[1]); // 8 137 130
 * ```
 */
export function encodeFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const length = payload.length;
  const extra = length < 126 ? 0 : length < 65_536 ? 2 : 8;
  const frame = new Uint8Array(2 + extra + 4 + length);
  frame[0] = 0x80 | opcode;
  const view = new DataView(frame.buffer);
  if (extra === 0) frame[1] = 0x80 | length;
  else if (extra === 2) {
    frame[1] = 0x80 | 126;
    view.setUint16(2, length);
  } else {
    frame[1] = 0x80 | 127;
    view.setBigUint64(2, BigInt(length));
  }
  const mask = crypto.getRandomValues(new Uint8Array(4));
  frame.set(mask, 2 + extra);
  const start = 2 + extra + 4;
  for (let i = 0; i < length; i++) frame[start + i] = payload[i]! ^ mask[i & 3]!;
  return frame;
}

/**
 * Decodes every complete frame at the start of `bytes`; `rest` holds an incomplete tail, and
 * `error` says why decoding stopped on a frame that can never be valid.
 *
 * @example
 * ```ts
 * import { decodeFrames } from "./frames.ts";
 * const { frames, rest } = decodeFrames(new Uint8Array([0x81, 0x01, 0x3c, 0x81]));
 * console.log(frames.length, rest.length); // 1 1
 * ```
 */
export function decodeFrames(
  bytes: Uint8Array,
): { frames: Frame[]; rest: Uint8Array; error?: string } {
  const frames: Frame[] = [];
  let offset = 0;
  for (;;) {
    if (bytes.length - offset < 2) break;
    const b0 = bytes[offset]!;
    const b1 = bytes[offset + 1]!;
    let length = b1 & 0x7f;
    let head = 2;
    if (length === 126) {
      if (bytes.length - offset < 4) break;
      length = (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
      head = 4;
    } else if (length === 127) {
      if (bytes.length - offset < 10) break;
      const big = new DataView(bytes.buffer, bytes.byteOffset + offset + 2, 8).getBigUint64(0);
      if (big > BigInt(MAX_FRAME_BYTES)) {
        return { frames, rest: new Uint8Array(0), error: `frame of ${big} bytes` };
      }
      length = Number(big);
      head = 10;
    }
    if (length > MAX_FRAME_BYTES) {
      return { frames, rest: new Uint8Array(0), error: `frame of ${length} bytes` };
    }
    const masked = (b1 & 0x80) !== 0;
    const maskAt = offset + head;
    const start = maskAt + (masked ? 4 : 0);
    if (bytes.length < start + length) break;
    const payload = bytes.slice(start, start + length);
    if (masked) {
      for (let i = 0; i < length; i++) payload[i] = payload[i]! ^ bytes[maskAt + (i & 3)]!;
    }
    frames.push({ fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, masked, payload });
    offset = start + length;
  }
  return { frames, rest: bytes.slice(offset) };
}
