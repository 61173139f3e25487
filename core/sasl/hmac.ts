/**
 * HMAC (RFC 2104) over the pure hashes. The key's padded blocks are absorbed once into two
 * states ({@linkcode hmacPads}), so repeated MACs under one key (PBKDF2) cost two compressions
 * per short message.
 *
 * @example
 * ```ts
 * import { hmac } from "./hmac.ts";
 * import { assertEquals } from "@std/assert";
 * const utf8 = new TextEncoder();
 * const mac = hmac("SHA-256", utf8.encode("key"), utf8.encode("message"));
 * assertEquals(mac.length, 32);
 * ```
 * @module
 */

import {
  absorbBlock,
  BLOCK_BYTES,
  finishWords,
  hashBytes,
  type HashFunction,
  wordsToBytes,
} from "./_hash.ts";
import { hashFunction, type HashName } from "./hash.ts";

/** A key prepared for HMAC: the states after absorbing `key ^ ipad` and `key ^ opad`. */
export interface HmacPads {
  readonly hash: HashFunction;
  /** The state after the inner padded key block; never mutated. */
  readonly inner: Int32Array;
  /** The state after the outer padded key block; never mutated. */
  readonly outer: Int32Array;
}

/**
 * Prepares a key: keys longer than a block are hashed first (RFC 2104 §2).
 *
 * @example
 * ```ts
 * import { hmacPads } from "./hmac.ts";
 * import { SHA1 } from "./_sha1.ts";
 * import { assertEquals } from "@std/assert";
 * const pads = hmacPads(SHA1, new Uint8Array(100));
 * assertEquals(pads.inner.length, 5);
 * ```
 */
export function hmacPads(hash: HashFunction, key: Uint8Array): HmacPads {
  const k = key.length > BLOCK_BYTES ? hashBytes(hash, key) : key;
  const block = new Uint8Array(BLOCK_BYTES);
  block.fill(0x36);
  for (let i = 0; i < k.length; i++) block[i] = k[i]! ^ 0x36;
  const inner = hash.iv.slice();
  absorbBlock(hash, inner, block);
  block.fill(0x5c);
  for (let i = 0; i < k.length; i++) block[i] = k[i]! ^ 0x5c;
  const outer = hash.iv.slice();
  absorbBlock(hash, outer, block);
  return { hash, inner, outer };
}

/**
 * The MAC of `data` under prepared pads, as the final state words (not copied to bytes).
 *
 * @example
 * ```ts
 * import { hmacPads, hmacWords } from "./hmac.ts";
 * import { SHA256 } from "./_sha256.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(hmacWords(hmacPads(SHA256, new Uint8Array(1)), new Uint8Array()).length, 8);
 * ```
 */
export function hmacWords(pads: HmacPads, data: Uint8Array): Int32Array {
  const { hash } = pads;
  const inner = pads.inner.slice();
  finishWords(hash, inner, BLOCK_BYTES, data);
  const innerBytes = new Uint8Array(inner.length * 4);
  wordsToBytes(inner, innerBytes, 0);
  const outer = pads.outer.slice();
  finishWords(hash, outer, BLOCK_BYTES, innerBytes);
  return outer;
}

/**
 * HMAC of `data` under `key`.
 *
 * @example
 * ```ts
 * import { hmac } from "./hmac.ts";
 * import { assertEquals } from "@std/assert";
 * const utf8 = new TextEncoder();
 * const hex = Array.from(hmac("SHA-1", utf8.encode("Jefe"), utf8.encode("what do ya want for nothing?")))
 *   .map((b) => b.toString(16).padStart(2, "0")).join("");
 * assertEquals(hex, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
 * ```
 */
export function hmac(
  name: HashName,
  key: Uint8Array,
  data: Uint8Array,
): Uint8Array<ArrayBuffer> {
  const words = hmacWords(hmacPads(hashFunction(name), key), data);
  const out = new Uint8Array(words.length * 4);
  wordsToBytes(words, out, 0);
  return out;
}
