/**
 * Ordered writes to a connection: one write at a time, everything queued meanwhile coalesced
 * into the next one, and the count of bytes not yet written (`bufferedAmount`). A failed write
 * drops what is queued and reports once. Private to the strict WebSocket layer.
 *
 * @example
 * ```ts
 * import { ByteWriter } from "./_writer.ts";
 * const written: number[] = [];
 * const writer = new ByteWriter({ write: (b) => Promise.resolve(written.push(...b) && b.length) }, () => {});
 * writer.write(Uint8Array.of(1, 2));
 * writer.write(Uint8Array.of(3));
 * await writer.idle();
 * console.log(written, writer.bufferedAmount); // [ 1, 2, 3 ] 0
 * ```
 * @module
 */

/** What the writer needs of a connection. */
export interface Writable {
  write(bytes: Uint8Array): Promise<number>;
}

/** The write queue of one connection. */
export class ByteWriter {
  readonly #conn: Writable;
  readonly #onError: (error: unknown) => void;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #flushing = false;
  /** Callers of `idle()` waiting for the queue to empty (a promise only when someone waits). */
  #waiters: (() => void)[] = [];
  #failed = false;

  constructor(conn: Writable, onError: (error: unknown) => void) {
    this.#conn = conn;
    this.#onError = onError;
  }

  /** Bytes accepted and not yet written. */
  get bufferedAmount(): number {
    return this.#queued;
  }

  /** Whether a write failed (later bytes are dropped). */
  get failed(): boolean {
    return this.#failed;
  }

  /** Queues bytes (dropped after a failed write). */
  write(bytes: Uint8Array): void {
    if (this.#failed || bytes.length === 0) return;
    this.#queue.push(bytes);
    this.#queued += bytes.length;
    if (!this.#flushing) {
      this.#flushing = true;
      this.#next();
    }
  }

  /** Resolves once everything queued so far is written (or dropped by a failure). */
  idle(): Promise<void> {
    if (!this.#flushing) return Promise.resolve();
    return new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  #wakeWaiters(): void {
    const waiters = this.#waiters;
    if (waiters.length === 0) return;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Writes what is queued as one buffer; chained by promise callbacks, not an async loop. */
  #next(): void {
    if (this.#queue.length === 0) {
      this.#flushing = false;
      return this.#wakeWaiters();
    }
    const bytes = concat(this.#queue);
    this.#queue = [];
    this.#writeFrom(bytes, 0);
  }

  #writeFrom(bytes: Uint8Array, done: number): void {
    let written: Promise<number>;
    try {
      written = this.#conn.write(done === 0 ? bytes : bytes.subarray(done));
    } catch (error) {
      return this.#fail(error);
    }
    written.then((n) => {
      if (done + n < bytes.length) return this.#writeFrom(bytes, done + n);
      this.#queued -= bytes.length;
      this.#next();
    }, (error: unknown) => this.#fail(error));
  }

  #fail(error: unknown): void {
    this.#failed = true;
    this.#queue = [];
    this.#queued = 0;
    this.#flushing = false;
    this.#wakeWaiters();
    this.#onError(error);
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
