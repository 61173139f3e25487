/**
 * PLAIN (RFC 4616): `[authzid] NUL authcid NUL passwd`. The server side verifies the password
 * against the account's SCRAM credentials (SCRAM-SHA-256 when stored, else SCRAM-SHA-1) by
 * deriving with the stored salt and iteration count, so no plaintext is ever stored. Offer
 * PLAIN only over an encrypted or loopback transport; `startSaslServer` refuses it with
 * `encryption-required` otherwise.
 *
 * @example
 * ```ts
 * import { plainClientMessage } from "./plain.ts";
 * console.log(atob(plainClientMessage("juliet", "r0m30"))); // "\0juliet\0r0m30"
 * ```
 * @module
 */

import { timingSafeEqual } from "./_bytes.ts";
import { encodePayload } from "./_payload.ts";
import { authzidAllowed, fakeCredentials, scramKeys } from "./_scram_common.ts";
import { decodeBase64 } from "./base64.ts";
import { SaslUsageError } from "./errors.ts";
import { saslprep } from "./saslprep.ts";
import type { SaslServerContext, SaslServerResult, ScramMechanism } from "./types.ts";

/**
 * Verifies a PLAIN message (decoded text). An unknown user costs the same PBKDF2 work as a
 * wrong password and gets the same `not-authorized`. Throws {@linkcode SaslUsageError} only
 * when the stored credentials are not valid base64.
 *
 * @example
 * ```ts
 * import { plainServerVerify } from "./plain.ts";
 * import { createStoredAccount } from "./scram.ts";
 * const account = createStoredAccount("juliet", "r0m30", new Uint8Array(16).fill(1));
 * const ctx = {
 *   lookup: (name: string) => (name === "juliet" ? account : undefined),
 *   nonce: "unused-for-plain-000", plainAllowed: true, anonymousAllowed: false,
 * };
 * console.log(plainServerVerify("\0juliet\0r0m30", ctx)); // { type: "success", data: "", username: "juliet" }
 * console.log(plainServerVerify("\0juliet\0wrong", ctx).type); // "failure"
 * ```
 */
export function plainServerVerify(message: string, ctx: SaslServerContext): SaslServerResult {
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
  // A prohibited password still costs one derivation, then fails.
  const keys = scramKeys(mechanism, prepared ?? password, salt, credentials.iterations);
  const match = timingSafeEqual(keys.storedKey, storedKey);
  return match && stored !== undefined && prepared !== undefined
    ? { type: "success", data: "", username: account?.username }
    : { type: "failure", condition: "not-authorized" };
}

/**
 * Builds the PLAIN initial response (base64). Username and password are SASLprep'ed; throws
 * {@linkcode SaslUsageError} when either is empty or prohibited, or the authzid contains NUL.
 *
 * @example
 * ```ts
 * import { plainClientMessage } from "./plain.ts";
 * console.log(plainClientMessage("user", "pencil", "user@example.com"));
 * // "dXNlckBleGFtcGxlLmNvbQB1c2VyAHBlbmNpbA=="
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
