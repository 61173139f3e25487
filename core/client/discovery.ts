/**
 * XEP-0156 discovery of WebSocket endpoints through host-meta (RFC 6415, RFC 7395 §4): the
 * document URLs of a domain, the checks on each HTTP response (HTTPS only, redirects only to
 * HTTPS, status, JRD content type), XRD and JRD parsing, and the choice of endpoints (`wss:`
 * only, unless insecure endpoints are explicitly allowed; never `http:`/`https:`, since this
 * client speaks only RFC 7395). Fetching is the adapter's job; every decision is here.
 *
 * @example
 * ```ts
 * import { parseJrd, websocketEndpoints } from "@xmpp-websocket/xmpp-websocket/client-core";
 * import { assertEquals } from "@std/assert";
 * const links = parseJrd(JSON.stringify({ links: [
 *   { rel: "urn:xmpp:alt-connections:websocket", href: "wss://edge.example.net/ws" },
 *   { rel: "urn:xmpp:alt-connections:websocket", href: "ws://edge.example.net/ws" },
 * ] }));
 * assertEquals(websocketEndpoints(links ?? []), ["wss://edge.example.net/ws"]);
 * ```
 * @module
 */

import { DocumentParser } from "../xml/document_parser.ts";
import { checkEndpoint } from "./endpoint.ts";

/** The link relation of RFC 7395 endpoints (XEP-0156 §2.1). */
export const WEBSOCKET_REL = "urn:xmpp:alt-connections:websocket";

/** The XRD namespace (RFC 6415 §3). */
export const XRD_NS = "http://docs.oasis-open.org/ns/xri/xrd-1.0";

/** The most redirects followed for one host-meta document. */
export const MAX_HOST_META_REDIRECTS = 5;

/** One `Link` of a host-meta document. */
export interface HostMetaLink {
  /** The link relation (`urn:xmpp:alt-connections:websocket` for RFC 7395). */
  readonly rel: string;
  /** The target URL. */
  readonly href: string;
}

/** Which host-meta document. */
export type HostMetaFormat = "xrd" | "jrd";

/**
 * The HTTPS URLs of a domain's host-meta documents (RFC 6415 §2, App. A). Throws `RangeError`
 * when `domain` is not a plain host name (no port, path or user info may be smuggled in).
 *
 * @example
 * ```ts
 * import { hostMetaUrls } from "@xmpp-websocket/xmpp-websocket/client-core";
 * import { assertEquals } from "@std/assert";
 * assertEquals(hostMetaUrls("Example.COM").jrd, "https://example.com/.well-known/host-meta.json");
 * ```
 */
export function hostMetaUrls(domain: string): { readonly xrd: string; readonly jrd: string } {
  const host = domain.trim().toLowerCase().replace(/\.$/, "");
  if (!/^[a-z0-9\u0080-\uffff]([a-z0-9\u0080-\uffff.-]*[a-z0-9\u0080-\uffff])?$/.test(host)) {
    throw new RangeError(`Invalid XMPP domain for discovery: '${domain}'`);
  }
  let origin: string;
  try {
    const url = new URL(`https://${host}/`);
    if (url.port !== "" || url.pathname !== "/") throw new RangeError("not a host");
    origin = url.origin;
  } catch {
    throw new RangeError(`Invalid XMPP domain for discovery: '${domain}'`);
  }
  return {
    xrd: `${origin}/.well-known/host-meta`,
    jrd: `${origin}/.well-known/host-meta.json`,
  };
}

/** The facts of one HTTP response, as the adapter saw them (with redirects not followed). */
export interface HostMetaResponse {
  /** Which document was requested. */
  readonly format: HostMetaFormat;
  /** The URL that was requested. */
  readonly url: string;
  /** The HTTP status code. */
  readonly status: number;
  /** The `Location` header (for a redirect). */
  readonly location?: string | null;
  /** The `Content-Type` header. */
  readonly contentType?: string | null;
  /** The body (read only for a 200). */
  readonly body?: string;
}

/** What to do with a host-meta response. */
export type HostMetaVerdict =
  | { readonly type: "links"; readonly links: readonly HostMetaLink[] }
  | { readonly type: "redirect"; readonly url: string }
  /** 404 or 410: the domain publishes no such document (RFC 6415 §2). */
  | { readonly type: "none" }
  | { readonly type: "refused"; readonly reason: string };

/**
 * Judges one response: only `https:` URLs are ever fetched (XEP-0156 §2.2, RFC 7395 §4), a
 * redirect must lead to `https:` (RFC 6415 says to follow 301, 302 and 307; 303 and 308 are
 * followed too), a JRD must be `application/json` (or `application/jrd+json`) and parse, an
 * XRD must parse as an XRD.
 *
 * @example
 * ```ts
 * import { readHostMeta } from "@xmpp-websocket/xmpp-websocket/client-core";
 * import { assertEquals } from "@std/assert";
 * const verdict = readHostMeta({
 *   format: "xrd", url: "https://example.com/.well-known/host-meta", status: 301,
 *   location: "http://example.com/.well-known/host-meta",
 * });
 * assertEquals(verdict, {
 *   type: "refused",
 *   reason: "redirect to a non-HTTPS URL: http://example.com/.well-known/host-meta",
 * });
 * ```
 */
