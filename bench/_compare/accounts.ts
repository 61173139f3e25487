/**
 * SCRAM credentials (RFC 5802: StoredKey, ServerKey) derived with WebCrypto, for writing the
 * bench's accounts in each server's own format without a PBKDF2 per account.
 *
 * @example
 * ```ts
 * import { scramKeys } from "./accounts.ts";
 * const k = await scramKeys("pw", new Uint8Array(16), 4096, "SHA-1");
 * console.log(k.storedKey.length, k.serverKey.length); // 20 20
 * ```
 * @module
 */

/** StoredKey and ServerKey of `password` with `salt` and `iterations`. */
export async function scramKeys(
  password: string,
  salt: Uint8Array<ArrayBuffer>,
  iterations: number,
  hash: "SHA-1" | "SHA-256",
): Promise<{ storedKey: Uint8Array; serverKey: Uint8Array }> {
  const utf8 = new TextEncoder();
  const base = await crypto.subtle.importKey("raw", utf8.encode(password), "PBKDF2", false, [
    "deriveBits",
  ]);
  const bits = hash === "SHA-1" ? 160 : 256;
  const salted = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash, salt, iterations },
    base,
    bits,
  );
  const key = await crypto.subtle.importKey("raw", salted, { name: "HMAC", hash }, false, ["sign"]);
  const clientKey = await crypto.subtle.sign("HMAC", key, utf8.encode("Client Key"));
  const serverKey = await crypto.subtle.sign("HMAC", key, utf8.encode("Server Key"));
  const storedKey = await crypto.subtle.digest(hash, clientKey);
  return { storedKey: new Uint8Array(storedKey), serverKey: new Uint8Array(serverKey) };
}

/**
 * The embedded server's accounts file (deno/_accounts.ts format): every user with the same
 * stored SCRAM-SHA-1 and SCRAM-SHA-256 credentials.
 *
 * @example
 * ```ts
 * import { embeddedAccountsJson } from "./accounts.ts";
 * const json = JSON.parse(await embeddedAccountsJson(["u0"], "pw"));
 * console.log(Object.keys(json.accounts[0].scram)); // ["SCRAM-SHA-1", "SCRAM-SHA-256"]
 * ```
 */
export async function embeddedAccountsJson(
  users: readonly string[],
  password: string,
): Promise<string> {
  const salt = new TextEncoder().encode("bench-salt-0123456789");
  const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
  const scram: Record<string, unknown> = {};
  for (const hash of ["SHA-1", "SHA-256"] as const) {
    const k = await scramKeys(password, salt, 4096, hash);
    scram[`SCRAM-${hash}`] = {
      salt: b64(salt),
      iterations: 4096,
      storedKey: b64(k.storedKey),
      serverKey: b64(k.serverKey),
    };
  }
  return JSON.stringify({ accounts: users.map((username) => ({ username, scram })) });
}
