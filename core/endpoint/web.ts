/**
 * The plain HTTP resources of the gateway and the embedded server: XEP-0156 discovery
 * (`/.well-known/host-meta` and `/.well-known/host-meta.json`, with CORS; the advertised URL
 * from configuration, or from the request's `Host` with `Vary: Host`), `/healthz` (readiness as
 * JSON: 200, or 503 while draining or when the upstream is unreachable), `/metrics` (to allowed
 * addresses only), and the embedded server's demo page when it is on.
 *
 * @example
 * ```ts
 * import { webHandler } from "./web.ts";
 * const handle = webHandler({ websocketUrl: "wss://example.com/xmpp-websocket", metrics: () => "" });
 * const response = await handle(new Request("http://example.com/.well-known/host-meta.json"));
 * console.log(response.status, response.headers.get("access-control-allow-origin")); // 200 "*"
 * ```
 * @module
 */

import { preferredMediaType } from "../http/negotiation.ts";
import { WEBSOCKET_REL } from "../client/discovery.ts";
import { clientAllowed } from "../http/access.ts";
import { type HostPort, resolveClientAddress, type TrustPolicy } from "../http/forwarded.ts";
import { type AddressList, LOOPBACK_RANGES } from "../http/ip.ts";
import type { HealthReport } from "./health.ts";

/** What the handler needs to know. */
export interface WebOptions {
  /**
   * The public WebSocket URL: a fixed one from configuration (`--public-url`), or a function of
   * the request (scheme and `Host` as the client reached us; such answers carry `Vary: Host`).
   */
  readonly websocketUrl: string | ((request: Request) => string);
  /** The Prometheus text. */
  readonly metrics: () => string;
  /** Readiness for `/healthz` (default: always ready). */
  readonly health?: () => HealthReport | Promise<HealthReport>;
  /** Extra pages (the demo page): a response, or `undefined` to go on (default: none). */
  readonly page?: (request: Request) => Response | undefined;
  /** Who may read `/metrics`, by client address (default: loopback only). */
  readonly metricsAllow?: AddressList;
  /** The trusted proxies, to find the client's address (default: none). */
  readonly trust?: TrustPolicy;
}

/** Who sent a request (the TCP peer), as both runtimes' fallback handlers receive it. */
export interface RequestInfo {
  readonly remoteAddr: HostPort;
}

/** How long discovery answers may be cached, in seconds: fixed URL, Host-derived URL. */
const DISCOVERY_MAX_AGE = { fixed: 3600, fromHost: 300 } as const;

/**
 * Returns a request handler for the resources above (404 for anything else). `/metrics` is
 * served only to clients in `metricsAllow` (403 otherwise), the client's address being decided
 * as for WebSocket connections (trusted proxies only), and never to a request forwarded by a
 * peer that is not a trusted proxy.
 *
 * @example
 * ```ts
 * import { webHandler } from "./web.ts";
 * const handle = webHandler({ websocketUrl: () => "ws://localhost:5280/xmpp-websocket", metrics: () => "m 1\n" });
 * const health = await handle(new Request("http://localhost/healthz"));
 * console.log(health.status, await health.json()); // 200 { ready: true, status: "ok", draining: false }
 * const peer = { remoteAddr: { hostname: "192.0.2.7", port: 50000 } };
 * console.log((await handle(new Request("http://localhost/metrics"), peer)).status); // 403
 * ```
 */
