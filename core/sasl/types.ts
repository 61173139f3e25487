/**
 * The contract of the SASL layer (RFC 4422 over RFC 6120 §6): pure, synchronous mechanisms
 * for the server and the client. Randomness (nonces, salts) always comes in as arguments.
 * Payloads are base64 strings as carried in `<auth/>`, `<challenge/>`, `<response/>` and
 * `<success/>` (`""` for none; `"="` on the wire means empty data, RFC 6120 §6.4.2).
 *
 * @example
 * ```ts
 * import type { SaslServerResult } from "./types.ts";
 * const result: SaslServerResult = { type: "failure", condition: "not-authorized" };
 * console.log(result.type); // "failure"
 * ```
 * @module
 */

/** Mechanisms implemented here. */
export type SaslMechanismName = "SCRAM-SHA-256" | "SCRAM-SHA-1" | "PLAIN" | "ANONYMOUS";

/** SCRAM credentials as kept at rest (RFC 5802 §3): never the password itself. */
export interface ScramCredentials {
  /** Base64 salt. */
  readonly salt: string;
  readonly iterations: number;
  /** Base64 H(ClientKey). */
  readonly storedKey: string;
  /** Base64 HMAC(SaltedPassword, "Server Key"). */
  readonly serverKey: string;
}

/** What a server knows about one account. */
export interface StoredAccount {
  readonly username: string;
  readonly scram: {
    readonly "SCRAM-SHA-1"?: ScramCredentials;
    readonly "SCRAM-SHA-256"?: ScramCredentials;
  };
}

/** SASL failure conditions of RFC 6120 §6.5. */
export type SaslFailureCondition =
  | "aborted"
  | "account-disabled"
  | "credentials-expired"
  | "encryption-required"
  | "incorrect-encoding"
  | "invalid-authzid"
  | "invalid-mechanism"
  | "malformed-request"
  | "mechanism-too-weak"
  | "not-authorized"
  | "temporary-auth-failure";

/** What the server side needs from its environment for one exchange. */
export interface SaslServerContext {
  /** Looks an account up by (SASLprep'ed) username. */
  readonly lookup: (username: string) => StoredAccount | undefined;
  /** A fresh random nonce (at least 18 printable characters, no comma). */
  readonly nonce: string;
  /** Whether PLAIN may be used on this connection (wss or loopback). */
  readonly plainAllowed: boolean;
  /** Whether ANONYMOUS is offered. */
  readonly anonymousAllowed: boolean;
}

/** Opaque state between steps of a server exchange. */
export interface SaslServerState {
  readonly mechanism: SaslMechanismName;
  readonly data: Readonly<Record<string, string>>;
}

/** One server step. */
export type SaslServerResult =
  | { readonly type: "challenge"; readonly data: string; readonly state: SaslServerState }
  /** `data`: additional data with success (SCRAM server-final), base64. */
  | { readonly type: "success"; readonly data: string; readonly username: string | undefined }
  | { readonly type: "failure"; readonly condition: SaslFailureCondition; readonly text?: string };
