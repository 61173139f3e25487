/**
 * The validating recorder: a TCP proxy on loopback between the gateway and the XMPP server that
 * forwards every byte unchanged and checks each direction of each connection as one well-formed
 * RFC 6120 stream per restart (`StreamChecker`, built on `saxes`: well-formedness, namespace
 * well-formedness, no DTD, comment or processing instruction). Problems are collected, never
 * thrown; the tests fail on any.
 *
 * @module
 */

import { type StreamChecker, streamPair } from "./_strict_xml.ts";

/** A running recorder. */
export class ValidatingProxy {
  readonly port: number;
  /** Connections proxied so far. */
  connections = 0;
  /** Bytes checked, each way. */
  bytesUp = 0;
  bytesDown = 0;
  readonly #listener: Deno.Listener;
  readonly #target: { hostname: string; port: number };
  readonly #conns = new Set<Deno.Conn>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #checkers: StreamChecker[] = [];
  readonly #problems: string[] = [];
  readonly #accepting: Promise<void>;

  constructor(target: { hostname: string; port: number }) {
    this.#target = target;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = (this.#listener.addr as Deno.NetAddr).port;
    this.#accepting = this.#accept();
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        const task = this.#proxy(conn).catch((e) => {
          this.#problems.push(`recorder: ${e instanceof Error ? e.message : e}`);
        });
        this.#tasks.add(task);
        task.finally(() => this.#tasks.delete(task));
      }
    } catch {
      // listener closed
    }
  }

  async #proxy(client: Deno.Conn): Promise<void> {
    const n = ++this.connections;
    this.#conns.add(client);
    let server: Deno.Conn;
    try {
      server = await Deno.connect(this.#target);
    } catch (error) {
      client.close();
      this.#conns.delete(client);
      throw error;
    }
    this.#conns.add(server);
    const pair = streamPair(`upstream connection #${n}`);
    this.#checkers.push(pair.client, pair.server);
    const close = () => {
      for (const c of [client, server]) {
        if (this.#conns.delete(c)) {
          try {
            c.close();
          } catch { /* closed */ }
        }
      }
    };
    await Promise.all([
      this.#pump(client, server, pair.client, (k) => this.bytesUp += k).finally(close),
      this.#pump(server, client, pair.server, (k) => this.bytesDown += k).finally(close),
    ]);
  }

  async #pump(
    from: Deno.Conn,
    to: Deno.Conn,
    checker: StreamChecker,
    count: (k: number) => void,
  ): Promise<void> {
    const chunk = new Uint8Array(65_536);
    try {
      for (;;) {
        const n = await from.read(chunk);
        if (n === null) break;
        const bytes = chunk.slice(0, n);
        count(n);
        checker.push(bytes);
        for (let done = 0; done < n;) done += await to.write(bytes.subarray(done));
      }
    } catch {
      // reset or closed: the end of this direction
    }
    checker.end();
  }

  /** The problems found since the last call. */
  takeProblems(): string[] {
    const out = this.#problems.splice(0);
    for (const checker of this.#checkers) out.push(...checker.problems.splice(0));
    return out;
  }

  /** Streams checked (documents begun), all connections and directions. */
  get streams(): number {
    return this.#checkers.reduce((n, c) => n + c.streams, 0);
  }

  /** Stops listening, drops every connection and waits for the pumps. */
  async close(): Promise<void> {
    this.#listener.close();
    await this.#accepting;
    for (const c of this.#conns) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    this.#conns.clear();
    await Promise.all([...this.#tasks]);
  }
}
