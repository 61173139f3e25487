/**
 * PLAIN (RFC 4616): `[authzid] NUL authcid NUL passwd`. The server side verifies the password
 * against the account's SCRAM credentials (SCRAM-SHA-256 when stored, else SCRAM-SHA-1) by
 * deriving with the stored salt and iteration count, so no plaintext is ever stored. Offer
 * PLAIN only over an encrypted or loopback transport; `startSaslServer` refuses it with
 * `encryption-required` otherwise.
 *
 * The derivation (PBKDF2, thousands of HMAC rounds) can run elsewhere: {@linkcode plainServerBegin}
 * says what to derive, {@linkcode plainServerFinish} judges the derived key. An adapter can so
 * run it with the runtime's native, asynchronous PBKDF2 (WebCrypto `deriveBits`) instead of
 * blocking its event loop with the pure TypeScript one.
 *
 * @example
 * ```ts
 * import { plainClientMessage } from "@xmpp-websocket/xmpp-websocket/sasl";
 * import { assertEquals } from "@std/assert";
 * assertEquals(atob(plainClientMessage("juliet", "r0m30")), "\0juliet\0r0m30");
 * ```
 * @module
 */

import { encodeUtf8, timingSafeEqual } from "./_bytes.ts";
import { encodePayload } from "./_payload.ts";
import { authzidAllowed, fakeCredentials, scramHash } from "./_scram_common.ts";
import { digest, digestLength, type HashName } from "./hash.ts";
import { hmac } from "./hmac.ts";
import { pbkdf2 } from "./pbkdf2.ts";
import { decodeBase64 } from "./base64.ts";
import { SaslUsageError } from "./errors.ts";
import { saslprep } from "./saslprep.ts";
import type {
  SaslServerContext,
  SaslServerFailure,
  SaslServerResult,
  ScramMechanism,
} from "./types.ts";

/** A PBKDF2 derivation to run: `PBKDF2(hash, password, salt, iterations, length)`. */
export interface PlainDerivation {
  /** The hash function of the PBKDF2 PRF (HMAC over it). */
  readonly hash: HashName;
  /** The SASLprep'ed password, UTF-8 (never log it). */
  readonly password: Uint8Array<ArrayBuffer>;
  /** The account's salt. */
  readonly salt: Uint8Array<ArrayBuffer>;
  /** The account's iteration count. */
  readonly iterations: number;
  /** Bytes to derive. */
  readonly length: number;
}

/** What {@linkcode plainServerFinish} needs besides the derived key. */
export interface PlainPending {
  /** The SCRAM mechanism whose stored credentials decide the login. */
  readonly mechanism: ScramMechanism;
  /** The stored (or fake) `StoredKey` the derived key must lead to. */
  readonly storedKey: Uint8Array;
  /** The username as prepared (or as sent when SASLprep refused it), for rate limits and logs. */
  readonly username: string;
  /** The account's username when the account exists and the password was valid SASLprep. */
  readonly account: string | undefined;
}

/** The first half of a PLAIN verification: a failure, or a derivation to run. */
export type PlainBegin =
  | SaslServerFailure
  | {
    readonly type: "derive";
    readonly derivation: PlainDerivation;
    readonly pending: PlainPending;
  };

/**
 * Parses a PLAIN message (decoded text) and says which derivation decides it. An unknown user
 * costs the same derivation as a wrong password (fake credentials). Throws
 * {@linkcode SaslUsageError} only when the stored credentials are not valid base64.
 *
 * @example
 * ```ts
 * import { plainServerBegin } from "./plain.ts";
 * import { assertEquals } from "@std/assert";
 * const ctx = { lookup: () => undefined, nonce: "n", plainAllowed: true, anonymousAllowed: false };
 * const begun = plainServerBegin("\0romeo\0secret", ctx);
 * assertEquals(begun.type === "derive" && begun.derivation.iterations, 4096);
 * assertEquals(plainServerBegin("romeo", ctx), { type: "failure", condition: "malformed-request" });
 * ```
 */
