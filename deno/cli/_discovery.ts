/**
 * XEP-0156 discovery for the command-line tools: fetches `/.well-known/host-meta` (XRD) and
 * `/.well-known/host-meta.json` (JRD) of an origin in parallel and reads their
 * `urn:xmpp:alt-connections:websocket` links, keeping what a report needs (status, content
 * type, CORS header).
 *
 * @example
 * ```ts ignore
 * import { discover } from "./_discovery.ts";
 * const { candidates } = await discover("https://example.com", 3_000);
 * console.log(candidates); // ["wss://example.com/xmpp-websocket"]
 * ```
 * @module
 */

import { type HostMetaLink, parseJrd, parseXrd, WEBSOCKET_REL } from "../../core/mod.ts";

/** What one host-meta document said. */
export interface HostMetaDocument {
  readonly url: string;
  /** HTTP status; undefined when the request failed (see `error`). */
  readonly status: number | undefined;
  readonly error?: string;
  readonly contentType?: string;
  /** `Access-Control-Allow-Origin` (XEP-0156 §3). */
  readonly cors?: string;
  /** WebSocket link targets, in document order. */
  readonly websocketLinks: readonly string[];
  /** Why a 200 document could not be read. */
  readonly problem?: string;
}

const MAX_DOCUMENT = 64 * 1024;

/**
 * Fetches both documents of `origin` (`https://host[:port]`) and lists the WebSocket targets
 * found, without duplicates; `caCerts` replaces the system CA store. Never rejects.
 */
export async function discover(
  origin: string,
  timeoutMs: number,
  caCerts?: readonly string[],
): Promise<{ xrd: HostMetaDocument; jrd: HostMetaDocument; candidates: string[] }> {
  const client = caCerts ? Deno.createHttpClient({ caCerts: [...caCerts] }) : undefined;
  let xrd: HostMetaDocument;
  let jrd: HostMetaDocument;
  try {
    [xrd, jrd] = await Promise.all([
      fetchHostMeta(`${origin}/.well-known/host-meta`, "xrd", timeoutMs, client),
      fetchHostMeta(`${origin}/.well-known/host-meta.json`, "jrd", timeoutMs, client),
    ]);
  } finally {
    client?.close();
  }
  const candidates = [...new Set([...jrd.websocketLinks, ...xrd.websocketLinks])];
  return { xrd, jrd, candidates };
}

/** Fetches and reads one document; `kind` says which format to expect. Never rejects. */
export async function fetchHostMeta(
  url: string,
  kind: "xrd" | "jrd",
  timeoutMs: number,
  client?: Deno.HttpClient,
): Promise<HostMetaDocument> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetch(url, {
      signal: controller.signal,
      ...(client ? { client } : {}),
      headers: { accept: kind === "jrd" ? "application/json" : "application/xrd+xml" },
    });
    const body = await readLimited(response);
    const contentType = response.headers.get("content-type") ?? undefined;
    const cors = response.headers.get("access-control-allow-origin") ?? undefined;
    const base = {
      url,
      status: response.status,
      ...(contentType !== undefined ? { contentType } : {}),
      ...(cors !== undefined ? { cors } : {}),
    };
    if (response.status !== 200) return { ...base, websocketLinks: [] };
    const read = kind === "jrd" ? readJrd(body) : readXrd(body);
    return { ...base, ...read };
  } catch (error) {
    const text = controller.signal.aborted
      ? `no answer within ${timeoutMs} ms`
      : error instanceof Error
      ? error.message
      : String(error);
    return { url, status: undefined, error: text, websocketLinks: [] };
  } finally {
    clearTimeout(timer);
  }
}

async function readLimited(response: Response): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
      if (size > MAX_DOCUMENT) break;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return new TextDecoder().decode(bytes.subarray(0, MAX_DOCUMENT));
}

/**
 * The WebSocket links of an XRD document (parsed by the core's discovery module).
 *
 * @example
 * ```ts
 * import { readXrd } from "./_discovery.ts";
 * const xrd = "<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'><Link rel='urn:xmpp:alt-connections:websocket' href='wss://a/ws'/></XRD>";
 * console.log(readXrd(xrd).websocketLinks); // ["wss://a/ws"]
 * ```
 */
export function readXrd(text: string): { websocketLinks: string[]; problem?: string } {
  return websocketLinksOf(parseXrd(text.trim()), "not an XRD document");
}

/**
 * The WebSocket links of a JRD document (parsed by the core's discovery module).
 *
 * @example
 * ```ts
 * import { readJrd } from "./_discovery.ts";
 * const jrd = '{"links":[{"rel":"urn:xmpp:alt-connections:websocket","href":"wss://a/ws"}]}';
 * console.log(readJrd(jrd).websocketLinks); // ["wss://a/ws"]
 * ```
 */
export function readJrd(text: string): { websocketLinks: string[]; problem?: string } {
  return websocketLinksOf(parseJrd(text), 'not a JRD document with a "links" array');
}

function websocketLinksOf(
  links: readonly HostMetaLink[] | undefined,
  problem: string,
): { websocketLinks: string[]; problem?: string } {
  if (links === undefined) return { websocketLinks: [], problem };
  return { websocketLinks: links.filter((l) => l.rel === WEBSOCKET_REL).map((l) => l.href) };
}
