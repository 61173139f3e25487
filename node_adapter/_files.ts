/**
 * File reading and URL formatting for the Node command line (`main.ts`, `embedded.ts`): the
 * helpers of `core/endpoint/files.ts` with `node:fs`; every failure names the option at fault,
 * as on Deno.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { listenUrl } from "./_files.ts";
 * assertEquals(listenUrl({ hostname: "::1", port: 5280 }, "/xmpp-websocket", false), "ws://[::1]:5280/xmpp-websocket");
 * ```
 * @module
 */

import { readFile as fsReadFile } from "node:fs/promises";
import { listenUrl, readOptionFile, readTls as coreReadTls } from "../core/endpoint/files.ts";

export { listenUrl };

/** Reads a file as UTF-8 text with `node:fs`. */
export const readTextFile = (path: string): Promise<string> => fsReadFile(path, "utf8");

/** Reads `--cert` / `--key` (both or neither). */
export function readTls(
  options: { readonly cert: string; readonly key: string },
): Promise<{ cert?: string; key?: string }> {
  return coreReadTls(options, readTextFile);
}

/**
 * Reads a UTF-8 file; the error names `option`.
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * import { readFile } from "./_files.ts";
 * const error = await readFile("/nonexistent/ca.pem", "--upstream-ca-file").catch((e) => e);
 * assert(error.message.startsWith("--upstream-ca-file: cannot read /nonexistent/ca.pem"));
 * ```
 */
export function readFile(path: string, option: string): Promise<string> {
  return readOptionFile(path, option, readTextFile);
}
