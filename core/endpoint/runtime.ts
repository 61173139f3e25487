/**
 * The effects a runtime binding lends to the shared endpoint layer (`core/endpoint/`): a
 * monotonic clock, one-shot timers, random ids and bytes, PBKDF2, a wall-clock timestamp for log
 * lines and a place for errors nobody else sees. The drivers of this folder (connections, the
 * gateway bridge driver, the embedded hub driver, readiness probes) touch no runtime global: each
 * binding (`deno/_runtime.ts`, `node_adapter/_runtime.ts`) passes its own `Runtime` in, and a
 * test can pass a virtual one.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { Runtime } from "./runtime.ts";
 * let now = 0;
 * const fired: string[] = [];
 * const virtual: Runtime = {
 *   now: () => now,
 *   setTimer: (callback) => { fired.push("armed"); return callback; },
 *   clearTimer: () => {},
 *   randomId: () => "00000000-0000-4000-8000-000000000000",
 *   random: () => 0.5,
 *   randomBytes: (length) => new Uint8Array(length),
 *   pbkdf2: () => Promise.resolve(new Uint8Array(0)),
 *   timestamp: () => "1970-01-01T00:00:00.000Z",
 *   reportError: () => {},
 * };
 * virtual.setTimer(() => {}, 10);
 * now += 10;
 * assertEquals([fired, virtual.now()], [["armed"], 10]);
 * ```
 * @module
 */

/** An armed timer, as the runtime knows it (opaque to the drivers). */
export type TimerHandle = unknown;

/** What PBKDF2 is asked to derive (RFC 8018 §5.2). */
export interface Pbkdf2Request {
  readonly password: Uint8Array;
  readonly salt: Uint8Array;
  readonly iterations: number;
  /** `SHA-1` or `SHA-256`. */
  readonly hash: string;
  /** Bytes to derive. */
  readonly length: number;
}

/** The effects of one runtime. */
export interface Runtime {
  /** A monotonic clock in ms: every `now` given to the core and every `at` it returns use it. */
  now(): number;
  /** Calls `callback` once, `delayMs` from now. */
  setTimer(callback: () => void, delayMs: number): TimerHandle;
  /** Disarms a timer (no effect on `undefined` or one that fired). */
  clearTimer(handle: TimerHandle | undefined): void;
  /** A fresh random UUID (connection and stream ids, SASL secrets). */
  randomId(): string;
  /** A uniform random number in [0, 1) (SRV weights). */
  random(): number;
  /** `length` cryptographically random bytes (salts, demo passwords). */
  randomBytes(length: number): Uint8Array;
  /** PBKDF2 off the event loop (the runtime's WebCrypto); rejects on failure. */
  pbkdf2(request: Pbkdf2Request): Promise<Uint8Array>;
  /** The wall-clock time as an ISO 8601 string, for log lines. */
  timestamp(): string;
  /** Reports an error that reaches no caller (an application hook that threw). */
  reportError(message: string, error: unknown): void;
}

/** The part of WebCrypto's `SubtleCrypto` that PBKDF2 needs (`crypto.subtle` on every runtime). */
export interface Pbkdf2Subtle {
  /** Imports the password as a raw PBKDF2 key. */
  importKey(
    format: "raw",
    keyData: Uint8Array<ArrayBuffer>,
    algorithm: "PBKDF2",
    extractable: false,
    keyUsages: ["deriveBits"],
  ): Promise<unknown>;
  /** Derives `length` bits. */
  deriveBits(
    algorithm: {
      name: "PBKDF2";
      hash: string;
      salt: Uint8Array<ArrayBuffer>;
      iterations: number;
    },
    baseKey: never,
    length: number,
  ): Promise<ArrayBuffer>;
}

/**
 * The web-platform globals a `Runtime` is made of, as a binding hands them in (its `globalThis`:
 * Deno, Node 20 and browsers all have them); the core itself names no global.
 */
export interface WebGlobals {
  /** `performance.now`, the monotonic clock. */
  readonly performance: { now(): number };
  /** One-shot timers. */
  setTimeout(callback: () => void, delayMs: number): unknown;
  /** Disarms a timer. */
  clearTimeout(handle: never): void;
  /** WebCrypto: ids, random bytes and PBKDF2. */
  readonly crypto: {
    randomUUID(): string;
    getRandomValues(bytes: Uint8Array<ArrayBuffer>): Uint8Array;
    readonly subtle: Pbkdf2Subtle;
  };
  /** `Math.random`, for SRV weights. */
  readonly Math: { random(): number };
  /** The wall clock, for log lines. */
  readonly Date: new () => { toISOString(): string };
  /** `console.error`, for errors nobody else sees. */
  readonly console: { error(message: string, error: unknown): void };
}

/**
 * The `Runtime` of a binding built from its web-platform globals: timers, WebCrypto ids and
 * bytes, PBKDF2 through `crypto.subtle` (RFC 8018 §5.2), the monotonic and wall clocks.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { webRuntime } from "./runtime.ts";
 * const runtime = webRuntime({
 *   performance: { now: () => 42 },
 *   setTimeout: () => 1,
 *   clearTimeout: () => {},
 *   crypto: {
 *     randomUUID: () => "00000000-0000-4000-8000-000000000000",
 *     getRandomValues: (bytes) => bytes.fill(7),
 *     subtle: crypto.subtle,
 *   },
 *   Math: { random: () => 0.25 },
 *   Date: class { toISOString() { return "1970-01-01T00:00:00.000Z"; } },
 *   console: { error: () => {} },
 * });
 * assertEquals([runtime.now(), runtime.randomBytes(2)], [42, new Uint8Array([7, 7])]);
 * assertEquals(runtime.timestamp(), "1970-01-01T00:00:00.000Z");
 * const key = await runtime.pbkdf2({
 *   password: new TextEncoder().encode("password"),
 *   salt: new TextEncoder().encode("salt"),
 *   iterations: 1,
 *   hash: "SHA-1",
 *   length: 4,
 * });
 * assertEquals(key, new Uint8Array([0x0c, 0x60, 0xc8, 0x0f])); // RFC 6070, first test vector
 * ```
 */
export function webRuntime(web: WebGlobals): Runtime {
  const subtle = web.crypto.subtle;
  const pbkdf2 = async (request: Pbkdf2Request): Promise<Uint8Array> => {
    const key = await subtle.importKey(
      "raw",
      request.password as Uint8Array<ArrayBuffer>,
      "PBKDF2",
      false,
      ["deriveBits"],
    );
    const bits = await subtle.deriveBits(
      {
        name: "PBKDF2",
        hash: request.hash,
        salt: request.salt as Uint8Array<ArrayBuffer>,
        iterations: request.iterations,
      },
      key as never,
      request.length * 8,
    );
    return new Uint8Array(bits);
  };
  return {
    now: () => web.performance.now(),
    setTimer: (callback, delayMs) => web.setTimeout(callback, delayMs),
    clearTimer: (handle) => web.clearTimeout(handle as never),
    randomId: () => web.crypto.randomUUID(),
    random: () => web.Math.random(),
    randomBytes: (length) => web.crypto.getRandomValues(new Uint8Array(length)),
    pbkdf2,
    timestamp: () => new web.Date().toISOString(),
    reportError: (message, error) => web.console.error(message, error),
  };
}
