/**
 * The client side of SCRAM (RFC 5802, RFC 7677) without channel binding, as three pure steps:
 * {@linkcode scramClientStart} (client-first, for `<auth/>`), {@linkcode scramClientContinue}
 * (server-first challenge → client-final, for `<response/>`) and {@linkcode scramClientFinish}
 * (server-final from `<success/>` → verified or not). A server that proposes fewer than 4096
 * iterations (RFC 7677 §4), a nonce that does not extend the client's, or a wrong signature
 * is refused with a {@linkcode SaslClientFailure}; the caller should then send `<abort/>` or
 * drop the stream.
 *
 * @example
 * ```ts
 * import { scramClientContinue, scramClientStart } from "@xmpp-websocket/xmpp-websocket/sasl";
 * import { assertEquals } from "@std/assert";
 * const { data, state } = scramClientStart("SCRAM-SHA-1", "user", "pencil", "fyko+d2lbbFgONRv9qkxdawL");
 * assertEquals(atob(data), "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
 * const next = scramClientContinue(state, btoa("r=someone-else,s=QSXCR+Q6sek8bf92,i=4096"));
 * assertEquals(next.type === "failure" && next.reason, "nonce-mismatch");
 * ```
 * @module
 */

import { encodeUtf8, timingSafeEqual, xorBytes } from "./_bytes.ts";
import { decodePayload, encodePayload } from "./_payload.ts";
import { escapeSaslname, isNonce, parseAttributes, scramHash, scramKeys } from "./_scram_common.ts";
import { decodeBase64, encodeBase64 } from "./base64.ts";
import { SaslUsageError } from "./errors.ts";
import { hmac } from "./hmac.ts";
import { saslprep } from "./saslprep.ts";
import type { SaslClientFailure, SaslClientFailureReason, ScramMechanism } from "./types.ts";

/** The RFC 7677 §4 minimum iteration count a client accepts by default. */
export const SCRAM_MIN_ITERATIONS = 4096;

/** The largest iteration count a client accepts by default (a bound on a hostile server). */
export const SCRAM_MAX_ITERATIONS = 1_000_000;

/** Client state after client-first, waiting for server-first. */
export interface ScramClientFirstState {
  /** What the client waits for. */
  readonly step: "server-first";
  /** The mechanism in use. */
  readonly mechanism: ScramMechanism;
  /** The gs2 header sent (`n,,`), echoed in `c=`. */
  readonly gs2Header: string;
  /** The client's nonce, which the server's must extend. */
  readonly clientNonce: string;
  /** client-first-message-bare, the start of the AuthMessage. */
  readonly clientFirstBare: string;
  /** The SASLprep'ed password, needed once more to answer server-first. */
  readonly password: string;
}

/** Client state after client-final, waiting for server-final. */
export interface ScramClientFinalState {
  /** What the client waits for. */
  readonly step: "server-final";
  /** The mechanism in use. */
  readonly mechanism: ScramMechanism;
  /** The expected server signature, base64. */
  readonly serverSignature: string;
}

/** Limits on the server's iteration count. */
export interface ScramClientOptions {
  /** Default {@linkcode SCRAM_MIN_ITERATIONS}. */
  readonly minIterations?: number;
  /** Default {@linkcode SCRAM_MAX_ITERATIONS}. */
  readonly maxIterations?: number;
}

/** The first client message and the state to continue from. */
export interface ScramClientStart {
  /** client-first-message, base64, for `<auth mechanism='SCRAM-…'>`. */
  readonly data: string;
  /** The state for {@linkcode scramClientContinue}. */
  readonly state: ScramClientFirstState;
}

/** The answer to server-first. */
export interface ScramClientResponse {
  /** Discriminant. */
  readonly type: "response";
  /** client-final-message, base64, for `<response/>`. */
  readonly data: string;
  /** The state for {@linkcode scramClientFinish}. */
  readonly state: ScramClientFinalState;
}

/** The server proved it knows the credentials. */
export interface ScramClientVerified {
  /** Discriminant. */
  readonly type: "verified";
}

function fail(reason: SaslClientFailureReason, text: string): SaslClientFailure {
  return { type: "failure", reason, text };
}

/**
 * Builds client-first (gs2 header `n,,`: no channel binding, no authzid). The username and
 * password are SASLprep'ed; throws {@linkcode SaslUsageError} when either is empty or
 * prohibited, or the nonce is not printable ASCII without a comma.
 *
 * @example
 * ```ts
 * import { scramClientStart } from "@xmpp-websocket/xmpp-websocket/sasl";
 * import { assertEquals } from "@std/assert";
 * const { state } = scramClientStart("SCRAM-SHA-256", "a,b", "pw", "rOprNGfwEbeRWgbNEkqO");
 * assertEquals(state.clientFirstBare, "n=a=2Cb,r=rOprNGfwEbeRWgbNEkqO");
 * ```
 */
export function scramClientStart(
  mechanism: ScramMechanism,
  username: string,
  password: string,
  clientNonce: string,
): ScramClientStart {
  const user = saslprep(username);
  const pass = saslprep(password);
  if (user === undefined || user === "") {
    throw new SaslUsageError("start SCRAM", "the username is empty or prohibited by SASLprep");
  }
  if (pass === undefined || pass === "") {
    throw new SaslUsageError("start SCRAM", "the password is empty or prohibited by SASLprep");
  }
  if (!isNonce(clientNonce)) {
    throw new SaslUsageError("start SCRAM", "the nonce must be printable ASCII without a comma");
  }
  const gs2Header = "n,,";
  const clientFirstBare = `n=${escapeSaslname(user)},r=${clientNonce}`;
  return {
    data: encodePayload(gs2Header + clientFirstBare),
    state: {
      step: "server-first",
      mechanism,
      gs2Header,
      clientNonce,
      clientFirstBare,
      password: pass,
    },
  };
}

