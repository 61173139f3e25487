/**
 * Process figures from `/proc`: CPU time (utime + stime of every thread) and resident memory
 * of any process by pid, the clock tick, and process spawning under a raised file-descriptor
 * limit (`bash -c 'ulimit -n ...; exec ...'`, so the pid is the program's own).
 *
 * @example
 * ```ts
 * import { cpuMs, rssKb } from "./proc.ts";
 * console.log(cpuMs(Deno.pid) >= 0, rssKb(Deno.pid) > 0); // true true
 * ```
 * @module
 */

let clockTicks = 100;

/** Reads `getconf CLK_TCK` once (default 100). */
export async function initClockTicks(): Promise<void> {
  const out = await new Deno.Command("getconf", { args: ["CLK_TCK"], stdout: "piped" })
    .output().catch(() => undefined);
  clockTicks = Number(new TextDecoder().decode(out?.stdout ?? new Uint8Array()).trim()) || 100;
}

/**
 * User + system CPU time of a process, in ms; NaN when it is gone.
 *
 * @example
 * ```ts
 * import { cpuMs } from "./proc.ts";
 * console.log(Number.isNaN(cpuMs(-1))); // true
 * ```
 */
export function cpuMs(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
  } catch {
    return NaN;
  }
}

/**
 * Resident memory of a process (VmRSS), in KB; NaN when it is gone.
 *
 * @example
 * ```ts
 * import { rssKb } from "./proc.ts";
 * console.log(Number.isNaN(rssKb(-1))); // true
 * ```
 */
export function rssKb(pid: number): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/** The soft file-descriptor limit child processes get (65 536, or the hard limit if lower). */
export const FD_LIMIT_SCRIPT =
  'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"';

/**
 * The file-descriptor limit a child started by {@link spawnLimited} gets.
 *
 * @example
 * ```ts
 * import { childFdLimit } from "./proc.ts";
 * console.log(await childFdLimit() > 0); // true
 * ```
 */
export async function childFdLimit(): Promise<number> {
  const out = await new Deno.Command("bash", {
    args: ["-c", FD_LIMIT_SCRIPT, "bash", "-c", "ulimit -n"],
    stdout: "piped",
  }).output();
  return Number(new TextDecoder().decode(out.stdout).trim());
}

/** A child process started by {@link spawnLimited}. */
export interface Spawned {
  readonly pid: number;
  readonly name: string;
  /** The last 8 KB of its stderr (and stdout). */
  output(): string;
  readonly exited: () => boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it is gone. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts `command args...` under the raised file-descriptor limit, with output kept in memory.
 *
 * @example
 * ```ts
 * import { spawnLimited } from "./proc.ts";
 * const child = spawnLimited("sleep-test", "sleep", ["5"]);
 * await child.stop();
 * console.log(child.exited()); // true
 * ```
 */
export function spawnLimited(
  name: string,
  command: string,
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string; stdin?: "null" | "piped" } = {},
): Spawned {
  const child = new Deno.Command("bash", {
    args: ["-c", FD_LIMIT_SCRIPT, command, ...args],
    ...(options.env ? { env: options.env } : {}),
    ...(options.cwd ? { cwd: options.cwd } : {}),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let tail = "";
  const keep = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      tail = (tail + decoder.decode(chunk, { stream: true })).slice(-8192);
    }
  };
  const drained = Promise.all([keep(child.stdout), keep(child.stderr)]).catch(() => {});
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  let stopping: Promise<void> | undefined;
  return {
    pid: child.pid,
    name,
    output: () => tail,
    exited: () => exited,
    stop: (graceMs = 2000) =>
      stopping ??= (async () => {
        if (!exited) {
          try {
            child.kill("SIGTERM");
          } catch { /* gone */ }
          const timer = setTimeout(() => {
            try {
              child.kill("SIGKILL");
            } catch { /* gone */ }
          }, graceMs);
          await status;
          clearTimeout(timer);
        }
        await drained;
      })(),
  };
}

/**
 * Waits until `port` on 127.0.0.1 accepts a connection; throws after `timeoutMs` or when
 * `child` exits first.
 *
 * @example
 * ```ts
 * import { waitForPort } from "./proc.ts";
 * const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * await waitForPort(l.addr.port, 1000);
 * l.close();
 * console.log("up"); // "up"
 * ```
 */
export async function waitForPort(port: number, timeoutMs: number, child?: Spawned) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      if (child?.exited()) {
        throw new Error(`${child.name} exited before listening:\n${child.output()}`);
      }
      if (performance.now() > deadline) {
        throw new Error(`${child?.name ?? "port"} ${port}: not listening after ${timeoutMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/**
 * Free loopback TCP ports (bound then released).
 *
 * @example
 * ```ts
 * import { freePorts } from "./proc.ts";
 * console.log(freePorts(2).length); // 2
 * ```
 */
export function freePorts(count: number): number[] {
  const listeners = Array.from(
    { length: count },
    () => Deno.listen({ hostname: "127.0.0.1", port: 0 }),
  );
  const ports = listeners.map((l) => l.addr.port);
  for (const l of listeners) l.close();
  return ports;
}
