/**
 * Accounts of the embedded server, from `user:password` pairs (the `--account` option or its
 * environment variable) and a JSON file (`--accounts-file`). Passwords become salted SCRAM-SHA-1
 * and SCRAM-SHA-256 credentials at load time and are not kept. With no configuration at all,
 * demo accounts with random passwords are made; the caller prints them.
 *
 * The file: `{ "accounts": [{ "username": "alice", "password": "..." }, { "username": "bob",
 * "scram": { "SCRAM-SHA-256": { "salt": "...", "iterations": 4096, "storedKey": "...",
 * "serverKey": "..." } } }] }`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { loadAccounts } from "./accounts.ts";
 * const random = { randomBytes: (length: number) => new Uint8Array(length).fill(7) };
 * const { accounts, demo } = await loadAccounts({ users: ["alice:secret"] }, random);
 * assertEquals([accounts[0]!.username, Object.keys(accounts[0]!.scram), demo], ["alice", ["SCRAM-SHA-1", "SCRAM-SHA-256"], []]);
 * ```
 * @module
 */

import { createStoredAccount, type ScramCredentials, type StoredAccount } from "../sasl/mod.ts";
import type { Runtime } from "./runtime.ts";

/** Where accounts come from. Every source is optional; they add up. */
export interface AccountSources {
  /** `user:password` pairs (the password may contain `:`). */
  readonly users?: readonly string[];
  /** Path of a JSON accounts file (`""`: none). */
  readonly file?: string;
  /** PBKDF2 iterations for passwords (default 4096, the minimum of RFC 7677). */
  readonly iterations?: number;
  /** Demo accounts to make when no source gives any account (default `alice` and `bob`). */
  readonly demoUsers?: readonly string[];
  /** Reads `file` as UTF-8 text (each runtime binding passes its own; needed with `file`). */
  readonly readTextFile?: (path: string) => Promise<string>;
}

/** A generated demo account and its password, to print at start-up. */
export interface DemoAccount {
  /** The local part of the account's JID. */
  readonly username: string;
  /** The random password generated at start-up. */
  readonly password: string;
}

/** The accounts loaded, and the demo passwords (empty unless demo accounts were made). */
export interface LoadedAccounts {
  /** Every account, with SCRAM credentials only (no password kept). */
  readonly accounts: readonly StoredAccount[];
  /** The demo accounts made (with their passwords), empty when accounts were configured. */
  readonly demo: readonly DemoAccount[];
}

/**
 * Loads the accounts. Throws an `Error` naming the source on a malformed entry, an unreadable
 * file or a duplicate username.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { loadAccounts } from "./accounts.ts";
 * const { demo } = await loadAccounts({}, { randomBytes: (length) => new Uint8Array(length) });
 * assertEquals(demo.map((d) => d.username), ["alice", "bob"]);
 * ```
 */
export async function loadAccounts(
  sources: AccountSources,
  runtime: Pick<Runtime, "randomBytes">,
): Promise<LoadedAccounts> {
  const salt = () => runtime.randomBytes(16);
  const randomPassword = () => {
    const bytes = runtime.randomBytes(12);
    return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_");
  };
  const iterations = sources.iterations ?? 4096;
  const entries: Entry[] = (sources.users ?? []).map(parsePair);
  const file = sources.file;
  const read = sources.readTextFile ??
    ((path: string) => Promise.reject(new Error(`${path}: no file reader given`)));
  if (file) entries.push(...parseFile(file, await read(file)));
  const demo: DemoAccount[] = [];
  if (entries.length === 0) {
    for (const username of sources.demoUsers ?? ["alice", "bob"]) {
      const password = randomPassword();
      demo.push({ username, password });
      entries.push({ origin: `demo account '${username}'`, username, password });
    }
  }
  const seen = new Set<string>();
  const accounts = entries.map((entry) => {
    const key = entry.username.toLowerCase();
    if (seen.has(key)) {
      throw new Error(`Invalid accounts: ${entry.origin}: duplicate username '${key}'`);
    }
    seen.add(key);
    if ("account" in entry) return entry.account;
    try {
      return createStoredAccount(entry.username, entry.password, salt(), iterations);
    } catch (error) {
      throw new Error(
        `Invalid accounts: ${entry.origin}: ${error instanceof Error ? error.message : error}`,
      );
    }
  });
  return { accounts, demo };
}

/** One configured account, before its password (if any) is turned into credentials. */
type Entry =
  | { readonly origin: string; readonly username: string; readonly password: string }
  | { readonly origin: string; readonly username: string; readonly account: StoredAccount };

function parsePair(pair: string): Entry {
  const colon = pair.indexOf(":");
  if (colon < 1 || colon === pair.length - 1) {
    throw new Error(
      `Invalid account '${pair.slice(0, Math.max(colon, 0))}': expected user:password`,
    );
  }
  const username = pair.slice(0, colon);
  return { origin: `account '${username}'`, username, password: pair.slice(colon + 1) };
}

function parseFile(path: string, text: string): Entry[] {
  const fail = (where: string, why: string): never => {
    throw new Error(`Invalid accounts file ${path}: ${where}: ${why}`);
  };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    fail("JSON", error instanceof Error ? error.message : String(error));
  }
  const list = (data as { accounts?: unknown } | null)?.accounts;
  if (!Array.isArray(list)) fail("top level", `expected { "accounts": [...] }`);
  return (list as unknown[]).map((item, i): Entry => {
    const where = `accounts[${i}]`;
    const { username, password, scram } = (item ?? {}) as Record<string, unknown>;
    if (typeof username !== "string" || username === "") return fail(where, "expected a username");
    const origin = `${path}: ${where}`;
    if (typeof password === "string" && password !== "" && scram === undefined) {
      return { origin, username, password };
    }
    if (password !== undefined || typeof scram !== "object" || scram === null) {
      return fail(where, "expected either a password or stored scram credentials");
    }
    const stored: Record<string, ScramCredentials> = {};
    for (const [mechanism, value] of Object.entries(scram)) {
      if (mechanism !== "SCRAM-SHA-1" && mechanism !== "SCRAM-SHA-256") {
        fail(where, `unknown mechanism ${mechanism}`);
      }
      const c = (value ?? {}) as Record<string, unknown>;
      const ok = typeof c.salt === "string" && typeof c.storedKey === "string" &&
        typeof c.serverKey === "string" && Number.isInteger(c.iterations) &&
        (c.iterations as number) >= 4096;
      if (!ok) {
        fail(where, `${mechanism}: expected salt, iterations (>= 4096), storedKey and serverKey`);
      }
      stored[mechanism] = {
        salt: c.salt,
        iterations: c.iterations,
        storedKey: c.storedKey,
        serverKey: c.serverKey,
      } as ScramCredentials;
    }
    if (Object.keys(stored).length === 0) fail(where, "no SCRAM credentials");
    return { origin, username, account: { username, scram: stored } };
  });
}
