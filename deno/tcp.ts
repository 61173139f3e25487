/**
 * The Deno TCP adapter: carries bytes between a core session (RFC 6120 framing) and
 * `Deno.connect` / `Deno.startTls`. It makes no protocol decision: chunks go to `onChunk` as
 * read, strings from `write` go out as UTF-8 in order, and TLS starts when the caller says so
 * (on the core's `start-tls` output).
 *
 * @example
 * ```ts
 * import { connectTcp } from "./tcp.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const echo = listener.accept().then((conn) => conn.readable.pipeTo(conn.writable));
 * let received = "";
 * const tcp = await connectTcp({ hostname: "127.0.0.1", port: listener.addr.port }, {
 *   onChunk: (chunk, connection) => {
 *     received += new TextDecoder().decode(chunk);
 *     if (received === "<presence/>") void connection.close();
 *   },
 *   onClosed: () => {},
 * });
 * tcp.write("<presence/>");
 * await tcp.closed;
 * await echo;
 * listener.close();
 * console.log(received); // "<presence/>"
 * ```
 * @module
 */

import {
  type TcpConnection,
  type TcpConnectOptions,
  type TcpHandlers,
  type TcpTlsOptions,
  WriteQueueFull,
} from "../core/endpoint/tcp.ts";

export {
  type TcpConnection,
  type TcpConnectOptions,
  type TcpHandlers,
  type TcpTlsOptions,
  WriteQueueFull,
};

/**
 * Connects and starts reading. Rejects if the connection or the direct TLS handshake fails.
 *
 * @example
 * ```ts
 * import { connectTcp } from "./tcp.ts";
 * const port = 1; // nothing listens on port 1
 * const error = await connectTcp({ hostname: "127.0.0.1", port }, {
 *   onChunk: () => {},
 *   onClosed: () => {},
 * }).catch((e) => e);
 * console.log(error instanceof Deno.errors.ConnectionRefused); // true
 * ```
 */
export async function connectTcp(
  options: TcpConnectOptions,
  handlers: TcpHandlers,
): Promise<TcpConnection> {
  const tcp = await Deno.connect({ hostname: options.hostname, port: options.port });
  // Stanzas are small and latency-bound: no Nagle delay (as the Node binding's noDelay).
  tcp.setNoDelay(true);
  let conn: Deno.Conn = tcp;
  if (options.tls === "direct") conn = await startTlsOn(conn, options, options);
  const max = options.maxQueuedBytes ?? 1 << 20;
  const encoder = new TextEncoder();
  let queue: Uint8Array[] = [];
  let queued = 0;
  let writing: Promise<void> = Promise.resolve(); // never rejects
  let failure: unknown;
  let secure = options.tls === "direct";
  let open = true;
  let inChunk = false;
  let upgrade: (() => Promise<void>) | undefined;

  let flushing = false;
  // One flush at a time; everything queued meanwhile goes out in one write.
  const flush = async () => {
    try {
      while (queue.length > 0) {
        const bytes = concat(queue);
        queue = [];
        for (let done = 0; done < bytes.length;) done += await conn.write(bytes.subarray(done));
        queued -= bytes.length;
      }
    } catch (error) {
      failure ??= error;
      open = false;
      queue = [];
      closeQuietly(conn); // ends the read loop, which reports the failure
    } finally {
      flushing = false; // in the same turn as the last empty-queue check: no write is stranded
    }
  };
  const connection: TcpConnection = {
    get secure() {
      return secure;
    },
    write(data) {
      if (!open) throw new Error("Cannot write: the TCP connection is closed");
      if (upgrade) throw new Error("Cannot write while the TLS upgrade is pending");
      const bytes = typeof data === "string" ? encoder.encode(data) : data.slice();
      if (queued + bytes.length > max) {
        throw new WriteQueueFull(queued, max);
      }
      queue.push(bytes);
      queued += bytes.length;
      if (!flushing) {
        flushing = true;
        writing = writing.then(flush);
      }
    },
    startTls(tlsOptions = {}) {
      if (!open) return Promise.reject(new Error("Cannot start TLS: the TCP connection is closed"));
      if (secure || upgrade) {
        return Promise.reject(new Error("Cannot start TLS: TLS is already on"));
      }
      if (!inChunk) {
        return Promise.reject(new Error("Cannot start TLS outside onChunk: a read is pending"));
      }
      return new Promise<void>((resolve, reject) => {
        upgrade = async () => {
          await writing;
          try {
            conn = await startTlsOn(conn, tlsOptions, options);
          } catch (error) {
            reject(error);
            throw error; // the read loop reports it through onClosed
          }
          secure = true;
          upgrade = undefined;
          resolve();
        };
      });
    },
    async close() {
      if (open) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const ms = options.closeFlushMs ?? 5_000;
        await Promise.race([writing, new Promise((resolve) => timer = setTimeout(resolve, ms))]);
        clearTimeout(timer);
      }
      open = false;
      closeQuietly(conn);
      await closed;
    },
    get closed() {
      return closed;
    },
  };
  const closed = (async () => {
    try {
      // Starts small and doubles while reads fill it (up to 64 KiB): an idle connection holds
      // 1 KiB, not a large buffer for nothing (issue 10, memory per connection).
      for (let buf = new Uint8Array(1024); open;) {
        const n = await conn.read(buf);
        if (n === null) break;
        const full = n === buf.length;
        inChunk = true;
        let pause: void | Promise<void>;
        try {
          pause = handlers.onChunk(buf.slice(0, n), connection);
        } finally {
          inChunk = false;
        }
        if (upgrade) await upgrade();
        if (pause) await pause.catch(() => {});
        if (full && buf.length < 65_536) buf = new Uint8Array(buf.length * 2);
      }
    } catch (error) {
      if (open) failure ??= error;
    }
    open = false;
    await writing;
    closeQuietly(conn);
    if (failure === undefined) handlers.onClosed();
    else handlers.onClosed(failure);
  })();
  return connection;
}

async function startTlsOn(
  conn: Deno.Conn,
  o: TcpTlsOptions,
  defaults: TcpConnectOptions,
): Promise<Deno.Conn> {
  const caCerts = o.caCerts ?? defaults.caCerts;
  try {
    const tls = await Deno.startTls(conn as Deno.TcpConn, {
      hostname: o.serverName ?? defaults.serverName ?? defaults.hostname,
      ...(caCerts ? { caCerts: [...caCerts] } : {}),
    });
    await tls.handshake().catch((error) => {
      closeQuietly(tls);
      throw error;
    });
    return tls;
  } catch (error) {
    closeQuietly(conn);
    throw error;
  }
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}
