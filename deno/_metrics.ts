/**
 * Gateway metrics in the Prometheus text exposition format.
 *
 * @example
 * ```ts
 * import { Metrics } from "./_metrics.ts";
 * const metrics = new Metrics();
 * metrics.connectionOpened();
 * console.log(metrics.render().includes("xmpp_ws_connections_open 1")); // true
 * ```
 * @module
 */

import type { EndpointStats } from "./_types.ts";

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
  /** The endpoint's admission and slow-reader counters, rendered with the rest when set. */
  endpoint: (() => EndpointStats) | undefined;

  connectionOpened(): void {
    this.#open++;
    this.#total++;
  }

  connectionClosed(): void {
    this.#open--;
  }

  legacyConnection(): void {
    this.#legacy++;
  }

  /** One element (message) sent toward `direction`, of `bytes` UTF-8 bytes. */
  relayed(direction: "to_client" | "to_server", bytes: number): void {
    bump(this.#elements, `direction="${direction}"`, 1);
    bump(this.#bytes, `direction="${direction}"`, bytes);
  }

  streamError(side: "client" | "upstream", condition: string): void {
    bump(this.#streamErrors, `side="${side}",condition="${condition}"`, 1);
  }

  closeCode(code: number): void {
    bump(this.#closeCodes, `code="${code}"`, 1);
  }

  upstreamConnected(seconds: number): void {
    this.#connects++;
    this.#connectSeconds += seconds;
  }

  upstreamConnectFailed(): void {
    this.#connectFailures++;
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
 * import { renderEndpointStats } from "./_metrics.ts";
 * import { Admission } from "../core/http/admission.ts";
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

function bump(map: Map<string, number>, key: string, by: number): void {
  map.set(key, (map.get(key) ?? 0) + by);
}