export function readHostMeta(response: HostMetaResponse): HostMetaVerdict {
  if (!isHttps(response.url)) {
    return { type: "refused", reason: `host-meta must be fetched over HTTPS, not ${response.url}` };
  }
  const { status } = response;
  if ([301, 302, 303, 307, 308].includes(status)) {
    if (!response.location) {
      return { type: "refused", reason: `redirect ${status} without Location` };
    }
    let target: string;
    try {
      target = new URL(response.location, response.url).href;
    } catch {
      return { type: "refused", reason: `invalid redirect Location: ${response.location}` };
    }
    return isHttps(target)
      ? { type: "redirect", url: target }
      : { type: "refused", reason: `redirect to a non-HTTPS URL: ${target}` };
  }
  if (status === 404 || status === 410) return { type: "none" };
  if (status !== 200) return { type: "refused", reason: `HTTP status ${status}` };
  const type = (response.contentType ?? "").split(";", 1)[0]!.trim().toLowerCase();
  const body = response.body ?? "";
  if (response.format === "jrd") {
    if (type !== "application/json" && type !== "application/jrd+json") {
      // RFC 6415 App. A: any other type means the JRD is not supported.
      return { type: "refused", reason: `JRD served as '${type}', not application/json` };
    }
    const links = parseJrd(body);
    return links ? { type: "links", links } : { type: "refused", reason: "invalid JRD" };
  }
  const links = parseXrd(body);
  return links ? { type: "links", links } : { type: "refused", reason: "invalid XRD" };
}

/**
 * The links of a JRD (RFC 6415 App. A); `undefined` when it is not a JSON object. Links
 * without a string `rel` and `href` are skipped.
 *
 * @example
 * ```ts
 * import { parseJrd } from "@xmpp-websocket/xmpp-websocket/client-core";
 * import { assertEquals } from "@std/assert";
 * assertEquals(parseJrd('{"links":[{"rel":"a","href":"wss://x/"},{"rel":"b"}]}'), [{ rel: "a", href: "wss://x/" }]);
 * assertEquals(parseJrd("[]"), undefined);
 * ```
 */
export function parseJrd(text: string): readonly HostMetaLink[] | undefined {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    return undefined;
  }
  const links = (document as { links?: unknown }).links;
  if (!Array.isArray(links)) return [];
  const out: HostMetaLink[] = [];
  for (const link of links) {
    if (typeof link !== "object" || link === null) continue;
    const { rel, href } = link as { rel?: unknown; href?: unknown };
    if (typeof rel === "string" && typeof href === "string") out.push({ rel, href });
  }
  return out;
}

/**
 * The links of an XRD (RFC 6415 §3); `undefined` when it is not an XRD. The document is
 * parsed with the core's restricted parser (no DTD, no entity beyond the predefined ones,
 * bounded sizes); comments, a byte order mark and the XML declaration are tolerated.
 *
 * @example
 * ```ts
 * import { parseXrd } from "@xmpp-websocket/xmpp-websocket/client-core";
 * import { assertEquals } from "@std/assert";
 * const xrd = `<?xml version='1.0' encoding='UTF-8'?>
 * <XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>
 *   <Link rel='urn:xmpp:alt-connections:websocket' href='wss://example.com/ws'/>
 * </XRD>`;
 * assertEquals(parseXrd(xrd), [{ rel: "urn:xmpp:alt-connections:websocket", href: "wss://example.com/ws" }]);
 * ```
 */
export function parseXrd(text: string): readonly HostMetaLink[] | undefined {
  const cleaned = text
    .replace(/^\uFEFF/, "")
    .replace(/^\s*<\?xml[^>]*\?>/, "")
    .replace(/<!--[\s\S]*?-->/g, "")
    .trim();
  const result = new DocumentParser({ maxBytes: 1_048_576 }).parse(cleaned);
  if (!result.ok || result.element.name !== "XRD" || result.element.ns !== XRD_NS) {
    return undefined;
  }
  const out: HostMetaLink[] = [];
  for (const child of result.element.children) {
    if (typeof child === "string" || child.name !== "Link" || child.ns !== XRD_NS) continue;
    const { rel, href } = child.attrs;
    if (rel !== undefined && href !== undefined) out.push({ rel, href });
  }
  return out;
}

/**
 * The WebSocket endpoints among host-meta links, normalised and without duplicates, in
 * document order: `wss:` only, or also `ws:` when `allowInsecure` is set. Discovery never
 * yields `ws:` otherwise, not even on loopback (RFC 7395 §4, XEP-0156 §2.2).
 *
 * @example
 * ```ts
 * import { websocketEndpoints } from "@xmpp-websocket/xmpp-websocket/client-core";
 * import { assertEquals } from "@std/assert";
 * const rel = "urn:xmpp:alt-connections:websocket";
 * const links = [{ rel, href: "ws://127.0.0.1/ws" }, { rel, href: "wss://a/ws" }, { rel, href: "wss://a/ws" }];
 * assertEquals(websocketEndpoints(links), ["wss://a/ws"]);
 * assertEquals(websocketEndpoints(links, { allowInsecure: true }), ["ws://127.0.0.1/ws", "wss://a/ws"]);
 * ```
 */
export function websocketEndpoints(
  links: readonly HostMetaLink[],
  options: { readonly allowInsecure?: boolean } = {},
): string[] {
  const out: string[] = [];
  for (const link of links) {
    if (link.rel !== WEBSOCKET_REL) continue;
    const check = checkEndpoint(link.href.trim(), {
      allowInsecure: options.allowInsecure ?? false,
      allowLoopback: false,
    });
    if (check.ok && !out.includes(check.url)) out.push(check.url);
  }
  return out;
}

function isHttps(url: string): boolean {
  try {
    return new URL(url).protocol === "https:";
  } catch {
    return false;
  }
}
