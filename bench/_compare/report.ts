/**
 * The comparison's printed report: markdown tables (so a run can be pasted into the README)
 * of throughput per connection count, logins, idle memory, and issue 10's targets checked
 * against the run's own ratios.
 *
 * @example
 * ```ts
 * import { ratioMedian } from "./report.ts";
 * console.log(ratioMedian([2, 4], [1, 2])); // 2
 * ```
 * @module
 */

import { fmt, Histogram, median } from "./stats.ts";
import { type Target, type TargetKey, TARGETS } from "./targets.ts";

/** One timed run of one target at one connection count. */
export interface Sample {
  readonly target: TargetKey;
  readonly level: number;
  readonly count: number;
  readonly errors: number;
  readonly elapsedMs: number;
  readonly oursCpuMs: number;
  readonly upstreamCpuMs: number;
  readonly clientCpuMs: number;
  readonly oursRssKb: number;
  readonly upstreamRssKb: number;
  readonly histogram: Histogram;
}

/** Idle memory of one target: KB per connection of each process, at each count. */
export interface MemoryRow {
  readonly target: TargetKey;
  readonly points: Array<{
    readonly wanted: number;
    readonly connections: number;
    readonly ours: number;
    readonly upstream: number;
    readonly loginMs?: number;
    readonly error?: string;
  }>;
}

/** Login bursts of one target and mechanism over the rounds. */
export interface LoginRow {
  readonly target: TargetKey;
  readonly mechanism: string;
  readonly rates: number[];
  readonly cpuPerLoginMs: number[];
  errors: number;
  readonly probe: Histogram;
}

const rate = (s: Sample) => (s.count * 1000) / s.elapsedMs;
const perStanzaUs = (ms: number, s: Sample) => (ms * 1000) / s.count;
const label = (key: TargetKey) => TARGETS.find((t) => t.key === key)!.label;

/**
 * The median over rounds of `a[i] / b[i]` (NaN when either list is empty).
 *
 * @example
 * ```ts
 * import { ratioMedian } from "./report.ts";
 * console.log(ratioMedian([3, 3, 9], [1, 3, 3])); // 3
 * ```
 */
export function ratioMedian(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  return median(Array.from({ length: n }, (_, i) => a[i]! / b[i]!));
}

function table(head: readonly string[], rows: ReadonlyArray<readonly string[]>): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    `| ${
      cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")
    } |`;
  console.log(line(head));
  console.log(
    `|${
      widths.map((w, i) => (i === 0 ? "-" : "").padEnd(w + 1, "-") + (i === 0 ? "-" : ":")).join(
        "|",
      )
    }|`,
  );
  for (const r of rows) console.log(line(r));
}

/** Rates and CPU of a target at a level, over rounds. */
function stats(samples: Map<string, Sample[]>, key: TargetKey, level: number) {
  const list = samples.get(`${key}@${level}`) ?? [];
  const merged = new Histogram();
  for (const s of list) merged.merge(s.histogram);
  return {
    list,
    rates: list.map(rate),
    rate: median(list.map(rate)),
    ours: median(list.map((s) => perStanzaUs(s.oursCpuMs, s))),
    upstream: median(list.map((s) => perStanzaUs(s.upstreamCpuMs, s))),
    client: median(list.map((s) => perStanzaUs(s.clientCpuMs, s))),
    clientCores: median(list.map((s) => s.clientCpuMs / s.elapsedMs)),
    oursRss: median(list.map((s) => s.oursRssKb)),
    upstreamRss: median(list.map((s) => s.upstreamRssKb)),
    errors: list.reduce((n, s) => n + s.errors, 0),
    p50: merged.quantile(0.5),
    p99: merged.quantile(0.99),
  };
}

