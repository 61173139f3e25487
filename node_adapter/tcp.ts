/**
 * The Node TCP adapter: the same `TcpConnection` as `deno/tcp.ts`, on `node:net` and
 * `node:tls`. It makes no protocol decision: chunks go to `onChunk` as read, strings from
 * `write` go out as UTF-8 in order, and TLS starts when the caller says so (on the core's
 * `start-tls` output), with `tls.connect({ socket })`.
 *
 * @example
 * ```ts
 * import { createServer } from "node:net";
 * import { connectTcpNode } from "./tcp.ts";
 * const server = createServer((socket) => socket.pipe(socket));
 * await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
 * const { port } = server.address() as { port: number };
 * let received = "";
 * const tcp = await connectTcpNode({ hostname: "127.0.0.1", port }, {
 *   onChunk: (chunk, connection) => {
 *     received += new TextDecoder().decode(chunk);
 *     if (received === "<presence/>") void connection.close();
 *   },
 *   onClosed: () => {},
 * });
 * tcp.write("<presence/>");
 * await tcp.closed;
 * await new Promise((resolve) => server.close(resolve));
 * console.log(received); // "<presence/>"
 * ```
 * @module
 */

import { Buffer } from "node:buffer";
import { connect as netConnect, isIP, type Socket } from "node:net";
import {
  checkServerIdentity,
  connect as tlsConnect,
  type PeerCertificate,
  rootCertificates,
  type TLSSocket,
} from "node:tls";
import type {
  TcpConnection,
  TcpConnectOptions,
  TcpHandlers,
  TcpTlsOptions,
} from "../core/endpoint/tcp.ts";

/**
 * Connects and starts reading. Rejects if the connection or the direct TLS handshake fails.
 * `caCerts` are trusted in addition to Node's bundled roots (as on Deno).
 *
 * @example
 * ```ts
 * import { connectTcpNode } from "./tcp.ts";
 * const port = 1; // nothing listens on port 1
 * const error = await connectTcpNode({ hostname: "127.0.0.1", port }, {
 *   onChunk: () => {},
 *   onClosed: () => {},
 * }).catch((e) => e);
 * console.log(error.code); // "ECONNREFUSED"
 * ```
 */
export async function connectTcpNode(
  options: TcpConnectOptions,
  handlers: TcpHandlers,
): Promise<TcpConnection> {
  let socket: Socket = options.tls === "direct"
    ? await secured(tlsConnect({ host: options.hostname, port: options.port, ...tls({}, options) }))
    : await new Promise<Socket>((resolve, reject) => {
      const plain = netConnect({ host: options.hostname, port: options.port, noDelay: true });
      plain.once("error", reject).once("connect", () => resolve(plain.off("error", reject)));
    });
  const max = options.maxQueuedBytes ?? 1 << 20;
  let queued = 0; // bytes handed to the socket whose write has not completed
  let flushed: Array<() => void> = [];
  let failure: unknown;
  let secure = options.tls === "direct";
  let open = true;
  let ended = false;
  let inChunk = false;
  let upgrade: (() => Promise<void>) | undefined;
  let markClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => markClosed = resolve);

  const wake = () => {
    for (const resolve of flushed) resolve();
    flushed = [];
  };
  const drained = () =>
    queued === 0 || ended ? Promise.resolve() : new Promise<void>((r) => flushed.push(r));
  const finish = () => {
    if (ended) return;
    open = false;
    ended = true;
    wake();
    if (failure === undefined) handlers.onClosed();
    else handlers.onClosed(failure);
    markClosed();
  };
  const onError = (error: unknown) => {
    if (open) failure ??= error;
  };
  const onData = (chunk: Buffer) => {
    inChunk = true;
    let pause: void | Promise<void>;
    try {
      pause = handlers.onChunk(new Uint8Array(chunk), connection);
    } catch (error) {
      failure ??= error;
      return void socket.destroy();
    } finally {
      inChunk = false;
    }
    if (!upgrade && !pause) return;
    socket.pause();
    void (async () => {
      if (upgrade) await upgrade();
      if (pause) await pause.catch(() => {});
      if (open) socket.resume();
    })();
  };
  const listen = (s: Socket) => s.on("data", onData).on("error", onError).on("close", finish);
  const unlisten = (s: Socket) =>
    s.off("data", onData).off("error", onError).off("close", finish).on("error", () => {});

  const connection: TcpConnection = {
    get secure() {
      return secure;
    },
    write(data) {
      if (!open) throw new Error("Cannot write: the TCP connection is closed");
      if (upgrade) throw new Error("Cannot write while the TLS upgrade is pending");
      const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data);
      if (queued + bytes.length > max) {
        const error = new Error(`Cannot write: ${queued} bytes are queued and the limit is ${max}`);
        error.name = "WriteQueueFull"; // as on Deno: the gateway ends a backlogged session on it
        throw error;
      }
      queued += bytes.length;
      socket.write(bytes, (error) => {
        queued -= bytes.length;
        if (error) onError(error);
        if (queued === 0) wake();
      });
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
          await drained();
          const plain = socket;
          unlisten(plain);
          try {
            socket = await secured(tlsConnect({ socket: plain, ...tls(tlsOptions, options) }));
          } catch (error) {
            reject(error);
            onError(error);
            plain.destroy();
            return finish();
          }
          listen(socket).pause(); // reading resumes once onChunk's promise, if any, settles
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
        await Promise.race([drained(), new Promise((resolve) => timer = setTimeout(resolve, ms))]);
        clearTimeout(timer);
      }
      open = false;
      socket.destroy();
      await closed;
    },
    get closed() {
      return closed;
    },
  };
  listen(socket);
  return connection;
}

/** Node's TLS options for the Deno-style ones: extra CAs on top of the bundled roots, SNI. */
function tls(o: TcpTlsOptions, defaults: TcpConnectOptions) {
  const caCerts = o.caCerts ?? defaults.caCerts;
  const name = o.serverName ?? defaults.serverName ?? defaults.hostname;
  return {
    ...(caCerts ? { ca: [...rootCertificates, ...caCerts] } : {}),
    // SNI must not carry an IP address (RFC 6066 §3); the identity check still uses `name`.
    ...(isIP(name) ? {} : { servername: name }),
    // Verify `name` even when it is an IP or the socket was handed over (STARTTLS).
    checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(name, cert),
  };
}

/** Resolves once the TLS handshake is done (and the certificate verified); destroys on failure. */
function secured(socket: TLSSocket): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const fail = (error: unknown) => {
      socket.destroy();
      reject(error);
    };
    socket.once("error", fail).once("secureConnect", () => resolve(socket.off("error", fail)));
  });
}
