/**
 * The HTTP side of an RFC 7395 endpoint, as pure functions over the web-standard `Request` and
 * `Response` (no runtime API, so the Node adapter can share them): the Origin check (RFC 6455
 * §10.2), the strict `xmpp` subprotocol negotiation (RFC 7395 §3.1, rules #2 and #3 of the
 * digest) and the small text and HTML responses.
 *
 * @example
 * ```ts
 * import { checkUpgrade } from "./upgrade.ts";
 * const request = new Request("http://localhost/xmpp-websocket", {
 *   headers: {
 *     host: "localhost", upgrade: "websocket", connection: "Upgrade",
 *     "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13",
 *     "sec-websocket-protocol": "chat, xmpp",
 *   },
 * });
 * console.log(checkUpgrade(request, { allowedOrigins: undefined, allowMissingOrigin: true }));
 * // { ok: true, protocol: "xmpp" }
 * ```
 * @module
 */

import { resolveClientAddress, type TrustPolicy } from "./forwarded.ts";
import { checkHandshake } from "../websocket/handshake.ts";

/** The only subprotocol served (RFC 7395 §3.1). */
export const XMPP_SUBPROTOCOL = "xmpp";

/** Who may open a WebSocket, by `Origin` (RFC 6455 §10.2). */
export interface OriginPolicy {
  /** Normalised allowed origins; `undefined` allows any origin. */
  readonly allowedOrigins: readonly string[] | undefined;
  /** Whether a request without `Origin` (a non-browser client) is allowed. */
  readonly allowMissingOrigin: boolean;
}

/** Whether to upgrade, and if not, the HTTP refusal. */
export type UpgradeDecision =
  | { readonly ok: true; readonly protocol: typeof XMPP_SUBPROTOCOL }
  | {
    readonly ok: false;
    readonly status: 400 | 403 | 405 | 426;
    readonly text: string;
    /** Headers the refusal must carry (`Allow`, `Sec-WebSocket-Version`). */
    readonly headers?: Readonly<Record<string, string>>;
  };

/**
 * Normalises configured origins (`https://Example.org/` becomes `https://example.org`); `null`
 * (the opaque origin) is kept as is. Throws `RangeError` on an entry that is not an origin.
 *
 * @example
 * ```ts
 * import { normalizeOrigins } from "./upgrade.ts";
 * console.log(normalizeOrigins(["https://Chat.Example.org/"])); // ["https://chat.example.org"]
 * ```
 */
export function normalizeOrigins(origins: readonly string[]): readonly string[] {
  return origins.map((origin) => {
    if (origin === "null") return origin;
    const url = URL.parse(origin);
    if (url === null || url.origin === "null") {
      throw new RangeError(`Invalid allowed origin '${origin}': expected scheme://host[:port]`);
    }
    return url.origin;
  });
}

/**
 * The tokens of every `Sec-WebSocket-Protocol` header line (comma separated, trimmed).
 *
 * @example
 * ```ts
 * import { offeredProtocols } from "./upgrade.ts";
 * console.log(offeredProtocols(new Headers([["sec-websocket-protocol", " chat ,xmpp"]]))); // ["chat", "xmpp"]
 * ```
 */
export function offeredProtocols(headers: Headers): readonly string[] {
  const value = headers.get("sec-websocket-protocol") ?? "";
  return value.split(",").map((token) => token.trim()).filter((token) => token !== "");
}

/**
 * Whether the request asks for a WebSocket upgrade (`Upgrade` lists `websocket`).
 *
 * @example
 * ```ts
 * import { isWebSocketUpgrade } from "./upgrade.ts";
 * console.log(isWebSocketUpgrade(new Request("http://h/", { headers: { upgrade: "WebSocket" } }))); // true
 * ```
 */
export function isWebSocketUpgrade(request: Request): boolean {
  const upgrade = request.headers.get("upgrade") ?? "";
  return upgrade.split(",").some((token) => token.trim().toLowerCase() === "websocket");
}

/**
 * Decides a WebSocket upgrade: first RFC 6455 §4.2.1-§4.2.2 (the core's `checkHandshake`: 405
 * unless GET, 400 for HTTP/1.0 when `httpVersion` is known, a missing `Host`, `Upgrade` or
 * `Connection` token, or a key that is not 16 base64-encoded bytes, 426 with
 * `Sec-WebSocket-Version: 13` for another version), then 403 for an origin outside the policy,
 * then 400 unless `xmpp` is among the offered subprotocols (a 101 naming a protocol the client
 * did not offer would break #3, and a 101 without one would create no XMPP session, #2).
 * `Deno.serve` does not tell the HTTP version: there, HTTP/1.0 is not checked.
 *
 * @example
 * ```ts
 * import { checkUpgrade } from "./upgrade.ts";
 * const request = new Request("http://localhost/", { headers: { upgrade: "websocket" } });
 * const decision = checkUpgrade(request, { allowedOrigins: undefined, allowMissingOrigin: true });
 * console.log(decision.ok ? decision.protocol : decision.status); // 400
 * ```
 */