/** Prints one table per connection count and the summary table. */
export function printThroughput(
  targets: readonly Target[],
  levels: readonly number[],
  samples: Map<string, Sample[]>,
): void {
  console.log();
  console.log("## Throughput");
  console.log();
  console.log(
    "Stanzas/s = self-messages (64-byte body) back per second, one in flight per connection, " +
      "SASL PLAIN; medians over rounds; ratios are medians of per-round ratios; CPU in µs per " +
      "stanza for each process (ours = the gateway or the embedded server; upstream = Prosody " +
      "or ejabberd; client = all load-client processes); round trips over every round.",
  );
  for (const level of levels) {
    console.log();
    console.log(`### ${level} connection${level === 1 ? "" : "s"}`);
    console.log();
    const rows = targets.map((t) => {
      const st = stats(samples, t.key, level);
      const vs = (key: TargetKey | undefined) =>
        key === undefined || key === t.key && key !== "prosody-ws" && key !== "ejabberd-ws" &&
            t.transport === "tcp"
          ? "-"
          : fmt(ratioMedian(st.rates, stats(samples, key, level).rates), 2);
      return [
        t.label,
        fmt(st.rate),
        vs("prosody-ws"),
        vs(t.direct),
        vs("ejabberd-ws"),
        fmt(st.p50, 2),
        fmt(st.p99, 2),
        Number.isFinite(st.ours) ? fmt(st.ours) : "-",
        Number.isFinite(st.upstream) ? fmt(st.upstream) : "-",
        fmt(st.client),
        fmt(st.clientCores, 2),
        `${Number.isFinite(st.oursRss) ? fmt(st.oursRss / 1024) : "-"} / ${
          Number.isFinite(st.upstreamRss) ? fmt(st.upstreamRss / 1024) : "-"
        }`,
        String(st.errors),
      ];
    });
    table([
      "target",
      "stanzas/s",
      "x Prosody WS",
      "x direct TCP",
      "x ejabberd WS",
      "p50 ms",
      "p99 ms",
      "CPU ours",
      "CPU upstream",
      "CPU client",
      "client cores",
      "RSS MB ours / upstream",
      "errors",
    ], rows);
  }
  console.log();
  console.log("### Summary: ratio to Prosody's own WebSocket endpoint (same run)");
  console.log();
  const mid = levels.includes(50) ? 50 : levels[Math.floor(levels.length / 2)]!;
  table(
    [
      "target",
      ...levels.map((l) => `${l} conn${l === 1 ? "" : "s"}`),
      `CPU per stanza (${mid} conns)`,
    ],
    targets.map((t) => {
      const st = stats(samples, t.key, mid);
      const cpu = t.ours === undefined
        ? `${fmt(st.upstream)} µs`
        : t.upstream === undefined
        ? `${fmt(st.ours)} µs`
        : `${fmt(st.ours)} µs in the gateway + ${fmt(st.upstream)} µs upstream`;
      return [
        t.label,
        ...levels.map((l) =>
          fmt(
            ratioMedian(stats(samples, t.key, l).rates, stats(samples, "prosody-ws", l).rates),
            2,
          )
        ),
        cpu,
      ];
    }),
  );
}

/** Prints the login table. */
export function printLogins(rows: readonly LoginRow[], seconds: number): void {
  console.log();
  console.log("## Logins");
  console.log();
  console.log(
    `Over WebSocket, 50 at once for ${seconds} s per round: connect, <open/>, SASL, restart, ` +
      "bind, close. CPU = the serving process(es) per login; probe = round trip of one " +
      "connection messaging itself meanwhile (event-loop blocking shows there).",
  );
  console.log();
  const base = (mechanism: string, key: TargetKey) =>
    rows.find((r) => r.target === key && r.mechanism === mechanism)?.rates ?? [];
  table(
    [
      "target",
      "mechanism",
      "logins/s",
      "x Prosody WS",
      "x ejabberd WS",
      "CPU ms/login",
      "probe p50 ms",
      "probe p99 ms",
      "errors",
    ],
    rows.map((r) => [
      label(r.target),
      r.mechanism,
      fmt(median(r.rates)),
      fmt(ratioMedian(r.rates, base(r.mechanism, "prosody-ws")), 2),
      fmt(ratioMedian(r.rates, base(r.mechanism, "ejabberd-ws")), 2),
      fmt(median(r.cpuPerLoginMs), 2),
      fmt(r.probe.quantile(0.5), 2),
      fmt(r.probe.quantile(0.99), 2),
      String(r.errors),
    ]),
  );
}

/** Prints idle memory per connection. */
export function printMemory(
  targets: readonly Target[],
  rows: readonly MemoryRow[],
  counts: readonly number[],
): void {
  console.log();
  console.log("## Idle memory per connection");
  console.log();
  console.log(
    "KB of RSS growth per connection after login and bind, each target on freshly started " +
      "servers (after 20 warm-up connections, 1.5 s settle); ours = the gateway or the " +
      "embedded server, upstream = Prosody or ejabberd.",
  );
  console.log();
  const notes: string[] = [];
  table(
    ["target", ...counts.flatMap((c) => [`ours @${fmt(c)}`, `upstream @${fmt(c)}`])],
    targets.flatMap((t) => {
      const row = rows.find((r) => r.target === t.key);
      if (row === undefined) return [];
      return [[
        t.label,
        ...counts.flatMap((c) => {
          const p = row.points.find((p) => p.wanted === c);
          if (p === undefined) return ["-", "-"];
          if (p.error !== undefined) notes.push(`${t.label} at ${c}: ${p.error}`);
          if (p.connections !== c) {
            notes.push(
              `${t.label}: ${fmt(p.connections)} connections instead of ${fmt(c)} ` +
                "(the file-descriptor limit; two descriptors per connection)",
            );
          }
          return [
            Number.isFinite(p.ours) ? fmt(p.ours, 1) : "-",
            Number.isFinite(p.upstream) ? fmt(p.upstream, 1) : "-",
          ];
        }),
      ]];
    }),
  );
  for (const n of notes) console.log(`\n- ${n}`);
}

