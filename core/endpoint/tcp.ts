/**
 * The TCP connector both runtime bindings implement (`connectTcp` on Deno, `connectTcpNode` on
 * Node) and the gateway's driver uses: where to connect, what the connection reports, and what
 * an open connection offers. Types only, plus the error a full write queue throws.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { WriteQueueFull } from "./tcp.ts";
 * assertEquals(new WriteQueueFull(10, 8).name, "WriteQueueFull");
 * ```
 * @module
 */

/** TLS settings: the CA certificates (PEM) to trust, and the name to verify. */
export interface TcpTlsOptions {
  /** CA certificates (PEM) to trust instead of the system's. */
  readonly caCerts?: readonly string[];
  /** The server name for SNI and verification (default: the hostname connected to). */
  readonly serverName?: string;
}

/** Where to connect. `tls: "direct"` starts TLS before any XMPP byte (XEP-0368). */
export interface TcpConnectOptions extends TcpTlsOptions {
  /** The host name or IP address to connect to. */
  readonly hostname: string;
  /** The TCP port. */
  readonly port: number;
  /** `direct` for TLS from the first byte (XEP-0368); default `none` (STARTTLS may follow). */
  readonly tls?: "none" | "direct";
  /** Bytes that may wait unwritten before `write` throws (default 1 MiB). */
  readonly maxQueuedBytes?: number;
  /** How long `close()` waits for queued bytes to drain before it drops them (default 5 000 ms). */
  readonly closeFlushMs?: number;
}

/**
 * What the connection reports, synchronously. `onChunk` may run before `connectTcp` settles:
 * use its `connection` argument. `onClosed` runs exactly once, with the error if one ended it.
 */
export interface TcpHandlers {
  /** A returned promise pauses reading until it settles (backpressure). */
  onChunk(chunk: Uint8Array, connection: TcpConnection): void | Promise<void>;
  /** The connection ended (once), with the error that ended it if any. */
  onClosed(error?: unknown): void;
}

/**
 * Thrown by `write` when the bounded queue would overflow: the peer does not read fast enough.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { WriteQueueFull } from "./tcp.ts";
 * assertEquals(new WriteQueueFull(10, 8).message, "Cannot write: 10 bytes are queued and the limit is 8");
 * ```
 */
export class WriteQueueFull extends Error {
  /** Names the queued byte count and the limit in the message. */
  constructor(queued: number, max: number) {
    super(`Cannot write: ${queued} bytes are queued and the limit is ${max}`);
    this.name = "WriteQueueFull";
  }
}

/** An open connection. */
export interface TcpConnection {
  /** Whether the connection is encrypted (direct TLS, or after `startTls`). */
  readonly secure: boolean;
  /** Queues UTF-8 text (or raw bytes); throws when closed or when the queue bound is exceeded. */
  write(data: string | Uint8Array): void;
  /** Upgrades to TLS (STARTTLS). Call it from `onChunk`: the upgrade runs before the next read. */
  startTls(options?: TcpTlsOptions): Promise<void>;
  /** Writes what is queued (bounded by `closeFlushMs`), then closes; settles after `onClosed`. */
  close(): Promise<void>;
  /** Settles when the read loop has ended and `onClosed` has run. */
  readonly closed: Promise<void>;
}

/** Opens a TCP connection (each runtime binding has one). */
export type TcpConnector = (
  options: TcpConnectOptions,
  handlers: TcpHandlers,
) => Promise<TcpConnection>;
