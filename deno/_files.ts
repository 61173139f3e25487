/**
 * File reading for the Deno command line (`main.ts`, `embedded.ts`): `Deno.readTextFile`,
 * which `core/endpoint/files.ts` uses for the option files (every failure names the option).
 *
 * @example
 * ```ts
 * import { assertRejects } from "@std/assert";
 * import { readTextFile } from "./_files.ts";
 * await assertRejects(() => readTextFile("/nonexistent/cert.pem"));
 * ```
 * @module
 */

/** Reads a file as UTF-8 text with Deno. */
export const readTextFile = (path: string): Promise<string> => Deno.readTextFile(path);
