/**
 * Fault-test support: the processes the fault tests start, kill and bring back, all on loopback.
 *
 * - {@link ServerProcess}: `deno run deno/main.ts ...` as a subprocess (the gateway with
 *   `--upstream`, or the embedded server), on a fixed port so that it can be restarted on the same
 *   address; its resident memory read from `/proc/<pid>/status`; with `gc: true` it runs through
 *   `_main_gc.ts` (the same `main`, plus a full GC on request) so memory can be read after GC.
 * - {@link KillableProsody}: a private Prosody (tests/_support/prosody.ts) that can be killed
 *   with SIGKILL and started again on the same ports and data.
 *
 * @example
 * ```ts ignore
 * import { KillableProsody, ServerProcess } from "./processes.ts";
 * await using prosody = await KillableProsody.start({ accounts: [{ username: "a", password: "p" }] });
 * await using gateway = await ServerProcess.start(["--upstream", `127.0.0.1:${prosody.c2sPort}`]);
 * await prosody.kill();
 * await prosody.restart();
 * ```
 * @module
 */

import { type ProsodyOptions, type ProsodyServer, startProsody } from "./prosody.ts";

const MAIN = new URL("../../deno/main.ts", import.meta.url).pathname;
const MAIN_GC = new URL("../fault/_main_gc.ts", import.meta.url).pathname;
const LOG_TAIL = 64 * 1024;
const GC_DONE = /gc-done (\{[^\n]*\})\n/;

/**
 * Admission and capacity limits raised for load from one address: every client of these tests
 * and of the soak is 127.0.0.1, which the defaults (rightly) treat as one client.
 */
export const LOOPBACK_LOAD_LIMITS: Readonly<Record<string, string>> = {
  "max-connections": "1000000",
  "max-connections-per-address": "1000000",
  "max-unauthenticated-per-address": "1000000",
  "new-connections-per-second": "1000000",
  "new-connections-burst": "1000000",
  "max-xmpp-connections": "1000000",
  "max-sessions": "1000000",
};

/** `--flag value` pairs of `limits` (options of `deno/main.ts`, see `deno/options.ts`). */
export function limitFlags(
  limits: Readonly<Record<string, string>> = LOOPBACK_LOAD_LIMITS,
): string[] {
  return Object.entries(limits).flatMap(([flag, value]) => [`--${flag}`, value]);
}

