/**
 * The two hash functions SCRAM needs, by their WebCrypto names, in pure TypeScript.
 *
 * @example
 * ```ts
 * import { digest } from "./hash.ts";
 * import { assertEquals } from "@std/assert";
 * const bytes = digest("SHA-256", new TextEncoder().encode("abc"));
 * assertEquals(bytes.length, 32);
 * ```
 * @module
 */

import { hashBytes, type HashFunction } from "./_hash.ts";
import { SHA1 } from "./_sha1.ts";
import { SHA256 } from "./_sha256.ts";

/** A hash function implemented here, named as in WebCrypto. */
export type HashName = "SHA-1" | "SHA-256";

/**
 * The implementation behind a name.
 *
 * @example
 * ```ts
 * import { hashFunction } from "./hash.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(hashFunction("SHA-1").name, "SHA-1");
 * ```
 */
export function hashFunction(name: HashName): HashFunction {
  return name === "SHA-1" ? SHA1 : SHA256;
}

/**
 * The output size in bytes: 20 for SHA-1, 32 for SHA-256.
 *
 * @example
 * ```ts
 * import { digestLength } from "./hash.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(digestLength("SHA-1"), 20);
 * ```
 */
export function digestLength(name: HashName): number {
  return hashFunction(name).iv.length * 4;
}

/**
 * Hashes bytes.
 *
 * @example
 * ```ts
 * import { digest } from "./hash.ts";
 * import { assertEquals } from "@std/assert";
 * const hex = Array.from(digest("SHA-1", new Uint8Array()))
 *   .map((b) => b.toString(16).padStart(2, "0")).join("");
 * assertEquals(hex, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
 * ```
 */
export function digest(name: HashName, data: Uint8Array): Uint8Array<ArrayBuffer> {
  return hashBytes(hashFunction(name), data);
}
