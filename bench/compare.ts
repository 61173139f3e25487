/**
 * The comparison command of issue 10 (`deno task bench:compare`): every target of the issue's
 * table measured in one run, on this machine, with ratios computed within the run.
 *
 * Targets: Prosody's own WebSocket endpoint, direct TCP to Prosody, our gateway in front of
 * Prosody's TCP port, the same three for ejabberd, and our embedded server (rate limit lifted).
 * Every server runs privately on loopback in its own process (Prosody and ejabberd from the
 * Debian packages, `scripts/install_bench_deps.sh`; ours with `deno run deno/main.ts`), under a
 * raised file-descriptor limit; the load comes from separate load-client processes
 * (bench/_compare/client.ts: Deno's WebSocket client or raw TCP, pipelined login, no parser).
 *
 * 1. Throughput at 1, 50 and 500 connections: each connection logs in (SASL PLAIN), binds, and
 *    sends a chat message with a 64-byte body to its own full JID, the next one when it comes
 *    back (one in flight). Rounds alternate the targets' order. Per target: stanzas/s
 *    (messages back per second; medians over rounds), ratios within each round to Prosody's
 *    WebSocket, to direct TCP to the same server and to ejabberd's WebSocket, p50/p99 round
 *    trip, CPU per stanza of each server process (utime+stime from /proc/<pid>/stat: ours and
 *    the upstream's), the load clients' own CPU per stanza, RSS.
 * 2. Idle memory per connection after login and bind at 1 000 and 10 000 connections: each
 *    target on freshly started servers, growth of each server process's RSS.
 * 3. Logins per second (PLAIN and SCRAM-SHA-1 over WebSocket, connect + login + bind + close,
 *    50 at once) for the embedded server, Prosody and ejabberd, with the server's CPU per
 *    login and the round trip of a connection messaging itself meanwhile.
 *
 * Reproduce: `deno task bench:compare` (about 15 minutes), or
 * `deno run -A bench/compare.ts --quick` (1 round, shorter runs, no 10 000; 3-4 minutes).
 * Options: `--rounds 3 --seconds 5 --warmup 1 --levels 1,50,500 --memory 1000,10000
 * --clients 2 --login-seconds 3 --targets prosody-ws,embedded,... --skip memory,logins
 * --source worktree|<git revision> --keep` (our servers run from a copy of the sources taken at the
 * start: the work tree, or e.g. `HEAD` to measure the last commit whatever is being edited;
 * `--keep` leaves the temporary folder with every server's configuration and logs).
 *
 * @module
 */

import { parseArgs } from "@std/cli";
import { LoadClients, type RunResult } from "./_compare/clients.ts";
import { childFdLimit, cpuMs, initClockTicks, rssKb } from "./_compare/proc.ts";
import { describeMachine, loadAverage } from "./_compare/machine.ts";
import { Stack } from "./_compare/stack.ts";
import { serversFor, type Target, type TargetKey, TARGETS } from "./_compare/targets.ts";
import { Histogram } from "./_compare/stats.ts";
import {
  type LoginRow,
  type MemoryRow,
  printLogins,
  printMemory,
  printTargets,
  printThroughput,
  type Sample,
} from "./_compare/report.ts";
import type { Mechanism } from "./_compare/protocol.ts";
import { skippedFlags, snapshotSources } from "./_compare/ours.ts";

const PASSWORD = "bench-compare-password";
const WARM_CONNECTIONS = 20;
/**
 * The memory phase logs its connections in with SCRAM-SHA-1: the same session state after
 * bind, at a fraction of PLAIN's server cost where accounts are stored hashed (PLAIN costs
 * a PBKDF2 per login: about 10 ms of ejabberd CPU, 4 ms of Prosody's).
 */
const LOGIN: Mechanism = "SCRAM-SHA-1";

interface Settings {
  readonly quick: boolean;
  readonly rounds: number;
  readonly seconds: number;
  readonly warmup: number;
  readonly levels: readonly number[];
  readonly memory: readonly number[];
  readonly clients: number;
  readonly loginSeconds: number;
  readonly targets: readonly Target[];
  readonly skip: ReadonlySet<string>;
  readonly source: string;
  readonly keep: boolean;
}

