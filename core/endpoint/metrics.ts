/**
 * Metrics in the Prometheus text exposition format: the gateway's ({@link Metrics}) and the
 * embedded server's ({@link HubMetrics}, counted from the hub's inputs and outputs and read
 * from its state at each scrape).
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * import { Metrics } from "./metrics.ts";
 * const metrics = new Metrics(() => 0);
 * metrics.connectionOpened();
 * assert(metrics.render().includes("xmpp_ws_connections_open 1"));
 * ```
 * @module
 */

import type { Hub, HubInput, HubOutput } from "../server/mod.ts";
import type { EndpointStats } from "./types.ts";
import type { XmlElement } from "../xml/element.ts";

/** Counters and gauges of one gateway process. */
export class Metrics {
  #open = 0;
  #total = 0;
  #legacy = 0;
  readonly #elements = new Map<string, number>();
  readonly #bytes = new Map<string, number>();
  readonly #streamErrors = new Map<string, number>();
  readonly #closeCodes = new Map<string, number>();
  #connectFailures = 0;
  #connectSeconds = 0;
  #connects = 0;
  #lastUpstream: { readonly ok: boolean; readonly at: number } | undefined;
  /** The endpoint's admission and slow-reader counters, rendered with the rest when set. */
  endpoint: (() => EndpointStats) | undefined;
  readonly #now: () => number;

  /** Counters whose upstream outcomes are dated with `now` (the runtime's monotonic clock). */
  constructor(now: () => number) {
    this.#now = now;
  }

  /** The last upstream connection attempt's outcome and when it ended (the clock given to the constructor). */
  get lastUpstream(): { readonly ok: boolean; readonly at: number } | undefined {
    return this.#lastUpstream;
  }

  /** A client connection was accepted. */
  connectionOpened(): void {
    this.#open++;
    this.#total++;
  }

  /** A client connection ended. */
  connectionClosed(): void {
    this.#open--;
  }

  /** A client connection used the draft (pre-RFC 7395) framing. */
  legacyConnection(): void {
    this.#legacy++;
  }

  /** One element (message) sent toward `direction`, of `bytes` UTF-8 bytes. */
  relayed(direction: "to_client" | "to_server", bytes: number): void {
    // Called for every relayed element: constant label strings, no string built per call.
    const labels = DIRECTION_LABELS[direction];
    bump(this.#elements, labels, 1);
    bump(this.#bytes, labels, bytes);
  }

  /** A stream error with `condition`, sent to (`client`) or received from (`upstream`) a side. */
  streamError(side: "client" | "upstream", condition: string): void {
    bump(this.#streamErrors, `side="${side}",condition="${condition}"`, 1);
  }

  /** A WebSocket connection was closed with `code`. */
  closeCode(code: number): void {
    bump(this.#closeCodes, `code="${code}"`, 1);
  }

  /** An upstream connection succeeded after `seconds`. */
  upstreamConnected(seconds: number): void {
    this.#connects++;
    this.#connectSeconds += seconds;
    this.#lastUpstream = { ok: true, at: this.#now() };
  }

  /** An upstream connection attempt failed. */
  upstreamConnectFailed(): void {
    this.#connectFailures++;
    this.#lastUpstream = { ok: false, at: this.#now() };
  }

  /** The metrics as Prometheus text. */
  render(): string {
    const lines: string[] = [];
    const metric = (
      name: string,
      type: string,
      help: string,
      samples: Iterable<[string, number]>,
    ) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) {
        lines.push(`${name}${labels ? `{${labels}}` : ""} ${value}`);
      }
    };
    metric("xmpp_ws_connections_open", "gauge", "WebSocket connections open now.", [[
      "",
      this.#open,
    ]]);
    metric("xmpp_ws_connections_total", "counter", "WebSocket connections accepted.", [[
      "",
      this.#total,
    ]]);
    metric("xmpp_ws_legacy_connections_total", "counter", "Connections using draft-00 framing.", [[
      "",
      this.#legacy,
    ]]);
    metric(
      "xmpp_ws_elements_total",
      "counter",
      "First-level elements relayed, by direction.",
      this.#elements,
    );
    metric("xmpp_ws_bytes_total", "counter", "Bytes relayed, by direction.", this.#bytes);
    metric(
      "xmpp_ws_stream_errors_total",
      "counter",
      "Stream errors, by side and condition.",
      this.#streamErrors,
    );
    metric(
      "xmpp_ws_close_codes_total",
      "counter",
      "WebSocket close codes sent by the gateway.",
      this.#closeCodes,
    );
    metric("xmpp_ws_upstream_connect_failures_total", "counter", "Failed upstream connections.", [[
      "",
      this.#connectFailures,
    ]]);
    lines.push(
      "# HELP xmpp_ws_upstream_connect_seconds Time to connect to the upstream.",
      "# TYPE xmpp_ws_upstream_connect_seconds summary",
      `xmpp_ws_upstream_connect_seconds_sum ${this.#connectSeconds}`,
      `xmpp_ws_upstream_connect_seconds_count ${this.#connects}`,
    );
    const endpoint = this.endpoint ? renderEndpointStats(this.endpoint()) : "";
    return lines.join("\n") + "\n" + endpoint;
  }
}

/**
 * Admission control's and the slow readers' counters as Prometheus text (the gateway's and the
 * embedded server's `/metrics` both end with them).
 *
 * @example
 * ```ts
 * import { renderEndpointStats } from "./metrics.ts";
 * import { Admission } from "../http/admission.ts";
 * const text = renderEndpointStats({ admission: new Admission().stats(), slowReaders: 0 });
 * console.log(text.includes('xmpp_ws_admission_refused_total{reason="rate"} 0')); // true
 * ```
 */
export function renderEndpointStats(stats: EndpointStats): string {
  const a = stats.admission;
  const families: [string, string, string, [string, number][]][] = [
    ["xmpp_ws_admission_open", "gauge", "Connections admitted and open.", [["", a.open]]],
    [
      "xmpp_ws_admission_unauthenticated",
      "gauge",
      "Connections open and not authenticated yet.",
      [["", a.unauthenticated]],
    ],
    [
      "xmpp_ws_admission_addresses",
      "gauge",
      "Client addresses tracked: with connections open (active), for their rate only (idle).",
      [['state="active"', a.activeAddresses], ['state="idle"', a.idleAddresses]],
    ],
    ["xmpp_ws_admission_admitted_total", "counter", "Upgrades admitted.", [["", a.admitted]]],
    [
      "xmpp_ws_admission_refused_total",
      "counter",
      "Upgrades refused with 503, by limit.",
      Object.entries(a.refused).map(([reason, n]) => [`reason="${reason}"`, n]),
    ],
    [
      "xmpp_ws_preauth_timeouts_total",
      "counter",
      "Connections ended for not authenticating in time.",
      [["", a.preAuthTimeouts]],
    ],
    [
      "xmpp_ws_slow_readers_total",
      "counter",
      "Connections ended as slow readers (resource-constraint).",
      [["", stats.slowReaders]],
    ],
  ];
  const lines: string[] = [];
  for (const [name, type, help, samples] of families) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      lines.push(`${name}${labels ? `{${labels}}` : ""} ${value}`);
    }
  }
  return lines.join("\n") + "\n";
}

const DIRECTION_LABELS = {
  to_client: 'direction="to_client"',
  to_server: 'direction="to_server"',
} as const;

function bump(map: Map<string, number>, key: string, by: number): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

/** One metric family: name, type, help and samples (label text, value). */
type Family = readonly [string, "counter" | "gauge", string, Iterable<readonly [string, number]>];

function renderFamilies(families: readonly Family[]): string {
  const lines: string[] = [];
  for (const [name, type, help, samples] of families) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      lines.push(`${name}${labels ? `{${labels}}` : ""} ${value}`);
    }
  }
  return lines.join("\n") + "\n";
}

