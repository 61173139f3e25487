/**
 * This project's servers as separate processes (`deno run -A deno/main.ts`), so their CPU and
 * memory are read from `/proc` apart from the load client's and the upstream's: the gateway in
 * front of an upstream's c2s TCP port, and the embedded server with its per-connection rate
 * limit lifted. Every connection limit is raised above the bench's connection counts (the
 * defaults protect a public endpoint from one address; here all load comes from 127.0.0.1).
 *
 * @example
 * ```ts ignore
 * import { startGateway } from "./ours.ts";
 * const gateway = await startGateway("gateway->Prosody", 5222);
 * console.log(gateway.websocketUrl);
 * await gateway.stop();
 * ```
 * @module
 */

import { freePorts, type Spawned, spawnLimited, waitForPort } from "./proc.ts";

let known: Promise<Set<string>> | undefined;

/** One of our servers, running. */
export interface OurServer {
  readonly process: Spawned;
  readonly websocketUrl: string;
  stop(): Promise<void>;
}

const ROOT = new URL("../../", import.meta.url).pathname;
let MAIN = `${ROOT}deno/main.ts`;

/**
 * Copies the sources our servers run from (`core/`, `deno/`, `deno.json`, `deno.lock`) into
 * `dir` and runs them from there, so every server of one comparison runs the same code even
 * while the checkout changes: from the work tree (`source` = `worktree`) or from a git
 * revision (`git archive <source>`, e.g. `HEAD`). Returns the copy's `deno/main.ts`.
 */
export async function snapshotSources(dir: string, source = "worktree"): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const parts = ["core", "deno", "deno.json", "deno.lock"];
  if (source === "worktree") {
    const present = [];
    for (const p of parts) {
      if (await Deno.stat(`${ROOT}${p}`).catch(() => undefined)) present.push(p);
    }
    const out = await new Deno.Command("cp", { args: ["-r", ...present, dir], cwd: ROOT })
      .output();
    if (!out.success) {
      throw new Error(`copying the sources: ${new TextDecoder().decode(out.stderr)}`);
    }
  } else {
    const out = await new Deno.Command("bash", {
      args: ["-c", 'git archive "$0" -- "${@:2}" | tar -x -C "$1"', source, dir, ...parts],
      cwd: ROOT,
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`git archive ${source}: ${new TextDecoder().decode(out.stderr)}`);
    }
  }
  MAIN = `${dir}/deno/main.ts`;
  known = undefined;
  return MAIN;
}

/** Limits of the endpoint (both modes) raised for loopback load. */
const ENDPOINT_FLAGS = [
  "--host=127.0.0.1",
  "--domain=localhost",
  "--log-level=error",
  "--drain=0",
  "--demo-page=off",
  "--max-connections=100000",
  "--max-connections-per-address=100000",
  "--max-unauthenticated-per-address=100000",
  "--new-connections-per-second=1000000",
  "--new-connections-burst=1000000",
  "--preauth-timeout=600000",
];

/** The options `deno/main.ts --help` lists (this checkout's command line). */
function knownOptions(): Promise<Set<string>> {
  return known ??= (async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "--help"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const help = new TextDecoder().decode(out.stdout);
    if (!out.success) {
      throw new Error(`deno/main.ts --help failed:\n${new TextDecoder().decode(out.stderr)}`);
    }
    return new Set(help.match(/--[a-z][a-z0-9-]*/g) ?? []);
  })();
}

/** Flags this checkout's command line does not offer (left out; the report names them). */
export const skippedFlags = new Set<string>();

async function start(name: string, flags: readonly string[]): Promise<OurServer> {
  const [port] = freePorts(1) as [number];
  const options = await knownOptions();
  const usable = [...ENDPOINT_FLAGS, ...flags].filter((f) => {
    const ok = options.has(f.replace(/=.*$/, ""));
    if (!ok) skippedFlags.add(f);
    return ok;
  });
  // XMPP_WS_BENCH_PROFILE=<dir>: V8 CPU profiles of our servers (written when they exit).
  const profileDir = Deno.env.get("XMPP_WS_BENCH_PROFILE");
  const process = spawnLimited(name, Deno.execPath(), [
    "run",
    "-A",
    ...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []),
    MAIN,
    `--port=${port}`,
    ...usable,
  ]);
  try {
    await waitForPort(port, 60_000, process);
  } catch (error) {
    await process.stop(200);
    throw error;
  }
  return {
    process,
    websocketUrl: `ws://127.0.0.1:${port}/xmpp-websocket`,
    stop: () => process.stop(2000),
  };
}

/** The gateway in front of `127.0.0.1:<upstreamPort>` (plain TCP upstream). */
export function startGateway(name: string, upstreamPort: number): Promise<OurServer> {
  return start(name, [`--upstream=127.0.0.1:${upstreamPort}`, "--upstream-tls=off"]);
}

/** The embedded server with the accounts of `accountsFile`, rate limit and caps lifted. */
export function startEmbedded(accountsFile: string): Promise<OurServer> {
  return start("embedded", [
    `--accounts-file=${accountsFile}`,
    "--stanza-rate=1000000000",
    "--stanza-burst=1000000000",
    "--max-xmpp-connections=100000",
    "--max-sessions=100000",
    "--max-sessions-per-account=1000",
    "--auth-failures-per-address=1000000",
    "--auth-failures-per-account=1000000",
    "--xmpp-ping-interval=0",
  ]);
}