function settings(argv: readonly string[]): Settings {
  const flags = parseArgs([...argv], {
    boolean: ["quick", "keep"],
    string: [
      "rounds",
      "seconds",
      "warmup",
      "levels",
      "memory",
      "clients",
      "login-seconds",
      "targets",
      "skip",
      "source",
    ],
  });
  const quick = flags.quick;
  const num = (name: string, value: string | undefined, fallback: number) => {
    const n = value === undefined ? fallback : Number(value);
    if (!(n > 0)) throw new RangeError(`--${name}: expected a positive number, got ${value}`);
    return n;
  };
  const list = (name: string, value: string | undefined, fallback: number[]) =>
    value === undefined ? fallback : value.split(",").map((v) => Math.round(num(name, v, 0)));
  const keys = flags.targets?.split(",") ?? TARGETS.map((t) => t.key);
  for (const k of keys) {
    if (!TARGETS.some((t) => t.key === k)) throw new RangeError(`--targets: unknown ${k}`);
  }
  return {
    quick,
    rounds: Math.round(num("rounds", flags.rounds, quick ? 1 : 3)),
    seconds: num("seconds", flags.seconds, quick ? 1.5 : 5),
    warmup: num("warmup", flags.warmup, quick ? 0.5 : 1),
    levels: list("levels", flags.levels, [1, 50, 500]),
    memory: list("memory", flags.memory, quick ? [1000] : [1000, 10_000]).sort((a, b) => a - b),
    clients: Math.round(num("clients", flags.clients, 2)),
    loginSeconds: num("login-seconds", flags["login-seconds"], quick ? 1.5 : 3),
    targets: TARGETS.filter((t) => keys.includes(t.key)),
    skip: new Set(flags.skip?.split(",") ?? []),
    source: flags.source ?? "worktree",
    keep: flags.keep,
  };
}

/** Users u0..: throughput gives each target its own range; memory and logins reuse them. */
function userNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `u${i}`);
}

async function throughput(
  s: Settings,
  stack: Stack,
  clients: LoadClients,
  users: readonly string[],
): Promise<Map<string, Sample[]>> {
  const max = Math.max(...s.levels);
  const samples = new Map<string, Sample[]>();
  console.error(`throughput: logging in ${max} connections per target`);
  for (const [i, t] of s.targets.entries()) {
    const ms = await clients.login(
      t.key,
      stack.endpoint(t),
      users.slice(i * max, (i + 1) * max),
      PASSWORD,
    );
    console.error(`  ${t.key}: ${max} logins in ${(ms / 1000).toFixed(1)} s`);
  }
  const measure = async (t: Target, level: number, ms: number): Promise<Sample> => {
    const p = stack.processes(t);
    const before = {
      ours: p.ours ? cpuMs(p.ours.pid) : NaN,
      upstream: p.upstream ? cpuMs(p.upstream.pid) : NaN,
      client: clients.cpuMs(),
    };
    const r: RunResult = await clients.run(t.key, level, ms);
    return {
      target: t.key,
      level,
      count: r.count,
      errors: r.errors,
      elapsedMs: r.elapsedMs,
      oursCpuMs: p.ours ? cpuMs(p.ours.pid) - before.ours : NaN,
      upstreamCpuMs: p.upstream ? cpuMs(p.upstream.pid) - before.upstream : NaN,
      clientCpuMs: clients.cpuMs() - before.client,
      oursRssKb: p.ours ? rssKb(p.ours.pid) : NaN,
      upstreamRssKb: p.upstream ? rssKb(p.upstream.pid) : NaN,
      histogram: r.histogram,
    };
  };
  console.error("throughput: warm-up");
  for (const t of s.targets) await measure(t, Math.min(50, max), s.warmup * 1000);
  for (let round = 0; round < s.rounds; round++) {
    for (const [li, level] of s.levels.entries()) {
      const n = s.targets.length;
      const order = s.targets.map((_, i) => s.targets[(i + round + li) % n]!);
      console.error(
        `throughput: round ${round + 1}/${s.rounds}, ${level} connection(s): ` +
          order.map((t) => t.key).join(" "),
      );
      for (const t of order) {
        const sample = await measure(t, level, s.seconds * 1000);
        const key = `${t.key}@${level}`;
        samples.set(key, [...(samples.get(key) ?? []), sample]);
      }
    }
  }
  for (const t of s.targets) await clients.close(t.key);
  return samples;
}

