/**
 * Decoding a SASL payload as XMPP carries it: strict base64 (`"="` and `""` both meaning no
 * bytes) of UTF-8 text. Failures are reported, never thrown.
 *
 * @example
 * ```ts
 * import { decodePayload } from "./_payload.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(decodePayload("biws"), { ok: true, text: "n,," });
 * assertEquals(decodePayload("b!ws"), { ok: false, problem: "base64" });
 * ```
 * @module
 */

import { decodeUtf8, encodeUtf8 } from "./_bytes.ts";
import { decodeBase64, encodeBase64 } from "./base64.ts";

/** A decoded payload, or which layer was broken. */
export type DecodedPayload =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly problem: "base64" | "utf8" };

/**
 * Decodes a payload to text.
 *
 * @example
 * ```ts
 * import { decodePayload } from "./_payload.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(decodePayload("="), { ok: true, text: "" });
 * ```
 */
export function decodePayload(data: string): DecodedPayload {
  const bytes = data === "=" ? new Uint8Array() : decodeBase64(data);
  if (bytes === undefined) return { ok: false, problem: "base64" };
  const text = decodeUtf8(bytes);
  return text === undefined ? { ok: false, problem: "utf8" } : { ok: true, text };
}

/**
 * Encodes text as a payload (`""` stays `""`).
 *
 * @example
 * ```ts
 * import { encodePayload } from "./_payload.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(encodePayload("n,,"), "biws");
 * ```
 */
export function encodePayload(text: string): string {
  return encodeBase64(encodeUtf8(text));
}
