/**
 * The contract of the SASL layer (RFC 4422 over RFC 6120 §6): pure, synchronous mechanisms
 * for the server and the client. Randomness (nonces, salts) always comes in as arguments.
 * Payloads are base64 strings as carried in `<auth/>`, `<challenge/>`, `<response/>` and
 * `<success/>` (`""` for none; `"="` on the wire means empty data, RFC 6120 §6.4.2).
 *
 * @example
 * ```ts
 * import type { SaslServerResult } from "@xmpp-websocket/xmpp-websocket/sasl";
 * import { assertEquals } from "@std/assert";
 * const result: SaslServerResult = { type: "failure", condition: "not-authorized" };
 * assertEquals(result.type, "failure");
 * ```
 * @module
 */

/** Mechanisms implemented here. */
export type SaslMechanismName = "SCRAM-SHA-256" | "SCRAM-SHA-1" | "PLAIN" | "ANONYMOUS";

/** The SCRAM mechanisms implemented here (RFC 5802, RFC 7677); no -PLUS variants. */
export type ScramMechanism = "SCRAM-SHA-256" | "SCRAM-SHA-1";

/** SCRAM credentials as kept at rest (RFC 5802 §3): never the password itself. */
export interface ScramCredentials {
  /** Base64 salt. */
  readonly salt: string;
  /** The PBKDF2 iteration count (clients refuse fewer than 4096). */
  readonly iterations: number;
  /** Base64 H(ClientKey). */
  readonly storedKey: string;
  /** Base64 HMAC(SaltedPassword, "Server Key"). */
  readonly serverKey: string;
}

/** What a server knows about one account. */
export interface StoredAccount {
  /** The SASLprep'ed username, as `lookup` receives it and success reports it. */
  readonly username: string;
  /** SCRAM credentials per hash; PLAIN verifies against SCRAM-SHA-256, else SCRAM-SHA-1. */
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
  /**
   * A server-wide secret from which fake SCRAM salts and keys are derived for unknown users,
   * so that a challenge does not reveal whether an account exists. Without it (or with `""`)
   * the fake salt of a username is predictable, and an attacker who knows this code can tell
   * unknown users apart; the final answer is `not-authorized` either way.
   */
  readonly secret?: string;
  /**
   * The server's domain: when set, an authzid equal to the bare JID `username@domain` is
   * accepted as well as one equal to the username. Any other authzid is `invalid-authzid`.
   */
  readonly domain?: string;
}

/** Opaque state between steps of a server exchange. */
export interface SaslServerState {
  /** The mechanism being negotiated. */
  readonly mechanism: SaslMechanismName;
  /** Mechanism-specific fields; `step` says what comes next. */
  readonly data: Readonly<Record<string, string>>;
}

/** One server step. */
export type SaslServerResult =
  | { readonly type: "challenge"; readonly data: string; readonly state: SaslServerState }
  /** `data`: additional data with success (SCRAM server-final), base64. */
  | { readonly type: "success"; readonly data: string; readonly username: string | undefined }
  | { readonly type: "failure"; readonly condition: SaslFailureCondition; readonly text?: string };

/** A failure in one step of a server exchange. */
export type SaslServerFailure = Extract<SaslServerResult, { readonly type: "failure" }>;

/** Why the client side gave up on a server's message (it should then send `<abort/>`). */
export type SaslClientFailureReason =
  /** The payload is not strict base64, or not UTF-8. */
  | "incorrect-encoding"
  /** The server's message does not follow the mechanism's grammar. */
  | "malformed-challenge"
  /** The server's nonce does not extend the client's. */
  | "nonce-mismatch"
  /** The iteration count is below the minimum (4096, RFC 7677) or above the client's limit. */
  | "iterations-out-of-range"
  /** The server sent `e=` (its text is the server's error value). */
  | "server-error"
  /** The server's signature is wrong: it does not know the password, or the exchange was tampered with. */
  | "server-signature-mismatch";

/** The client side refused a server message. */
export interface SaslClientFailure {
  /** Discriminant. */
  readonly type: "failure";
  /** What was wrong. */
  readonly reason: SaslClientFailureReason;
  /** A human-readable detail for logs. */
  readonly text: string;
}
