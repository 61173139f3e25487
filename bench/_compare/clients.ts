/**
 * The orchestrator's side of the load clients: `count` processes running
 * bench/_compare/client.ts, connections spread over them, replies merged, and their CPU read
 * from `/proc` (reported per stanza, to show the load client is not the bottleneck).
 *
 * @example
 * ```ts ignore
 * import { LoadClients } from "./clients.ts";
 * const clients = new LoadClients(2);
 * await clients.login("g", endpoint, users, "pw");
 * const r = await clients.run("g", 50, 5000);
 * await clients.exit();
 * ```
 * @module
 */

import type { Endpoint, Mechanism, Reply, Request } from "./protocol.ts";
import { cpuMs, type Spawned } from "./proc.ts";
import { Histogram } from "./stats.ts";

type Body<R> = R extends unknown ? Omit<R, "id"> : never;

/** One load-client process. */
class LoadClient {
  readonly process: Spawned;
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #pending = new Map<number, (reply: Reply) => void>();
  #nextId = 1;
  #dead: string | undefined;

  constructor(index: number) {
    // Spawned through bash for the file-descriptor limit; stdin/stdout carry the protocol.
    this.#child = new Deno.Command("bash", {
      args: [
        "-c",
        'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"',
        Deno.execPath(),
        "run",
        "-A",
        new URL("./client.ts", import.meta.url).pathname,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const child = this.#child;
    this.process = {
      pid: child.pid,
      name: `load client ${index}`,
      output: () => "",
      exited: () => this.#dead !== undefined,
      stop: async (graceMs = 2000) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const late = new Promise((resolve) => timer = setTimeout(resolve, graceMs));
        if (await Promise.race([child.status.then(() => true), late.then(() => false)]) !== true) {
          try {
            child.kill("SIGKILL");
          } catch { /* gone */ }
        }
        clearTimeout(timer);
        await child.status;
      },
    };
    this.#writer = child.stdin.getWriter();
    void this.#read(child.stdout);
  }

  async #read(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of stream) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let i = buffer.indexOf("\n"); i >= 0; i = buffer.indexOf("\n")) {
          const reply = JSON.parse(buffer.slice(0, i)) as Reply;
          buffer = buffer.slice(i + 1);
          this.#pending.get(reply.id)?.(reply);
          this.#pending.delete(reply.id);
        }
      }
    } finally {
      this.#dead = "the load client exited";
      for (const [id, resolve] of this.#pending) resolve({ id, error: this.#dead });
      this.#pending.clear();
    }
  }

  async call(body: Body<Request>): Promise<Reply> {
    if (this.#dead !== undefined) throw new Error(this.#dead);
    const id = this.#nextId++;
    const reply = new Promise<Reply>((resolve) => this.#pending.set(id, resolve));
    await this.#writer.write(new TextEncoder().encode(JSON.stringify({ ...body, id }) + "\n"));
    const r = await reply;
    if (r.error !== undefined) throw new Error(`load client (${body.op}): ${r.error}`);
    return r;
  }
}

/** The merged result of a timed run. */
export interface RunResult {
  readonly count: number;
  readonly errors: number;
  readonly elapsedMs: number;
  readonly histogram: Histogram;
}

/** Several load-client processes used as one. */
export class LoadClients {
  readonly #clients: LoadClient[];
  /** Logins retried so far (a connection the server dropped mid-login, then made again). */
  retries = 0;
  /** Connections per group per client. */
  readonly #sizes = new Map<string, number[]>();

  constructor(count: number) {
    this.#clients = Array.from({ length: count }, (_, i) => new LoadClient(i));
  }

  /** The pids, for CPU sampling. */
  get pids(): number[] {
    return this.#clients.map((c) => c.process.pid);
  }

  /** CPU time of every load-client process together, in ms. */
  cpuMs(): number {
    return this.pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
  }

  /**
   * Logs `users` in (PLAIN unless told) as group `group`, spread round-robin over the processes: with n
   * connections in the group, the first n are spread as evenly as possible.
   */
  async login(
    group: string,
    endpoint: Endpoint,
    users: readonly string[],
    password: string,
    mechanism: Mechanism = "PLAIN",
    width = 64,
  ): Promise<number> {
    const k = this.#clients.length;
    const shares = this.#clients.map((_, i) => users.filter((_, j) => j % k === i));
    const start = performance.now();
    const replies = await Promise.all(
      this.#clients.map((c, i) =>
        shares[i]!.length === 0 ? undefined : c.call({
          op: "login",
          group,
          endpoint,
          users: shares[i]!,
          password,
          mechanism,
          width: Math.max(1, Math.ceil(width / k)),
        })
      ),
    );
    const sizes = this.#sizes.get(group) ?? this.#clients.map(() => 0);
    shares.forEach((s, i) => sizes[i]! += s.length);
    this.#sizes.set(group, sizes);
    this.retries += replies.reduce((n, r) => n + (r?.errors ?? 0), 0);
    return performance.now() - start;
  }

  /** Runs the first `connections` of `group` for `ms` on every process at once. */
  async run(group: string, connections: number, ms: number): Promise<RunResult> {
    const k = this.#clients.length;
    const parts = this.#clients.map((_, i) =>
      Math.floor(connections / k) + (i < connections % k ? 1 : 0)
    );
    const replies = await Promise.all(
      this.#clients.map((c, i) =>
        parts[i] === 0 ? undefined : c.call({ op: "run", group, connections: parts[i]!, ms })
      ),
    );
    const histogram = new Histogram();
    let count = 0;
    let errors = 0;
    let elapsedMs = 0;
    for (const r of replies) {
      if (r === undefined) continue;
      count += r.count ?? 0;
      errors += r.errors ?? 0;
      elapsedMs = Math.max(elapsedMs, r.elapsedMs ?? 0);
      histogram.merge(Histogram.fromPairs(r.histogram ?? []));
    }
    return { count, errors, elapsedMs, histogram };
  }

  /** A login burst of `width` workers for `ms` on the first process; logins completed. */
  async logins(
    endpoint: Endpoint,
    users: readonly string[],
    password: string,
    mechanism: Mechanism,
    width: number,
    ms: number,
  ): Promise<{ count: number; errors: number; elapsedMs: number }> {
    const k = this.#clients.length;
    const replies = await Promise.all(this.#clients.map((c, i) =>
      c.call({
        op: "logins",
        endpoint,
        users: users.filter((_, j) => j % k === i),
        password,
        mechanism,
        width: Math.max(1, Math.ceil(width / k)),
        ms,
      })
    ));
    return {
      count: replies.reduce((s, r) => s + (r.count ?? 0), 0),
      errors: replies.reduce((s, r) => s + (r.errors ?? 0), 0),
      elapsedMs: Math.max(...replies.map((r) => r.elapsedMs ?? 0)),
    };
  }

  /** Closes a group's connections. */
  async close(group: string): Promise<void> {
    await Promise.all(this.#clients.map((c) => c.call({ op: "close", group })));
    this.#sizes.delete(group);
  }

  /** Ends every process. */
  async exit(): Promise<void> {
    await Promise.all(this.#clients.map(async (c) => {
      const stopped = c.process.stop(5000); // exits by itself after the reply, else killed
      await c.call({ op: "exit" }).catch(() => {});
      await stopped;
    }));
  }
}