const STANZAS = new Set(["message", "presence", "iq"]);
const CLIENT_NS = "jabber:client";
const STANZA_ERROR_NS = "urn:ietf:params:xml:ns:xmpp-stanzas";
/** Label values come from the hub's own vocabulary, but are still kept to a safe alphabet. */
const label = (value: string) => value.replace(/[^a-z0-9_-]/gi, "_").slice(0, 64);

/**
 * The embedded server's metrics: counters fed with every hub step ({@link HubMetrics.observe},
 * given to `embeddedServer` as `onStep`), gauges read from the hub at each scrape.
 *
 * - connections accepted (`xmpp_ws_connections_total`) and open (WebSockets, and the hub's by
 *   login stage);
 * - sessions bound now, hibernating (XEP-0198, waiting for resumption), resumed;
 * - logins by result (`ok`, `failed`: SASL failures);
 * - stanzas received from clients and delivered to them, by kind; stanza errors sent, by
 *   condition; stream errors sent, by condition;
 * - XEP-0198 queues: stanzas sent and not acknowledged yet, summed over sessions, and the
 *   longest queue;
 * - limits hit, by limit (the hub's `limit-*` notices: `rate`, `connections`, `unacked`; the
 *   hub logs the first of a run of rate-limited stanzas, each of which is also a stanza error).
 *
 * @example
 * ```ts
 * import { HubMetrics } from "./metrics.ts";
 * import { createHub } from "../server/mod.ts";
 * const metrics = new HubMetrics();
 * const hub = createHub({ domain: "localhost", accounts: [] });
 * metrics.observe({ type: "timer-fired", now: 0, random: "r", timer: { kind: "ping", connId: "c1" } }, [
 *   { type: "notice", level: "warn", event: "limit-rate", connId: "c1" },
 * ], hub);
 * console.log(metrics.render(hub, 0).includes('xmpp_ws_limits_hit_total{limit="rate"} 1')); // true
 * ```
 */
