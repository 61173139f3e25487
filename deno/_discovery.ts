/**
 * XEP-0156 discovery over `fetch` (private to the client): the JRD and the XRD of a domain are
 * fetched in parallel, over HTTPS only, following redirects by hand so that every hop is
 * checked (in a browser, where redirects cannot be seen, the final URL is checked). Every
 * decision (URLs, redirects, statuses, parsing, endpoint choice, cache lifetime) is the
 * core's (`core/client/discovery.ts`, `core/client/http_cache.ts`). Only web APIs are used.
 *
 * @example
 * ```ts ignore
 * import { discoverEndpoints } from "./_discovery.ts";
 * console.log(await discoverEndpoints("example.com")); // ["wss://example.com/xmpp-websocket"]
 * ```
 * @module
 */

import {
  freshnessLifetime,
  type HostMetaFormat,
  type HostMetaLink,
  hostMetaUrls,
  MAX_HOST_META_REDIRECTS,
  readHostMeta,
  websocketEndpoints,
} from "../core/client/mod.ts";

/** The `fetch` to use (inject one with a custom CA, a proxy, or a mock). */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** Options of {@link discoverEndpoints}. */
export interface DiscoveryOptions {
  /** Default: the global `fetch`. */
  readonly fetch?: FetchLike;
  /** Keep `ws:` links too (default false: `wss:` only). */
  readonly allowInsecure?: boolean;
  /** Where results are kept for as long as the HTTP caching headers allow. */
  readonly cache?: DiscoveryCache;
  /** Timeout of each request, in ms (default 10 000). */
  readonly timeoutMs?: number;
}

/** Discovery found no usable endpoint. */
export class DiscoveryError extends Error {
  /** The domain looked up. */
  readonly domain: string;
  /** What went wrong with each document. */
  readonly reasons: readonly string[];

  /** An error about `domain`, with one reason per document. */
  constructor(domain: string, reasons: readonly string[]) {
    super(`No usable XMPP WebSocket endpoint for ${domain}: ${reasons.join("; ")}`);
    this.name = "DiscoveryError";
    this.domain = domain;
    this.reasons = reasons;
  }
}

/**
 * Discovery results by domain, each kept until its HTTP freshness lifetime ends (wall clock).
 *
 * @example
 * ```ts
 * import { DiscoveryCache } from "./_discovery.ts";
 * const cache = new DiscoveryCache();
 * cache.set("example.com", ["wss://example.com/ws"], Date.now() + 60_000);
 * console.log(cache.get("example.com")); // ["wss://example.com/ws"]
 * ```
 */
export class DiscoveryCache {
  readonly #entries = new Map<string, { endpoints: readonly string[]; expiresAt: number }>();

  /** The fresh endpoints of `key`, if any. */
  get(key: string, now: number = Date.now()): readonly string[] | undefined {
    const entry = this.#entries.get(key);
    if (entry && entry.expiresAt > now) return entry.endpoints;
    this.#entries.delete(key);
    return undefined;
  }

  /** Keeps `endpoints` until `expiresAt` (ignored when already past). */
  set(key: string, endpoints: readonly string[], expiresAt: number): void {
    if (expiresAt > Date.now()) this.#entries.set(key, { endpoints, expiresAt });
  }
}

type Fetched =
  | { readonly ok: true; readonly links: readonly HostMetaLink[]; readonly lifetime: number }
  | { readonly ok: false; readonly reason: string };

/**
 * The WebSocket endpoints of `domain`, from its host-meta documents (JRD and XRD fetched in
 * parallel, links of both kept). Throws {@link DiscoveryError} when none is usable, and
 * `RangeError` when `domain` is not a host name.
 */
export async function discoverEndpoints(
  domain: string,
  options: DiscoveryOptions = {},
): Promise<readonly string[]> {
  const urls = hostMetaUrls(domain);
  const allowInsecure = options.allowInsecure ?? false;
  const key = `${new URL(urls.xrd).host}|${allowInsecure}`;
  const cached = options.cache?.get(key);
  if (cached) return cached;
  const results = await Promise.all([
    fetchHostMeta(urls.jrd, "jrd", options),
    fetchHostMeta(urls.xrd, "xrd", options),
  ]);
  const links: HostMetaLink[] = [];
  const reasons: string[] = [];
  let lifetime = Infinity;
  for (const [i, result] of results.entries()) {
    if (result.ok) {
      links.push(...result.links);
      lifetime = Math.min(lifetime, result.lifetime);
    } else reasons.push(`${i === 0 ? "JRD" : "XRD"}: ${result.reason}`);
  }
  const endpoints = websocketEndpoints(links, { allowInsecure });
  if (endpoints.length === 0) {
    if (links.length > 0) {
      reasons.push(
        `no ${
          allowInsecure ? "ws: or wss:" : "wss:"
        } link with rel urn:xmpp:alt-connections:websocket`,
      );
    }
    throw new DiscoveryError(domain, reasons);
  }
  if (Number.isFinite(lifetime) && lifetime > 0) {
    options.cache?.set(key, endpoints, Date.now() + lifetime);
  }
  return endpoints;
}

async function fetchHostMeta(
  start: string,
  format: HostMetaFormat,
  options: DiscoveryOptions,
): Promise<Fetched> {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const accept = format === "jrd" ? "application/json" : "application/xrd+xml";
  let url = start;
  for (let hop = 0; hop <= MAX_HOST_META_REDIRECTS; hop++) {
    let response: Response;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), options.timeoutMs ?? 10_000);
    try {
      response = await doFetch(url, {
        headers: { accept },
        redirect: "manual",
        signal: abort.signal,
      });
      if (response.type === "opaqueredirect") {
        // A browser hides redirects: let it follow them, then check where it ended.
        await response.body?.cancel();
        response = await doFetch(url, { headers: { accept }, signal: abort.signal });
      }
      const status = response.status;
      const body = status === 200 ? await response.text() : (await response.body?.cancel(), "");
      const verdict = readHostMeta({
        format,
        url: response.redirected && response.url ? response.url : url,
        status,
        location: response.headers.get("location"),
        contentType: response.headers.get("content-type"),
        body,
      });
      switch (verdict.type) {
        case "redirect":
          url = verdict.url;
          continue;
        case "links":
          return {
            ok: true,
            links: verdict.links,
            lifetime: freshnessLifetime({
              cacheControl: response.headers.get("cache-control"),
              expires: response.headers.get("expires"),
              date: response.headers.get("date"),
              age: response.headers.get("age"),
            }, Date.now()),
          };
        case "none":
          return { ok: false, reason: `${url}: not found` };
        case "refused":
          return { ok: false, reason: `${url}: ${verdict.reason}` };
      }
    } catch (error) {
      return { ok: false, reason: `${url}: ${error instanceof Error ? error.message : error}` };
    } finally {
      clearTimeout(timer);
    }
  }
  return { ok: false, reason: `${start}: more than ${MAX_HOST_META_REDIRECTS} redirects` };
}
