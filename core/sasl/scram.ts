/**
 * SCRAM credentials at rest (RFC 5802 §3, RFC 7677): what a server stores instead of a
 * password. The salt is an argument, since the core never draws random numbers.
 *
 * @example
 * ```ts
 * import { decodeBase64, deriveScramCredentials } from "@xmpp-websocket/xmpp-websocket/sasl";
 * import { assertEquals } from "@std/assert";
 * const credentials = deriveScramCredentials(
 *   "SCRAM-SHA-1", "pencil", decodeBase64("QSXCR+Q6sek8bf92")!, 4096,
 * );
 * assertEquals(credentials.storedKey, "6dlGYMOdZcOPutkcNY8U2g7vK9Y=");
 * ```
 * @module
 */

import { encodeBase64 } from "./base64.ts";
import { SaslUsageError } from "./errors.ts";
import { saslprep } from "./saslprep.ts";
import { scramKeys } from "./_scram_common.ts";
import type { ScramCredentials, ScramMechanism, StoredAccount } from "./types.ts";

/**
 * Derives the stored credentials for one mechanism. The password is SASLprep'ed first.
 * Throws {@linkcode SaslUsageError} when the password is prohibited or empty, or the salt is
 * empty, and `RangeError` for an iteration count below 1. (Clients refuse fewer than 4096.)
 *
 * @example
 * ```ts
 * import { deriveScramCredentials } from "@xmpp-websocket/xmpp-websocket/sasl";
 * import { assertEquals } from "@std/assert";
 * const salt = new TextEncoder().encode("a fresh random salt");
 * const credentials = deriveScramCredentials("SCRAM-SHA-256", "pencil", salt, 4096);
 * assertEquals(credentials.iterations, 4096);
 * ```
 */
export function deriveScramCredentials(
  mechanism: ScramMechanism,
  password: string,
  salt: Uint8Array,
  iterations: number,
): ScramCredentials {
  // A password being stored is a stored string (RFC 4013 §2.5 / RFC 3454 §7): unassigned
  // code points are refused.
  const prepared = saslprep(password, { stored: true });
  if (prepared === undefined || prepared === "") {
    throw new SaslUsageError(
      "derive SCRAM credentials",
      "the password is empty or prohibited by SASLprep",
    );
  }
  if (salt.length === 0) throw new SaslUsageError("derive SCRAM credentials", "the salt is empty");
  const keys = scramKeys(mechanism, prepared, salt, iterations);
  return {
    salt: encodeBase64(salt),
    iterations,
    storedKey: encodeBase64(keys.storedKey),
    serverKey: encodeBase64(keys.serverKey),
  };
}

/**
 * Builds an account with credentials for both SCRAM mechanisms (the same salt serves both).
 * The username is SASLprep'ed, as lookups receive it.
 *
 * @example
 * ```ts
 * import { createStoredAccount } from "@xmpp-websocket/xmpp-websocket/sasl";
 * import { assertEquals } from "@std/assert";
 * const account = createStoredAccount("juliet", "r0m30", new Uint8Array(16).fill(7));
 * assertEquals(Object.keys(account.scram), ["SCRAM-SHA-1", "SCRAM-SHA-256"]);
 * ```
 */
export function createStoredAccount(
  username: string,
  password: string,
  salt: Uint8Array,
  iterations = 4096,
): StoredAccount {
  const prepared = saslprep(username, { stored: true });
  if (prepared === undefined || prepared === "") {
    throw new SaslUsageError(
      "create an account",
      "the username is empty or prohibited by SASLprep",
    );
  }
  return {
    username: prepared,
    scram: {
      "SCRAM-SHA-1": deriveScramCredentials("SCRAM-SHA-1", password, salt, iterations),
      "SCRAM-SHA-256": deriveScramCredentials("SCRAM-SHA-256", password, salt, iterations),
    },
  };
}
