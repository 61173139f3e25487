/**
 * What both SCRAM sides share (RFC 5802): the key schedule, `saslname` escaping, nonce syntax
 * and splitting messages into `attr=value` pairs.
 *
 * @example
 * ```ts
 * import { escapeSaslname, unescapeSaslname } from "./_scram_common.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(escapeSaslname("a,b=c"), "a=2Cb=3Dc");
 * assertEquals(unescapeSaslname("a=2Cb"), "a,b");
 * assertEquals(unescapeSaslname("a=b"), undefined);
 * ```
 * @module
 */

import { encodeUtf8 } from "./_bytes.ts";
import { encodeBase64 } from "./base64.ts";
import { digest, digestLength, type HashName } from "./hash.ts";
import { hmac } from "./hmac.ts";
import { pbkdf2 } from "./pbkdf2.ts";
import { saslprep } from "./saslprep.ts";
import type { ScramCredentials, ScramMechanism } from "./types.ts";

/**
 * The hash behind a SCRAM mechanism.
 *
 * @example
 * ```ts
 * import { scramHash } from "./_scram_common.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(scramHash("SCRAM-SHA-1"), "SHA-1");
 * ```
 */
export function scramHash(mechanism: ScramMechanism): HashName {
  return mechanism === "SCRAM-SHA-1" ? "SHA-1" : "SHA-256";
}

/** The keys derived from a salted password (RFC 5802 §3). */
export interface ScramKeys {
  readonly clientKey: Uint8Array;
  readonly storedKey: Uint8Array;
  readonly serverKey: Uint8Array;
}

/**
 * `SaltedPassword := Hi(Normalize(password), salt, i)` and the keys derived from it; the
 * password must already be SASLprep'ed.
 *
 * @example
 * ```ts
 * import { scramKeys } from "./_scram_common.ts";
 * import { assertEquals } from "@std/assert";
 * const keys = scramKeys("SCRAM-SHA-256", "pencil", new Uint8Array(16), 4096);
 * assertEquals(keys.storedKey.length, 32);
 * ```
 */
export function scramKeys(
  mechanism: ScramMechanism,
  preparedPassword: string,
  salt: Uint8Array,
  iterations: number,
): ScramKeys {
  const hash = scramHash(mechanism);
  const salted = pbkdf2(hash, encodeUtf8(preparedPassword), salt, iterations, digestLength(hash));
  const clientKey = hmac(hash, salted, encodeUtf8("Client Key"));
  return {
    clientKey,
    storedKey: digest(hash, clientKey),
    serverKey: hmac(hash, salted, encodeUtf8("Server Key")),
  };
}

/**
 * Escapes a username or authzid for `n=` and `a=` (`,` → `=2C`, `=` → `=3D`).
 *
 * @example
 * ```ts
 * import { escapeSaslname } from "./_scram_common.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(escapeSaslname("user"), "user");
 * ```
 */
export function escapeSaslname(name: string): string {
  return name.replaceAll("=", "=3D").replaceAll(",", "=2C");
}

/**
 * Reverses {@linkcode escapeSaslname}; `undefined` for an empty name, a NUL, or an `=` not
 * starting `=2C` or `=3D`.
 *
 * @example
 * ```ts
 * import { unescapeSaslname } from "./_scram_common.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(unescapeSaslname("=3D"), "=");
 * ```
 */
export function unescapeSaslname(escaped: string): string | undefined {
  if (escaped === "" || escaped.includes("\0")) return undefined;
  if (/=(?!2C|3D)/.test(escaped)) return undefined;
  return escaped.replace(/=2C|=3D/g, (m) => (m === "=2C" ? "," : "="));
}

/**
 * Whether `nonce` is a non-empty run of printable ASCII other than `,` (RFC 5802 §7).
 *
 * @example
 * ```ts
 * import { isNonce } from "./_scram_common.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(isNonce("fyko+d2lbbFgONRv9qkxdawL"), true);
 * assertEquals(isNonce("a,b"), false);
 * ```
 */
export function isNonce(nonce: string): boolean {
  return /^[\x21-\x2b\x2d-\x7e]+$/.test(nonce);
}

/** One `attr=value` of a SCRAM message. */
export interface ScramAttribute {
  readonly key: string;
  readonly value: string;
}

/**
 * Splits a SCRAM message into attributes; `undefined` when a part is not `ALPHA "=" value`.
 *
 * @example
 * ```ts
 * import { parseAttributes } from "./_scram_common.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(parseAttributes("r=abc,i=4096")?.map((a) => a.key), ["r", "i"]);
 * assertEquals(parseAttributes("r=abc,,i=1"), undefined);
 * ```
 */
export function parseAttributes(message: string): readonly ScramAttribute[] | undefined {
  const attributes: ScramAttribute[] = [];
  for (const part of message.split(",")) {
    if (!/^[A-Za-z]=/.test(part)) return undefined;
    attributes.push({ key: part[0]!, value: part.slice(2) });
  }
  return attributes;
}

/** The iteration count of the fake credentials given to unknown users. */
const FAKE_ITERATIONS = 4096;

/**
 * Stable fake credentials for a username with no account (or none for this mechanism),
 * derived from the server's secret so that challenges look alike for known and unknown
 * users. Their keys match no password.
 *
 * @example
 * ```ts
 * import { fakeCredentials } from "./_scram_common.ts";
 * import { assertEquals } from "@std/assert";
 * const a = fakeCredentials("SCRAM-SHA-256", "nobody", "s3cret");
 * assertEquals(a.salt === fakeCredentials("SCRAM-SHA-256", "nobody", "s3cret").salt, true);
 * ```
 */
export function fakeCredentials(
  mechanism: ScramMechanism,
  username: string,
  secret: string,
): ScramCredentials {
  const key = encodeUtf8(secret);
  const label = (what: string) =>
    encodeUtf8(`xmpp-websocket fake ${what}\0${mechanism}\0${username}`);
  const length = digestLength(scramHash(mechanism));
  return {
    salt: encodeBase64(hmac("SHA-256", key, label("salt")).subarray(0, 16)),
    iterations: FAKE_ITERATIONS,
    storedKey: encodeBase64(hmac("SHA-256", key, label("stored key")).subarray(0, length)),
    serverKey: encodeBase64(hmac("SHA-256", key, label("server key")).subarray(0, length)),
  };
}

/**
 * Whether an authzid may be used by `username` (already SASLprep'ed, `undefined` when it was
 * prohibited): it must prepare to the username itself, or to `username@domain`.
 *
 * @example
 * ```ts
 * import { authzidAllowed } from "./_scram_common.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(authzidAllowed("user@example.com", "user", "example.com"), true);
 * assertEquals(authzidAllowed("admin", "user", "example.com"), false);
 * ```
 */
export function authzidAllowed(
  authzid: string,
  username: string | undefined,
  domain?: string,
): boolean {
  const prepared = saslprep(authzid);
  if (prepared === undefined || username === undefined || username === "") return false;
  return prepared === username || (domain !== undefined && prepared === `${username}@${domain}`);
}
