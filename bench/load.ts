/**
 * Load benchmark on real sockets, every figure a ratio against a baseline measured in the same
 * run (timings vary 25-50 % between runs on shared machines; compare the ratios).
 *
 * 1. Throughput: N logged-in connections per target (default 50), each sending a chat message
 *    to its own full JID and sending the next one when it comes back (one in flight). Targets,
 *    in alternating rounds after a warm-up: (A) Prosody's own WebSocket endpoint (baseline),
 *    (B) our gateway in front of Prosody's c2s TCP port, (C) our embedded server. The load
 *    client runs in a separate Deno process, so the CPU time of this process is the server
 *    side (gateway or embedded server); Prosody's comes from `/proc/<pid>/stat`.
 * 2. Memory: resident memory and JS heap per idle connection (after login and bind) of the
 *    embedded server and of the gateway (Prosody apart, in its own process),
 *    against bare `Deno.upgradeWebSocket` connections, all in this process.
 *
 * Reproduce: `npx -y deno@2.9.6 run -A bench/load.ts [--connections 50] [--seconds 5]
 * [--rounds 5] [--idle 200]` (needs Debian `prosody`: `bash scripts/install_test_deps.sh`).
 *
 * @module
 */

import { parseArgs } from "@std/cli";
import { JsonChild, lines } from "./_json_child.ts";
import v8 from "node:v8";
import vm from "node:vm";
import { startProsody } from "../tests/_support/prosody.ts";
import { serveGateway } from "../deno/gateway.ts";
import { serveXmpp } from "../deno/serve.ts";
import { embeddedServer, loadAccounts } from "../deno/embedded.ts";
import { createLogger } from "../deno/mod.ts";

const DOMAIN = "localhost";
const PASSWORD = "load-bench-password";
const FRAMING = "urn:ietf:params:xml:ns:xmpp-framing";
/** Every load connection comes from 127.0.0.1: admission control's per-address limits are lifted. */
const LOAD_ADMISSION = {
  maxConnections: 1_000_000,
  maxPerAddress: 1_000_000,
  maxUnauthenticatedPerAddress: 1_000_000,
  newPerSecond: 1_000_000,
  newBurst: 1_000_000,
  preAuthTimeoutMs: 600_000,
};

// ---------------------------------------------------------------------------------------------
// Shared: line-delimited JSON between this process and the load client.

type Request =
  | { op: "login"; group: string; url: string; users: string[] }
  | { op: "open-bare"; group: string; url: string; count: number }
  | { op: "run"; group: string; ms: number }
  | { op: "close"; group: string }
  | { op: "exit" };

type Reply = {
  error?: string;
  ms?: number;
  count?: number;
  errors?: number;
  elapsedMs?: number;
};

// ---------------------------------------------------------------------------------------------
// The load client (`--client`): raw WebSockets and precomputed messages.

class LoadConnection {
  readonly socket: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<void>;
  #inbox: string[] = [];
  #wake: (() => void) | undefined;
  #ended = false;
  group: Group | undefined;
  message = "";

  constructor(url: string) {
    this.socket = new WebSocket(url, ["xmpp"]);
    this.opened = new Promise((resolve, reject) => {
      this.socket.onopen = () => resolve();
      this.socket.onerror = (e) =>
        reject(new Error(`WebSocket error: ${(e as ErrorEvent).message}`));
    });
    this.closed = new Promise((resolve) => {
      this.socket.onclose = () => {
        this.#ended = true;
        this.#wake?.();
        resolve();
      };
    });
    this.socket.onmessage = (event) => {
      const data = event.data;
      const group = this.group;
      if (group !== undefined) return group.received(this, data);
      if (typeof data === "string") this.#inbox.push(data);
      this.#wake?.();
    };
  }

