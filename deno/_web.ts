/**
 * The gateway's plain HTTP resources: XEP-0156 discovery (`/.well-known/host-meta` and
 * `/.well-known/host-meta.json`, with CORS), `/healthz` and `/metrics`.
 *
 * @example
 * ```ts
 * import { webHandler } from "./_web.ts";
 * const handle = webHandler({ websocketUrl: () => "wss://example.com/xmpp-websocket", metrics: () => "" });
 * const response = handle(new Request("http://example.com/.well-known/host-meta.json"));
 * console.log(response.status, response.headers.get("access-control-allow-origin")); // 200 "*"
 * ```
 * @module
 */

import { accepts } from "@std/http/negotiation";
import { STATUS_CODE } from "@std/http/status";
import { WEBSOCKET_REL } from "../core/client/discovery.ts";

/** What the handler needs to know. */
export interface WebOptions {
  /** The public WebSocket URL for a request (scheme and host as the client reached us). */
  readonly websocketUrl: (request: Request) => string;
  /** The Prometheus text. */
  readonly metrics: () => string;
  /** Whether the service is healthy (default: always). */
  readonly healthy?: () => boolean;
}

/**
 * Returns a request handler for the resources above (404 for anything else).
 *
 * @example
 * ```ts
 * import { webHandler } from "./_web.ts";
 * const handle = webHandler({ websocketUrl: () => "ws://localhost:5280/xmpp-websocket", metrics: () => "m 1\n" });
 * console.log(handle(new Request("http://localhost/healthz")).status); // 200
 * ```
 */
export function webHandler(options: WebOptions): (request: Request) => Response {
  return (request) => {
    const path = new URL(request.url).pathname;
    if (request.method === "OPTIONS" && path.startsWith("/.well-known/host-meta")) {
      return new Response(null, { status: STATUS_CODE.NoContent, headers: cors() });
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("Method Not Allowed\n", {
        status: STATUS_CODE.MethodNotAllowed,
        headers: { allow: "GET, HEAD" },
      });
    }
    switch (path) {
      case "/.well-known/host-meta": {
        // RFC 6415 §3: the XRD unless JSON is asked for.
        const wantsJson =
          accepts(request, "application/xrd+xml", "application/json") === "application/json";
        return wantsJson
          ? jrd(options.websocketUrl(request), true)
          : xrd(options.websocketUrl(request));
      }
      case "/.well-known/host-meta.json":
        return jrd(options.websocketUrl(request), false);
      case "/healthz": {
        const ok = options.healthy?.() ?? true;
        return new Response(ok ? "ok\n" : "unhealthy\n", {
          status: ok ? STATUS_CODE.OK : STATUS_CODE.ServiceUnavailable,
          headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
        });
      }
      case "/metrics":
        return new Response(options.metrics(), {
          headers: {
            "content-type": "text/plain; version=0.0.4; charset=utf-8",
            "cache-control": "no-store",
          },
        });
      default:
        return new Response("Not Found\n", {
          status: STATUS_CODE.NotFound,
          headers: { "content-type": "text/plain; charset=utf-8" },
        });
    }
  };
}

/**
 * The public WebSocket URL for a request: the scheme and host the client used, and `path`.
 *
 * @example
 * ```ts
 * import { publicWebSocketUrl } from "./_web.ts";
 * const url = publicWebSocketUrl(true, "/xmpp-websocket");
 * console.log(url(new Request("http://chat.example/.well-known/host-meta"))); // "wss://chat.example/xmpp-websocket"
 * ```
 */
export function publicWebSocketUrl(secure: boolean, path: string): (request: Request) => string {
  return (request) => {
    const url = new URL(request.url);
    const scheme = secure || url.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${request.headers.get("host") ?? url.host}${path}`;
  };
}

function cors(): Record<string, string> {
  // XEP-0156 §3: discovery is read by scripts of other origins; it needs no credentials.
  return {
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "GET, HEAD, OPTIONS",
  };
}

function xrd(url: string): Response {
  const body = "<?xml version='1.0' encoding='UTF-8'?>\n" +
    "<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>\n" +
    `  <Link rel='${WEBSOCKET_REL}' href='${escapeXml(url)}'/>\n</XRD>\n`;
  return new Response(body, {
    headers: {
      ...cors(),
      "content-type": "application/xrd+xml; charset=utf-8",
      "cache-control": "max-age=3600",
      vary: "Accept",
    },
  });
}

function jrd(url: string, negotiated: boolean): Response {
  const body = JSON.stringify({ links: [{ rel: WEBSOCKET_REL, href: url }] }, null, 2) + "\n";
  return new Response(body, {
    headers: {
      ...cors(),
      "content-type": "application/json",
      "cache-control": "max-age=3600",
      ...(negotiated ? { vary: "Accept" } : {}),
    },
  });
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/'/g, "&apos;");
}
