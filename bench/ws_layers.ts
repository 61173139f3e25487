/**
 * The two WebSocket layers of the Deno endpoint compared in one run, on the embedded server:
 * `native` (`Deno.serve` + `Deno.upgradeWebSocket`) and `strict` (the core's RFC 6455 codec
 * over `Deno.listen`).
 *
 * 1. Memory: resident memory and JS heap per idle connection (after login and bind), in this
 *    process, in alternating batches, after warm-up connections and full GCs.
 * 2. Throughput: N logged-in connections per layer (default 50), each sending a chat message to
 *    its own full JID and the next one when it comes back (one in flight), in alternating rounds
 *    after a warm-up; CPU per stanza of this process (the server side). The load client is
 *    bench/load.ts's (`--client`), in a separate Deno process.
 *
 * Reproduce: `npx -y deno@2.9.6 run -A bench/ws_layers.ts [--connections 50] [--rounds 6]
 * [--seconds 12] [--idle 200]`.
 *
 * @module
 */

import { parseArgs } from "@std/cli";
import { JsonChild } from "./_json_child.ts";
import v8 from "node:v8";
import vm from "node:vm";
import { serveXmpp } from "../deno/serve.ts";
import { embeddedServer, loadAccounts } from "../deno/embedded.ts";
import type { XmppServer } from "../deno/mod.ts";

const DOMAIN = "localhost";
const PASSWORD = "load-bench-password"; // the one the load client (bench/load.ts) logs in with
const LAYERS = ["native", "strict"] as const;
type Layer = typeof LAYERS[number];

type Reply = { error?: string; ms?: number; count?: number; errors?: number; elapsedMs?: number };

/** bench/load.ts in client mode, spoken to in line-delimited JSON. */
class LoadClient extends JsonChild<Record<string, unknown> & { op: string }, Reply> {
  constructor() {
    super(
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", new URL("./load.ts", import.meta.url).pathname, "--client"],
        stdin: "piped",
        stdout: "piped",
        stderr: "inherit",
      }).spawn(),
    );
  }
}

let clockTicks = 100;

function cpuMs(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
}

function findGc(): (() => void) | undefined {
  try {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as unknown;
    return typeof gc === "function" ? gc as () => void : undefined;
  } catch {
    return undefined;
  }
}

async function settledMemory(gc: (() => void) | undefined): Promise<{ rss: number; heap: number }> {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const status = Deno.readTextFileSync("/proc/self/status");
  return {
    rss: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN),
    heap: Deno.memoryUsage().heapUsed / 1024,
  };
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
    .replaceAll(",", " ");

/** One embedded server per layer, with accounts `<prefix>0..`. */
async function start(layer: Layer, users: readonly string[]) {
  const { accounts } = await loadAccounts({ users: users.map((u) => `${u}:${PASSWORD}`) });
  const app = embeddedServer({ domain: DOMAIN, accounts, rate: { perSecond: 1e9, burst: 1e9 } });
  const server: XmppServer = serveXmpp({
    hostname: "127.0.0.1",
    port: 0,
    websocketLayer: layer,
    session: { domains: [DOMAIN] },
    application: app,
    // Every load connection comes from 127.0.0.1: the per-address admission limits are lifted.
    admission: {
      maxConnections: 1_000_000,
      maxPerAddress: 1_000_000,
      maxUnauthenticatedPerAddress: 1_000_000,
      newPerSecond: 1_000_000,
      newBurst: 1_000_000,
      preAuthTimeoutMs: 600_000,
    },
  });
  return {
    url: `ws://127.0.0.1:${server.addr.port}/xmpp-websocket`,
    app,
    stop: async () => {
      await server.shutdown();
      app.stop();
    },
  };
}

