/**
 * Reading a received Close frame's payload (RFC 6455 §5.5.1, §7.4): empty, or a valid status
 * code followed by a UTF-8 reason.
 *
 * @example
 * ```ts
 * import { readClosePayload } from "@xmpp-websocket/xmpp-websocket/websocket";
 * import { assertEquals } from "@std/assert";
 * assertEquals(readClosePayload(Uint8Array.of(3, 232, 0x6f, 0x6b)), { ok: true, code: 1000, reason: "ok" });
 * ```
 * @module
 */

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A Close payload read: its code (1005 when absent) and reason, or why it is invalid. */
export type ClosePayload =
  | { readonly ok: true; readonly code: number; readonly reason: string }
  | { readonly ok: false; readonly failCode: 1002 | 1007; readonly text: string };

/**
 * Whether a peer may send this status code (§7.4.1, §7.4.2 and the IANA registry): 1000-1003,
 * 1007-1014, and 3000-4999. 1004, 1005, 1006 and 1015 must never be on the wire.
 *
 * @example
 * ```ts
 * import { isValidCloseCode } from "@xmpp-websocket/xmpp-websocket/websocket";
 * import { assertEquals } from "@std/assert";
 * assertEquals([1000, 1005, 1014, 2999, 4000].map(isValidCloseCode), [ true, false, true, false, true ]);
 * ```
 */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999);
}

/**
 * Reads a Close payload: 1002 for one byte or an invalid code, 1007 for a reason that is not
 * UTF-8.
 *
 * @example
 * ```ts
 * import { readClosePayload } from "@xmpp-websocket/xmpp-websocket/websocket";
 * import { assertEquals } from "@std/assert";
 * assertEquals(readClosePayload(new Uint8Array()), { ok: true, code: 1005, reason: "" });
 * assertEquals(readClosePayload(Uint8Array.of(3, 237)).ok, false); // 1005 may not be sent
 * ```
 */
export function readClosePayload(payload: Uint8Array): ClosePayload {
  if (payload.length === 0) return { ok: true, code: 1005, reason: "" };
  if (payload.length === 1) {
    return { ok: false, failCode: 1002, text: "A Close payload of one byte (RFC 6455 §5.5.1)" };
  }
  const code = (payload[0]! << 8) | payload[1]!;
  if (!isValidCloseCode(code)) {
    return { ok: false, failCode: 1002, text: `Invalid close code ${code} (RFC 6455 §7.4)` };
  }
  try {
    return { ok: true, code, reason: decoder.decode(payload.subarray(2)) };
  } catch {
    return {
      ok: false,
      failCode: 1007,
      text: "A close reason that is not UTF-8 (RFC 6455 §5.5.1)",
    };
  }
}
