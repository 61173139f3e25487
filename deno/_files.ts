/**
 * File reading and URL formatting for the Deno command line (`main.ts`, `embedded.ts`): the
 * helpers of `core/endpoint/files.ts` with `Deno.readTextFile`; every failure names the option
 * at fault.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { readTls } from "./_files.ts";
 * assertEquals(await readTls({ cert: "", key: "" }), {});
 * ```
 * @module
 */

import {
  listenUrl as coreListenUrl,
  readOptionFile,
  readTls as coreReadTls,
} from "../core/endpoint/files.ts";

/** Reads a file as UTF-8 text with Deno. */
export const readTextFile = (path: string): Promise<string> => Deno.readTextFile(path);

/** Reads `--cert` / `--key` (both or neither). */
export function readTls(
  options: { readonly cert: string; readonly key: string },
): Promise<{ cert?: string; key?: string }> {
  return coreReadTls(options, readTextFile);
}

/** Reads a UTF-8 file; the error names `option`. */
export function readFile(path: string, option: string): Promise<string> {
  return readOptionFile(path, option, readTextFile);
}

/** The URL to print for the listening endpoint. */
export function listenUrl(
  addr: Deno.NetAddr,
  options: { readonly path: string },
  tls: boolean,
): string {
  return coreListenUrl(addr, options.path, tls);
}
