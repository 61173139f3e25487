/**
 * Which WebSocket endpoints a client may use: `wss:` always, `ws:` only on a loopback host or
 * when insecure endpoints are explicitly allowed, nothing else (RFC 7395 §3.9, §6; XEP-0156
 * §2.2). Also whether a host is loopback, which decides where PLAIN may be used.
 *
 * @example
 * ```ts
 * import { checkEndpoint } from "./endpoint.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(checkEndpoint("wss://example.com/ws").ok, true);
 * assertEquals(checkEndpoint("ws://example.com/ws").ok, false);
 * assertEquals(checkEndpoint("ws://127.0.0.1:5280/ws").ok, true); // loopback
 * ```
 * @module
 */

/** A usable endpoint, or why not. */
export type EndpointCheck =
  | {
    readonly ok: true;
    readonly url: string;
    readonly secure: boolean;
    readonly loopback: boolean;
  }
  | { readonly ok: false; readonly reason: string };

/** What a client accepts. */
export interface EndpointPolicy {
  /** Accept `ws:` on any host (default false: only on loopback). */
  readonly allowInsecure?: boolean;
  /** Accept `ws:` on loopback hosts (default true). */
  readonly allowLoopback?: boolean;
}

/**
 * Checks one endpoint URL against the policy; the URL is returned normalised.
 *
 * @example
 * ```ts
 * import { checkEndpoint } from "./endpoint.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(checkEndpoint("https://example.com/bosh"), { ok: false, reason: "not a WebSocket URL (https:)" });
 * assertEquals(checkEndpoint("ws://chat.example/ws", { allowInsecure: true }).ok, true);
 * ```
 */
export function checkEndpoint(url: string, policy: EndpointPolicy = {}): EndpointCheck {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: "not a URL" };
  }
  if (parsed.protocol !== "wss:" && parsed.protocol !== "ws:") {
    return { ok: false, reason: `not a WebSocket URL (${parsed.protocol})` };
  }
  if (parsed.username !== "" || parsed.password !== "") {
    return { ok: false, reason: "credentials in the URL" };
  }
  parsed.hash = "";
  const loopback = isLoopbackHost(parsed.hostname);
  const secure = parsed.protocol === "wss:";
  if (!secure && !policy.allowInsecure && !(loopback && (policy.allowLoopback ?? true))) {
    return { ok: false, reason: "insecure ws: endpoint (allowInsecure is off)" };
  }
  return { ok: true, url: parsed.href, secure, loopback };
}

/**
 * Whether a URL host name (as `URL.hostname` gives it) is loopback: `localhost`, a name under
 * `.localhost` (RFC 6761 §6.3), 127.0.0.0/8 or `[::1]`.
 *
 * @example
 * ```ts
 * import { isLoopbackHost } from "./endpoint.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(isLoopbackHost("127.1.2.3"), true);
 * assertEquals(isLoopbackHost("[::1]"), true);
 * assertEquals(isLoopbackHost("example.com"), false);
 * ```
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (host === "[::1]" || host === "::1") return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