export function checkUpgrade(
  request: Request,
  policy: OriginPolicy,
  httpVersion?: string,
): UpgradeDecision {
  const rfc6455 = checkHandshake({
    method: request.method,
    headers: request.headers,
    ...(httpVersion !== undefined ? { version: httpVersion } : {}),
  });
  if (!rfc6455.ok) {
    return {
      ok: false,
      status: rfc6455.status,
      text: `${rfc6455.text}\n`,
      headers: rfc6455.headers,
    };
  }
  const origin = request.headers.get("origin");
  if (origin === null ? !policy.allowMissingOrigin : !originAllowed(origin, policy)) {
    return {
      ok: false,
      status: 403,
      text: origin === null
        ? "Forbidden: this XMPP WebSocket endpoint requires an Origin header.\n"
        : "Forbidden: this XMPP WebSocket endpoint does not accept connections from that origin.\n",
    };
  }
  const offered = offeredProtocols(request.headers);
  if (!offered.includes(XMPP_SUBPROTOCOL)) {
    return {
      ok: false,
      status: 400,
      text: "Bad Request: this is an XMPP over WebSocket endpoint (RFC 7395). The handshake must " +
        "offer the WebSocket subprotocol 'xmpp' (Sec-WebSocket-Protocol: xmpp); offered: " +
        (offered.length === 0 ? "none" : offered.map((token) => `'${token}'`).join(", ")) + ".\n",
    };
  }
  return { ok: true, protocol: XMPP_SUBPROTOCOL };
}

function originAllowed(origin: string, policy: OriginPolicy): boolean {
  return policy.allowedOrigins === undefined ||
    policy.allowedOrigins.includes(origin.trim().toLowerCase());
}

/**
 * A plain-text response (never sniffed as HTML, never cached).
 *
 * @example
 * ```ts
 * import { textResponse } from "./upgrade.ts";
 * console.log(textResponse(404, "Not Found\n").status); // 404
 * ```
 */
export function textResponse(status: number, text: string, headers: HeadersInit = {}): Response {
  const response = new Response(text, { status, headers });
  response.headers.set("content-type", "text/plain; charset=utf-8");
  response.headers.set("x-content-type-options", "nosniff");
  response.headers.set("cache-control", "no-store");
  return response;
}

/**
 * The page answered to a plain GET on the endpoint: what it is, and how to connect. Static:
 * nothing from the request is reflected.
 *
 * @example
 * ```ts
 * import { diagnosticPage } from "./upgrade.ts";
 * console.log(diagnosticPage().headers.get("content-type")); // "text/html; charset=utf-8"
 * ```
 */
export function diagnosticPage(): Response {
  const html = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>XMPP over WebSocket endpoint</title></head>
<body>
<h1>XMPP over WebSocket endpoint</h1>
<p>This URL is an XMPP over WebSocket endpoint (<a href="https://www.rfc-editor.org/rfc/rfc7395">RFC 7395</a>).
It is not meant for a web browser's address bar: connect with an XMPP client using a
<code>ws://</code> or <code>wss://</code> URL for this path and the WebSocket subprotocol
<code>xmpp</code> (<code>Sec-WebSocket-Protocol: xmpp</code>).</p>
</body>
</html>
`;
  return new Response(html, {
    status: 200,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "x-content-type-options": "nosniff",
      "cache-control": "no-store",
    },
  });
}

/** A host and a port. */
export interface HostPort {
  readonly hostname: string;
  readonly port: number;
}

/**
 * The client's address: the TCP peer, or, when the peer is a trusted proxy, the right-most hop
 * of the one forwarded-address header the operator chose that is not itself a trusted proxy.
 * The decision is the core's (`core/http/forwarded.ts`), shared by the Deno and Node endpoints.
 *
 * @example
 * ```ts
 * import { clientAddress } from "./upgrade.ts";
 * import { trustPolicy } from "./forwarded.ts";
 * const request = new Request("http://h/", {
 *   headers: { "x-forwarded-for": "203.0.113.7, 10.0.0.2", forwarded: "for=127.0.0.1" },
 * });
 * const peer = { hostname: "10.0.0.1", port: 4000 };
 * console.log(clientAddress(request, peer, trustPolicy(["10.0.0.1", "10.0.0.2"])));
 * // { hostname: "203.0.113.7", port: 0 }
 * ```
 */
export function clientAddress(request: Request, peer: HostPort, trust: TrustPolicy): HostPort {
  return resolveClientAddress(peer, (name) => request.headers.get(name), trust).address;
}

/**
 * `host:port`, with brackets around an IPv6 host.
 *
 * @example
 * ```ts
 * import { formatAddr } from "./upgrade.ts";
 * console.log(formatAddr({ hostname: "::1", port: 5280 })); // "[::1]:5280"
 * ```
 */
export function formatAddr(addr: HostPort): string {
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}
