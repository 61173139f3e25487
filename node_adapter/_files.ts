/**
 * File reading and URL formatting for the Node command line (`main.ts`), with `node:fs`; every
 * failure names the option at fault, as on Deno.
 *
 * @example
 * ```ts
 * import { listenUrl } from "./_files.ts";
 * console.log(listenUrl({ hostname: "::1", port: 5280 }, "/xmpp-websocket", false)); // "ws://[::1]:5280/xmpp-websocket"
 * ```
 * @module
 */

import { readFile as fsReadFile } from "node:fs/promises";
import type { NetAddress } from "./_types.ts";

/**
 * Reads `--cert` / `--key` (both or neither).
 *
 * @example
 * ```ts
 * import { readTls } from "./_files.ts";
 * console.log(await readTls({ cert: "", key: "" })); // {}
 * ```
 */
export async function readTls(
  options: { readonly cert: string; readonly key: string },
): Promise<{ cert?: string; key?: string }> {
  if (!options.cert && !options.key) return {};
  if (!options.cert || !options.key) throw new Error("--cert and --key go together");
  return {
    cert: await readFile(options.cert, "--cert"),
    key: await readFile(options.key, "--key"),
  };
}

/**
 * Reads a UTF-8 file; the error names `option`.
 *
 * @example
 * ```ts
 * import { readFile } from "./_files.ts";
 * const error = await readFile("/nonexistent/ca.pem", "--upstream-ca-file").catch((e) => e);
 * console.log(error.message.startsWith("--upstream-ca-file: cannot read /nonexistent/ca.pem")); // true
 * ```
 */
export async function readFile(path: string, option: string): Promise<string> {
  try {
    return await fsReadFile(path, "utf8");
  } catch (error) {
    throw new Error(
      `${option}: cannot read ${path}: ${error instanceof Error ? error.message : error}`,
    );
  }
}

/**
 * The URL to print for the listening endpoint.
 *
 * @example
 * ```ts
 * import { listenUrl } from "./_files.ts";
 * console.log(listenUrl({ hostname: "127.0.0.1", port: 443 }, "/ws", true)); // "wss://127.0.0.1:443/ws"
 * ```
 */
export function listenUrl(addr: NetAddress, path: string, tls: boolean): string {
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return `${tls ? "wss" : "ws"}://${host}:${addr.port}${path}`;
}
