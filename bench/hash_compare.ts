/**
 * Issue 12: should the core's hand-written SHA-1, SHA-256, HMAC and PBKDF2 give way to an
 * audited synchronous library (`@noble/hashes`)? The rule: only if a benchmark in the same run
 * shows it at least as fast. This measures both (and WebCrypto's native PBKDF2, the async path
 * the embedded server now uses for PLAIN) in alternating rounds and prints the ratios. It also
 * checks that both compute the same bytes.
 *
 * Run: `deno run bench/hash_compare.ts [rounds]` (default 7). `@noble/hashes` is fetched from
 * npm for this script only; the library does not depend on it.
 *
 * @module
 */

// A bench-only comparison: the library does not depend on @noble/hashes, so it is not in the
// import map.
// deno-lint-ignore no-import-prefix
import { pbkdf2 as noblePbkdf2 } from "npm:@noble/hashes@2.0.1/pbkdf2.js";
// deno-lint-ignore no-import-prefix
import { sha1 as nobleSha1 } from "npm:@noble/hashes@2.0.1/legacy.js";
// deno-lint-ignore no-import-prefix
import { sha256 as nobleSha256 } from "npm:@noble/hashes@2.0.1/sha2.js";
// deno-lint-ignore no-import-prefix
import { hmac as nobleHmac } from "npm:@noble/hashes@2.0.1/hmac.js";
import { pbkdf2 } from "../core/sasl/mod.ts";
import { digest } from "../core/sasl/hash.ts";
import { hmac } from "../core/sasl/hmac.ts";

const ROUNDS = Number(Deno.args[0] ?? 7);
const utf8 = new TextEncoder();
const PASSWORD = utf8.encode("correct horse battery staple");
const SALT = Uint8Array.from({ length: 16 }, (_, i) => i * 31);
const MESSAGE = utf8.encode(
  "n=user,r=fyko+d2lbbFgONRv9qkxdawL,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096,c=biws",
);
const ITERATIONS = 4096;

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// Same results first.
for (const [name, nobleHash] of [["SHA-1", nobleSha1], ["SHA-256", nobleSha256]] as const) {
  if (!same(digest(name, MESSAGE), nobleHash(MESSAGE))) throw new Error(`${name} digests differ`);
  if (!same(hmac(name, PASSWORD, MESSAGE), nobleHmac(nobleHash, PASSWORD, MESSAGE))) {
    throw new Error(`${name} HMACs differ`);
  }
  const ours = pbkdf2(name, PASSWORD, SALT, ITERATIONS, name === "SHA-1" ? 20 : 32);
  const theirs = noblePbkdf2(nobleHash, PASSWORD, SALT, {
    c: ITERATIONS,
    dkLen: name === "SHA-1" ? 20 : 32,
  });
  if (!same(ours, theirs)) throw new Error(`${name} PBKDF2 differs`);
}

function time(run: () => void, repeat: number): number {
  const start = performance.now();
  for (let i = 0; i < repeat; i++) run();
  return (performance.now() - start) / repeat;
}

async function timeAsync(run: () => Promise<unknown>, repeat: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < repeat; i++) await run();
  return (performance.now() - start) / repeat;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const webKey = await crypto.subtle.importKey("raw", PASSWORD, "PBKDF2", false, ["deriveBits"]);

console.log(
  `hash_compare: Deno ${Deno.version.deno}, ${ROUNDS} alternating rounds; times per call, medians`,
);
console.log("operation | ours | @noble/hashes | noble / ours | WebCrypto (async)");
for (const [name, nobleHash] of [["SHA-256", nobleSha256], ["SHA-1", nobleSha1]] as const) {
  const dkLen = name === "SHA-1" ? 20 : 32;
  const rows: [string, () => void, () => void, (() => Promise<unknown>) | undefined, number][] = [
    [
      `${name} of 120 bytes`,
      () => digest(name, MESSAGE),
      () => nobleHash(MESSAGE),
      undefined,
      20_000,
    ],
    [
      `HMAC-${name} of 120 bytes`,
      () => hmac(name, PASSWORD, MESSAGE),
      () => nobleHmac(nobleHash, PASSWORD, MESSAGE),
      undefined,
      20_000,
    ],
    [
      `PBKDF2-HMAC-${name}, ${ITERATIONS} iterations`,
      () => pbkdf2(name, PASSWORD, SALT, ITERATIONS, dkLen),
      () => noblePbkdf2(nobleHash, PASSWORD, SALT, { c: ITERATIONS, dkLen }),
      () =>
        crypto.subtle.deriveBits(
          { name: "PBKDF2", hash: name, salt: SALT, iterations: ITERATIONS },
          webKey,
          dkLen * 8,
        ),
      20,
    ],
  ];
  for (const [label, ours, noble, web, repeat] of rows) {
    const a: number[] = [];
    const b: number[] = [];
    const c: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      a.push(time(ours, repeat));
      b.push(time(noble, repeat));
      if (web) c.push(await timeAsync(web, repeat));
    }
    const fmt = (ms: number) => ms < 0.1 ? `${(ms * 1000).toFixed(2)} µs` : `${ms.toFixed(2)} ms`;
    console.log(
      `${label} | ${fmt(median(a))} | ${fmt(median(b))} | ${(median(b) / median(a)).toFixed(2)} | ${
        web ? fmt(median(c)) : "-"
      }`,
    );
  }
}