  /** Waits for a received message matching `test`, dropping the ones before it. */
  async until(test: (text: string) => boolean, what: string, timeoutMs = 30_000): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      while (this.#inbox.length > 0) {
        const text = this.#inbox.shift()!;
        if (test(text)) return text;
        if (/<(stream:)?error|<failure/.test(text)) throw new Error(`${what}: got ${text}`);
      }
      if (this.#ended) throw new Error(`${what}: the connection closed`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`${what}: timed out`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
      this.#wake = undefined;
    }
  }

  /** SASL PLAIN (loopback), stream restart, resource binding; returns the full JID. */
  async login(username: string): Promise<string> {
    await this.opened;
    const open = `<open xmlns='${FRAMING}' to='${DOMAIN}' version='1.0'/>`;
    this.socket.send(open);
    await this.until((t) => t.includes("<mechanisms"), "SASL features");
    this.socket.send(
      `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${
        btoa(`\0${username}\0${PASSWORD}`)
      }</auth>`,
    );
    await this.until((t) => t.includes("<success"), "SASL success");
    this.socket.send(open);
    await this.until((t) => t.includes("urn:ietf:params:xml:ns:xmpp-bind"), "bind feature");
    this.socket.send(
      "<iq xmlns='jabber:client' type='set' id='bind1'>" +
        "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>",
    );
    const result = await this.until((t) => /id=['"]bind1['"]/.test(t), "bind result");
    const jid = /<jid>([^<]+)<\/jid>/.exec(result)?.[1];
    if (jid === undefined || !/type=['"]result['"]/.test(result)) {
      throw new Error(`bind failed: ${result}`);
    }
    return jid;
  }

  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.OPEN) {
      try {
        this.socket.send(`<close xmlns='${FRAMING}'/>`);
      } catch { /* closing */ }
    }
    const timer = setTimeout(() => this.socket.close(1000), 500);
    return this.closed.then(() => clearTimeout(timer));
  }
}

/** The connections of one target, and the state of a timed run over them. */
class Group {
  readonly connections: LoadConnection[] = [];
  running = false;
  inFlight = 0;
  count = 0;
  errors = 0;
  #drained: (() => void) | undefined;

  received(conn: LoadConnection, data: unknown): void {
    if (typeof data !== "string" || !data.startsWith("<message")) return;
    this.count++;
    if (data.includes("type='error'") || data.includes('type="error"')) this.errors++;
    if (this.running) return conn.socket.send(conn.message);
    if (--this.inFlight === 0) this.#drained?.();
  }

  /** Runs for `ms`, then waits for the messages in flight; counts every one that came back. */
  async run(ms: number): Promise<Reply> {
    this.count = 0;
    this.errors = 0;
    this.running = true;
    this.inFlight = this.connections.length;
    const drained = new Promise<void>((resolve) => this.#drained = resolve);
    const start = performance.now();
    for (const conn of this.connections) conn.socket.send(conn.message);
    await new Promise((resolve) => setTimeout(resolve, ms));
    this.running = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => timer = setTimeout(resolve, 10_000));
    await Promise.race([drained, late]);
    clearTimeout(timer);
    const elapsedMs = performance.now() - start;
    if (this.inFlight !== 0) {
      return { error: `${this.inFlight} messages did not come back within 10 s` };
    }
    return { count: this.count, errors: this.errors, elapsedMs };
  }
}

async function pool<T>(items: readonly T[], width: number, task: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

async function clientMain(): Promise<void> {
  const groups = new Map<string, Group>();
  const group = (name: string) => {
    let g = groups.get(name);
    if (!g) groups.set(name, g = new Group());
    return g;
  };
  const out = new TextEncoder();
  const reply = (r: Reply) => Deno.stdout.writeSync(out.encode(JSON.stringify(r) + "\n"));
  for await (const line of lines(Deno.stdin.readable)) {
    const request = JSON.parse(line) as Request;
    try {
      const start = performance.now();
      switch (request.op) {
        case "login": {
          const g = group(request.group);
          const made: LoadConnection[] = [];
          await pool(request.users, 25, async (username) => {
            const conn = new LoadConnection(request.url);
            const k = made.push(conn);
            const jid = await conn.login(username);
            conn.message = `<message xmlns='jabber:client' to='${jid}' type='chat' id='m${k}'>` +
              `<body>The quick brown fox jumps over the lazy dog (${k})</body></message>`;
          });
          for (const conn of made) conn.group = g;
          g.connections.push(...made);
          reply({ ms: performance.now() - start });
          break;
        }
        case "open-bare": {
          const g = group(request.group);
          const made = Array.from({ length: request.count }, () => {
            const conn = new LoadConnection(request.url);
            conn.group = g;
            return conn;
          });
          await Promise.all(made.map((c) => c.opened));
          g.connections.push(...made);
          reply({ ms: performance.now() - start });
          break;
        }
        case "run":
          reply(await group(request.group).run(request.ms));
          break;
        case "close": {
          const g = group(request.group);
          await Promise.all(g.connections.map((c) => c.close()));
          groups.delete(request.group);
          reply({ ms: performance.now() - start });
          break;
        }
        case "exit":
          reply({});
          return;
      }
    } catch (error) {
      reply({ error: error instanceof Error ? error.message : String(error) });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The bench (servers, measurements, report).

class LoadClient extends JsonChild<Request, Reply> {
  constructor() {
    super(
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", import.meta.filename!, "--client"],
        stdin: "piped",
        stdout: "piped",
        stderr: "inherit",
      }).spawn(),
    );
  }

  kill(): void {
    try {
      this.child.kill("SIGKILL");
    } catch { /* gone */ }
  }
}

/** Runs `task` the first time only; later calls get the same promise. */
function once(task: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => done ??= task();
}

let clockTicks = 100;

/** User + system CPU time of a process (all its threads), in ms; NaN when unreadable. */
function cpuMs(pid: number | "self"): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
  } catch {
    return NaN;
  }
}

