/**
 * The machine's description printed with every comparison: CPUs, model, memory, kernel, Deno,
 * the servers' package versions and the load average.
 *
 * @example
 * ```ts
 * import { loadAverage } from "./machine.ts";
 * console.log(loadAverage().split(" ").length); // 3
 * ```
 * @module
 */

/** The 1, 5 and 15 minute load averages. */
export function loadAverage(): string {
  return Deno.loadavg().map((l) => l.toFixed(2)).join(" ");
}

/** One line per fact. */
export async function describeMachine(): Promise<string[]> {
  const read = (path: string) => Deno.readTextFile(path).catch(() => "");
  const cpuinfo = await read("/proc/cpuinfo");
  const meminfo = await read("/proc/meminfo");
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? "unknown";
  const memKb = Number(/MemTotal:\s+(\d+)/.exec(meminfo)?.[1] ?? NaN);
  const kernel = (await read("/proc/sys/kernel/osrelease")).trim() || Deno.osRelease();
  const version = async (pkg: string) => {
    const out = await new Deno.Command("dpkg-query", {
      args: ["-W", "-f=${Version}", pkg],
      stdout: "piped",
      stderr: "null",
    }).output().catch(() => undefined);
    return new TextDecoder().decode(out?.stdout ?? new Uint8Array()).trim() || "?";
  };
  return [
    `nproc ${navigator.hardwareConcurrency}, ${model}`,
    `memory ${(memKb / 1024 / 1024).toFixed(1)} GiB, kernel ${kernel}, ${Deno.build.target}`,
    `Deno ${Deno.version.deno} (V8 ${Deno.version.v8}), Prosody ${await version("prosody")}, ` +
    `ejabberd ${await version("ejabberd")}, Erlang ${await version("erlang-base")}`,
  ];
}
