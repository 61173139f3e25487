/**
 * File reading and URL formatting shared by the command-line entry points; every failure names
 * the option at fault.
 *
 * @module
 */

import type { GatewayOptions } from "./options.ts";

/** Reads `--cert` / `--key` (both or neither). */
export async function readTls(options: GatewayOptions): Promise<{ cert?: string; key?: string }> {
  if (!options.cert && !options.key) return {};
  if (!options.cert || !options.key) throw new Error("--cert and --key go together");
  return {
    cert: await readFile(options.cert, "--cert"),
    key: await readFile(options.key, "--key"),
  };
}

export async function readFile(path: string, option: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new Error(
      `${option}: cannot read ${path}: ${error instanceof Error ? error.message : error}`,
    );
  }
}

/** The URL to print for the listening endpoint. */
export function listenUrl(addr: Deno.NetAddr, options: GatewayOptions, tls: boolean): string {
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return `${tls ? "wss" : "ws"}://${host}:${addr.port}${options.path}`;
}
