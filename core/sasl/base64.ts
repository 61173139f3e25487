/**
 * Base64 (RFC 4648 §4, standard alphabet, with padding) as SASL carries it in XMPP. Decoding is
 * strict: a wrong length, a character outside the alphabet, misplaced padding, whitespace, or
 * non-zero bits in the last character's unused part make it return `undefined`, never throw.
 *
 * @example
 * ```ts
 * import { decodeBase64, encodeBase64 } from "@xmpp-websocket/xmpp-websocket/sasl";
 * import { assertEquals } from "@std/assert";
 * assertEquals(encodeBase64(new TextEncoder().encode("n,,")), "biws");
 * assertEquals(decodeBase64("biw"), undefined);
 * ```
 * @module
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUES[ALPHABET.charCodeAt(i)] = i;

function value(text: string, index: number): number {
  const code = text.charCodeAt(index);
  return code < 128 ? VALUES[code]! : -1;
}

/**
 * Encodes bytes as padded standard base64.
 *
 * @example
 * ```ts
 * import { encodeBase64 } from "@xmpp-websocket/xmpp-websocket/sasl";
 * import { assertEquals } from "@std/assert";
 * assertEquals(encodeBase64(Uint8Array.of(0xff)), "/w==");
 * ```
 */
export function encodeBase64(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! +
      ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + "==";
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + "=";
  }
  return out;
}

/**
 * Decodes padded standard base64 strictly; `undefined` when `text` is not canonical base64.
 * The empty string decodes to no bytes.
 *
 * @example
 * ```ts
 * import { decodeBase64 } from "@xmpp-websocket/xmpp-websocket/sasl";
 * import { assertEquals } from "@std/assert";
 * assertEquals(decodeBase64("/w=="), Uint8Array.of(255));
 * assertEquals(decodeBase64("/x=="), undefined); // non-zero padding bits
 * assertEquals(decodeBase64("a b="), undefined);
 * ```
 */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (text.length % 4 !== 0) return undefined;
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - padding);
  const fullEnd = padding === 0 ? text.length : text.length - 4;
  let o = 0;
  for (let i = 0; i < fullEnd; i += 4) {
    const a = value(text, i),
      b = value(text, i + 1),
      c = value(text, i + 2),
      d = value(text, i + 3);
    if ((a | b | c | d) < 0) return undefined;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = n >> 16;
    out[o++] = (n >> 8) & 255;
    out[o++] = n & 255;
  }
  if (padding > 0) {
    const a = value(text, fullEnd), b = value(text, fullEnd + 1);
    if ((a | b) < 0) return undefined;
    if (padding === 2) {
      if ((b & 15) !== 0) return undefined;
      out[o] = (a << 2) | (b >> 4);
    } else {
      const c = value(text, fullEnd + 2);
      if (c < 0 || (c & 3) !== 0) return undefined;
      out[o++] = (a << 2) | (b >> 4);
      out[o] = ((b & 15) << 4) | (c >> 2);
    }
  }
  return out;
}
