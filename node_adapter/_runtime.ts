/**
 * Node's effects for the shared endpoint layer (`core/endpoint/runtime.ts`): `performance.now`
 * as the monotonic clock, `setTimeout`, WebCrypto for ids, random bytes and PBKDF2, and stderr
 * for errors nobody else sees.
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * import { NODE_RUNTIME } from "./_runtime.ts";
 * assert(NODE_RUNTIME.now() >= 0);
 * ```
 * @module
 */

import type { Pbkdf2Request, Runtime } from "../core/endpoint/runtime.ts";
import {
  createLogger as createCoreLogger,
  type Logger,
  type LogLevel,
} from "../core/endpoint/log.ts";

/** The runtime of every Node binding (Node 20 has these web globals). */
export const NODE_RUNTIME: Runtime = {
  now: () => performance.now(),
  setTimer: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout> | undefined),
  randomId: () => crypto.randomUUID(),
  random: () => Math.random(),
  randomBytes: (length) => crypto.getRandomValues(new Uint8Array(length)),
  pbkdf2,
  timestamp: () => new Date().toISOString(),
  reportError: (message, error) => console.error(message, error),
};

async function pbkdf2(request: Pbkdf2Request): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    "raw",
    request.password as Uint8Array<ArrayBuffer>,
    "PBKDF2",
    false,
    ["deriveBits"],
  );
  const bits = await crypto.subtle.deriveBits(
    {
      name: "PBKDF2",
      hash: request.hash,
      salt: request.salt as Uint8Array<ArrayBuffer>,
      iterations: request.iterations,
    },
    key,
    request.length * 8,
  );
  return new Uint8Array(bits);
}

/**
 * A logger writing lines at or above `minimum` through `write` (default: stderr), stamped with
 * the wall clock.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createLogger } from "./_runtime.ts";
 * const lines: string[] = [];
 * createLogger("warn", "text", (l) => lines.push(l))("info", "dropped");
 * assertEquals(lines.length, 0);
 * ```
 */
export function createLogger(
  minimum: LogLevel,
  format: "text" | "json",
  write: (line: string) => void = (line) => console.error(line),
): Logger {
  return createCoreLogger(minimum, format, write, NODE_RUNTIME.timestamp);
}
