/**
 * Pure, synchronous SASL for XMPP (RFC 6120 §6): SCRAM-SHA-256 and SCRAM-SHA-1 (RFC 5802,
 * RFC 7677, without channel binding), PLAIN (RFC 4616) and ANONYMOUS (RFC 4505), for the
 * server and the client, over pure TypeScript SHA-1, SHA-256, HMAC and PBKDF2. Randomness
 * (nonces, salts) comes in as arguments; peer input never throws.
 *
 * @example
 * ```ts
 * import {
 *   continueSaslServer,
 *   createStoredAccount,
 *   scramClientContinue,
 *   scramClientFinish,
 *   scramClientStart,
 *   startSaslServer,
 * } from "@xmpp-websocket/xmpp-websocket/sasl";
 * import { assertEquals } from "@std/assert";
 * const account = createStoredAccount("juliet", "r0m30", new Uint8Array(16).fill(9));
 * const ctx = {
 *   lookup: (name: string) => (name === "juliet" ? account : undefined),
 *   nonce: "server-nonce-0123456789", plainAllowed: false, anonymousAllowed: false,
 * };
 * const client = scramClientStart("SCRAM-SHA-256", "juliet", "r0m30", "client-nonce-abc");
 * const challenge = startSaslServer("SCRAM-SHA-256", client.data, ctx);
 * if (challenge.type !== "challenge") throw new Error("unexpected");
 * const response = scramClientContinue(client.state, challenge.data);
 * if (response.type !== "response") throw new Error("unexpected");
 * const success = continueSaslServer(challenge.state, response.data, ctx);
 * if (success.type !== "success") throw new Error("unexpected");
 * assertEquals(success.username, "juliet");
 * assertEquals(scramClientFinish(response.state, success.data).type, "verified");
 * ```
 * @module
 */
export type {
  SaslClientFailure,
  SaslClientFailureReason,
  SaslFailureCondition,
  SaslMechanismName,
  SaslServerContext,
  SaslServerFailure,
  SaslServerResult,
  SaslServerState,
  ScramCredentials,
  ScramMechanism,
  StoredAccount,
} from "./types.ts";
export { SaslUsageError } from "./errors.ts";
export { decodeBase64, encodeBase64 } from "./base64.ts";
export { pbkdf2 } from "./pbkdf2.ts";
export type { HashName } from "./hash.ts";
export {
  saslprep,
  type SaslprepOptions,
  type SaslprepRefusal,
  type SaslprepResult,
  saslprepResult,
} from "./saslprep.ts";
export { createStoredAccount, deriveScramCredentials } from "./scram.ts";
export {
  SCRAM_MAX_ITERATIONS,
  SCRAM_MIN_ITERATIONS,
  scramClientContinue,
  type ScramClientFinalState,
  scramClientFinish,
  type ScramClientFirstState,
  type ScramClientOptions,
  type ScramClientResponse,
  type ScramClientStart,
  scramClientStart,
  type ScramClientVerified,
} from "./scram_client.ts";
export {
  type PlainBegin,
  plainClientMessage,
  type PlainDerivation,
  type PlainPending,
  plainServerFinish,
} from "./plain.ts";
export { anonymousClientMessage } from "./anonymous.ts";
export {
  beginPlainServer,
  continueSaslServer,
  listSaslMechanisms,
  startSaslServer,
} from "./server.ts";
