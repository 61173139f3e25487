/**
 * File reading for the Node command line (`main.ts`, `embedded.ts`): `node:fs`, which
 * `core/endpoint/files.ts` uses for the option files (every failure names the option).
 *
 * @example
 * ```ts
 * import { assertRejects } from "@std/assert";
 * import { readTextFile } from "./_files.ts";
 * await assertRejects(() => readTextFile("/nonexistent/cert.pem"));
 * ```
 * @module
 */

import { readFile } from "node:fs/promises";

/** Reads a file as UTF-8 text with `node:fs`. */
export const readTextFile = (path: string): Promise<string> => readFile(path, "utf8");