/** Prints issue 10's targets with this run's figures. */
export function printTargets(
  samples: Map<string, Sample[]>,
  memoryRows: readonly MemoryRow[],
  loginRows: readonly LoginRow[],
  levels: readonly number[],
): void {
  console.log();
  console.log("## Issue 10 targets, this run");
  console.log();
  const check = (ok: boolean | undefined, text: string) =>
    console.log(`- ${ok === undefined ? "[n/a] " : ok ? "[met] " : "[MISS]"} ${text}`);
  const r = (a: TargetKey, b: TargetKey, l: number) =>
    ratioMedian(stats(samples, a, l).rates, stats(samples, b, l).rates);
  const judge = (values: number[], pass: (v: number) => boolean) =>
    values.length === 0 || values.some((v) => !Number.isFinite(v)) ? undefined : values.every(pass);
  const big = levels.filter((l) => l === 50 || l === 500);
  const show = (values: number[]) => values.map((v) => fmt(v, 2)).join(" / ");
  if (big.length === 0) {
    console.log("- (no run at 50 or 500 connections: the throughput targets are not judged)");
  }
  const at = big.map((l) => `${l}`).join(" / ");
  const checkAt = (values: number[], pass: (v: number) => boolean, text: string) => {
    if (values.length > 0) check(judge(values, pass), `${text} at ${at}: ${show(values)}`);
  };
  checkAt(
    big.map((l) => r("gateway-prosody", "prosody-ws", l)),
    (x) => x >= 1.25,
    "gateway+Prosody >= 1.25x Prosody's WebSocket",
  );
  checkAt(
    big.map((l) => r("gateway-prosody", "prosody-tcp", l)),
    (x) => x >= 0.9,
    "gateway+Prosody >= 0.9x direct TCP",
  );
  checkAt(
    big.map((l) => r("gateway-ejabberd", "ejabberd-ws", l)),
    (x) => x >= 1.0,
    "gateway+ejabberd >= 1.0x ejabberd's WebSocket",
  );
  checkAt(
    big.map((l) =>
      stats(samples, "gateway-prosody", l).ours / stats(samples, "prosody-ws", l).upstream
    ),
    (x) => x <= 0.25,
    "gateway CPU per stanza <= 0.25x Prosody's WebSocket CPU per stanza",
  );
  if (levels.includes(1)) {
    const added = stats(samples, "gateway-prosody", 1).p50 - stats(samples, "prosody-tcp", 1).p50;
    check(
      judge([added], (x) => x <= 0.15),
      `p50 added over direct TCP at 1 connection <= 0.15 ms: ${fmt(added, 2)} ms`,
    );
  }
  if (levels.includes(500)) {
    const g = stats(samples, "gateway-prosody", 500).p99;
    const p = stats(samples, "prosody-ws", 500).p99;
    check(
      judge([g, p], () => g <= p),
      `p99 at 500 connections, gateway <= Prosody's WebSocket: ${fmt(g, 2)} vs ${fmt(p, 2)} ms`,
    );
  }
  for (const key of ["gateway-prosody", "gateway-ejabberd", "embedded"] as const) {
    const row = memoryRows.find((m) => m.target === key);
    if (row === undefined) continue;
    const kb = row.points.map((p) => p.ours);
    const held = row.points.every((p) => p.error === undefined && p.connections === p.wanted);
    check(
      judge(kb, (x) => x <= 32) === undefined ? undefined : judge(kb, (x) => x <= 32)! && held,
      `${label(key)}: <= 32 KB per idle connection (its own process) at ${
        row.points.map((p) => fmt(p.connections)).join(" / ")
      }: ${row.points.map((p) => fmt(p.ours, 1)).join(" / ")} KB${
        held ? "" : " (not every count held)"
      }`,
    );
  }
  checkAt(
    big.map((l) => r("embedded", "prosody-ws", l)),
    (x) => x >= 6,
    "embedded >= 6x Prosody's WebSocket",
  );
  checkAt(
    big.map((l) => r("embedded", "ejabberd-ws", l)),
    (x) => x >= 2.5,
    "embedded >= 2.5x ejabberd's WebSocket",
  );
  for (const [mechanism, want] of [["PLAIN", 3], ["SCRAM-SHA-1", 2]] as const) {
    const e = loginRows.find((l) => l.target === "embedded" && l.mechanism === mechanism);
    const p = loginRows.find((l) => l.target === "prosody-ws" && l.mechanism === mechanism);
    if (e === undefined || p === undefined) continue;
    const x = ratioMedian(e.rates, p.rates);
    check(
      judge([x], (y) => y >= want),
      `embedded ${mechanism} logins/s >= ${want}x Prosody's: ${fmt(x, 2)}`,
    );
  }
  console.log(
    "- (not measured here: the core's framing benchmark against raw sax-ts, `deno task bench`)",
  );
}