async function memory(
  s: Settings,
  stack: Stack,
  clients: LoadClients,
  users: readonly string[],
  fdLimit: number,
): Promise<MemoryRow[]> {
  const rows: MemoryRow[] = [];
  for (const t of s.targets) {
    try {
      rows.push(await memoryOf(t, s, stack, clients, users, fdLimit));
    } catch (error) {
      const text = error instanceof Error ? error.message.split("\n")[0]! : String(error);
      console.error(`memory: ${t.key}: ${text}`);
      rows.push({
        target: t.key,
        points: [{ wanted: s.memory[0]!, connections: 0, ours: NaN, upstream: NaN, error: text }],
      });
    }
    await clients.close(`mem-${t.key}`).catch(() => {});
  }
  await stack.stopAll();
  return rows;
}

async function memoryOf(
  t: Target,
  s: Settings,
  stack: Stack,
  clients: LoadClients,
  users: readonly string[],
  fdLimit: number,
): Promise<MemoryRow> {
  await stack.stopAll();
  await stack.start(serversFor([t]));
  const p = stack.processes(t);
  const endpoint = stack.endpoint(t);
  // The gateway holds two descriptors per connection (WebSocket and upstream TCP).
  const perConn = t.ours?.startsWith("gateway") ? 2 : 1;
  const cap = Math.floor((fdLimit - 200) / perConn) - WARM_CONNECTIONS;
  const group = `mem-${t.key}`;
  await clients.login(group, endpoint, users.slice(0, WARM_CONNECTIONS), PASSWORD, LOGIN, 100);
  const settle = async () => {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    return {
      ours: p.ours ? rssKb(p.ours.pid) : NaN,
      upstream: p.upstream ? rssKb(p.upstream.pid) : NaN,
    };
  };
  const base = await settle();
  const row: MemoryRow = { target: t.key, points: [] };
  let open = 0;
  for (const wanted of s.memory) {
    const n = Math.min(wanted, cap);
    if (n <= open) continue;
    const started = performance.now();
    try {
      await clients.login(
        group,
        endpoint,
        users.slice(WARM_CONNECTIONS + open, WARM_CONNECTIONS + n),
        PASSWORD,
        LOGIN,
        100,
      );
    } catch (error) {
      row.points.push({ wanted, connections: n, ours: NaN, upstream: NaN, error: String(error) });
      break;
    }
    const loginMs = performance.now() - started;
    open = n;
    const now = await settle();
    row.points.push({
      wanted,
      connections: n,
      ours: (now.ours - base.ours) / n,
      upstream: (now.upstream - base.upstream) / n,
      loginMs,
    });
    console.error(
      `memory: ${t.key}: ${n} connections (logins ${(loginMs / 1000).toFixed(1)} s)`,
    );
  }
  return row;
}

async function logins(
  s: Settings,
  stack: Stack,
  clients: LoadClients,
  users: readonly string[],
): Promise<LoginRow[]> {
  const keys: TargetKey[] = ["prosody-ws", "ejabberd-ws", "embedded"];
  const targets = s.targets.filter((t) => keys.includes(t.key));
  await stack.start(serversFor(targets));
  for (const t of targets) {
    await clients.login(`probe-${t.key}`, stack.endpoint(t), users.slice(0, 1), PASSWORD);
  }
  const rows = new Map<string, LoginRow>();
  const pool = users.slice(1, 1001);
  for (let round = 0; round < s.rounds; round++) {
    for (const mechanism of ["PLAIN", "SCRAM-SHA-1"] as Mechanism[]) {
      for (const [i] of targets.entries()) {
        const t = targets[(i + round) % targets.length]!;
        console.error(`logins: round ${round + 1}/${s.rounds}, ${mechanism}, ${t.key}`);
        const p = stack.processes(t);
        const server = () =>
          (p.ours ? cpuMs(p.ours.pid) : 0) + (p.upstream ? cpuMs(p.upstream.pid) : 0);
        const cpu0 = server();
        const ms = s.loginSeconds * 1000;
        const [burst, probe] = await Promise.all([
          clients.logins(stack.endpoint(t), pool, PASSWORD, mechanism, 50, ms),
          clients.run(`probe-${t.key}`, 1, ms),
        ]);
        const key = `${t.key}/${mechanism}`;
        const row = rows.get(key) ?? {
          target: t.key,
          mechanism,
          rates: [],
          cpuPerLoginMs: [],
          errors: 0,
          probe: new Histogram(),
        };
        row.rates.push((burst.count * 1000) / burst.elapsedMs);
        row.cpuPerLoginMs.push((server() - cpu0) / burst.count);
        row.errors += burst.errors;
        row.probe.merge(probe.histogram);
        rows.set(key, row);
      }
    }
  }
  for (const t of targets) await clients.close(`probe-${t.key}`);
  return [...rows.values()];
}

