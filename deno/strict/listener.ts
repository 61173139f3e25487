/**
 * The strict WebSocket layer's server: `Deno.listen` (or `Deno.listenTls` with a certificate)
 * and one {@link serveConnection} per accepted connection. It keeps the connections so that a
 * shutdown stops accepting, closes idle ones, and resolves `finished` once every connection
 * (upgraded ones included) is closed.
 *
 * @example
 * ```ts
 * import { serveStrict } from "./listener.ts";
 * const server = serveStrict({
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   route: () => new Response("hello\n"),
 * });
 * const response = await fetch(`http://127.0.0.1:${server.addr.port}/`);
 * console.log(await response.text()); // "hello\n"
 * await server.shutdown();
 * ```
 * @module
 */

import { DEFAULT_HTTP_HEAD_LIMITS, DEFAULT_XML_LIMITS } from "../../core/mod.ts";
import {
  type ConnectionContext,
  type ConnectionHandle,
  type Routed,
  serveConnection,
  type StrictRequestInfo,
} from "./_http_connection.ts";

export type { Routed, StrictRequestInfo, StrictUpgrade } from "./_http_connection.ts";

/** Limits and timeouts of the strict WebSocket layer (every one has a default). */
export interface StrictLayerOptions {
  /** Time to receive a request's head and body, ms (default 10 000; slowloris). */
  readonly headerTimeoutMs?: number;
  /** The largest request head, bytes (default 16 384; 431 beyond). */
  readonly maxHeaderBytes?: number;
  /** The most header fields in a request (default 100; 431 beyond). */
  readonly maxHeaderCount?: number;
  /** The largest request body for other paths, bytes (default 1 MiB; 413 beyond). */
  readonly maxBodyBytes?: number;
  /**
   * How long a Close frame we sent waits for the client's before TCP is closed, ms (default:
   * `session.closeTimeoutMs`, else 5 000; RFC 6455 §7.1.1, digest #29).
   */
  readonly closeTimeoutMs?: number;
}

/** Options of {@link serveStrict}. */
export interface StrictServeOptions extends StrictLayerOptions {
  readonly hostname?: string;
  readonly port: number;
  readonly cert?: string;
  readonly key?: string;
  /** The largest WebSocket message, bytes (default: the XML default, 262 144). */
  readonly maxMessageBytes?: number;
  /** Keepalive Ping after this much silence, ms (default 0: off). */
  readonly pingIntervalMs?: number;
  readonly onListen?: (addr: Deno.NetAddr) => void;
  /** Answers each request: a response, or an accepted upgrade. */
  readonly route: (request: Request, info: StrictRequestInfo) => Routed | Promise<Routed>;
}

/** A running strict server. */
export interface StrictServer {
  readonly addr: Deno.NetAddr;
  /** Resolves once the listener is closed and every connection has ended. */
  readonly finished: Promise<void>;
  /** Stops accepting, closes idle connections, and resolves like `finished`. */
  shutdown(): Promise<void>;
  /**
   * Serves new connections with another certificate (TLS only): the listener is closed and
   * opened again on the same address with it; connections already accepted go on with theirs.
   * The PEM pair is checked first: on an error (a rejection) the old listener keeps serving.
   * Between the two listeners, for as long as the old socket takes to be released (a few ms),
   * new connections are refused.
   */
  replaceCertificate(cert: string, key: string): Promise<void>;
}

/**
 * Starts listening. Throws `RangeError` on invalid limits, and what `Deno.listen` throws.
 */
