/**
 * Reading one client frame header (RFC 6455 §5.2) from its first bytes, with every rule that
 * the header alone decides: no reserved bit (no extension is negotiated), no reserved opcode,
 * control frames final and at most 125 bytes (§5.5), the mask bit set (§5.1), the length in its
 * minimal encoding with the most significant bit of a 64-bit length clear. Private to the codec.
 *
 * @module
 */

/** A complete, valid header. `length` may exceed 2^53 only as an imprecise huge number. */
export interface FrameHeader {
  readonly fin: boolean;
  readonly opcode: number;
  readonly length: number;
  /** Offset of the 4-byte masking key in the header bytes. */
  readonly maskAt: number;
  /** Header size in bytes. */
  readonly size: number;
}

/** More bytes needed (the total header size once known), a header, or a violation (1002). */
export type HeaderRead =
  | { readonly kind: "need"; readonly size: number }
  | { readonly kind: "header"; readonly header: FrameHeader }
  | { readonly kind: "error"; readonly text: string };

const need = (size: number): HeaderRead => ({ kind: "need", size });
const error = (text: string): HeaderRead => ({ kind: "error", text });

/**
 * Reads the header at the start of `bytes[0..available)`; at least 2 bytes are required.
 *
 * @example
 * ```ts
 * import { readFrameHeader } from "./_frame_header.ts";
 * import { assertEquals } from "@std/assert";
 * const bytes = Uint8Array.of(0x81, 0x85, 1, 2, 3, 4);
 * assertEquals(readFrameHeader(bytes, 2), { kind: "need", size: 6 });
 * assertEquals(readFrameHeader(bytes, 6).kind, "header");
 * ```
 */
export function readFrameHeader(bytes: Uint8Array, available: number): HeaderRead {
  const b0 = bytes[0]!;
  const b1 = bytes[1]!;
  if ((b0 & 0x70) !== 0) return error("A reserved bit is set and no extension was negotiated");
  const opcode = b0 & 0x0f;
  const fin = (b0 & 0x80) !== 0;
  if ((opcode > 0x2 && opcode < 0x8) || opcode > 0xa) {
    return error(`Reserved opcode 0x${opcode.toString(16)}`);
  }
  const short = b1 & 0x7f;
  if (opcode >= 0x8) {
    if (!fin) return error("A fragmented control frame (RFC 6455 §5.5)");
    if (short > 125) return error("A control frame longer than 125 bytes (RFC 6455 §5.5)");
  }
  if ((b1 & 0x80) === 0) return error("An unmasked client frame (RFC 6455 §5.1)");
  const extra = short === 126 ? 2 : short === 127 ? 8 : 0;
  const size = 2 + extra + 4;
  if (available < size) return need(size);
  let length = short;
  if (short === 126) {
    length = (bytes[2]! << 8) | bytes[3]!;
    if (length < 126) return error("A frame length not in its minimal encoding (RFC 6455 §5.2)");
  } else if (short === 127) {
    if (bytes[2]! & 0x80) return error("A 64-bit frame length with its top bit set");
    const high = ((bytes[2]! << 24) | (bytes[3]! << 16) | (bytes[4]! << 8) | bytes[5]!) >>> 0;
    const low = ((bytes[6]! << 24) | (bytes[7]! << 16) | (bytes[8]! << 8) | bytes[9]!) >>> 0;
    length = high * 0x1_0000_0000 + low;
    if (length < 65_536) {
      return error("A frame length not in its minimal encoding (RFC 6455 §5.2)");
    }
  }
  return { kind: "header", header: { fin, opcode, length, maskAt: 2 + extra, size } };
}