/**
 * Answers server-first (the `<challenge/>` payload, base64) with client-final.
 *
 * @example
 * ```ts
 * import { scramClientContinue, scramClientStart } from "@xmpp-websocket/xmpp-websocket/sasl";
 * import { assertEquals } from "@std/assert";
 * const { state } = scramClientStart("SCRAM-SHA-1", "user", "pencil", "fyko+d2lbbFgONRv9qkxdawL");
 * const next = scramClientContinue(
 *   state, btoa("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"),
 * );
 * assertEquals(next.type === "response" && atob(next.data).endsWith("p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="), true);
 * ```
 */
export function scramClientContinue(
  state: ScramClientFirstState,
  challenge: string,
  options: ScramClientOptions = {},
): ScramClientResponse | SaslClientFailure {
  const payload = decodePayload(challenge);
  if (!payload.ok) {
    return fail("incorrect-encoding", `server-first is not valid ${payload.problem}`);
  }
  const serverFirst = payload.text;
  const attributes = parseAttributes(serverFirst);
  if (attributes === undefined) return fail("malformed-challenge", "invalid server-first-message");
  const [nonce, salt, count] = attributes;
  if (nonce?.key === "m") return fail("malformed-challenge", "unsupported mandatory extension");
  if (nonce?.key !== "r" || salt?.key !== "s" || count?.key !== "i") {
    return fail("malformed-challenge", "server-first-message needs r=, s= then i=");
  }
  if (!isNonce(nonce.value)) return fail("malformed-challenge", "invalid nonce");
  if (!nonce.value.startsWith(state.clientNonce) || nonce.value === state.clientNonce) {
    return fail("nonce-mismatch", "the server nonce does not extend the client nonce");
  }
  const saltBytes = decodeBase64(salt.value);
  if (saltBytes === undefined) return fail("incorrect-encoding", "the salt is not valid base64");
  if (saltBytes.length === 0) return fail("malformed-challenge", "the salt is empty");
  if (!/^[1-9][0-9]{0,15}$/.test(count.value)) {
    return fail("malformed-challenge", "the iteration count is not a positive integer");
  }
  const iterations = Number(count.value);
  const min = options.minIterations ?? SCRAM_MIN_ITERATIONS;
  const max = options.maxIterations ?? SCRAM_MAX_ITERATIONS;
  if (iterations < min || iterations > max) {
    return fail("iterations-out-of-range", `${iterations} iterations is outside ${min}..${max}`);
  }

  const hash = scramHash(state.mechanism);
  const keys = scramKeys(state.mechanism, state.password, saltBytes, iterations);
  const withoutProof = `c=${encodeBase64(encodeUtf8(state.gs2Header))},r=${nonce.value}`;
  const authMessage = encodeUtf8(`${state.clientFirstBare},${serverFirst},${withoutProof}`);
  const proof = xorBytes(keys.clientKey, hmac(hash, keys.storedKey, authMessage));
  const serverSignature = hmac(hash, keys.serverKey, authMessage);
  return {
    type: "response",
    data: encodePayload(`${withoutProof},p=${encodeBase64(proof)}`),
    state: {
      step: "server-final",
      mechanism: state.mechanism,
      serverSignature: encodeBase64(serverSignature),
    },
  };
}

/**
 * Checks server-final (the `<success/>` additional data, base64). Servers that send it as a
 * last `<challenge/>` instead are handled the same way: pass that payload here and answer
 * with an empty `<response/>`.
 *
 * @example
 * ```ts
 * import { scramClientFinish } from "@xmpp-websocket/xmpp-websocket/sasl";
 * import { assertEquals } from "@std/assert";
 * const state = { step: "server-final" as const, mechanism: "SCRAM-SHA-1" as const,
 *   serverSignature: "rmF9pqV8S7suAoZWja4dJRkFsKQ=" };
 * assertEquals(scramClientFinish(state, btoa("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=")).type, "verified");
 * assertEquals(scramClientFinish(state, btoa("e=invalid-proof")).type, "failure");
 * ```
 */
export function scramClientFinish(
  state: ScramClientFinalState,
  serverFinal: string,
): ScramClientVerified | SaslClientFailure {
  const payload = decodePayload(serverFinal);
  if (!payload.ok) {
    return fail("incorrect-encoding", `server-final is not valid ${payload.problem}`);
  }
  const attributes = parseAttributes(payload.text);
  const first = attributes?.[0];
  if (first?.key === "e") return fail("server-error", first.value);
  if (first?.key !== "v") return fail("malformed-challenge", "server-final-message needs v=");
  const signature = decodeBase64(first.value);
  if (signature === undefined) return fail("incorrect-encoding", "v= is not valid base64");
  const expected = decodeBase64(state.serverSignature) ?? new Uint8Array();
  if (!timingSafeEqual(signature, expected)) {
    return fail("server-signature-mismatch", "the server signature is wrong");
  }
  return { type: "verified" };
}
