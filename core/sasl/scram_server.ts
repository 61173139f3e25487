/**
 * The server side of SCRAM (RFC 5802 §5, RFC 7677) without channel binding: client-first →
 * server-first challenge → client-final → success carrying server-final (`v=`). Every problem
 * with the client's messages is a `<failure/>` condition, never a throw:
 *
 * | problem                                                     | condition           |
 * | ----------------------------------------------------------- | ------------------- |
 * | gs2 flag `p=` (channel binding; no -PLUS is offered)        | `malformed-request` |
 * | unknown gs2 flag, missing/misordered attributes, bad syntax | `malformed-request` |
 * | `m=` mandatory extension                                    | `malformed-request` |
 * | `a=` authzid other than the username (or `username@domain`) | `invalid-authzid`   |
 * | `c=` or `p=` not strict base64                              | `incorrect-encoding`|
 * | `c=` not the gs2 header, or `r=` not the combined nonce     | `not-authorized`    |
 * | wrong proof, unknown user, or no credentials for the hash   | `not-authorized`    |
 *
 * An unknown user gets a challenge like any other (salt and keys derived from the context's
 * secret), so only the final step fails, exactly as for a wrong password.
 *
 * @example
 * ```ts
 * import { scramServerFinish, scramServerStart } from "./scram_server.ts";
 * import { assertEquals } from "@std/assert";
 * const ctx = {
 *   lookup: () => undefined, nonce: "3rfcNHYJY1ZVvWVs7j", plainAllowed: false, anonymousAllowed: false,
 * };
 * const first = scramServerStart("SCRAM-SHA-1", "n,,n=nobody,r=fyko+d2lbbFgONRv9qkxdawL", ctx);
 * assertEquals(first.type, "challenge");
 * if (first.type === "challenge") {
 *   const final = scramServerFinish(
 *     first.state,
 *     "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
 *   );
 *   assertEquals(final.type, "failure");
 * }
 * ```
 * @module
 */

import { encodeUtf8, timingSafeEqual, xorBytes } from "./_bytes.ts";
import { encodePayload } from "./_payload.ts";
import {
  authzidAllowed,
  fakeCredentials,
  isNonce,
  parseAttributes,
  scramHash,
  unescapeSaslname,
} from "./_scram_common.ts";
import { decodeBase64, encodeBase64 } from "./base64.ts";
import { SaslUsageError } from "./errors.ts";
import { digest, digestLength } from "./hash.ts";
import { hmac } from "./hmac.ts";
import { saslprep } from "./saslprep.ts";
import type {
  SaslFailureCondition,
  SaslServerContext,
  SaslServerResult,
  SaslServerState,
  ScramMechanism,
} from "./types.ts";

function fail(condition: SaslFailureCondition, text?: string): SaslServerResult {
  return text === undefined ? { type: "failure", condition } : { type: "failure", condition, text };
}

/**
 * Handles client-first (decoded text) and answers with server-first as a challenge. Throws
 * {@linkcode SaslUsageError} only when the context's nonce is unusable (shorter than 18
 * characters, or containing a comma or non-printable character).
 *
 * @example
 * ```ts
 * import { scramServerStart } from "./scram_server.ts";
 * import { assertEquals } from "@std/assert";
 * const ctx = {
 *   lookup: () => undefined, nonce: "3rfcNHYJY1ZVvWVs7j", plainAllowed: false, anonymousAllowed: false,
 * };
 * const result = scramServerStart("SCRAM-SHA-256", "p=tls-unique,,n=user,r=abc", ctx);
 * assertEquals(result.type === "failure" && result.condition, "malformed-request");
 * ```
 */
