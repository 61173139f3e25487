/**
 * The machinery shared by the pure SHA-1 and SHA-256 implementations: a hash is an initial
 * state and a compression function over 16 big-endian 32-bit words, and everything else
 * (padding, length encoding, HMAC pads, PBKDF2's inner loop) works on those words directly.
 * States and blocks are `Int32Array`s so that V8 keeps every value a small integer.
 *
 * @example
 * ```ts
 * import { hashBytes } from "./_hash.ts";
 * import { SHA256 } from "./_sha256.ts";
 * import { assertEquals } from "@std/assert";
 * const bytes = hashBytes(SHA256, new TextEncoder().encode("abc"));
 * assertEquals(bytes.length, 32);
 * ```
 * @module
 */

/** A Merkle–Damgård hash with 64-byte blocks whose output is its whole state. */
export interface HashFunction {
  /** The WebCrypto-style name. */
  readonly name: "SHA-1" | "SHA-256";
  /** The initial state; its length is the output size in 32-bit words. */
  readonly iv: Int32Array;
  /** Absorbs one block of 16 big-endian words into `state`, in place; `block` is not changed. */
  readonly compress: (state: Int32Array, block: Int32Array) => void;
}

/** The block size in bytes of every hash here. */
export const BLOCK_BYTES = 64;

// Scratch block: the code is synchronous and never re-entrant, so one buffer serves all calls.
const BLOCK = new Int32Array(16);

/**
 * Continues hashing `data` from `state`, which has already absorbed `prefixLength` bytes (a
 * multiple of 64), and finishes with padding and the length; the digest is left in `state`.
 *
 * @example
 * ```ts
 * import { finishWords } from "./_hash.ts";
 * import { SHA1 } from "./_sha1.ts";
 * import { assertEquals } from "@std/assert";
 * const state = SHA1.iv.slice();
 * finishWords(SHA1, state, 0, new Uint8Array());
 * assertEquals((state[0]! >>> 0).toString(16), "da39a3ee");
 * ```
 */
export function finishWords(
  hash: HashFunction,
  state: Int32Array,
  prefixLength: number,
  data: Uint8Array,
): void {
  const n = data.length;
  const full = n - (n % BLOCK_BYTES);
  const block = BLOCK;
  for (let i = 0; i < full; i += BLOCK_BYTES) {
    for (let w = 0, j = i; w < 16; w++, j += 4) {
      block[w] = (data[j]! << 24) | (data[j + 1]! << 16) | (data[j + 2]! << 8) | data[j + 3]!;
    }
    hash.compress(state, block);
  }
  block.fill(0);
  const rest = n - full;
  for (let j = 0; j < rest; j++) {
    block[j >> 2] = block[j >> 2]! | (data[full + j]! << (24 - 8 * (j & 3)));
  }
  block[rest >> 2] = block[rest >> 2]! | (0x80 << (24 - 8 * (rest & 3)));
  if (rest >= 56) {
    hash.compress(state, block);
    block.fill(0);
  }
  const bits = (prefixLength + n) * 8;
  block[14] = Math.floor(bits / 0x100000000);
  block[15] = bits | 0;
  hash.compress(state, block);
}

/**
 * Absorbs exactly one 64-byte block given as bytes.
 *
 * @example
 * ```ts
 * import { absorbBlock } from "./_hash.ts";
 * import { SHA256 } from "./_sha256.ts";
 * import { assertEquals } from "@std/assert";
 * const state = SHA256.iv.slice();
 * absorbBlock(SHA256, state, new Uint8Array(64));
 * assertEquals(state.length, 8);
 * ```
 */
export function absorbBlock(hash: HashFunction, state: Int32Array, bytes: Uint8Array): void {
  const block = BLOCK;
  for (let w = 0, j = 0; w < 16; w++, j += 4) {
    block[w] = (bytes[j]! << 24) | (bytes[j + 1]! << 16) | (bytes[j + 2]! << 8) | bytes[j + 3]!;
  }
  hash.compress(state, block);
}

/**
 * Writes words as big-endian bytes into `out` at `offset`, stopping at the end of `out`.
 *
 * @example
 * ```ts
 * import { wordsToBytes } from "./_hash.ts";
 * import { assertEquals } from "@std/assert";
 * const out = new Uint8Array(4);
 * wordsToBytes(Int32Array.of(0x01020304), out, 0);
 * assertEquals(Array.from(out), [1, 2, 3, 4]);
 * ```
 */
export function wordsToBytes(words: Int32Array, out: Uint8Array, offset: number): void {
  for (let w = 0, j = offset; w < words.length && j < out.length; w++, j += 4) {
    const x = words[w]!;
    out[j] = x >>> 24;
    if (j + 1 < out.length) out[j + 1] = x >>> 16;
    if (j + 2 < out.length) out[j + 2] = x >>> 8;
    if (j + 3 < out.length) out[j + 3] = x;
  }
}

/**
 * Hashes `data` in one call.
 *
 * @example
 * ```ts
 * import { hashBytes } from "./_hash.ts";
 * import { SHA1 } from "./_sha1.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(hashBytes(SHA1, new Uint8Array()).length, 20);
 * ```
 */
export function hashBytes(hash: HashFunction, data: Uint8Array): Uint8Array<ArrayBuffer> {
  const state = hash.iv.slice();
  finishWords(hash, state, 0, data);
  const out = new Uint8Array(state.length * 4);
  wordsToBytes(state, out, 0);
  return out;
}
