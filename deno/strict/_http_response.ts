/**
 * Writes a web `Response` as HTTP/1.1: the status line, its headers (minus the ones that frame
 * the message, which are ours to set), then the body with `Content-Length` when it ends within
 * the first 64 KiB, else `Transfer-Encoding: chunked`. Private to the strict WebSocket layer.
 *
 * @example
 * ```ts ignore
 * import { writeResponse } from "./_http_response.ts";
 * await writeResponse(writer, new Response("ok\n"), { keepAlive: true, headOnly: false });
 * ```
 * @module
 */

import { STATUS_TEXT } from "@std/http/status";
import type { ByteWriter } from "./_writer.ts";

const encoder = new TextEncoder();
const FRAMING = new Set(["connection", "content-length", "keep-alive", "transfer-encoding"]);
const SMALL_BODY = 65_536;

/** How to frame the answer. */
export interface ResponseFraming {
  /** Whether the connection stays open for another request. */
  readonly keepAlive: boolean;
  /** A HEAD request: headers only. */
  readonly headOnly: boolean;
}

/** Writes `response` and resolves once it is written (or the connection failed). */
export async function writeResponse(
  writer: ByteWriter,
  response: Response,
  framing: ResponseFraming,
): Promise<void> {
  const status = response.status;
  const reason = response.statusText ||
    (STATUS_TEXT as Record<number, string | undefined>)[status] || "";
  let head = `HTTP/1.1 ${status} ${reason}\r\n`;
  for (const [name, value] of response.headers) {
    if (!FRAMING.has(name)) head += `${name}: ${value}\r\n`;
  }
  head += `connection: ${framing.keepAlive ? "keep-alive" : "close"}\r\n`;
  const bodiless = framing.headOnly || status === 204 || status === 304 || status < 200;
  if (response.body === null || bodiless) {
    await response.body?.cancel().catch(() => {});
    if (status >= 200 && status !== 204 && status !== 304 && !framing.headOnly) {
      head += "content-length: 0\r\n";
    }
    writer.write(encoder.encode(head + "\r\n"));
    return await writer.idle();
  }
  const reader = response.body.getReader();
  try {
    const start: Uint8Array[] = [];
    let size = 0;
    let ended = false;
    while (size <= SMALL_BODY) {
      const { done, value } = await reader.read();
      if (done) {
        ended = true;
        break;
      }
      start.push(value);
      size += value.length;
    }
    if (ended) {
      writer.write(encoder.encode(`${head}content-length: ${size}\r\n\r\n`));
      for (const chunk of start) writer.write(chunk);
      return await writer.idle();
    }
    writer.write(encoder.encode(`${head}transfer-encoding: chunked\r\n\r\n`));
    for (const chunk of start) writeChunk(writer, chunk);
    for (;;) {
      await writer.idle(); // backpressure: one chunk in flight
      if (writer.failed) return void await reader.cancel().catch(() => {});
      const { done, value } = await reader.read();
      if (done) break;
      writeChunk(writer, value);
    }
    writer.write(encoder.encode("0\r\n\r\n"));
    await writer.idle();
  } finally {
    reader.releaseLock();
  }
}

function writeChunk(writer: ByteWriter, chunk: Uint8Array): void {
  if (chunk.length === 0) return;
  writer.write(encoder.encode(`${chunk.length.toString(16)}\r\n`));
  writer.write(chunk);
  writer.write(encoder.encode("\r\n"));
}