async function main(args: { connections: number; rounds: number; seconds: number; idle: number }) {
  const ticks = await new Deno.Command("getconf", { args: ["CLK_TCK"], stdout: "piped" }).output();
  clockTicks = Number(new TextDecoder().decode(ticks.stdout).trim()) || 100;
  const [l1, l5] = Deno.loadavg();
  console.log(
    `ws_layers: Deno ${Deno.version.deno}, nproc ${navigator.hardwareConcurrency}, ` +
      `load average ${l1!.toFixed(2)} ${l5!.toFixed(2)}`,
  );
  const gc = findGc();
  const client = new LoadClient();
  const stops: Array<() => Promise<void>> = [];
  try {
    // --- Memory per idle connection, alternating batches. ---
    const warm = 20;
    const idleUsers = (layer: Layer) =>
      Array.from({ length: args.idle + warm }, (_, i) => `${layer}-idle${i}`);
    const idle = new Map<Layer, Awaited<ReturnType<typeof start>>>();
    for (const layer of LAYERS) {
      const s = await start(layer, idleUsers(layer));
      idle.set(layer, s);
      stops.push(s.stop);
      await client.call({
        op: "login",
        group: `idle-${layer}`,
        url: s.url,
        users: idleUsers(layer).slice(0, warm),
      });
    }
    const memory = new Map<Layer, { rss: number; heap: number }>(
      LAYERS.map((l) => [l, { rss: 0, heap: 0 }]),
    );
    const halves = [Math.floor(args.idle / 2), args.idle - Math.floor(args.idle / 2)];
    let offset = warm;
    for (const [batch, half] of halves.entries()) {
      const order = batch % 2 === 0 ? LAYERS : [...LAYERS].reverse();
      for (const layer of order) {
        const before = await settledMemory(gc);
        await client.call({
          op: "login",
          group: `idle-${layer}`,
          url: idle.get(layer)!.url,
          users: idleUsers(layer).slice(offset, offset + half),
        });
        const after = await settledMemory(gc);
        const sum = memory.get(layer)!;
        sum.rss += after.rss - before.rss;
        sum.heap += after.heap - before.heap;
      }
      offset += half;
    }
    for (const layer of LAYERS) {
      const sessions = idle.get(layer)!.app.hub.sessions.size;
      if (sessions !== args.idle + warm) throw new Error(`${layer}: ${sessions} sessions`);
      await client.call({ op: "close", group: `idle-${layer}` });
    }

    // --- Throughput, alternating rounds. ---
    const servers = new Map<Layer, Awaited<ReturnType<typeof start>>>();
    for (const layer of LAYERS) {
      const users = Array.from({ length: args.connections }, (_, i) => `${layer}-load${i}`);
      const s = await start(layer, users);
      servers.set(layer, s);
      stops.push(s.stop);
      await client.call({ op: "login", group: layer, url: s.url, users });
    }
    const measure = async (layer: Layer, ms: number) => {
      const cpu0 = cpuMs();
      const r = await client.call({ op: "run", group: layer, ms });
      return { count: r.count!, errors: r.errors!, elapsedMs: r.elapsedMs!, cpuMs: cpuMs() - cpu0 };
    };
    for (const layer of LAYERS) await measure(layer, 1_000); // warm-up
    const totals = new Map(LAYERS.map((l) => [l, { count: 0, errors: 0, elapsedMs: 0, cpuMs: 0 }]));
    const ratios: number[] = [];
    const roundMs = (args.seconds * 1000) / args.rounds / LAYERS.length;
    for (let round = 0; round < args.rounds; round++) {
      const order = round % 2 === 0 ? LAYERS : [...LAYERS].reverse();
      const rate = new Map<Layer, number>();
      for (const layer of order) {
        const m = await measure(layer, roundMs);
        const t = totals.get(layer)!;
        t.count += m.count;
        t.errors += m.errors;
        t.elapsedMs += m.elapsedMs;
        t.cpuMs += m.cpuMs;
        rate.set(layer, m.count / m.elapsedMs);
      }
      ratios.push(rate.get("strict")! / rate.get("native")!);
    }
    for (const layer of LAYERS) await client.call({ op: "close", group: layer });

    // --- Report. ---
    console.log();
    console.log(
      `Throughput: embedded server, ${args.connections} connections per layer, self-messages, ` +
        `one in flight each; ${args.rounds} alternating rounds of ${fmt(roundMs / 1000, 1)} s ` +
        `per layer after a 1 s warm-up; server CPU = this process`,
    );
    console.log("layer    stanzas/s  ratio  (rounds)      server CPU/stanza  errors");
    const native = totals.get("native")!;
    const nativeRate = (native.count * 1000) / native.elapsedMs;
    for (const layer of LAYERS) {
      const t = totals.get(layer)!;
      const rate = (t.count * 1000) / t.elapsedMs;
      const range = layer === "native"
        ? ""
        : `(${fmt(Math.min(...ratios), 2)}-${fmt(Math.max(...ratios), 2)})`;
      console.log(
        `${layer.padEnd(8)} ${fmt(rate).padStart(9)}  ${fmt(rate / nativeRate, 2).padStart(5)}  ` +
          `${range.padEnd(12)}  ${(fmt((t.cpuMs * 1000) / t.count) + " µs").padStart(17)}  ` +
          `${t.errors}`,
      );
    }
    console.log();
    console.log(
      `Memory per idle connection (after login and bind), ${args.idle} per layer in two ` +
        `alternating batches after ${warm} warm-up connections each; ` +
        (gc ? "full GC before each reading" : "NO GC available"),
    );
    console.log("layer       RSS KB  JS heap KB");
    for (const layer of LAYERS) {
      const m = memory.get(layer)!;
      console.log(
        `${layer.padEnd(8)} ${fmt(m.rss / args.idle, 1).padStart(9)}  ${
          fmt(m.heap / args.idle, 1).padStart(10)
        }`,
      );
    }
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    await client.exit();
  }
}

if (import.meta.main) {
  const flags = parseArgs(Deno.args, { string: ["connections", "rounds", "seconds", "idle"] });
  const n = (value: string | undefined, fallback: number) => {
    const v = value === undefined ? fallback : Number(value);
    if (!(v > 0)) throw new RangeError(`expected a positive number, got ${value}`);
    return v;
  };
  await main({
    connections: Math.round(n(flags.connections, 50)),
    rounds: Math.max(3, Math.round(n(flags.rounds, 6))),
    seconds: n(flags.seconds, 12),
    idle: Math.round(n(flags.idle, 200)),
  });
}
