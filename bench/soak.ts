/**
 * Soak (issue 9): many idle and some active connections held for minutes, through the gateway
 * in front of a private Prosody and on the embedded server, each a `deno run deno/main.ts`
 * subprocess. Reports the server's resident memory (VmRSS from `/proc`, sampled every
 * `--sample` s) and its growth after warm-up (target < 10 %), errors of every kind, and the
 * round trip of the active sessions (p50, p99, max).
 *
 * - Idle sessions log in (SASL PLAIN over loopback, bind) and then stay silent; the server's
 *   WebSocket pings (`--ping-interval`, 25 s by default) are answered by the client's stack.
 * - Active sessions send a chat message to their own full JID `--rate` times a second
 *   (staggered), one in flight each (a tick with a message in flight is counted as skipped), and
 *   time its return.
 * - Errors: failed logins, connections closed by the server, error stanzas, echoes missing after
 *   10 s.
 *
 * The load client is a separate Deno process (this file with `--client`). Every process runs
 * through `bash -c 'ulimit -n N; exec ...'` with N the hard limit (at most 65 536): the gateway
 * needs two descriptors per session (WebSocket and upstream TCP); a warning is printed when the
 * limit is below what the run needs. Prosody inherits this process's limit, so the script first
 * runs itself again under the raised limit.
 *
 * Reproduce: `npx -y deno@2.9.6 run -A bench/soak.ts [--idle 10000] [--active 1000]
 * [--minutes 10] [--target gateway,embedded] [--rate 1] [--warmup <s>] [--sample 10]`; a
 * shorter run: `--idle 2000 --active 200 --minutes 2`. Needs Debian `prosody`
 * (`bash scripts/install_test_deps.sh`).
 *
 * @module
 */

import { parseArgs } from "@std/cli";
import { JsonChild, lines } from "./_json_child.ts";
import { startProsody } from "../tests/_support/prosody.ts";
import { LightSession, pool } from "../tests/_support/light_session.ts";
import { freePort, limitFlags, rssKb, sleep, waitUntil } from "../tests/_support/processes.ts";
import { createStoredAccount } from "../core/sasl/mod.ts";

const PASSWORD = "soak-password";
const MAIN = new URL("../deno/main.ts", import.meta.url).pathname;
const ECHO_TIMEOUT_MS = 10_000;

// ---------------------------------------------------------------------------------------------
// Between this process and the load client: one JSON object per line each way.

type Request =
  | { op: "login"; group: "idle" | "active"; url: string; users: string[] }
  | { op: "start"; rate: number }
  | { op: "stats" }
  | { op: "mark" }
  | { op: "close" }
  | { op: "exit" };

