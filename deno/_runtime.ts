/**
 * Deno's effects for the shared endpoint layer (`core/endpoint/runtime.ts`): its web-platform
 * globals (`performance.now`, `setTimeout`, WebCrypto, stderr) handed to `webRuntime`, which
 * builds the `Runtime` every binding shares.
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * import { DENO_RUNTIME } from "./_runtime.ts";
 * assert(DENO_RUNTIME.now() >= 0);
 * ```
 * @module
 */

import { type Runtime, webRuntime } from "../core/endpoint/runtime.ts";
import { type BoundLoggerFactory, boundLoggerFactory } from "../core/endpoint/log.ts";

/** The runtime of every Deno binding: its web-platform globals. */
export const DENO_RUNTIME: Runtime = webRuntime(globalThis);

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
export const createLogger: BoundLoggerFactory = boundLoggerFactory(
  DENO_RUNTIME.timestamp,
  (line) => console.error(line),
);