export function webHandler(
  options: WebOptions,
): (request: Request, info?: RequestInfo) => Response | Promise<Response> {
  const allow = options.metricsAllow ?? LOOPBACK_RANGES;
  const trust: TrustPolicy = options.trust ?? { proxies: [], header: "none" };
  const discovery = (request: Request, json: boolean, negotiated: boolean): Response => {
    const fixed = typeof options.websocketUrl === "string";
    let url: string;
    if (typeof options.websocketUrl === "string") url = options.websocketUrl;
    else if (!validHost(request)) return text(400, "Bad Request: Host\n");
    else url = options.websocketUrl(request);
    const vary = [...(negotiated ? ["Accept"] : []), ...(fixed ? [] : ["Host"])];
    const headers: Record<string, string> = {
      ...cors(),
      "cache-control": `max-age=${fixed ? DISCOVERY_MAX_AGE.fixed : DISCOVERY_MAX_AGE.fromHost}`,
      ...(vary.length > 0 ? { vary: vary.join(", ") } : {}),
    };
    return json ? jrd(url, headers) : xrd(url, headers);
  };
  return (request, info) => {
    const page = options.page?.(request);
    if (page !== undefined) return page;
    const path = new URL(request.url).pathname;
    if (request.method === "OPTIONS" && path.startsWith("/.well-known/host-meta")) {
      return new Response(null, { status: 204, headers: cors() });
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("Method Not Allowed\n", {
        status: 405,
        headers: { allow: "GET, HEAD" },
      });
    }
    switch (path) {
      case "/.well-known/host-meta": {
        // RFC 6415 §3: the XRD unless JSON is asked for.
        const wantsJson = preferredMediaType(request.headers.get("accept"), [
          "application/xrd+xml",
          "application/json",
        ]) === "application/json";
        return discovery(request, wantsJson, true);
      }
      case "/.well-known/host-meta.json":
        return discovery(request, true, false);
      case "/healthz":
        return healthResponse(options.health, request.method === "HEAD");
      case "/metrics": {
        const client = info &&
          resolveClientAddress(info.remoteAddr, (name) => request.headers.get(name), trust);
        if (client === undefined || !clientAllowed(client, allow)) {
          return text(403, "Forbidden: metrics are not served to this address\n");
        }
        return new Response(options.metrics(), {
          headers: {
            "content-type": "text/plain; version=0.0.4; charset=utf-8",
            "cache-control": "no-store",
          },
        });
      }
      default:
        return new Response("Not Found\n", {
          status: 404,
          headers: { "content-type": "text/plain; charset=utf-8" },
        });
    }
  };
}

/**
 * The public WebSocket URL: `publicUrl` when configured (checked: an absolute `ws:` or `wss:`
 * URL, else `RangeError`), otherwise a function of the request: the scheme and host the client
 * used, and `path`.
 *
 * @example
 * ```ts
 * import { publicWebSocketUrl } from "./web.ts";
 * const url = publicWebSocketUrl(true, "/xmpp-websocket");
 * if (typeof url !== "string") {
 *   console.log(url(new Request("http://chat.example/.well-known/host-meta"))); // "wss://chat.example/xmpp-websocket"
 * }
 * console.log(publicWebSocketUrl(false, "/ws", "wss://chat.example/ws")); // "wss://chat.example/ws"
 * ```
 */
export function publicWebSocketUrl(
  secure: boolean,
  path: string,
  publicUrl?: string,
): string | ((request: Request) => string) {
  if (publicUrl !== undefined && publicUrl !== "") {
    const url = URL.parse(publicUrl);
    if (url === null || (url.protocol !== "ws:" && url.protocol !== "wss:")) {
      throw new RangeError(
        `Invalid public URL '${publicUrl}': expected an absolute ws:// or wss:// URL`,
      );
    }
    return url.href;
  }
  return (request) => {
    const url = new URL(request.url);
    const scheme = secure || url.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${request.headers.get("host") ?? url.host}${path}`;
  };
}

/** A `Host` that is a name or an address with an optional port (nothing else is reflected). */
function validHost(request: Request): boolean {
  const host = request.headers.get("host");
  return host === null ||
    /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/
        .test(host) && host.length <= 260;
}

const READY: HealthReport = { ready: true, status: "ok", draining: false };

async function healthResponse(
  health: WebOptions["health"],
  head: boolean,
): Promise<Response> {
  let report: HealthReport;
  try {
    report = (await health?.()) ?? READY;
  } catch {
    report = { ready: false, status: "upstream-unreachable", draining: false };
  }
  return new Response(head ? null : JSON.stringify(report) + "\n", {
    status: report.ready ? 200 : 503,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}

function text(status: number, body: string): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
  });
}

function cors(): Record<string, string> {
  // XEP-0156 §3: discovery is read by scripts of other origins; it needs no credentials.
  return {
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "GET, HEAD, OPTIONS",
  };
}

function xrd(url: string, headers: Record<string, string>): Response {
  const body = "<?xml version='1.0' encoding='UTF-8'?>\n" +
    "<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>\n" +
    `  <Link rel='${WEBSOCKET_REL}' href='${escapeXml(url)}'/>\n</XRD>\n`;
  return new Response(body, {
    headers: { ...headers, "content-type": "application/xrd+xml; charset=utf-8" },
  });
}

function jrd(url: string, headers: Record<string, string>): Response {
  const body = JSON.stringify({ links: [{ rel: WEBSOCKET_REL, href: url }] }, null, 2) + "\n";
  return new Response(body, { headers: { ...headers, "content-type": "application/json" } });
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/'/g, "&apos;");
}
