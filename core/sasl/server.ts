/**
 * The server side of SASL for XMPP (RFC 6120 §6), one pure call per client message:
 * {@linkcode startSaslServer} for `<auth/>` and {@linkcode continueSaslServer} for each
 * `<response/>`. Each returns a challenge (send `<challenge/>`, keep the state), a success
 * (send `<success/>` with its data, restart the stream) or a failure (send `<failure/>` with
 * its condition). Peer input never throws.
 *
 * - An unknown or disabled mechanism (ANONYMOUS when not allowed, any -PLUS) is
 *   `invalid-mechanism`; PLAIN when `!ctx.plainAllowed` is `encryption-required`.
 * - `initialResponse` is the text of `<auth/>`: `""` means no initial response (the server
 *   answers with an empty challenge) and `"="` means an empty one (RFC 6120 §6.4.2).
 * - Payloads that are not strict base64 are `incorrect-encoding`; base64 of invalid UTF-8 is
 *   `malformed-request`.
 * - An unknown user is `not-authorized`, exactly like a wrong password.
 *
 * @example
 * ```ts
 * import { startSaslServer } from "@xmpp-websocket/xmpp-websocket/sasl";
 * import { assertEquals } from "@std/assert";
 * const ctx = {
 *   lookup: () => undefined, nonce: "3rfcNHYJY1ZVvWVs7j", plainAllowed: false, anonymousAllowed: true,
 * };
 * assertEquals(startSaslServer("ANONYMOUS", "", ctx).type, "success");
 * assertEquals(startSaslServer("PLAIN", "AHUAcA==", ctx), { type: "failure", condition: "encryption-required" });
 * assertEquals(startSaslServer("X-OAUTH2", "", ctx), { type: "failure", condition: "invalid-mechanism" });
 * ```
 * @module
 */

import { decodePayload } from "./_payload.ts";
import { anonymousServerVerify } from "./anonymous.ts";
import { SaslUsageError } from "./errors.ts";
import { type PlainBegin, plainServerBegin, plainServerVerify } from "./plain.ts";
import { scramServerFinish, scramServerStart } from "./scram_server.ts";
import type {
  SaslMechanismName,
  SaslServerContext,
  SaslServerResult,
  SaslServerState,
} from "./types.ts";

/**
 * The mechanisms to advertise in `<mechanisms/>`, strongest first.
 *
 * @example
 * ```ts
 * import { listSaslMechanisms } from "@xmpp-websocket/xmpp-websocket/sasl";
 * import { assertEquals } from "@std/assert";
 * const ctx = { lookup: () => undefined, nonce: "", plainAllowed: false, anonymousAllowed: false };
 * assertEquals(listSaslMechanisms(ctx), ["SCRAM-SHA-256", "SCRAM-SHA-1"]);
 * ```
 */
export function listSaslMechanisms(
  ctx: Pick<SaslServerContext, "plainAllowed" | "anonymousAllowed">,
): readonly SaslMechanismName[] {
  const names: SaslMechanismName[] = ["SCRAM-SHA-256", "SCRAM-SHA-1"];
  if (ctx.plainAllowed) names.push("PLAIN");
  if (ctx.anonymousAllowed) names.push("ANONYMOUS");
  return names;
}

function handleInitial(
  mechanism: SaslMechanismName,
  payload: string,
  ctx: SaslServerContext,
): SaslServerResult {
  const decoded = decodePayload(payload);
  if (!decoded.ok) {
    return decoded.problem === "base64"
      ? { type: "failure", condition: "incorrect-encoding" }
      : { type: "failure", condition: "malformed-request", text: "the payload is not UTF-8" };
  }
  const text = decoded.text;
  switch (mechanism) {
    case "SCRAM-SHA-1":
    case "SCRAM-SHA-256":
      return scramServerStart(mechanism, text, ctx);
    case "PLAIN":
      return plainServerVerify(text, ctx);
    case "ANONYMOUS":
      return anonymousServerVerify(text);
  }
}

