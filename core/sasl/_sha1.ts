/**
 * SHA-1 (FIPS 180-4) in pure TypeScript, for SCRAM-SHA-1 and PBKDF2-HMAC-SHA-1 only.
 *
 * @example
 * ```ts
 * import { hashBytes } from "./_hash.ts";
 * import { SHA1 } from "./_sha1.ts";
 * import { assertEquals } from "@std/assert";
 * const hex = Array.from(hashBytes(SHA1, new TextEncoder().encode("abc")))
 *   .map((b) => b.toString(16).padStart(2, "0")).join("");
 * assertEquals(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
 * ```
 * @module
 */

import type { HashFunction } from "./_hash.ts";

const W = new Int32Array(80);

function compress(state: Int32Array, block: Int32Array): void {
  const w = W;
  for (let i = 0; i < 16; i++) w[i] = block[i]!;
  for (let i = 16; i < 80; i++) {
    const x = w[i - 3]! ^ w[i - 8]! ^ w[i - 14]! ^ w[i - 16]!;
    w[i] = (x << 1) | (x >>> 31);
  }
  let a = state[0]!, b = state[1]!, c = state[2]!, d = state[3]!, e = state[4]!;
  // Five rounds per pass with the variables renamed instead of shifted (as in SHA-256).
  // Round: e += rotl5(a) + f(b, c, d) + K + W[i]; b = rotl30(b); then (a..e) rotate by one.
  for (let i = 0; i < 20; i += 5) {
    e = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + w[i]!) | 0;
    b = (b << 30) | (b >>> 2);
    d = (((e << 5) | (e >>> 27)) + ((a & b) | (~a & c)) + d + 0x5a827999 + w[i + 1]!) | 0;
    a = (a << 30) | (a >>> 2);
    c = (((d << 5) | (d >>> 27)) + ((e & a) | (~e & b)) + c + 0x5a827999 + w[i + 2]!) | 0;
    e = (e << 30) | (e >>> 2);
    b = (((c << 5) | (c >>> 27)) + ((d & e) | (~d & a)) + b + 0x5a827999 + w[i + 3]!) | 0;
    d = (d << 30) | (d >>> 2);
    a = (((b << 5) | (b >>> 27)) + ((c & d) | (~c & e)) + a + 0x5a827999 + w[i + 4]!) | 0;
    c = (c << 30) | (c >>> 2);
  }
  for (let i = 20; i < 40; i += 5) {
    e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + w[i]!) | 0;
    b = (b << 30) | (b >>> 2);
    d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + 0x6ed9eba1 + w[i + 1]!) | 0;
    a = (a << 30) | (a >>> 2);
    c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + 0x6ed9eba1 + w[i + 2]!) | 0;
    e = (e << 30) | (e >>> 2);
    b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + 0x6ed9eba1 + w[i + 3]!) | 0;
    d = (d << 30) | (d >>> 2);
    a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + 0x6ed9eba1 + w[i + 4]!) | 0;
    c = (c << 30) | (c >>> 2);
  }
  for (let i = 40; i < 60; i += 5) {
    e = (((a << 5) | (a >>> 27)) + ((b & c) | (d & (b | c))) + e - 0x70e44324 + w[i]!) | 0;
    b = (b << 30) | (b >>> 2);
    d = (((e << 5) | (e >>> 27)) + ((a & b) | (c & (a | b))) + d - 0x70e44324 + w[i + 1]!) | 0;
    a = (a << 30) | (a >>> 2);
    c = (((d << 5) | (d >>> 27)) + ((e & a) | (b & (e | a))) + c - 0x70e44324 + w[i + 2]!) | 0;
    e = (e << 30) | (e >>> 2);
    b = (((c << 5) | (c >>> 27)) + ((d & e) | (a & (d | e))) + b - 0x70e44324 + w[i + 3]!) | 0;
    d = (d << 30) | (d >>> 2);
    a = (((b << 5) | (b >>> 27)) + ((c & d) | (e & (c | d))) + a - 0x70e44324 + w[i + 4]!) | 0;
    c = (c << 30) | (c >>> 2);
  }
  for (let i = 60; i < 80; i += 5) {
    e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e - 0x359d3e2a + w[i]!) | 0;
    b = (b << 30) | (b >>> 2);
    d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d - 0x359d3e2a + w[i + 1]!) | 0;
    a = (a << 30) | (a >>> 2);
    c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c - 0x359d3e2a + w[i + 2]!) | 0;
    e = (e << 30) | (e >>> 2);
    b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b - 0x359d3e2a + w[i + 3]!) | 0;
    d = (d << 30) | (d >>> 2);
    a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a - 0x359d3e2a + w[i + 4]!) | 0;
    c = (c << 30) | (c >>> 2);
  }
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
  state[4] = (state[4]! + e) | 0;
}

/**
 * SHA-1 as a {@linkcode HashFunction}.
 *
 * @example
 * ```ts
 * import { SHA1 } from "./_sha1.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(SHA1.iv.length * 4, 20); // bytes of output
 * ```
 */
export const SHA1: HashFunction = {
  name: "SHA-1",
  iv: Int32Array.of(0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0),
  compress,
};