export function plainServerBegin(message: string, ctx: SaslServerContext): PlainBegin {
  const parts = message.split("\0");
  if (parts.length !== 3) return { type: "failure", condition: "malformed-request" };
  const [authzid, authcid, password] = parts as [string, string, string];
  if (authcid === "" || password === "") return { type: "failure", condition: "malformed-request" };
  const username = saslprep(authcid);
  if (authzid !== "" && !authzidAllowed(authzid, username, ctx.domain)) {
    return { type: "failure", condition: "invalid-authzid" };
  }
  const account = username === undefined || username === "" ? undefined : ctx.lookup(username);
  const mechanism: ScramMechanism = account?.scram["SCRAM-SHA-256"]
    ? "SCRAM-SHA-256"
    : "SCRAM-SHA-1";
  const stored = account?.scram[mechanism];
  const credentials = stored ?? fakeCredentials(mechanism, username ?? authcid, ctx.secret ?? "");
  const salt = decodeBase64(credentials.salt);
  const storedKey = decodeBase64(credentials.storedKey);
  if (salt === undefined || storedKey === undefined) {
    throw new SaslUsageError("verify PLAIN", "the stored credentials are not valid base64");
  }
  const prepared = saslprep(password);
  const hash = scramHash(mechanism);
  return {
    type: "derive",
    // A prohibited password still costs one derivation, then fails.
    derivation: {
      hash,
      password: encodeUtf8(prepared ?? password) as Uint8Array<ArrayBuffer>,
      salt: salt as Uint8Array<ArrayBuffer>,
      iterations: credentials.iterations,
      length: digestLength(hash),
    },
    pending: {
      mechanism,
      storedKey,
      username: username || authcid,
      account: stored !== undefined && prepared !== undefined ? account?.username : undefined,
    },
  };
}

/**
 * The second half: whether the derived key (`SaltedPassword`) matches, compared in constant
 * time. A key of the wrong length fails.
 *
 * @example
 * ```ts
 * import { plainServerBegin, plainServerFinish } from "./plain.ts";
 * import { createStoredAccount, pbkdf2 } from "@xmpp-websocket/xmpp-websocket/sasl";
 * import { assertEquals } from "@std/assert";
 * const account = createStoredAccount("juliet", "r0m30", new Uint8Array(16).fill(1));
 * const ctx = { lookup: () => account, nonce: "n", plainAllowed: true, anonymousAllowed: false };
 * const begun = plainServerBegin("\0juliet\0r0m30", ctx);
 * if (begun.type === "derive") {
 *   const { hash, password, salt, iterations, length } = begun.derivation;
 *   assertEquals(plainServerFinish(begun.pending, pbkdf2(hash, password, salt, iterations, length)), { type: "success", data: "", username: "juliet" });
 * }
 * ```
 */
export function plainServerFinish(pending: PlainPending, salted: Uint8Array): SaslServerResult {
  const hash = scramHash(pending.mechanism);
  const clientKey = hmac(hash, salted, encodeUtf8("Client Key"));
  const match = salted.length === digestLength(hash) &&
    timingSafeEqual(digest(hash, clientKey), pending.storedKey);
  return match && pending.account !== undefined
    ? { type: "success", data: "", username: pending.account }
    : { type: "failure", condition: "not-authorized" };
}

/**
 * Verifies a PLAIN message (decoded text). An unknown user costs the same PBKDF2 work as a
 * wrong password and gets the same `not-authorized`. Throws {@linkcode SaslUsageError} only
 * when the stored credentials are not valid base64.
 *
 * @example
 * ```ts
 * import { plainServerVerify } from "./plain.ts";
 * import { createStoredAccount } from "@xmpp-websocket/xmpp-websocket/sasl";
 * import { assertEquals } from "@std/assert";
 * const account = createStoredAccount("juliet", "r0m30", new Uint8Array(16).fill(1));
 * const ctx = {
 *   lookup: (name: string) => (name === "juliet" ? account : undefined),
 *   nonce: "unused-for-plain-000", plainAllowed: true, anonymousAllowed: false,
 * };
 * assertEquals(plainServerVerify("\0juliet\0r0m30", ctx), { type: "success", data: "", username: "juliet" });
 * assertEquals(plainServerVerify("\0juliet\0wrong", ctx).type, "failure");
 * ```
 */
export function plainServerVerify(message: string, ctx: SaslServerContext): SaslServerResult {
  const begun = plainServerBegin(message, ctx);
  if (begun.type === "failure") return begun;
  const { hash, password, salt, iterations, length } = begun.derivation;
  return plainServerFinish(begun.pending, pbkdf2(hash, password, salt, iterations, length));
}

/**
 * Builds the PLAIN initial response (base64). Username and password are SASLprep'ed; throws
 * {@linkcode SaslUsageError} when either is empty or prohibited, or the authzid contains NUL.
 *
 * @example
 * ```ts
 * import { plainClientMessage } from "@xmpp-websocket/xmpp-websocket/sasl";
 * import { assertEquals } from "@std/assert";
 * assertEquals(plainClientMessage("user", "pencil", "user@example.com"), "dXNlckBleGFtcGxlLmNvbQB1c2VyAHBlbmNpbA==");
 * ```
 */
export function plainClientMessage(username: string, password: string, authzid = ""): string {
  const user = saslprep(username);
  const pass = saslprep(password);
  if (user === undefined || user === "" || pass === undefined || pass === "") {
    throw new SaslUsageError(
      "build a PLAIN message",
      "the username or password is empty or prohibited",
    );
  }
  if (authzid.includes("\0")) {
    throw new SaslUsageError("build a PLAIN message", "the authzid contains NUL");
  }
  return encodePayload(`${authzid}\0${user}\0${pass}`);
}