export function serveStrict(options: StrictServeOptions): StrictServer {
  const number = (name: string, value: number | undefined, fallback: number) => {
    const n = value ?? fallback;
    if (!(n >= 0) || !Number.isFinite(n)) throw new RangeError(`Invalid ${name} ${value}`);
    return n;
  };
  const tls = options.cert !== undefined && options.key !== undefined;
  const context: ConnectionContext = {
    scheme: tls ? "https" : "http",
    limits: {
      head: {
        maxHeadBytes: number(
          "maxHeaderBytes",
          options.maxHeaderBytes,
          DEFAULT_HTTP_HEAD_LIMITS.maxHeadBytes,
        ),
        maxHeaderCount: number(
          "maxHeaderCount",
          options.maxHeaderCount,
          DEFAULT_HTTP_HEAD_LIMITS.maxHeaderCount,
        ),
      },
      maxBodyBytes: number("maxBodyBytes", options.maxBodyBytes, 1 << 20),
    },
    headerTimeoutMs: number("headerTimeoutMs", options.headerTimeoutMs, 10_000),
    socket: {
      maxMessageBytes: number(
        "maxMessageBytes",
        options.maxMessageBytes,
        DEFAULT_XML_LIMITS.maxBytes,
      ),
      closeTimeoutMs: number("closeTimeoutMs", options.closeTimeoutMs, 5_000),
      pingIntervalMs: number("pingIntervalMs", options.pingIntervalMs, 0),
    },
    route: options.route,
    stopping: () => stopping,
  };
  const hostname = options.hostname ?? "0.0.0.0";
  let listener: Deno.Listener = tls
    ? Deno.listenTls({ hostname, port: options.port, cert: options.cert!, key: options.key! })
    : Deno.listen({ hostname, port: options.port });
  const addr = listener.addr as Deno.NetAddr;
  let pair = { cert: options.cert ?? "", key: options.key ?? "" };
  let swapping: Promise<void> | undefined;
  /** Listens with `tls` on the same address once the closed listener's socket is released. */
  const relisten = async (tls: { cert: string; key: string }): Promise<Deno.Listener> => {
    for (let attempt = 0;; attempt++) {
      try {
        return Deno.listenTls({ hostname: addr.hostname, port: addr.port, ...tls });
      } catch (error) {
        if (!(error instanceof Deno.errors.AddrInUse) || attempt >= 200) throw error;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  };
  const connections = new Map<ConnectionHandle, Promise<void>>();
  let stopping = false;

  const accepting = (async () => {
    for (;;) {
      const current = listener;
      let conn: Deno.Conn;
      try {
        conn = await current.accept();
      } catch (error) {
        if (stopping) return;
        if (swapping) await swapping; // closed by replaceCertificate: go on with the new one
        if (current !== listener) continue;
        if (error instanceof Deno.errors.BadResource) return;
        await new Promise((resolve) => setTimeout(resolve, 50)); // e.g. out of file descriptors
        continue;
      }
      if (!tls) (conn as Deno.TcpConn).setNoDelay(true);
      const handle: ConnectionHandle = { idle: true, conn };
      const served = serveConnection(handle, context)
        .then((run) => run?.())
        .finally(() => connections.delete(handle));
      connections.set(handle, served);
    }
  })();
  options.onListen?.(addr);

  const finished = accepting.then(async () => {
    while (connections.size > 0) await Promise.all(connections.values());
  });
  return {
    addr,
    finished,
    shutdown() {
      if (!stopping) {
        stopping = true;
        try {
          listener.close();
        } catch {
          // Already closed.
        }
        for (const handle of connections.keys()) {
          if (handle.idle) {
            try {
              handle.conn.close();
            } catch {
              // Already closed.
            }
          }
        }
      }
      return finished;
    },
    async replaceCertificate(cert, key) {
      if (!tls) throw new TypeError("Cannot replace the certificate of a plain TCP listener");
      if (stopping || swapping) return;
      // Check the pair on a throwaway listener first: the port is only released once it works.
      Deno.listenTls({ hostname: addr.hostname, port: 0, cert, key }).close();
      let swapped!: () => void;
      swapping = new Promise((resolve) => swapped = resolve);
      try {
        listener.close();
        try {
          listener = await relisten({ cert, key });
          pair = { cert, key };
        } catch (error) {
          listener = await relisten(pair);
          throw error;
        }
      } finally {
        swapping = undefined;
        swapped();
      }
    },
  };
}