/**
 * The first half of PLAIN from the text of `<auth mechanism='PLAIN'>` (non-empty) or of the
 * `<response/>` after an empty challenge: the same decoding failures as
 * {@linkcode startSaslServer}, `encryption-required` when PLAIN is not allowed, else the
 * derivation to run (see `plainServerBegin`; finish with `plainServerFinish`).
 *
 * @example
 * ```ts
 * import { beginPlainServer } from "@xmpp-websocket/xmpp-websocket/sasl";
 * import { assertEquals } from "@std/assert";
 * const ctx = { lookup: () => undefined, nonce: "n", plainAllowed: true, anonymousAllowed: false };
 * assertEquals(beginPlainServer(btoa("\0u\0p"), ctx).type, "derive");
 * assertEquals(beginPlainServer("b!ws", ctx), { type: "failure", condition: "incorrect-encoding" });
 * ```
 */
export function beginPlainServer(payload: string, ctx: SaslServerContext): PlainBegin {
  if (!ctx.plainAllowed) return { type: "failure", condition: "encryption-required" };
  const decoded = decodePayload(payload === "" ? "=" : payload);
  if (!decoded.ok) {
    return decoded.problem === "base64"
      ? { type: "failure", condition: "incorrect-encoding" }
      : { type: "failure", condition: "malformed-request", text: "the payload is not UTF-8" };
  }
  return plainServerBegin(decoded.text, ctx);
}

/**
 * Starts an exchange from `<auth mechanism='…'>initialResponse</auth>`. Throws
 * {@linkcode SaslUsageError} only for a misconfigured context (see `scramServerStart`).
 *
 * @example
 * ```ts
 * import { startSaslServer } from "@xmpp-websocket/xmpp-websocket/sasl";
 * import { assertEquals } from "@std/assert";
 * const ctx = {
 *   lookup: () => undefined, nonce: "3rfcNHYJY1ZVvWVs7j", plainAllowed: true, anonymousAllowed: false,
 * };
 * const result = startSaslServer("SCRAM-SHA-256", btoa("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"), ctx);
 * assertEquals(result.type, "challenge");
 * assertEquals(startSaslServer("PLAIN", "", ctx).type, "challenge"); // empty, asking for the response
 * ```
 */
export function startSaslServer(
  mechanism: string,
  initialResponse: string,
  ctx: SaslServerContext,
): SaslServerResult {
  switch (mechanism) {
    case "SCRAM-SHA-1":
    case "SCRAM-SHA-256":
      break;
    case "PLAIN":
      if (!ctx.plainAllowed) return { type: "failure", condition: "encryption-required" };
      break;
    case "ANONYMOUS":
      if (!ctx.anonymousAllowed) return { type: "failure", condition: "invalid-mechanism" };
      // No trace and an empty trace are the same to ANONYMOUS.
      return handleInitial(mechanism, initialResponse === "" ? "=" : initialResponse, ctx);
    default:
      return { type: "failure", condition: "invalid-mechanism" };
  }
  if (initialResponse === "") {
    return {
      type: "challenge",
      data: "",
      state: { mechanism, data: { step: "initial-response" } },
    };
  }
  return handleInitial(mechanism, initialResponse, ctx);
}

/**
 * Continues an exchange with the text of `<response/>` (`""` and `"="` both mean empty).
 * Throws {@linkcode SaslUsageError} when `state` did not come from a challenge of this module.
 *
 * @example
 * ```ts
 * import { continueSaslServer, startSaslServer } from "@xmpp-websocket/xmpp-websocket/sasl";
 * import { assertEquals } from "@std/assert";
 * const ctx = {
 *   lookup: () => undefined, nonce: "3rfcNHYJY1ZVvWVs7j", plainAllowed: true, anonymousAllowed: false,
 * };
 * const first = startSaslServer("PLAIN", "", ctx);
 * if (first.type === "challenge") {
 *   assertEquals(continueSaslServer(first.state, btoa("\0nobody\0pw"), ctx), { type: "failure", condition: "not-authorized" });
 * }
 * ```
 */
export function continueSaslServer(
  state: SaslServerState,
  response: string,
  ctx: SaslServerContext,
): SaslServerResult {
  const payload = response === "" ? "=" : response;
  switch (state.data.step) {
    case "initial-response":
      return handleInitial(state.mechanism, payload, ctx);
    case "client-final": {
      const decoded = decodePayload(payload);
      if (!decoded.ok) {
        return decoded.problem === "base64"
          ? { type: "failure", condition: "incorrect-encoding" }
          : { type: "failure", condition: "malformed-request", text: "the payload is not UTF-8" };
      }
      return scramServerFinish(state, decoded.text);
    }
    default:
      throw new SaslUsageError("continue SASL", "the state does not expect a response");
  }
}