/** A free TCP port on 127.0.0.1 (bound to port 0, then released). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Bounded sleep. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `test` every `everyMs` until it holds; throws naming `what` after `ms`. */
export async function waitUntil(
  test: () => boolean | Promise<boolean>,
  what: string,
  ms = 15_000,
  everyMs = 25,
): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await test())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what}`);
    await sleep(everyMs);
  }
}

/**
 * Resident memory of a process in KB (`VmRSS` of `/proc/<pid>/status`); NaN when gone. Deno
 * wants `--allow-all` to read `/proc` directly, so without it the file is read by `cat`.
 */
export async function rssKb(pid: number): Promise<number> {
  const path = `/proc/${pid}/status`;
  let status: string;
  try {
    status = await Deno.readTextFile(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotCapable)) return NaN;
    const out = await new Deno.Command("cat", { args: [path], stdout: "piped", stderr: "null" })
      .output();
    status = new TextDecoder().decode(out.stdout);
  }
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

/** Whether a TCP port on 127.0.0.1 accepts connections. */
export async function portOpen(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

/** Options of {@link ServerProcess.start}. */
export interface ServerProcessOptions {
  /** The port (default: a free one, chosen now so a restart can reuse it). */
  readonly port?: number;
  /** Run through `_main_gc.ts` with `--expose-gc` so that {@link ServerProcess.gc} works. */
  readonly gc?: boolean;
  /** How long to wait for `/healthz`, in ms (default 20 000). */
  readonly startTimeoutMs?: number;
}

/** `deno run deno/main.ts` as a subprocess; see the module documentation. */
export class ServerProcess implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  readonly port: number;
  readonly args: readonly string[];
  /** Resolves with the exit status. */
  readonly status: Promise<Deno.CommandStatus>;
  #log = "";
  #stdout = "";
  #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #pumps: Promise<void>;
  #exited = false;
  #stopping: Promise<void> | undefined;
  #gcWaiters: Array<(usage: Deno.MemoryUsage) => void> = [];

  private constructor(args: readonly string[], options: ServerProcessOptions) {
    this.port = options.port ?? freePort();
    this.args = [
      "--host",
      "127.0.0.1",
      "--port",
      String(this.port),
      "--drain",
      "100",
      "--log-format",
      "json",
      "--log-level",
      "warn",
      ...args,
    ];
    const runArgs = options.gc
      ? ["run", "-A", "--v8-flags=--expose-gc", MAIN_GC, ...this.args]
      : ["run", "-A", MAIN, ...this.args];
    this.child = new Deno.Command(Deno.execPath(), {
      args: runArgs,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#stdin = this.child.stdin.getWriter();
    this.status = this.child.status.then((s) => {
      this.#exited = true;
      return s;
    });
    this.#pumps = Promise.all([
      pump(this.child.stderr, (t) => this.#log = (this.#log + t).slice(-LOG_TAIL)),
      pump(this.child.stdout, (t) => {
        this.#stdout = (this.#stdout + t).slice(-LOG_TAIL);
        for (let m = GC_DONE.exec(this.#stdout); m; m = GC_DONE.exec(this.#stdout)) {
          this.#stdout = this.#stdout.replace(m[0], "");
          const usage = JSON.parse(m[1]!) as Deno.MemoryUsage;
          for (const wake of this.#gcWaiters.splice(0)) wake(usage);
        }
      }),
    ]).then(() => {});
  }

  /** Starts the program with `args` and waits until `/healthz` answers. */
  static async start(
    args: readonly string[],
    options: ServerProcessOptions = {},
  ): Promise<ServerProcess> {
    const proc = new ServerProcess(args, options);
    try {
      await waitUntil(
        async () => {
          if (proc.#exited) throw new Error(`the server exited:\n${proc.log}`);
          return await proc.healthy();
        },
        `the server on port ${proc.port} to answer /healthz`,
        options.startTimeoutMs ?? 20_000,
        50,
      );
    } catch (error) {
      await proc.stop();
      throw error;
    }
    return proc;
  }

  /** The WebSocket endpoint. */
  get url(): string {
    return `ws://127.0.0.1:${this.port}/xmpp-websocket`;
  }

  /** The process id. */
  get pid(): number {
    return this.child.pid;
  }

  /** Whether the process has exited. */
  get exited(): boolean {
    return this.#exited;
  }

  /** The last 64 KiB of its stderr (its log) and stdout. */
  get log(): string {
    return `${this.#log}${this.#stdout ? `\n--- stdout ---\n${this.#stdout}` : ""}`;
  }

  /** Resident memory in KB. */
  rssKb(): Promise<number> {
    return rssKb(this.pid);
  }

  /** Whether `/healthz` answers 200. */
  async healthy(): Promise<boolean> {
    try {
      const response = await fetch(`http://127.0.0.1:${this.port}/healthz`);
      await response.body?.cancel();
      return response.status === 200;
    } catch {
      return false;
    }
  }

  /** `/healthz`'s status and text. */
  async health(): Promise<{ readonly status: number; readonly text: string }> {
    const response = await fetch(`http://127.0.0.1:${this.port}/healthz`);
    return { status: response.status, text: await response.text() };
  }

  /** The `/metrics` text. */
  async metrics(): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${this.port}/metrics`);
    return await response.text();
  }

  /** One value of `/metrics` (the first line starting with `name`), NaN when absent. */
  async metric(name: string): Promise<number> {
    const line = (await this.metrics()).split("\n").find((l) => l.startsWith(`${name} `));
    return Number(line?.split(" ")[1] ?? NaN);
  }

  /**
   * Full GCs in the process (only when started with `gc: true`), bounded by 10 s; resolves with
   * the process's `Deno.memoryUsage()` after them.
   */
  async gc(): Promise<Deno.MemoryUsage> {
    const done = new Promise<Deno.MemoryUsage>((resolve) => this.#gcWaiters.push(resolve));
    await this.#stdin.write(new TextEncoder().encode("gc\n"));
    let timer: ReturnType<typeof setTimeout> | undefined;
    return await Promise.race([
      done,
      new Promise<never>((_, reject) =>
        timer = setTimeout(() => reject(new Error("no gc-done within 10 s")), 10_000)
      ),
    ]).finally(() => clearTimeout(timer));
  }

  /** Sends a signal; resolves with the exit status (SIGKILL: at once, like a crash). */
  async kill(signal: Deno.Signal = "SIGKILL"): Promise<Deno.CommandStatus> {
    if (!this.#exited) {
      try {
        this.child.kill(signal);
      } catch { /* already gone */ }
    }
    return await this.status;
  }

  /** SIGTERM (the program drains), SIGKILL after 5 s; closes the pipes. Idempotent. */
  stop(): Promise<void> {
    return this.#stopping ??= (async () => {
      const timer = setTimeout(() => {
        try {
          this.child.kill("SIGKILL");
        } catch { /* gone */ }
      }, 5_000);
      if (!this.#exited) {
        try {
          this.child.kill("SIGTERM");
        } catch { /* gone */ }
      }
      await this.status;
      clearTimeout(timer);
      await this.#stdin.close().catch(() => {});
      await this.#pumps;
    })();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

async function pump(stream: ReadableStream<Uint8Array>, write: (text: string) => void) {
  try {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) write(text);
  } catch { /* the process went away */ }
}

/**
 * A private Prosody that can be killed (SIGKILL, like a crash) and started again with the same
 * configuration, ports and data folder.
 */
export class KillableProsody implements AsyncDisposable {
  readonly server: ProsodyServer;
  #restarted: Deno.ChildProcess | undefined;
  #restartedStatus: Promise<Deno.CommandStatus> | undefined;

  private constructor(server: ProsodyServer) {
    this.server = server;
  }

  /** Starts Prosody (see `startProsody`). */
  static async start(options: ProsodyOptions): Promise<KillableProsody> {
    return new KillableProsody(await startProsody(options));
  }

  get c2sPort(): number {
    return this.server.c2sPort;
  }

  /** The running Prosody's pid (from its pidfile; the restarted child's after a restart). */
  async pid(): Promise<number> {
    if (this.#restarted) return this.#restarted.pid;
    let pid = NaN;
    await waitUntil(
      async () => {
        const text = await Deno.readTextFile(`${this.server.dir}/prosody.pid`).catch(() => "");
        pid = Number.parseInt(text.trim(), 10);
        return pid > 0;
      },
      "Prosody's pidfile",
      5_000,
    );
    return pid;
  }

  /** SIGKILL; resolves once the process is gone and its c2s port is closed. */
  async kill(): Promise<void> {
    const pid = await this.pid();
    Deno.kill(pid, "SIGKILL");
    if (this.#restartedStatus) {
      await this.#restartedStatus;
      this.#restarted = undefined;
      this.#restartedStatus = undefined;
    } else {
      await waitUntil(async () => !(await exists(`/proc/${pid}`)), "Prosody to exit", 5_000);
    }
    await waitUntil(async () => !(await portOpen(this.c2sPort)), "the c2s port to close", 5_000);
  }

  /** Starts Prosody again on the same configuration; resolves once the c2s port accepts. */
  async restart(): Promise<void> {
    if (this.#restarted) throw new Error("Prosody is already running");
    const child = new Deno.Command("prosody", {
      args: ["--config", this.server.configPath, "-F"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
      cwd: this.server.dir,
    }).spawn();
    this.#restarted = child;
    this.#restartedStatus = child.status;
    let exited = false;
    child.status.then(() => exited = true);
    await waitUntil(
      async () => {
        if (exited) {
          throw new Error(`the restarted Prosody exited:\n${await this.server.readLog()}`);
        }
        return await portOpen(this.c2sPort);
      },
      "the restarted Prosody's c2s port",
      10_000,
    );
  }

  /** Stops whichever Prosody runs and removes its folder. */
  async stop(): Promise<void> {
    if (this.#restarted) {
      try {
        this.#restarted.kill("SIGKILL");
      } catch { /* gone */ }
      await this.#restartedStatus;
      this.#restarted = undefined;
    }
    await this.server.stop();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