export function scramServerStart(
  mechanism: ScramMechanism,
  clientFirst: string,
  ctx: SaslServerContext,
): SaslServerResult {
  if (ctx.nonce.length < 18 || !isNonce(ctx.nonce)) {
    throw new SaslUsageError(
      "start SCRAM",
      "the server nonce must be at least 18 printable ASCII characters without a comma",
    );
  }
  if (clientFirst.startsWith("p=")) {
    return fail(
      "malformed-request",
      "channel binding is not supported: no -PLUS mechanism is offered",
    );
  }
  if (!/^[ny],/.test(clientFirst)) {
    return fail("malformed-request", "unknown gs2 channel-binding flag");
  }
  const headerEnd = clientFirst.indexOf(",", 2);
  if (headerEnd < 0) return fail("malformed-request", "incomplete gs2 header");
  const authzidPart = clientFirst.slice(2, headerEnd);
  let authzid: string | undefined;
  if (authzidPart !== "") {
    authzid = authzidPart.startsWith("a=") ? unescapeSaslname(authzidPart.slice(2)) : undefined;
    if (authzid === undefined) return fail("malformed-request", "invalid authzid in gs2 header");
  }
  const gs2Header = clientFirst.slice(0, headerEnd + 1);
  const bare = clientFirst.slice(headerEnd + 1);
  const attributes = parseAttributes(bare);
  if (attributes === undefined) return fail("malformed-request", "invalid client-first-message");
  const [user, nonce] = attributes;
  if (user?.key === "m") return fail("malformed-request", "unsupported mandatory extension");
  if (user?.key !== "n" || nonce?.key !== "r") {
    return fail("malformed-request", "client-first-message needs n= then r=");
  }
  const rawUsername = unescapeSaslname(user.value);
  if (rawUsername === undefined) return fail("malformed-request", "invalid username encoding");
  if (!isNonce(nonce.value)) return fail("malformed-request", "invalid client nonce");

  const prepared = saslprep(rawUsername);
  if (authzid !== undefined && !authzidAllowed(authzid, prepared, ctx.domain)) {
    return fail("invalid-authzid");
  }
  const account = prepared === undefined || prepared === "" ? undefined : ctx.lookup(prepared);
  const stored = account?.scram[mechanism];
  const credentials = stored ??
    fakeCredentials(mechanism, prepared ?? rawUsername, ctx.secret ?? "");
  if (
    decodeBase64(credentials.salt) === undefined ||
    decodeBase64(credentials.storedKey) === undefined ||
    decodeBase64(credentials.serverKey) === undefined
  ) {
    throw new SaslUsageError("start SCRAM", "the stored credentials are not valid base64");
  }
  const combinedNonce = nonce.value + ctx.nonce;
  const serverFirst = `r=${combinedNonce},s=${credentials.salt},i=${credentials.iterations}`;
  const state: SaslServerState = {
    mechanism,
    data: {
      step: "client-final",
      gs2Header,
      nonce: combinedNonce,
      authMessagePrefix: `${bare},${serverFirst}`,
      username: account?.username ?? prepared ?? rawUsername,
      storedKey: credentials.storedKey,
      serverKey: credentials.serverKey,
    },
  };
  return { type: "challenge", data: encodePayload(serverFirst), state };
}

/**
 * Verifies client-final (decoded text) against the state of {@linkcode scramServerStart};
 * success carries server-final (`v=`, base64) as additional data.
 *
 * @example
 * ```ts
 * import { scramServerFinish } from "./scram_server.ts";
 * import { assertEquals } from "@std/assert";
 * const state = {
 *   mechanism: "SCRAM-SHA-1" as const,
 *   data: { step: "client-final", gs2Header: "n,,", nonce: "abc", authMessagePrefix: "",
 *     username: "u", storedKey: "", serverKey: "" },
 * };
 * const result = scramServerFinish(state, "c=biws,r=abd,p=AAAA");
 * assertEquals(result.type === "failure" && result.condition, "not-authorized");
 * ```
 */
export function scramServerFinish(state: SaslServerState, clientFinal: string): SaslServerResult {
  const { mechanism, data } = state;
  if (
    (mechanism !== "SCRAM-SHA-1" && mechanism !== "SCRAM-SHA-256") || data.step !== "client-final"
  ) {
    throw new SaslUsageError("finish SCRAM", "the state is not waiting for client-final");
  }
  const proofStart = clientFinal.lastIndexOf(",");
  if (proofStart < 0) return fail("malformed-request", "client-final-message has no proof");
  const withoutProof = clientFinal.slice(0, proofStart);
  const proofAttribute = clientFinal.slice(proofStart + 1);
  const attributes = parseAttributes(withoutProof);
  if (!proofAttribute.startsWith("p=") || attributes === undefined) {
    return fail("malformed-request", "invalid client-final-message");
  }
  const [binding, nonce] = attributes;
  if (binding?.key !== "c" || nonce?.key !== "r") {
    return fail("malformed-request", "client-final-message needs c= then r= then p=");
  }
  const bindingBytes = decodeBase64(binding.value);
  const proof = decodeBase64(proofAttribute.slice(2));
  if (bindingBytes === undefined || proof === undefined) {
    return fail("incorrect-encoding", "c= or p= is not valid base64");
  }
  if (!timingSafeEqual(bindingBytes, encodeUtf8(data.gs2Header ?? ""))) {
    return fail("not-authorized", "channel binding does not match the gs2 header");
  }
  if (nonce.value !== data.nonce) return fail("not-authorized", "nonce mismatch");

  const hash = scramHash(mechanism);
  const storedKey = decodeBase64(data.storedKey ?? "") ?? new Uint8Array();
  const authMessage = encodeUtf8(`${data.authMessagePrefix},${withoutProof}`);
  if (proof.length !== digestLength(hash) || storedKey.length !== proof.length) {
    return fail("not-authorized");
  }
  const clientSignature = hmac(hash, storedKey, authMessage);
  const clientKey = xorBytes(proof, clientSignature);
  if (!timingSafeEqual(digest(hash, clientKey), storedKey)) return fail("not-authorized");
  const serverKey = decodeBase64(data.serverKey ?? "") ?? new Uint8Array();
  const serverSignature = hmac(hash, serverKey, authMessage);
  return {
    type: "success",
    data: encodePayload(`v=${encodeBase64(serverSignature)}`),
    username: data.username,
  };
}
