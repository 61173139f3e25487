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
