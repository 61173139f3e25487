/**
 * Translation between `node:http` and the web-standard `Request`/`Response` the shared handshake
 * helpers (`deno/_handshake.ts`) and fallback handlers speak, plus the client address behind a
 * trusted proxy. No protocol decision is made here.
 *
 * @example
 * ```ts
 * import { peerAddress } from "./_http.ts";
 * console.log(peerAddress("::ffff:127.0.0.1", 5000)); // { hostname: "127.0.0.1", port: 5000 }
 * ```
 * @module
 */

import { type IncomingMessage, type ServerResponse, STATUS_CODES } from "node:http";
import { Buffer } from "node:buffer";
import type { Duplex } from "node:stream";
import type { NetAddress } from "./_types.ts";

/**
 * A socket's peer as `{ hostname, port }`, with IPv4-mapped IPv6 (`::ffff:a.b.c.d`) shown as
 * IPv4, the way Deno reports it.
 *
 * @example
 * ```ts
 * import { peerAddress } from "./_http.ts";
 * console.log(peerAddress("2001:db8::1", 443)); // { hostname: "2001:db8::1", port: 443 }
 * ```
 */
export function peerAddress(address: string | undefined, port: number | undefined): NetAddress {
  const hostname = address ?? "";
  return {
    hostname: /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(hostname) ? hostname.slice(7) : hostname,
    port: port ?? 0,
  };
}

/**
 * The web-standard `Request` for a Node request (the body streams, for methods that have one).
 * Throws `TypeError` when the request cannot be represented (an invalid header or URL).
 *
 * @example
 * ```ts ignore
 * import { toRequest } from "./_http.ts";
 * server.on("request", (req) => console.log(toRequest(req, false).url));
 * ```
 */
export function toRequest(req: IncomingMessage, secure: boolean): Request {
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  }
  const url = new URL(
    req.url ?? "/",
    `${secure ? "https" : "http"}://${req.headers.host ?? "localhost"}`,
  );
  const method = req.method ?? "GET";
  if (method === "GET" || method === "HEAD") return new Request(url, { method, headers });
  return new Request(url, { method, headers, body: bodyOf(req), duplex: "half" } as RequestInit);
}

/**
 * The request body as a web stream that reads only when pulled. Cancelling it (as the server does
 * when a handler left the body unread) discards the rest, so the connection can serve the next
 * request instead of stalling.
 */
function bodyOf(req: IncomingMessage): ReadableStream<Uint8Array> {
  let done = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      req.pause();
      req.on("data", (chunk: Buffer) => {
        if (done) return;
        controller.enqueue(new Uint8Array(chunk));
        if ((controller.desiredSize ?? 0) <= 0) req.pause();
      });
      const finish = (error?: unknown) => {
        if (done) return;
        done = true;
        if (error === undefined) controller.close();
        else controller.error(error);
      };
      req.once("end", () => finish()).once("error", finish);
    },
    pull() {
      req.resume();
    },
    cancel() {
      done = true;
      req.resume(); // discard what is left
    },
  }, { highWaterMark: 1 });
}

/**
 * Sends a `Response` through a Node `ServerResponse`. The body is read whole first and sent with
 * a `content-length` (the endpoint's own answers and fallback resources are small; streaming
 * bodies such as server-sent events are not supported).
 *
 * @example
 * ```ts ignore
 * import { writeResponse } from "./_http.ts";
 * server.on("request", (_req, res) => void writeResponse(res, new Response("hello\n")));
 * ```
 */
export async function writeResponse(res: ServerResponse, response: Response): Promise<void> {
  let body: Uint8Array;
  try {
    body = new Uint8Array(await response.arrayBuffer());
  } catch {
    return void res.destroy(); // the body failed
  }
  const headers = headerRecord(response.headers);
  headers["content-length"] = String(body.length);
  res.writeHead(response.status, headers);
  res.end(body);
}

/**
 * Sends a `Response` on a raw socket (an `upgrade` request that is not upgraded), then closes it.
 *
 * @example
 * ```ts ignore
 * import { writeRawResponse } from "./_http.ts";
 * server.on("upgrade", (_req, socket) => void writeRawResponse(socket, new Response(null, { status: 404 })));
 * ```
 */
export async function writeRawResponse(socket: Duplex, response: Response): Promise<void> {
  socket.on("error", () => {}); // a reset peer: nothing to do
  const body = new Uint8Array(await response.arrayBuffer());
  let head = `HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? ""}\r\n`;
  for (const [name, value] of response.headers) {
    if (!/^(content-length|connection|transfer-encoding)$/i.test(name)) {
      head += `${name}: ${value}\r\n`;
    }
  }
  head += `content-length: ${body.length}\r\nconnection: close\r\n\r\n`;
  socket.end(Buffer.concat([Buffer.from(head, "latin1"), body]), () => socket.destroy());
}

function headerRecord(headers: Headers): Record<string, string | string[]> {
  const record: Record<string, string | string[]> = {};
  for (const [name, value] of headers) {
    const previous = record[name];
    record[name] = previous === undefined
      ? value
      : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return record;
}
