/**
 * ANONYMOUS (RFC 4505): the client may send a trace token (an email address or any text of at
 * most 255 characters) that the server does not verify. Success carries no username; the
 * server assigns one.
 *
 * @example
 * ```ts
 * import { anonymousClientMessage, anonymousServerVerify } from "./anonymous.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(anonymousClientMessage(), "="); // empty initial response
 * assertEquals(anonymousServerVerify(""), { type: "success", data: "", username: undefined });
 * ```
 * @module
 */

import { encodePayload } from "./_payload.ts";
import type { SaslServerResult } from "./types.ts";

/** The longest trace RFC 4505 allows, in characters. */
const MAX_TRACE = 255;

/**
 * Accepts an ANONYMOUS message (the decoded trace, possibly empty); a trace over 255
 * characters is `malformed-request`.
 *
 * @example
 * ```ts
 * import { anonymousServerVerify } from "./anonymous.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(anonymousServerVerify("sirhc").type, "success");
 * assertEquals(anonymousServerVerify("x".repeat(256)).type, "failure");
 * ```
 */
export function anonymousServerVerify(trace: string): SaslServerResult {
  if ([...trace].length > MAX_TRACE) return { type: "failure", condition: "malformed-request" };
  return { type: "success", data: "", username: undefined };
}

/**
 * The client's initial response: `"="` (empty) without a trace, else the trace in base64.
 *
 * @example
 * ```ts
 * import { anonymousClientMessage } from "@xmpp-websocket/xmpp-websocket/sasl";
 * import { assertEquals } from "@std/assert";
 * assertEquals(anonymousClientMessage("sirhc"), "c2lyaGM=");
 * ```
 */
export function anonymousClientMessage(trace = ""): string {
  return trace === "" ? "=" : encodePayload(trace);
}
