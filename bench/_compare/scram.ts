/**
 * A SCRAM-SHA-1 client (RFC 5802) on WebCrypto for the load client. The salted password is
 * cached per (password, salt, iterations), as real clients keep it, so the load client does
 * not spend a PBKDF2 per login and the server's cost is what is measured.
 *
 * @example
 * ```ts
 * import { scramFirst } from "./scram.ts";
 * const first = scramFirst("alice");
 * console.log(first.message.startsWith("n,,n=alice,r=")); // true
 * ```
 * @module
 */

const utf8 = new TextEncoder();
const salted = new Map<string, Promise<ArrayBuffer>>();

/** The client-first message and what the final step needs. */
export interface ScramStart {
  /** `n,,n=<user>,r=<nonce>` (send it base64-encoded). */
  readonly message: string;
  readonly bare: string;
  readonly nonce: string;
}

/**
 * Starts an exchange for `username` (letters and digits only: no SASLprep needed).
 *
 * @example
 * ```ts
 * import { scramFirst } from "./scram.ts";
 * console.log(scramFirst("bob").bare.startsWith("n=bob,r=")); // true
 * ```
 */
export function scramFirst(username: string): ScramStart {
  const nonce = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(18))));
  const bare = `n=${username},r=${nonce}`;
  return { message: `n,,${bare}`, bare, nonce };
}

/**
 * The client-final message for the server-first message, and the server signature to expect.
 * Throws on a malformed challenge or a nonce the client did not start.
 *
 * @example
 * ```ts ignore
 * const { message, serverSignature } = await scramFinal(start, serverFirst, "secret");
 * ```
 */
export async function scramFinal(
  start: ScramStart,
  serverFirst: string,
  password: string,
): Promise<{ message: string; serverSignature: string }> {
  const attrs = new Map(
    serverFirst.split(",").map((kv) => [kv.slice(0, 1), kv.slice(2)] as const),
  );
  const nonce = attrs.get("r") ?? "";
  const salt = attrs.get("s") ?? "";
  const iterations = Number(attrs.get("i"));
  if (!nonce.startsWith(start.nonce) || salt === "" || !(iterations > 0)) {
    throw new Error(`bad SCRAM challenge: ${serverFirst}`);
  }
  const key = `${password}\0${salt}\0${iterations}`;
  let saltedPassword = salted.get(key);
  if (saltedPassword === undefined) {
    saltedPassword = derive(password, salt, iterations);
    salted.set(key, saltedPassword);
  }
  const sp = await saltedPassword;
  const withoutProof = `c=biws,r=${nonce}`;
  const authMessage = utf8.encode(`${start.bare},${serverFirst},${withoutProof}`);
  const clientKey = new Uint8Array(await hmac(sp, utf8.encode("Client Key")));
  const storedKey = await crypto.subtle.digest("SHA-1", clientKey);
  const signature = new Uint8Array(await hmac(storedKey, authMessage));
  const proof = clientKey.map((b, i) => b ^ signature[i]!);
  const serverKey = await hmac(sp, utf8.encode("Server Key"));
  const serverSignature = base64(new Uint8Array(await hmac(serverKey, authMessage)));
  return { message: `${withoutProof},p=${base64(proof)}`, serverSignature };
}

async function derive(password: string, salt: string, iterations: number): Promise<ArrayBuffer> {
  const base = await crypto.subtle.importKey("raw", utf8.encode(password), "PBKDF2", false, [
    "deriveBits",
  ]);
  const saltBytes = Uint8Array.from(atob(salt), (c) => c.charCodeAt(0));
  return crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-1", salt: saltBytes, iterations },
    base,
    160,
  );
}

async function hmac(key: ArrayBuffer, data: Uint8Array<ArrayBuffer>): Promise<ArrayBuffer> {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-1" }, false, [
    "sign",
  ]);
  return crypto.subtle.sign("HMAC", k, data);
}

function base64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}
