/**
 * File reading and URL formatting shared by the command-line entry points of both runtimes;
 * every failure names the option at fault. The runtime's file reader is passed in.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { listenUrl } from "./files.ts";
 * assertEquals(listenUrl({ hostname: "::1", port: 5280 }, "/ws", false), "ws://[::1]:5280/ws");
 * ```
 * @module
 */

/** Reads a file as UTF-8 text (the runtime's). */
import type { Logger } from "./log.ts";

export type TextFileReader = (path: string) => Promise<string>;

/**
 * Reads the file an option names; the error names the option.
 *
 * @example
 * ```ts
 * import { assertRejects } from "@std/assert";
 * import { readOptionFile } from "./files.ts";
 * const missing = () => Promise.reject(new Error("not found"));
 * await assertRejects(() => readOptionFile("a.pem", "--cert", missing), Error, "--cert: cannot read a.pem: not found");
 * ```
 */
export async function readOptionFile(
  path: string,
  option: string,
  read: TextFileReader,
): Promise<string> {
  try {
    return await read(path);
  } catch (error) {
    throw new Error(
      `${option}: cannot read ${path}: ${error instanceof Error ? error.message : error}`,
    );
  }
}

/**
 * Reads `--cert` / `--key` (both or neither).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { readTls } from "./files.ts";
 * assertEquals(await readTls({ cert: "", key: "" }, () => Promise.resolve("")), {});
 * ```
 */
export async function readTls(
  options: { readonly cert: string; readonly key: string },
  read: TextFileReader,
): Promise<{ cert?: string; key?: string }> {
  if (!options.cert && !options.key) return {};
  if (!options.cert || !options.key) throw new Error("--cert and --key go together");
  return {
    cert: await readOptionFile(options.cert, "--cert", read),
    key: await readOptionFile(options.key, "--key", read),
  };
}

/**
 * Reads `--cert` / `--key` again and hands them to the server (SIGHUP), logging the outcome: the
 * native WebSocket layer cannot change its certificate without closing every connection, so it
 * keeps the old one and says so. Shared by the gateway's and the embedded server's reload.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { reloadCertificate } from "./files.ts";
 * const lines: string[] = [];
 * const server = { replaceCertificate: () => Promise.resolve(true) };
 * await reloadCertificate(server, { cert: "c.pem", key: "k.pem" }, (_l, event) => lines.push(event), () => Promise.resolve("PEM"));
 * assertEquals(lines, ["certificate reloaded"]);
 * ```
 */
export async function reloadCertificate(
  server: { replaceCertificate?(cert: string, key: string): Promise<boolean> },
  options: { readonly cert: string; readonly key: string },
  log: Logger,
  read: TextFileReader,
): Promise<void> {
  try {
    const tls = await readTls(options, read);
    if (await server.replaceCertificate?.(tls.cert!, tls.key!)) {
      log("info", "certificate reloaded");
    } else {
      log(
        "warn",
        "certificate not reloaded: the native WebSocket layer cannot change it without closing every connection; restart, or use --websocket-layer strict",
      );
    }
  } catch (error) {
    log("error", "certificate not reloaded", {
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

/**
 * The URL to print for the listening endpoint.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { listenUrl } from "./files.ts";
 * assertEquals(listenUrl({ hostname: "127.0.0.1", port: 443 }, "/ws", true), "wss://127.0.0.1:443/ws");
 * ```
 */
export function listenUrl(
  addr: { readonly hostname: string; readonly port: number },
  path: string,
  tls: boolean,
): string {
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return `${tls ? "wss" : "ws"}://${host}:${addr.port}${path}`;
}