function rssKb(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

/** A full GC: `--v8-flags=--expose-gc` if given, else the flag set at run time (node:v8). */
function findGc(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === "function") return exposed;
  try {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as unknown;
    if (typeof gc === "function") return gc as () => void;
  } catch { /* not available */ }
  return undefined;
}

/** Resident memory and V8 heap in use, in KB, after full GCs when available. */
async function settledMemory(gc: (() => void) | undefined): Promise<{ rss: number; heap: number }> {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { rss: rssKb(), heap: Deno.memoryUsage().heapUsed / 1024 };
}

async function machineLine(): Promise<string> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? "unknown CPU";
  const [l1, l5, l15] = Deno.loadavg().map((l) => l.toFixed(2));
  return `Deno ${Deno.version.deno} (V8 ${Deno.version.v8}), ${Deno.build.os} ${Deno.build.arch}, ` +
    `nproc ${navigator.hardwareConcurrency}, ${model}, load average ${l1} ${l5} ${l15}`;
}

async function readPid(path: string): Promise<number | undefined> {
  for (let i = 0; i < 40; i++) {
    const text = await Deno.readTextFile(path).catch(() => "");
    const pid = Number.parseInt(text.trim(), 10);
    if (pid > 0) return pid;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return undefined;
}

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
      .replaceAll(",", " ")
    : "n/a";

interface Totals {
  count: number;
  errors: number;
  elapsedMs: number;
  denoCpuMs: number;
  prosodyCpuMs: number;
  clientCpuMs: number;
}

async function benchMain(args: {
  connections: number;
  seconds: number;
  rounds: number;
  warmup: number;
  idle: number;
}): Promise<void> {
  const started = performance.now();
  const cleanups: Array<() => Promise<void> | void> = [];
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    cleaning ??= (async () => {
      for (const step of cleanups.reverse()) {
        try {
          await step();
        } catch (error) {
          console.error(`cleanup: ${error instanceof Error ? error.message : error}`);
        }
      }
    })();
  let client: LoadClient | undefined;
  const onSignal = () => {
    console.error("interrupted: stopping the servers, Prosody and the load client");
    client?.kill();
    void cleanup().finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  cleanups.push(() => Deno.removeSignalListener("SIGINT", onSignal));

  try {
    const ticks = await new Deno.Command("getconf", { args: ["CLK_TCK"], stdout: "piped" })
      .output().catch(() => undefined);
    clockTicks = Number(new TextDecoder().decode(ticks?.stdout ?? new Uint8Array()).trim()) || 100;
    console.log(`xmpp-websocket load bench: ${await machineLine()}`);

    const gc = findGc();
    const loadClient = client = new LoadClient();
    cleanups.push(() => loadClient.exit());
    const quiet = createLogger("error", "text");

    // --- Memory first, in a fresh process heap: bare upgrades vs the embedded server. ---
    const warmConns = 20;
    const idleUsers = Array.from({ length: args.idle + warmConns }, (_, i) => `idle${i}`);
    const bareSockets = new Set<WebSocket>();
    const bare = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
      const { socket, response } = Deno.upgradeWebSocket(request, { protocol: "xmpp" });
      bareSockets.add(socket);
      socket.onclose = () => bareSockets.delete(socket);
      return response;
    });
    const stopBare = once(() => bare.shutdown());
    cleanups.push(stopBare);
    const idleAccounts = await loadAccounts({ users: idleUsers.map((u) => `${u}:${PASSWORD}`) });
    const idleApp = embeddedServer({ domain: DOMAIN, accounts: idleAccounts.accounts });
    const idleServer = serveXmpp({
      hostname: "127.0.0.1",
      port: 0,
      session: { domains: [DOMAIN] },
      application: idleApp,
      admission: LOAD_ADMISSION,
    });
    const stopIdle = once(async () => {
      await idleServer.shutdown();
      idleApp.stop();
    });
    cleanups.push(stopIdle);
    const bareUrl = `ws://127.0.0.1:${bare.addr.port}/`;
    const idleUrl = `ws://127.0.0.1:${idleServer.addr.port}/xmpp-websocket`;
    // Warm-up connections (kept open, not counted): code compiled, pools grown.
    await loadClient.call({ op: "open-bare", group: "bare", url: bareUrl, count: warmConns });
    await loadClient.call({
      op: "login",
      group: "idle",
      url: idleUrl,
      users: idleUsers.slice(0, warmConns),
    });
    const bareKb = { rss: 0, heap: 0 };
    const embeddedKb = { rss: 0, heap: 0 };
    const add = (sum: typeof bareKb, a: typeof bareKb, b: typeof bareKb) => {
      sum.rss += b.rss - a.rss;
      sum.heap += b.heap - a.heap;
    };
    let loginMs = 0;
    const halves = [Math.floor(args.idle / 2), args.idle - Math.floor(args.idle / 2)];
    let offset = warmConns;
    for (const half of halves) {
      let before = await settledMemory(gc);
      await loadClient.call({ op: "open-bare", group: "bare", url: bareUrl, count: half });
      let after = await settledMemory(gc);
      add(bareKb, before, after);
      before = after;
      const users = idleUsers.slice(offset, offset += half);
      loginMs += (await loadClient.call({ op: "login", group: "idle", url: idleUrl, users })).ms!;
      after = await settledMemory(gc);
      add(embeddedKb, before, after);
    }
    if (bareSockets.size !== args.idle + warmConns) {
      throw new Error(`expected ${args.idle + warmConns} bare sockets, got ${bareSockets.size}`);
    }
    if (idleApp.hub.sessions.size !== args.idle + warmConns) {
      throw new Error(
        `expected ${args.idle + warmConns} sessions, got ${idleApp.hub.sessions.size}`,
      );
    }
    await loadClient.call({ op: "close", group: "bare" });
    await loadClient.call({ op: "close", group: "idle" });
    await stopIdle();
    await stopBare();

    // --- Memory of the gateway (this process; Prosody's share is in its own process). ---
    const gatewayUsers = Array.from({ length: args.idle + warmConns }, (_, i) => `gwidle${i}`);
    const idleProsody = await startProsody({
      accounts: gatewayUsers.map((username) => ({ username, password: PASSWORD })),
      logLevel: "warn",
      smacks: false,
    });
    const stopIdleProsody = once(() => idleProsody.stop());
    cleanups.push(stopIdleProsody);
    const idleGateway = serveGateway({
      hostname: "127.0.0.1",
      port: 0,
      domains: [DOMAIN],
      upstream: { hostname: "127.0.0.1", port: idleProsody.c2sPort },
      upstreamTls: "off",
      log: quiet,
      admission: LOAD_ADMISSION,
    });
    const stopIdleGateway = once(() => idleGateway.shutdown());
    cleanups.push(stopIdleGateway);
    const gatewayUrl = `ws://127.0.0.1:${idleGateway.addr.port}/xmpp-websocket`;
    await loadClient.call({
      op: "login",
      group: "gwidle",
      url: gatewayUrl,
      users: gatewayUsers.slice(0, warmConns),
    });
    const gatewayKb = { rss: 0, heap: 0 };
    let gatewayOffset = warmConns;
    for (const half of halves) {
      const before = await settledMemory(gc);
      const users = gatewayUsers.slice(gatewayOffset, gatewayOffset += half);
      await loadClient.call({ op: "login", group: "gwidle", url: gatewayUrl, users });
      add(gatewayKb, before, await settledMemory(gc));
    }
    await loadClient.call({ op: "close", group: "gwidle" });
    await stopIdleGateway();
    await stopIdleProsody();

    // --- Throughput: Prosody (A), gateway -> Prosody (B), embedded (C). ---
    const users = Array.from({ length: args.connections }, (_, i) => `load${i}`);
    const prosody = await startProsody({
      accounts: users.map((username) => ({ username, password: PASSWORD })),
      logLevel: "warn",
      smacks: false,
    });
    cleanups.push(() => prosody.stop());
    const prosodyPid = await readPid(`${prosody.dir}/prosody.pid`);
    const gateway = serveGateway({
      hostname: "127.0.0.1",
      port: 0,
      domains: [DOMAIN],
      upstream: { hostname: "127.0.0.1", port: prosody.c2sPort },
      upstreamTls: "off",
      log: quiet,
      admission: LOAD_ADMISSION,
    });
    cleanups.push(() => gateway.shutdown());
    const loadAccountsC = await loadAccounts({ users: users.map((u) => `${u}:${PASSWORD}`) });
    // The hub's default rate limit (20 stanzas/s per connection) would cap this benchmark.
    const app = embeddedServer({
      domain: DOMAIN,
      accounts: loadAccountsC.accounts,
      rate: { perSecond: 1e9, burst: 1e9 },
    });
    const embedded = serveXmpp({
      hostname: "127.0.0.1",
      port: 0,
      session: { domains: [DOMAIN] },
      application: app,
      admission: LOAD_ADMISSION,
    });
    cleanups.push(async () => {
      await embedded.shutdown();
      app.stop();
    });
    const targets = [
      { key: "A", name: "A Prosody WebSocket (baseline)", url: prosody.websocketUrl },
      {
        key: "B",
        name: "B gateway -> Prosody c2s TCP",
        url: `ws://127.0.0.1:${gateway.addr.port}/xmpp-websocket`,
      },
      {
        key: "C",
        name: "C embedded server",
        url: `ws://127.0.0.1:${embedded.addr.port}/xmpp-websocket`,
      },
    ] as const;
    for (const t of targets) {
      await loadClient.call({ op: "login", group: t.key, url: t.url, users });
    }
    const clientPid = loadClient.child.pid;
    const measure = async (key: string, ms: number) => {
      const deno0 = cpuMs("self");
      const prosody0 = prosodyPid ? cpuMs(prosodyPid) : NaN;
      const client0 = cpuMs(clientPid);
      const r = await loadClient.call({ op: "run", group: key, ms });
      return {
        count: r.count!,
        errors: r.errors!,
        elapsedMs: r.elapsedMs!,
        denoCpuMs: cpuMs("self") - deno0,
        prosodyCpuMs: prosodyPid ? cpuMs(prosodyPid) - prosody0 : NaN,
        clientCpuMs: cpuMs(clientPid) - client0,
      };
    };
    for (const t of targets) await measure(t.key, args.warmup * 1000);
    const totals = new Map<string, Totals>(targets.map((t) => [t.key, {
      count: 0,
      errors: 0,
      elapsedMs: 0,
      denoCpuMs: 0,
      prosodyCpuMs: 0,
      clientCpuMs: 0,
    }]));
    const roundMs = (args.seconds * 1000) / args.rounds;
    const ratios = new Map<string, number[]>(targets.map((t) => [t.key, []]));
    for (let round = 0; round < args.rounds; round++) {
      const rates = new Map<string, number>();
      for (let i = 0; i < targets.length; i++) {
        const t = targets[(round + i) % targets.length]!;
        const m = await measure(t.key, roundMs);
        const total = totals.get(t.key)!;
        total.count += m.count;
        total.errors += m.errors;
        total.elapsedMs += m.elapsedMs;
        total.denoCpuMs += m.denoCpuMs;
        total.prosodyCpuMs += m.prosodyCpuMs;
        total.clientCpuMs += m.clientCpuMs;
        rates.set(t.key, m.count / m.elapsedMs);
      }
      for (const t of targets) ratios.get(t.key)!.push(rates.get(t.key)! / rates.get("A")!);
    }

    // --- Report. ---
    const base = totals.get("A")!;
    const baseRate = (base.count * 1000) / base.elapsedMs;
    console.log();
    console.log(
      `Throughput: ${args.connections} connections per target, self-messages, one in flight ` +
        `each; ${args.rounds} alternating rounds x ${fmt(roundMs / 1000, 1)} s per target ` +
        `after a ${fmt(args.warmup, 1)} s warm-up; the load client is a separate Deno process`,
    );
    console.log(
      "Columns: ratio = stanzas/s / A's (per-round range in brackets); CPU in µs per stanza " +
        "(one message sent and received back): server = ours + Prosody, ours = this process " +
        "(gateway or embedded server), client = the load client; cores = server CPU / wall time",
    );
    const row = (cells: readonly string[]) =>
      console.log(
        [cells[0]!.padEnd(31), ...cells.slice(1).map((c, i) => c.padStart(WIDTHS[i]!))].join(" "),
      );
    const WIDTHS = [9, 5, 11, 7, 6, 8, 5, 7, 6];
    row([
      "target",
      "stanzas/s",
      "ratio",
      "(rounds)",
      "server",
      "ours",
      "Prosody",
      "cores",
      "client",
      "errors",
    ]);
    for (const t of targets) {
      const total = totals.get(t.key)!;
      const rate = (total.count * 1000) / total.elapsedMs;
      const per = (ms: number) => (ms * 1000) / total.count;
      const ours = t.key === "A" ? NaN : total.denoCpuMs;
      const theirs = t.key === "C" ? NaN : total.prosodyCpuMs;
      const server = (Number.isNaN(ours) ? 0 : ours) + (Number.isNaN(theirs) ? 0 : theirs);
      const r = ratios.get(t.key)!;
      const range = t.key === "A" ? "" : `(${fmt(Math.min(...r), 2)}-${fmt(Math.max(...r), 2)})`;
      row([
        t.name,
        fmt(rate),
        fmt(rate / baseRate, 2),
        range,
        fmt(per(server)),
        Number.isNaN(ours) ? "-" : fmt(per(ours)),
        Number.isNaN(theirs) ? "-" : fmt(per(theirs)),
        fmt(server / total.elapsedMs, 2),
        fmt(per(total.clientCpuMs)),
        String(total.errors),
      ]);
    }
    if (prosodyPid === undefined) console.log("(Prosody's pid not found: its CPU is not measured)");
    const perStanza = (key: string, ms: (t: Totals) => number) =>
      ms(totals.get(key)!) / totals.get(key)!.count;
    const baseCpu = perStanza("A", (t) => t.prosodyCpuMs);
    console.log(
      `Server CPU per stanza / A's: B ${
        fmt(perStanza("B", (t) => t.denoCpuMs + t.prosodyCpuMs) / baseCpu, 2)
      }, of which the gateway ${fmt(perStanza("B", (t) => t.denoCpuMs) / baseCpu, 2)} ` +
        `(the gateway is only half of B's work: Prosody's c2s TCP path does the rest, ` +
        `${fmt(perStanza("B", (t) => t.prosodyCpuMs) / baseCpu, 2)}); C ${
          fmt(perStanza("C", (t) => t.denoCpuMs) / baseCpu, 2)
        }`,
    );

    console.log();
    console.log(
      `Memory: per idle connection, ${args.idle} connections of each kind in this process ` +
        `(two alternating batches, after ${warmConns} warm-up connections of each kind); ` +
        (gc ? "full GC before each reading" : "NO GC available: figures include garbage"),
    );
    const perConn = (kb: number) => kb / args.idle;
    row(["", "RSS KB", "ratio", "JS heap KB"]);
    row([
      "bare Deno.upgradeWebSocket",
      fmt(perConn(bareKb.rss), 1),
      "1.00",
      fmt(perConn(bareKb.heap), 1),
    ]);
    row([
      "C embedded, after login+bind",
      fmt(perConn(embeddedKb.rss), 1),
      fmt(embeddedKb.rss / bareKb.rss, 2),
      fmt(perConn(embeddedKb.heap), 1),
    ]);
    row([
      "B gateway, after login+bind",
      fmt(perConn(gatewayKb.rss), 1),
      fmt(gatewayKb.rss / bareKb.rss, 2),
      fmt(perConn(gatewayKb.heap), 1),
    ]);
    console.log(
      `(embedded logins: ${args.idle} in ${fmt(loginMs)} ms, SASL PLAIN over loopback ` +
        `against PBKDF2-4096 credentials)`,
    );
  } finally {
    await cleanup();
    console.log();
    console.log(
      `Done in ${fmt((performance.now() - started) / 1000, 1)} s; load average now ${
        Deno.loadavg().map((l) => l.toFixed(2)).join(" ")
      }`,
    );
  }
}

if (import.meta.main) {
  const flags = parseArgs(Deno.args, {
    boolean: ["client"],
    string: ["connections", "seconds", "rounds", "warmup", "idle"],
  });
  if (flags.client) {
    await clientMain();
  } else {
    const number = (name: string, value: string | undefined, fallback: number) => {
      const n = value === undefined ? fallback : Number(value);
      if (!(n > 0)) throw new RangeError(`--${name}: expected a positive number, got ${value}`);
      return n;
    };
    await benchMain({
      connections: Math.round(number("connections", flags.connections, 50)),
      seconds: number("seconds", flags.seconds, 5),
      rounds: Math.round(number("rounds", flags.rounds, 5)),
      warmup: number("warmup", flags.warmup, 2),
      idle: Math.round(number("idle", flags.idle, 200)),
    });
  }
}
