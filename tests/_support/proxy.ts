/**
 * Test support: a TCP proxy in front of a server that can cut its live connections (no
 * WebSocket Close frame, no `<close/>`: what a dropped network looks like), swallow their
 * traffic silently (a proxy that stopped forwarding), or refuse new connections.
 *
 * @module
 */

interface Pair {
  readonly client: Deno.Conn;
  readonly upstream: Deno.Conn;
  silent: boolean;
  closed: boolean;
}

/** A cuttable TCP proxy on 127.0.0.1. */
export class CutProxy {
  readonly #listener: Deno.Listener;
  readonly #target: { hostname: string; port: number };
  readonly #pairs = new Set<Pair>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #accepting: Promise<void>;
  /** Close new connections at once. */
  refuse = false;
  /**
   * Close the next this many new connections at once, then forward again: deterministic where
   * switching `refuse` off from the test would race with an attempt already on its way.
   */
  refuseNext = 0;
  /** Connections accepted so far. */
  accepted = 0;

  constructor(target: { hostname: string; port: number }) {
    this.#target = target;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#accepting = this.#accept();
  }

  /** The proxy's port. */
  get port(): number {
    return (this.#listener.addr as Deno.NetAddr).port;
  }

  /** Connections currently open. */
  get live(): number {
    return this.#pairs.size;
  }

  /** Drops every live connection abruptly. */
  cut(): void {
    for (const pair of this.#pairs) this.#close(pair);
  }

  /** Live connections stop forwarding anything (both ways) but stay open. */
  silence(): void {
    for (const pair of this.#pairs) pair.silent = true;
  }

  /** Stops listening and drops everything. */
  async close(): Promise<void> {
    this.#listener.close();
    this.cut();
    await this.#accepting;
    await Promise.all([...this.#tasks]);
  }

  async #accept(): Promise<void> {
    for (;;) {
      let client: Deno.Conn;
      try {
        client = await this.#listener.accept();
      } catch {
        return;
      }
      this.accepted++;
      if (this.refuse || this.refuseNext > 0) {
        if (this.refuseNext > 0) this.refuseNext--;
        client.close();
        continue;
      }
      const task = this.#connect(client);
      this.#tasks.add(task);
      task.finally(() => this.#tasks.delete(task));
    }
  }

  async #connect(client: Deno.Conn): Promise<void> {
    let upstream: Deno.Conn;
    try {
      upstream = await Deno.connect(this.#target);
    } catch {
      client.close();
      return;
    }
    const pair: Pair = { client, upstream, silent: false, closed: false };
    this.#pairs.add(pair);
    await Promise.all([this.#pipe(pair, client, upstream), this.#pipe(pair, upstream, client)]);
    this.#close(pair);
  }

  async #pipe(pair: Pair, from: Deno.Conn, to: Deno.Conn): Promise<void> {
    const buffer = new Uint8Array(16_384);
    for (;;) {
      let n: number | null;
      try {
        n = await from.read(buffer);
      } catch {
        n = null;
      }
      if (n === null || pair.closed) return this.#close(pair);
      if (pair.silent) continue;
      try {
        let written = 0;
        while (written < n) written += await to.write(buffer.subarray(written, n));
      } catch {
        return this.#close(pair);
      }
    }
  }

  #close(pair: Pair): void {
    if (pair.closed) return;
    pair.closed = true;
    this.#pairs.delete(pair);
    for (const conn of [pair.client, pair.upstream]) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  }
}
