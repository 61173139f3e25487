/**
 * PBKDF2 (RFC 8018 §5.2) with HMAC-SHA-1 or HMAC-SHA-256, in pure TypeScript. The password's
 * HMAC pads are computed once, and every iteration after the first runs on 32-bit words with
 * no allocation: U is already one padded block, so each iteration is exactly two compressions.
 *
 * @example
 * ```ts
 * import { pbkdf2 } from "@xmpp-websocket/xmpp-websocket/sasl";
 * import { assertEquals } from "@std/assert";
 * const utf8 = new TextEncoder();
 * const key = pbkdf2("SHA-1", utf8.encode("password"), utf8.encode("salt"), 1, 20);
 * assertEquals(Array.from(key.slice(0, 4)), [12, 96, 200, 15]);
 * ```
 * @module
 */

import { BLOCK_BYTES, wordsToBytes } from "./_hash.ts";
import { hashFunction, type HashName } from "./hash.ts";
import { hmacPads, hmacWords } from "./hmac.ts";

/**
 * Derives `length` bytes from a password and salt. Iterations and length are the caller's
 * choice, not a peer's: out-of-range values throw a `RangeError`.
 *
 * @example
 * ```ts
 * import { pbkdf2 } from "@xmpp-websocket/xmpp-websocket/sasl";
 * import { assertEquals } from "@std/assert";
 * const utf8 = new TextEncoder();
 * const key = pbkdf2("SHA-256", utf8.encode("pencil"), utf8.encode("salt"), 4096, 32);
 * assertEquals(key.length, 32);
 * ```
 */
export function pbkdf2(
  name: HashName,
  password: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  length: number,
): Uint8Array<ArrayBuffer> {
  if (!Number.isSafeInteger(iterations) || iterations < 1) {
    throw new RangeError(
      `Cannot derive a key: iterations must be a positive integer, got ${iterations}`,
    );
  }
  if (!Number.isSafeInteger(length) || length < 1 || length > 0xffff_ffff) {
    throw new RangeError(`Cannot derive a key: length must be a positive integer, got ${length}`);
  }
  const hash = hashFunction(name);
  const pads = hmacPads(hash, password);
  const words = hash.iv.length;
  const out = new Uint8Array(length);
  const first = new Uint8Array(salt.length + 4);
  first.set(salt);
  // One block holding U (words long), then padding and the bit length of ipad-block || U.
  const block = new Int32Array(16);
  block[words] = 0x80000000 | 0;
  block[15] = (BLOCK_BYTES + words * 4) * 8;
  const state = new Int32Array(words);
  const sum = new Int32Array(words);
  for (let index = 1, offset = 0; offset < length; index++, offset += words * 4) {
    first[salt.length] = index >>> 24;
    first[salt.length + 1] = index >>> 16;
    first[salt.length + 2] = index >>> 8;
    first[salt.length + 3] = index;
    const u = hmacWords(pads, first);
    sum.set(u);
    for (let i = 0; i < words; i++) block[i] = u[i]!;
    for (let n = 1; n < iterations; n++) {
      state.set(pads.inner);
      hash.compress(state, block);
      for (let i = 0; i < words; i++) block[i] = state[i]!;
      state.set(pads.outer);
      hash.compress(state, block);
      for (let i = 0; i < words; i++) {
        const x = state[i]!;
        block[i] = x;
        sum[i] = sum[i]! ^ x;
      }
    }
    const chunk = out.subarray(offset);
    wordsToBytes(sum, chunk, 0);
  }
  return out;
}