interface Window {
  readonly sent: number;
  readonly echoed: number;
  readonly skipped: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

interface Reply {
  error?: string;
  ms?: number;
  ok?: number;
  failed?: number;
  failures?: string[];
  window?: Window;
  /** Since the last `mark` (the end of warm-up). */
  total?: Window;
  errors?: Record<string, number>;
  open?: number;
}

// ---------------------------------------------------------------------------------------------
// The load client (`--client`).

/** Round-trip samples (ms) in a growable array. */
class Samples {
  #data = new Float64Array(1024);
  #length = 0;
  add(ms: number): void {
    if (this.#length === this.#data.length) {
      const bigger = new Float64Array(this.#data.length * 2);
      bigger.set(this.#data);
      this.#data = bigger;
    }
    this.#data[this.#length++] = ms;
  }
  get length(): number {
    return this.#length;
  }
  summary(): { p50: number; p99: number; max: number } {
    const sorted = this.#data.slice(0, this.#length).sort();
    const at = (q: number) =>
      sorted.length === 0
        ? NaN
        : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    return { p50: at(0.5), p99: at(0.99), max: sorted.length ? sorted[sorted.length - 1]! : NaN };
  }
  reset(): void {
    this.#length = 0;
  }
}

class Counter {
  sent = 0;
  echoed = 0;
  skipped = 0;
  readonly rtt = new Samples();
  window(): Window {
    return {
      sent: this.sent,
      echoed: this.echoed,
      skipped: this.skipped,
      ...this.rtt.summary(),
    };
  }
  reset(): void {
    this.sent = this.echoed = this.skipped = 0;
    this.rtt.reset();
  }
}

interface Active {
  readonly session: LightSession;
  readonly message: (n: number) => string;
  sentAt: number | undefined;
  n: number;
}

async function clientMain(): Promise<void> {
  const idle: LightSession[] = [];
  const active: Active[] = [];
  const errors: Record<string, number> = {};
  const count = (kind: string) => errors[kind] = (errors[kind] ?? 0) + 1;
  const windowCounter = new Counter();
  const totalCounter = new Counter();
  const timers: ReturnType<typeof setTimeout>[] = [];
  let closing = false;

  const watch = (session: LightSession) => {
    session.record = false;
    session.received.length = 0;
    session.closed.then(() => {
      if (!closing) count(`closed by the server (${session.closeCode})`);
    });
  };

  const onEcho = (a: Active, text: string): void => {
    if (!text.startsWith("<message")) return;
    if (/type=['"]error['"]/.test(text)) return void count("error stanza");
    if (a.sentAt === undefined) return void count("late echo (after 10 s)");
    const ms = performance.now() - a.sentAt;
    a.sentAt = undefined;
    for (const c of [windowCounter, totalCounter]) {
      c.echoed++;
      c.rtt.add(ms);
    }
  };

  const out = new TextEncoder();
  const reply = (r: Reply) => Deno.stdout.writeSync(out.encode(JSON.stringify(r) + "\n"));
  for await (const line of lines(Deno.stdin.readable)) {
    const request = JSON.parse(line) as Request;
    try {
      const start = performance.now();
      switch (request.op) {
        case "login": {
          const failures: string[] = [];
          let ok = 0;
          await pool(request.users, 50, async (user) => {
            try {
              const session = await LightSession.login(request.url, user, PASSWORD);
              watch(session);
              ok++;
              if (request.group === "idle") return void idle.push(session);
              const a: Active = {
                session,
                sentAt: undefined,
                n: 0,
                message: (n) =>
                  `<message xmlns='jabber:client' to='${session.jid}' type='chat' id='s${n}'>` +
                  `<body>soak ${n}: the quick brown fox jumps over the lazy dog</body></message>`,
              };
              session.onMessage = (text) => onEcho(a, text);
              active.push(a);
            } catch (error) {
              count("login failed");
              if (failures.length < 5) failures.push(String(error));
            }
          });
          reply({ ms: performance.now() - start, ok, failed: request.users.length - ok, failures });
          break;
        }
        case "start": {
          const periodMs = 1000 / request.rate;
          active.forEach((a, i) => {
            const tick = () => {
              if (a.sentAt !== undefined) {
                if (performance.now() - a.sentAt < ECHO_TIMEOUT_MS) {
                  windowCounter.skipped++;
                  totalCounter.skipped++;
                  return;
                }
                count("echo missing after 10 s");
              }
              if (!a.session.send(a.message(++a.n))) return;
              a.sentAt = performance.now();
              windowCounter.sent++;
              totalCounter.sent++;
            };
            const offset = (i / Math.max(1, active.length)) * periodMs;
            timers.push(setTimeout(() => {
              tick();
              timers.push(setInterval(tick, periodMs));
            }, offset));
          });
          reply({});
          break;
        }
        case "stats": {
          const open = [
            ...idle,
            ...active.map((a) => a.session),
          ].filter((s) => s.closeCode === undefined).length;
          reply({ window: windowCounter.window(), total: totalCounter.window(), errors, open });
          windowCounter.reset();
          break;
        }
        case "mark":
          totalCounter.reset();
          reply({});
          break;
        case "close": {
          closing = true;
          for (const t of timers) clearTimeout(t);
          await pool([...idle, ...active.map((a) => a.session)], 200, (s) => s.close(5_000));
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
// The soak (processes, samples, report).

/** Soft and hard limits of open files of this process (`/proc/self/limits`). */
function fileLimits(): { soft: number; hard: number } {
  const text = Deno.readTextFileSync("/proc/self/limits");
  const m = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(text);
  const n = (v: string | undefined) => v === undefined || v === "unlimited" ? 1 << 30 : Number(v);
  return { soft: n(m?.[1]), hard: n(m?.[2]) };
}

/** `deno` with `args`, through `bash -c 'ulimit -n N; exec ...'`. */
function spawnLimited(limit: number, args: string[], stdin: "piped" | "null") {
  return new Deno.Command("bash", {
    args: ["-c", `ulimit -n ${limit} && exec "$0" "$@"`, Deno.execPath(), ...args],
    stdin,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

class LoadClient extends JsonChild<Request, Reply> {
  constructor(limit: number) {
    const child = spawnLimited(limit, ["run", "-A", import.meta.filename!, "--client"], "piped");
    super(child, new Response(child.stderr).text());
  }
}

/** A server subprocess (`deno run deno/main.ts ...`) under the raised limit. */
class Server {
  readonly child: Deno.ChildProcess;
  readonly port: number;
  #log = "";
  #pumps: Promise<unknown>;

  constructor(limit: number, args: string[]) {
    this.port = freePort();
    this.child = spawnLimited(limit, [
      "run",
      "-A",
      MAIN,
      "--port",
      String(this.port),
      "--log-level",
      "warn",
      "--drain",
      "1000",
      ...limitFlags(),
      ...args,
    ], "null");
    const keep = (t: string) => void (this.#log = (this.#log + t).slice(-16_384));
    this.#pumps = Promise.all([
      this.child.stdout.pipeThrough(new TextDecoderStream()).pipeTo(
        new WritableStream({ write: keep }),
      ),
      this.child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
        new WritableStream({ write: keep }),
      ),
    ]);
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/xmpp-websocket`;
  }

  get log(): string {
    return this.#log;
  }

  async ready(): Promise<void> {
    await waitUntil(
      async () => {
        try {
          const response = await fetch(`http://127.0.0.1:${this.port}/healthz`);
          await response.body?.cancel();
          return response.ok;
        } catch {
          return false;
        }
      },
      `the server to answer /healthz:\n${this.#log}`,
      60_000,
      100,
    );
  }

  async stop(): Promise<void> {
    try {
      this.child.kill("SIGTERM");
    } catch { /* gone */ }
    const timer = setTimeout(() => {
      try {
        this.child.kill("SIGKILL");
      } catch { /* gone */ }
    }, 10_000);
    await this.child.status;
    clearTimeout(timer);
    await this.#pumps.catch(() => {});
  }
}

interface Args {
  idle: number;
  active: number;
  minutes: number;
  rate: number;
  warmupS: number;
  sampleS: number;
  targets: ("gateway" | "embedded")[];
}

interface Outcome {
  readonly target: string;
  readonly loginMs: number;
  readonly loginFailed: number;
  readonly rss: Map<string, { warm: number; last: number; max: number }>;
  readonly total: Window;
  readonly errors: Record<string, number>;
  readonly openAtEnd: number;
  readonly seconds: number;
}

const mb = (kb: number) => Number.isFinite(kb) ? `${(kb / 1024).toFixed(1)} MB` : "n/a";
const ms = (v: number) => Number.isFinite(v) ? `${v.toFixed(1)} ms` : "n/a";
const pct = (a: number, b: number) => `${a >= b ? "+" : ""}${((a / b - 1) * 100).toFixed(1)} %`;

async function soakOne(
  target: "gateway" | "embedded",
  args: Args,
  limit: number,
): Promise<Outcome> {
  const users = Array.from({ length: args.idle + args.active }, (_, i) => `soak${i}`);
  const cleanups: Array<() => Promise<void>> = [];
  try {
    const pids = new Map<string, number>();
    let server: Server;
    if (target === "gateway") {
      const prosody = await startProsody({
        accounts: users.map((username) => ({ username, password: PASSWORD })),
        authentication: "internal_plain",
        smacks: false,
        logLevel: "warn",
        startTimeoutMs: 30_000,
      });
      cleanups.push(() => prosody.stop());
      let prosodyPid = 0;
      await waitUntil(
        async () => {
          prosodyPid = Number(
            await Deno.readTextFile(`${prosody.dir}/prosody.pid`).catch(() => ""),
          );
          return prosodyPid > 0;
        },
        "Prosody's pidfile",
        5_000,
      ).catch(() => {});
      if (prosodyPid > 0) pids.set("Prosody", prosodyPid);
      server = new Server(limit, [
        "--upstream",
        `127.0.0.1:${prosody.c2sPort}`,
        "--upstream-tls",
        "off",
      ]);
    } else {
      // One salted credential shared by every account: start-up derives nothing.
      const stored = createStoredAccount("soak", PASSWORD, new Uint8Array(16).fill(7), 4096);
      const dir = await Deno.makeTempDir({ prefix: "xmpp-soak-" });
      cleanups.push(() => Deno.remove(dir, { recursive: true }));
      await Deno.writeTextFile(
        `${dir}/accounts.json`,
        JSON.stringify({ accounts: users.map((username) => ({ username, scram: stored.scram })) }),
      );
      server = new Server(limit, ["--accounts-file", `${dir}/accounts.json`]);
    }
    cleanups.push(() => server.stop());
    await server.ready();
    pids.set(target === "gateway" ? "gateway" : "embedded server", server.child.pid);
    const client = new LoadClient(limit);
    cleanups.push(() => client.exit());
    pids.set("load client", client.child.pid);

    const login = async (group: "idle" | "active", list: string[]) => {
      const r = await client.call({ op: "login", group, url: server.url, users: list });
      if (r.failed) console.log(`  ${group}: ${r.failed} logins failed, e.g. ${r.failures?.[0]}`);
      return r;
    };
    const idle = await login("idle", users.slice(0, args.idle));
    const active = await login("active", users.slice(args.idle));
    const loginMs = idle.ms! + active.ms!;
    console.log(
      `  ${idle.ok} idle + ${active.ok} active sessions logged in in ${
        (loginMs / 1000).toFixed(1)
      } s`,
    );
    await client.call({ op: "start", rate: args.rate });

    const rss = new Map<string, { warm: number; last: number; max: number }>();
    const started = performance.now();
    const endAt = started + args.minutes * 60_000;
    let warm = false;
    let total: Window | undefined;
    let errors: Record<string, number> = {};
    let open = 0;
    for (let t = args.sampleS; performance.now() < endAt; t += args.sampleS) {
      await sleep(Math.max(0, started + t * 1000 - performance.now()));
      const stats = await client.call({ op: "stats" });
      const readings: string[] = [];
      for (const [name, pid] of pids) {
        const kb = await rssKb(pid);
        const entry = rss.get(name) ?? { warm: kb, last: kb, max: kb };
        entry.last = kb;
        if (!warm) entry.warm = kb;
        else entry.max = Math.max(entry.max, kb);
        rss.set(name, entry);
        readings.push(`${name} ${mb(kb)}`);
      }
      const w = stats.window!;
      const errorCount = Object.values(stats.errors!).reduce((a, b) => a + b, 0);
      console.log(
        `  t=${String(t).padStart(4)} s  RSS: ${readings.join(", ")}  | ${w.echoed} echoes ` +
          `p50 ${ms(w.p50)} p99 ${ms(w.p99)}, ${w.skipped} skipped, open ${stats.open}, ` +
          `errors ${errorCount}${warm ? "" : " (warm-up)"}`,
      );
      total = stats.total;
      errors = stats.errors!;
      open = stats.open!;
      if (!warm && t >= args.warmupS) {
        warm = true;
        await client.call({ op: "mark" });
        for (const entry of rss.values()) entry.max = entry.warm;
      }
    }
    const seconds = (performance.now() - started) / 1000 - args.warmupS;
    await client.call({ op: "close" });
    return {
      target,
      loginMs,
      loginFailed: (idle.failed ?? 0) + (active.failed ?? 0),
      rss,
      total: total!,
      errors,
      openAtEnd: open,
      seconds,
    };
  } finally {
    for (const step of cleanups.reverse()) {
      await step().catch((error) => console.error(`cleanup: ${error}`));
    }
  }
}

async function soakMain(args: Args): Promise<void> {
  const limits = fileLimits();
  const limit = Math.min(limits.hard, 65_536);
  const sessions = args.idle + args.active;
  console.log(
    `xmpp-websocket soak: ${args.idle} idle + ${args.active} active connections (${args.rate} ` +
      `message/s each), ${args.minutes} min per target after login, warm-up ${args.warmupS} s, ` +
      `samples every ${args.sampleS} s; Deno ${Deno.version.deno}, nproc ` +
      `${navigator.hardwareConcurrency}, load average ${
        Deno.loadavg().map((l) => l.toFixed(2)).join(" ")
      }; open files limit ${limits.soft} (hard ${limits.hard})`,
  );
  const need = { gateway: 2 * sessions + 500, other: sessions + 500 };
  if (args.targets.includes("gateway") && limit < need.gateway) {
    console.log(
      `WARNING: the gateway needs about ${need.gateway} descriptors (a WebSocket and an ` +
        `upstream TCP connection per session) but the hard limit is ${limits.hard}: sessions ` +
        `beyond it will fail. Raise the hard limit (ulimit -Hn, as root) or run fewer.`,
    );
  } else if (limit < need.other) {
    console.log(`WARNING: ${need.other} descriptors needed per process, hard limit ${limits.hard}`);
  }
  const outcomes: Outcome[] = [];
  for (const target of args.targets) {
    console.log(`\n${target === "gateway" ? "Gateway in front of Prosody" : "Embedded server"}:`);
    outcomes.push(await soakOne(target, args, limit));
  }
  console.log(`\nSummary (${args.idle} idle + ${args.active} active; growth after warm-up):`);
  for (const o of outcomes) {
    const errors = Object.entries(o.errors).map(([k, v]) => `${v} ${k}`).join(", ") || "none";
    const rate = o.total.echoed / o.seconds;
    console.log(
      `- ${o.target}: logins ${(o.loginMs / 1000).toFixed(1)} s (${o.loginFailed} failed); ` +
        `round trip p50 ${ms(o.total.p50)}, p99 ${ms(o.total.p99)}, max ${ms(o.total.max)} over ` +
        `${o.total.echoed} echoes (${rate.toFixed(0)}/s, ${o.total.skipped} ticks skipped); ` +
        `errors: ${errors}; sessions open at the end ${o.openAtEnd}`,
    );
    for (const [name, r] of o.rss) {
      console.log(
        `    ${name}: RSS at warm-up end ${mb(r.warm)}, last ${mb(r.last)} (${
          pct(r.last, r.warm)
        }), max ${mb(r.max)} (${pct(r.max, r.warm)})`,
      );
    }
  }
  console.log(`Load average now ${Deno.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
}

if (import.meta.main) {
  const flags = parseArgs(Deno.args, {
    boolean: ["client", "raised"],
    string: ["idle", "active", "minutes", "rate", "warmup", "sample", "target"],
  });
  if (flags.client) {
    await clientMain();
  } else {
    const number = (name: string, value: string | undefined, fallback: number) => {
      const n = value === undefined ? fallback : Number(value);
      if (!(n >= 0 && Number.isFinite(n))) {
        throw new RangeError(`--${name}: expected a number >= 0, got ${value}`);
      }
      return n;
    };
    const minutes = number("minutes", flags.minutes, 10);
    const targets = String(flags.target ?? "gateway,embedded").split(",").map((t: string) =>
      t.trim()
    );
    for (const t of targets) {
      if (t !== "gateway" && t !== "embedded") {
        throw new RangeError(`--target: expected gateway and/or embedded, got ${t}`);
      }
    }
    const args: Args = {
      idle: Math.round(number("idle", flags.idle, 10_000)),
      active: Math.round(number("active", flags.active, 1_000)),
      minutes,
      rate: number("rate", flags.rate, 1) || 1,
      warmupS: number("warmup", flags.warmup, Math.min(60, Math.round(minutes * 60 * 0.25))),
      sampleS: number("sample", flags.sample, 10) || 10,
      targets: targets as Args["targets"],
    };
    const { soft, hard } = fileLimits();
    const wanted = Math.min(hard, 65_536);
    if (!flags.raised && soft < wanted) {
      // Run again under the raised limit, so that Prosody (started from here) inherits it.
      const status = await new Deno.Command("bash", {
        args: [
          "-c",
          `ulimit -n ${wanted} && exec "$0" "$@"`,
          Deno.execPath(),
          "run",
          "-A",
          import.meta.filename!,
          "--raised",
          ...Deno.args,
        ],
        stdin: "inherit",
        stdout: "inherit",
        stderr: "inherit",
      }).spawn().status;
      Deno.exit(status.code);
    }
    await soakMain(args);
  }
}
