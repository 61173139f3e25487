/**
 * Readiness for `/healthz`: not ready while the server drains (after SIGINT or SIGTERM) or, for
 * the gateway, while the upstream XMPP server cannot be reached. The upstream's state is the
 * newest of two facts: the last upstream connection a client's session made, and a cheap TCP
 * connect check made by `/healthz` itself when that fact is older than `ttlMs` (one check at a
 * time; concurrent requests share it).
 *
 * @example
 * ```ts
 * import { Readiness } from "./health.ts";
 * const readiness = new Readiness();
 * const server = { draining: false };
 * readiness.attach(server);
 * console.log(await readiness.report()); // { ready: true, status: "ok", draining: false }
 * server.draining = true;
 * console.log((await readiness.report()).status); // "draining"
 * ```
 * @module
 */

import type { Runtime, TimerHandle } from "./runtime.ts";

/** What `/healthz` answers (as JSON; 200 when `ready`, else 503). */
export interface HealthReport {
  readonly ready: boolean;
  /** `ok`, `draining` or `upstream-unreachable`. */
  readonly status: "ok" | "draining" | "upstream-unreachable";
  readonly draining: boolean;
  /** The gateway's upstream: whether its last connection or check succeeded. */
  readonly upstream?: "reachable" | "unreachable";
}

/** An outcome and when it was known (the runtime's monotonic clock, ms). */
export interface Observation {
  readonly ok: boolean;
  readonly at: number;
}

/** Options of {@link UpstreamCheck}. */
export interface UpstreamCheckOptions {
  /** Tries a TCP connection to the upstream; resolves whether it succeeded (never rejects). */
  readonly probe: () => Promise<boolean>;
  /** The last upstream connection made for a client, if any. */
  readonly last?: () => Observation | undefined;
  /** How long a fact stays fresh, ms (default 5 000). */
  readonly ttlMs?: number;
  /** The clock (the runtime's monotonic one). */
  readonly now: () => number;
}

/**
 * Whether the upstream is reachable, from fresh facts or a new check.
 *
 * @example
 * ```ts
 * import { UpstreamCheck } from "./health.ts";
 * let probes = 0;
 * const check = new UpstreamCheck({ probe: () => Promise.resolve(++probes > 0), now: () => 0 });
 * console.log(await check.reachable(), await check.reachable(), probes); // true true 1
 * ```
 */
export class UpstreamCheck {
  readonly #options: UpstreamCheckOptions;
  #checked: Observation | undefined;
  #running: Promise<boolean> | undefined;

  constructor(options: UpstreamCheckOptions) {
    this.#options = options;
  }

  /** Resolves whether the upstream was reachable at the newest fresh fact (checking if none). */
  reachable(): Promise<boolean> {
    const now = this.#options.now;
    const last = this.#options.last?.();
    const newest = last && (!this.#checked || last.at > this.#checked.at) ? last : this.#checked;
    if (newest && now() - newest.at < (this.#options.ttlMs ?? 5_000)) {
      return Promise.resolve(newest.ok);
    }
    this.#running ??= this.#options.probe()
      .catch(() => false)
      .then((ok) => {
        this.#checked = { ok, at: now() };
        this.#running = undefined;
        return ok;
      });
    return this.#running;
  }
}

/**
 * Connects to the first target that answers within `timeoutMs` and closes at once; resolves
 * whether one did. `connect` opens a TCP connection (it may reject) and returns something with
 * `close()`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { tcpProbe } from "./health.ts";
 * import type { Runtime } from "./runtime.ts";
 * const runtime = { setTimer: () => 0, clearTimer: () => {} } as unknown as Runtime;
 * const refused = { hostname: "192.0.2.1", port: 5222 };
 * const open = { hostname: "127.0.0.1", port: 5222 };
 * const probe = tcpProbe(
 *   () => Promise.resolve([refused, open]),
 *   (target) => target === open ? Promise.resolve({ close() {} }) : Promise.reject(new Error("refused")),
 *   1_000,
 *   runtime,
 * );
 * assertEquals(await probe(), true);
 * ```
 */
export function tcpProbe<T extends { readonly hostname: string; readonly port: number }>(
  targets: () => Promise<readonly T[]>,
  connect: (target: T) => Promise<{ close(): unknown }>,
  timeoutMs: number,
  runtime: Runtime,
): () => Promise<boolean> {
  return async () => {
    for (const target of await targets()) {
      let timer: TimerHandle | undefined;
      const attempt = connect(target);
      const timeout = new Promise<"timeout">((resolve) => {
        timer = runtime.setTimer(() => resolve("timeout"), timeoutMs);
      });
      try {
        const outcome = await Promise.race([attempt, timeout]);
        if (outcome !== "timeout") {
          await outcome.close();
          return true;
        }
        // Too slow: close it if it connects later.
        attempt.then((conn) => conn.close(), () => {});
      } catch {
        // Refused or unreachable: try the next target.
      } finally {
        runtime.clearTimer(timer);
      }
    }
    return false;
  };
}

/** The readiness of one server: draining, and the upstream's state for a gateway. */
export class Readiness {
  readonly #upstream: UpstreamCheck | undefined;
  #server: { readonly draining?: boolean } | undefined;

  /** `upstream`: the gateway's check (none for the embedded server). */
  constructor(upstream?: UpstreamCheck) {
    this.#upstream = upstream;
  }

  /** The server whose `draining` flag counts (set once it exists). */
  attach(server: { readonly draining?: boolean }): void {
    this.#server = server;
  }

  /** The current report (draining first: no upstream check while draining). */
  async report(): Promise<HealthReport> {
    const draining = this.#server?.draining === true;
    if (draining) return { ready: false, status: "draining", draining };
    if (!this.#upstream) return { ready: true, status: "ok", draining };
    const reachable = await this.#upstream.reachable();
    return {
      ready: reachable,
      status: reachable ? "ok" : "upstream-unreachable",
      draining,
      upstream: reachable ? "reachable" : "unreachable",
    };
  }
}