export class HubMetrics {
  #connections = 0;
  readonly #logins = new Map<string, number>([['result="ok"', 0], ['result="failed"', 0]]);
  #resumed = 0;
  #resumeFailed = 0;
  readonly #received = new Map<string, number>();
  readonly #delivered = new Map<string, number>();
  readonly #stanzaErrors = new Map<string, number>();
  readonly #streamErrors = new Map<string, number>();
  readonly #limits = new Map<string, number>(
    ["rate", "connections", "unacked"].map((l) => [`limit="${l}"`, 0]),
  );

  /** Counts one hub step (the signature of `embeddedServer`'s `onStep`). */
  observe(input: HubInput, outputs: readonly HubOutput[], _hub?: Hub): void {
    if (input.type === "connection-opened") this.#connections++;
    else if (input.type === "element-received") countStanza(this.#received, input.element);
    for (const output of outputs) {
      if (output.type === "send-element") {
        const kind = countStanza(this.#delivered, output.element);
        if (kind !== undefined && output.element.attrs.type === "error") {
          bump(this.#stanzaErrors, `condition="${label(errorCondition(output.element))}"`, 1);
        }
      } else if (output.type === "notice") {
        const event = output.event;
        if (event === "authenticated") bump(this.#logins, `result="ok"`, 1);
        else if (event === "auth-failed") bump(this.#logins, `result="failed"`, 1);
        else if (event === "resumed") this.#resumed++;
        else if (event === "resume-failed") this.#resumeFailed++;
        else if (event === "stream-error") {
          const condition = output.condition ?? (output.text ?? "").split(":", 1)[0]!;
          bump(this.#streamErrors, `condition="${label(condition)}"`, 1);
        } else if (event.startsWith("limit-")) {
          bump(this.#limits, `limit="${label(event.slice(6))}"`, 1);
        }
      }
    }
  }

  /** The metrics as Prometheus text; `webSockets` is the endpoint's live connection count. */
  render(hub: Hub, webSockets: number): string {
    const stages = new Map<string, number>(
      ["connected", "authenticated", "bound"].map((s) => [`stage="${s}"`, 0]),
    );
    for (const conn of hub.connections.values()) bump(stages, `stage="${conn.stage}"`, 1);
    let hibernating = 0;
    let queued = 0;
    let longest = 0;
    for (const session of hub.sessions.values()) {
      if (session.connId === undefined) hibernating++;
      const unacked = session.sm?.unacked.length ?? 0;
      queued += unacked;
      if (unacked > longest) longest = unacked;
    }
    return renderFamilies([
      ["xmpp_ws_connections_open", "gauge", "WebSocket connections open now.", [["", webSockets]]],
      ["xmpp_ws_connections_total", "counter", "XMPP connections accepted.", [[
        "",
        this.#connections,
      ]]],
      [
        "xmpp_ws_hub_connections",
        "gauge",
        "XMPP connections open now, by login stage.",
        stages,
      ],
      ["xmpp_ws_sessions", "gauge", "Bound sessions now (hibernating ones included).", [[
        "",
        hub.sessions.size,
      ]]],
      [
        "xmpp_ws_sessions_hibernating",
        "gauge",
        "XEP-0198 sessions waiting for resumption.",
        [["", hibernating]],
      ],
      ["xmpp_ws_logins_total", "counter", "SASL logins, by result.", this.#logins],
      ["xmpp_ws_resumptions_total", "counter", "XEP-0198 resumptions, by result.", [
        ['result="ok"', this.#resumed],
        ['result="failed"', this.#resumeFailed],
      ]],
      [
        "xmpp_ws_stanzas_received_total",
        "counter",
        "Stanzas received from clients, by kind.",
        this.#received,
      ],
      [
        "xmpp_ws_stanzas_delivered_total",
        "counter",
        "Stanzas sent to clients, by kind.",
        this.#delivered,
      ],
      [
        "xmpp_ws_stanza_errors_total",
        "counter",
        "Stanza errors sent to clients, by condition.",
        this.#stanzaErrors,
      ],
      [
        "xmpp_ws_stream_errors_total",
        "counter",
        "Stream errors sent, by condition.",
        this.#streamErrors,
      ],
      [
        "xmpp_ws_sm_queued_stanzas",
        "gauge",
        "XEP-0198 stanzas sent and not acknowledged yet, all sessions.",
        [["", queued]],
      ],
      [
        "xmpp_ws_sm_queue_longest",
        "gauge",
        "The longest XEP-0198 queue of one session.",
        [["", longest]],
      ],
      [
        "xmpp_ws_limits_hit_total",
        "counter",
        "Limits hit, by limit (a run of rate-limited stanzas counts once).",
        this.#limits,
      ],
    ]);
  }
}

/** Counts a stanza by kind (`message`, `presence`, `iq`); returns the kind, if it is one. */
function countStanza(map: Map<string, number>, element: XmlElement): string | undefined {
  if (element.ns !== CLIENT_NS || !STANZAS.has(element.name)) return undefined;
  bump(map, `kind="${element.name}"`, 1);
  return element.name;
}

function errorCondition(stanza: XmlElement): string {
  for (const child of stanza.children) {
    if (typeof child === "string" || child.name !== "error") continue;
    for (const condition of child.children) {
      if (typeof condition !== "string" && condition.ns === STANZA_ERROR_NS) return condition.name;
    }
  }
  return "undefined-condition";
}
