/**
 * Reads one HTTP/1.x request from a connection with the core's head reader (limits counted as
 * bytes arrive), then its `Content-Length` body (bounded), and makes a web `Request` of it.
 * Private to the strict WebSocket layer.
 *
 * @example
 * ```ts ignore
 * import { readRequest } from "./_http_request.ts";
 * const read = await readRequest(conn, new Uint8Array(), limits);
 * ```
 * @module
 */

import {
  fieldValue,
  type HttpHeadLimits,
  type HttpRequestHead,
  RequestHeadReader,
} from "../../core/mod.ts";

/** The request limits. */
export interface RequestLimits {
  readonly head: HttpHeadLimits;
  /** The largest request body (413 beyond). */
  readonly maxBodyBytes: number;
}

/** A request, a refusal to answer before closing, or the end of the connection. */
export type RequestRead =
  | {
    readonly kind: "request";
    readonly head: HttpRequestHead;
    readonly body: Uint8Array | null;
    /** Bytes read past the request (the next request, or WebSocket frames). */
    readonly leftover: Uint8Array;
  }
  | { readonly kind: "refused"; readonly status: number; readonly text: string }
  | { readonly kind: "end" };

const READ_CHUNK = 4_096;

/** Reads the next request; `pending` holds bytes already read past the previous one. */
export async function readRequest(
  conn: Deno.Conn,
  pending: Uint8Array,
  limits: RequestLimits,
): Promise<RequestRead> {
  const reader = new RequestHeadReader(limits.head);
  let read = pending.length > 0 ? reader.push(pending) : { kind: "incomplete" as const };
  const buffer = new Uint8Array(READ_CHUNK);
  while (read.kind === "incomplete") {
    const n = await readSome(conn, buffer);
    if (n === null) return { kind: "end" };
    read = reader.push(buffer.subarray(0, n));
  }
  if (read.kind === "error") return { kind: "refused", status: read.status, text: read.text };
  const { head } = read;
  if (fieldValue(head, "transfer-encoding") !== null) {
    return {
      kind: "refused",
      status: 501,
      text: "Not Implemented: request bodies need Content-Length",
    };
  }
  const declared = fieldValue(head, "content-length");
  if (declared !== null && !/^\d{1,15}$/.test(declared)) {
    return { kind: "refused", status: 400, text: "Bad Request: invalid Content-Length" };
  }
  const length = declared === null ? 0 : Number(declared);
  if (length > limits.maxBodyBytes) {
    return { kind: "refused", status: 413, text: "Content Too Large" };
  }
  const rest = read.rest;
  const body = declared === null ? null : new Uint8Array(length);
  if (rest.length >= length) {
    body?.set(rest.subarray(0, length));
    return { kind: "request", head, body, leftover: rest.slice(length) };
  }
  body!.set(rest);
  let leftover = new Uint8Array(0);
  for (let filled = rest.length; filled < length;) {
    const n = await readSome(conn, buffer);
    if (n === null) return { kind: "end" };
    const take = Math.min(n, length - filled);
    body!.set(buffer.subarray(0, take), filled);
    filled += take;
    if (take < n) leftover = buffer.slice(take, n);
  }
  return { kind: "request", head, body, leftover };
}

/** A read that ends the connection quietly on errors (reset, closed by a timeout). */
async function readSome(conn: Deno.Conn, buffer: Uint8Array): Promise<number | null> {
  try {
    return await conn.read(buffer);
  } catch {
    return null;
  }
}

/**
 * The web `Request` for a head and body, or the refusal (400) when it cannot be one: an
 * HTTP/1.1 request without exactly one `Host`, a target that is neither a path nor an absolute
 * URL, or a method the web platform forbids.
 */
export function toWebRequest(
  head: HttpRequestHead,
  body: Uint8Array | null,
  scheme: "http" | "https",
): Request | { readonly status: 400; readonly text: string } {
  const host = fieldValue(head, "host");
  if (host === null ? head.version === "1.1" : host.includes(",")) {
    return { status: 400, text: "Bad Request: exactly one Host header is required" };
  }
  let url: string;
  if (head.target.startsWith("/")) url = `${scheme}://${host ?? "localhost"}${head.target}`;
  else if (/^https?:\/\//i.test(head.target)) url = head.target;
  else return { status: 400, text: "Bad Request: unsupported request target" };
  try {
    const withBody = body !== null && head.method !== "GET" && head.method !== "HEAD";
    return new Request(url, {
      method: head.method,
      headers: head.fields as [string, string][],
      ...(withBody ? { body: body as Uint8Array<ArrayBuffer> } : {}),
    });
  } catch {
    return { status: 400, text: "Bad Request" };
  }
}
