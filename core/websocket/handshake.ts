/**
 * The server's opening handshake (RFC 6455 §4.2.1-§4.2.2), pure: the checks a client's upgrade
 * request must pass (GET, HTTP/1.1 or later, `Host`, `Upgrade: websocket`,
 * `Connection: Upgrade`, a `Sec-WebSocket-Key` of 16 base64-encoded bytes, and
 * `Sec-WebSocket-Version: 13`, else 426), the `Sec-WebSocket-Accept` value, and the 101 head.
 * Subprotocol and Origin decisions belong to the application.
 *
 * @example
 * ```ts
 * import { checkHandshake, webSocketAccept } from "@xmpp-websocket/xmpp-websocket/websocket";
 * import { assertEquals } from "@std/assert";
 * const headers = new Headers({
 *   host: "h", upgrade: "websocket", connection: "Upgrade",
 *   "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13",
 * });
 * assertEquals(checkHandshake({ method: "GET", version: "1.1", headers }).ok, true);
 * assertEquals(webSocketAccept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
 * ```
 * @module
 */

import { decodeBase64, encodeBase64 } from "../sasl/base64.ts";
import { digest } from "../sasl/hash.ts";

/** RFC 6455 §1.3. */
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** What the checks need of a request; web `Headers` fits `headers`. */
export interface HandshakeRequest {
  /** The request method (`GET` is required). */
  readonly method: string;
  /** `"1.0"` or `"1.1"`; absent when the runtime does not tell (then it is not checked). */
  readonly version?: string;
  /** The request's header fields, looked up by name. */
  readonly headers: { get(name: string): string | null };
}

/** The handshake's verdict: go on with the key, or refuse with this HTTP answer. */
export type HandshakeCheck =
  | { readonly ok: true; readonly key: string }
  | {
    readonly ok: false;
    readonly status: 400 | 405 | 426;
    readonly text: string;
    readonly headers: Readonly<Record<string, string>>;
  };

function hasToken(value: string | null, token: string): boolean {
  return (value ?? "").split(",").some((t) => t.trim().toLowerCase() === token);
}

function refuse(
  status: 400 | 405 | 426,
  text: string,
  headers: Readonly<Record<string, string>> = {},
): HandshakeCheck {
  return { ok: false, status, text, headers };
}

/**
 * Checks an upgrade request against RFC 6455 §4.2.1-§4.2.2.
 *
 * @example
 * ```ts
 * import { checkHandshake } from "@xmpp-websocket/xmpp-websocket/websocket";
 * import { assertEquals } from "@std/assert";
 * const headers = new Headers({ host: "h", upgrade: "websocket", connection: "upgrade",
 *   "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "8" });
 * const check = checkHandshake({ method: "GET", headers });
 * assertEquals(!check.ok && [check.status, check.headers], [ 426, { "sec-websocket-version": "13" } ]);
 * ```
 */
export function checkHandshake(request: HandshakeRequest): HandshakeCheck {
  const h = request.headers;
  if (request.method !== "GET") {
    return refuse(405, "Method Not Allowed: a WebSocket handshake is a GET (RFC 6455 §4.1)", {
      allow: "GET",
    });
  }
  if (request.version !== undefined && request.version !== "1.1") {
    return refuse(400, "Bad Request: a WebSocket handshake needs HTTP/1.1 (RFC 6455 §4.1)");
  }
  if (h.get("host") === null) return refuse(400, "Bad Request: no Host header (RFC 6455 §4.1)");
  if (!hasToken(h.get("upgrade"), "websocket")) {
    return refuse(400, "Bad Request: the Upgrade header must name websocket (RFC 6455 §4.1)");
  }
  if (!hasToken(h.get("connection"), "upgrade")) {
    return refuse(400, "Bad Request: the Connection header must name Upgrade (RFC 6455 §4.1)");
  }
  if (h.get("sec-websocket-version") !== "13") {
    return refuse(
      426,
      "Upgrade Required: this server speaks WebSocket version 13 (RFC 6455 §4.2.2)",
      {
        "sec-websocket-version": "13",
      },
    );
  }
  const key = h.get("sec-websocket-key") ?? "";
  if (decodeBase64(key)?.length !== 16) {
    return refuse(
      400,
      "Bad Request: Sec-WebSocket-Key must be 16 bytes in base64 (RFC 6455 §4.1)",
    );
  }
  return { ok: true, key };
}

/**
 * The `Sec-WebSocket-Accept` value for a key (RFC 6455 §4.2.2): base64 of SHA-1 of the key
 * and the GUID.
 *
 * @example
 * ```ts
 * import { webSocketAccept } from "@xmpp-websocket/xmpp-websocket/websocket";
 * import { assertEquals } from "@std/assert";
 * assertEquals(webSocketAccept("x3JJHMbDL1EzLkh9GBhXDw=="), "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
 * ```
 */
export function webSocketAccept(key: string): string {
  return encodeBase64(digest("SHA-1", new TextEncoder().encode(key + GUID)));
}

/**
 * The head of the 101 answer, with the chosen subprotocol when there is one.
 *
 * @example
 * ```ts
 * import { switchingProtocolsHead } from "@xmpp-websocket/xmpp-websocket/websocket";
 * import { assertEquals } from "@std/assert";
 * assertEquals(switchingProtocolsHead("dGhlIHNhbXBsZSBub25jZQ==", "xmpp").split("\r\n")[0], "HTTP/1.1 101 Switching Protocols");
 * ```
 */
export function switchingProtocolsHead(key: string, protocol?: string): string {
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    `Sec-WebSocket-Accept: ${webSocketAccept(key)}\r\n` +
    (protocol !== undefined ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : "") + "\r\n";
}
