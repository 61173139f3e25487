/**
 * Byte helpers for SASL: UTF-8 both ways (strict decoding), XOR and a constant-time compare.
 *
 * @example
 * ```ts
 * import { decodeUtf8, encodeUtf8, timingSafeEqual } from "./_bytes.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(decodeUtf8(encodeUtf8("é")), "é");
 * assertEquals(decodeUtf8(Uint8Array.of(0xff)), undefined);
 * assertEquals(timingSafeEqual(Uint8Array.of(1), Uint8Array.of(1)), true);
 * ```
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * UTF-8 encodes a string (lone surrogates become U+FFFD).
 *
 * @example
 * ```ts
 * import { encodeUtf8 } from "./_bytes.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(encodeUtf8("é").length, 2);
 * ```
 */
export function encodeUtf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text);
}

/**
 * Decodes UTF-8 strictly: `undefined` for any malformed sequence.
 *
 * @example
 * ```ts
 * import { decodeUtf8 } from "./_bytes.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(decodeUtf8(Uint8Array.of(0xc3, 0xa9)), "é");
 * ```
 */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * XOR of two byte strings of the same length.
 *
 * @example
 * ```ts
 * import { xorBytes } from "./_bytes.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(xorBytes(Uint8Array.of(3), Uint8Array.of(5)), Uint8Array.of(6));
 * ```
 */
export function xorBytes(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/**
 * Compares two byte strings in time that depends only on their lengths (which are public).
 *
 * @example
 * ```ts
 * import { timingSafeEqual } from "./_bytes.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(timingSafeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 3)), false);
 * ```
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