async function main(): Promise<void> {
  const s = settings(Deno.args);
  const started = performance.now();
  await initClockTicks();
  const fdLimit = await childFdLimit();
  const loadBefore = loadAverage();
  const machine = await describeMachine();
  const throughputUsers = s.targets.length * Math.max(...s.levels);
  const users = userNames(
    Math.max(throughputUsers, WARM_CONNECTIONS + Math.max(...s.memory), 1001),
  );
  const dir = await Deno.makeTempDir({ prefix: "xmpp-bench-compare-" });
  const stack = new Stack(dir, users, PASSWORD);
  const clients = new LoadClients(s.clients);
  let stopping = false;
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    cleaning ??= (async () => {
      await clients.exit().catch(() => {});
      await stack.stopAll().catch(() => {});
      if (s.keep) console.error(`kept ${dir} (servers' configurations, data and logs)`);
      else await Deno.remove(dir, { recursive: true }).catch(() => {});
    })();
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    console.error("interrupted: stopping the servers and the load clients");
    void cleanup().finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    await snapshotSources(`${dir}/src`, s.source);
    console.error(`preparing ${users.length} accounts on each server (${dir})`);
    await stack.start(serversFor(s.targets));
    const samples = s.skip.has("throughput")
      ? new Map<string, Sample[]>()
      : await throughput(s, stack, clients, users);
    const loginRows = s.skip.has("logins") ? [] : await logins(s, stack, clients, users);
    const memoryRows = s.skip.has("memory") ? [] : await memory(s, stack, clients, users, fdLimit);

    console.log(`# xmpp-websocket comparison (bench/compare.ts${s.quick ? " --quick" : ""})`);
    console.log();
    for (const line of machine) console.log(`- ${line}`);
    console.log(`- load average before: ${loadBefore}; after: ${loadAverage()}`);
    console.log(
      `- ${s.rounds} round(s) x ${s.seconds} s per target and level, targets' order rotated ` +
        `each round; ${s.clients} load-client process(es); file-descriptor limit ${fdLimit}; ` +
        `our servers from ${s.source === "worktree" ? "the work tree" : `git ${s.source}`}; ` +
        `${new Date().toISOString().slice(0, 10)}`,
    );
    if (clients.retries > 0) {
      console.log(
        `- logins retried (the server dropped the connection mid-login): ${clients.retries}`,
      );
    }
    if (skippedFlags.size > 0) {
      console.log(`- not offered by this checkout's deno/main.ts: ${[...skippedFlags].join(" ")}`);
    }
    if (samples.size > 0) printThroughput(s.targets, s.levels, samples);
    if (loginRows.length > 0) printLogins(loginRows, s.loginSeconds);
    if (memoryRows.length > 0) printMemory(s.targets, memoryRows, s.memory);
    if (samples.size > 0) printTargets(samples, memoryRows, loginRows, s.levels);
    console.log();
    console.log(`Done in ${((performance.now() - started) / 1000).toFixed(0)} s.`);
  } catch (error) {
    if (!stopping) throw error;
  } finally {
    await cleanup();
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
  if (stopping) Deno.exit(130);
}

if (import.meta.main) await main();
