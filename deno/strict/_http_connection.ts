/**
 * One accepted TCP (or TLS) connection of the strict layer: HTTP/1.1 requests in turn (kept
 * alive), each answered by the route, until one is upgraded to a {@link StrictWebSocket} or the
 * connection ends. The time to receive a request is bounded (`headerTimeoutMs`, against
 * slowloris). Private to the strict WebSocket layer.
 *
 * @module
 */

import { fieldValue, type HttpRequestHead, switchingProtocolsHead } from "../../core/mod.ts";
import { readRequest, type RequestLimits, toWebRequest } from "./_http_request.ts";
import { writeResponse } from "./_http_response.ts";
import { ByteWriter } from "./_writer.ts";
import { type StrictSocketOptions, StrictWebSocket } from "./socket.ts";

/** An upgrade accepted by the route: the subprotocol, and who drives the socket. */
export interface StrictUpgrade {
  readonly protocol: string;
  /** Called with the socket before it opens (set its handlers here). */
  readonly adopt: (socket: WebSocket) => void;
  /** Called instead of `adopt` when the upgrade could not be completed (the 101 failed). */
  readonly abandon?: () => void;
}

/** The route's answer to a request. */
export type Routed = Response | StrictUpgrade;

/** What a request is routed with. */
export interface StrictRequestInfo extends Deno.ServeHandlerInfo<Deno.NetAddr> {
  /** The request's HTTP version (Deno.serve does not tell it). */
  readonly httpVersion: "1.0" | "1.1";
}

/** What every connection shares. */
export interface ConnectionContext {
  readonly scheme: "http" | "https";
  readonly limits: RequestLimits;
  readonly headerTimeoutMs: number;
  readonly socket: Omit<StrictSocketOptions, "protocol">;
  readonly route: (request: Request, info: StrictRequestInfo) => Routed | Promise<Routed>;
  /** Whether to stop keeping connections alive (shutting down). */
  readonly stopping: () => boolean;
}

/** The state the listener needs for a shutdown: close the connection when it is idle. */
export interface ConnectionHandle {
  /** Waiting for (the first byte of) a request, not yet upgraded. */
  idle: boolean;
  readonly conn: Deno.Conn;
}

const encoder = new TextEncoder();

/**
 * Serves one connection until it ends, or until it is upgraded: then it returns the open
 * socket's run (started outside this function, so that nothing of the HTTP exchange stays
 * referenced for the socket's lifetime).
 */
export async function serveConnection(
  handle: ConnectionHandle,
  context: ConnectionContext,
): Promise<(() => Promise<void>) | undefined> {
  const conn = handle.conn;
  const writer = new ByteWriter(conn, () => closeQuietly(conn));
  let pending: Uint8Array = new Uint8Array(0);
  let upgraded = false;
  try {
    for (;;) {
      handle.idle = pending.length === 0;
      if (handle.idle && context.stopping()) return undefined;
      const timer = setTimeout(() => closeQuietly(conn), context.headerTimeoutMs);
      const read = await readRequest(conn, pending, context.limits).finally(() =>
        clearTimeout(timer)
      );
      handle.idle = false;
      if (read.kind === "end") return undefined;
      if (read.kind === "refused") return void await refuse(writer, read.status, read.text);
      const request = toWebRequest(read.head, read.body, context.scheme);
      if (!(request instanceof Request)) {
        return void await refuse(writer, request.status, request.text);
      }
      let done: () => void = () => {};
      const info: StrictRequestInfo = {
        remoteAddr: conn.remoteAddr as Deno.NetAddr,
        completed: new Promise<void>((resolve) => done = resolve),
        httpVersion: read.head.version,
      };
      let routed: Routed;
      try {
        routed = await context.route(request, info);
      } catch (error) {
        console.error("xmpp-websocket: request handler failed:", error);
        routed = new Response("Internal Server Error\n", { status: 500 });
      }
      if (!(routed instanceof Response)) {
        done();
        const run = await upgrade(conn, writer, read.head, routed, read.leftover, context);
        if (run) upgraded = true;
        return run;
      }
      const keepAlive = read.head.version === "1.1" && !context.stopping() &&
        !hasToken(fieldValue(read.head, "connection"), "close");
      await writeResponse(writer, routed, { keepAlive, headOnly: request.method === "HEAD" });
      done();
      if (!keepAlive || writer.failed) return undefined;
      pending = read.leftover;
    }
  } catch {
    // A failed response body or a reset: nothing more to say on this connection.
  } finally {
    if (!upgraded) closeQuietly(conn);
  }
  return undefined;
}

/** Answers 101 and hands the socket over; returns its run, or nothing if the write failed. */
async function upgrade(
  conn: Deno.Conn,
  writer: ByteWriter,
  head: HttpRequestHead,
  accepted: StrictUpgrade,
  leftover: Uint8Array,
  context: ConnectionContext,
): Promise<(() => Promise<void>) | undefined> {
  const key = fieldValue(head, "sec-websocket-key") ?? "";
  const protocol = accepted.protocol === "" ? undefined : accepted.protocol;
  writer.write(encoder.encode(switchingProtocolsHead(key, protocol)));
  await writer.idle();
  if (writer.failed) {
    accepted.abandon?.();
    return undefined;
  }
  const socket = new StrictWebSocket(conn, writer, {
    ...context.socket,
    protocol: accepted.protocol,
  });
  accepted.adopt(socket as unknown as WebSocket);
  return () => socket.run(leftover);
}

async function refuse(writer: ByteWriter, status: number, text: string): Promise<void> {
  const response = new Response(`${text}\n`, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
  });
  await writeResponse(writer, response, { keepAlive: false, headOnly: false });
}

function hasToken(value: string | null, token: string): boolean {
  return (value ?? "").split(",").some((t) => t.trim().toLowerCase() === token);
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}
