/**
 * What the orchestrator (bench/compare.ts) and its load-client processes (bench/_compare/client.ts)
 * say to each other: one JSON object a line, each request with an `id` its reply repeats (the
 * client serves requests concurrently, e.g. a latency probe during a login burst).
 *
 * @example
 * ```ts
 * import type { Endpoint } from "./protocol.ts";
 * const e: Endpoint = { kind: "tcp", hostname: "127.0.0.1", port: 5222, domain: "localhost" };
 * console.log(e.kind); // "tcp"
 * ```
 * @module
 */

/** Where a connection goes: an RFC 7395 WebSocket URL or an RFC 6120 TCP port. */
export type Endpoint =
  | { readonly kind: "ws"; readonly url: string; readonly domain: string }
  | {
    readonly kind: "tcp";
    readonly hostname: string;
    readonly port: number;
    readonly domain: string;
  };

/** The SASL mechanisms the load client speaks. */
export type Mechanism = "PLAIN" | "SCRAM-SHA-1";

/** A request to a load client. */
export type Request =
  | {
    readonly id: number;
    readonly op: "login";
    readonly group: string;
    readonly endpoint: Endpoint;
    readonly users: readonly string[];
    readonly password: string;
    readonly mechanism: Mechanism;
    /** Logins in progress at once. */
    readonly width: number;
  }
  | {
    readonly id: number;
    readonly op: "run";
    readonly group: string;
    /** Use the first `connections` of the group. */
    readonly connections: number;
    readonly ms: number;
  }
  | {
    readonly id: number;
    readonly op: "logins";
    readonly endpoint: Endpoint;
    readonly users: readonly string[];
    readonly password: string;
    readonly mechanism: Mechanism;
    readonly width: number;
    readonly ms: number;
  }
  | { readonly id: number; readonly op: "close"; readonly group: string }
  | { readonly id: number; readonly op: "exit" };

/** A load client's answer (fields by operation). */
export interface Reply {
  readonly id: number;
  readonly error?: string;
  /** login: time taken; run/logins: wall time of the measurement. */
  readonly elapsedMs?: number;
  /** login: connections made; run: messages back; logins: logins completed. */
  readonly count?: number;
  /** run: messages of type error; logins: failed logins; login: logins retried. */
  readonly errors?: number;
  /** run: round-trip histogram (stats.ts pairs). */
  readonly histogram?: Array<[number, number]>;
}

/** The 64-byte body every benchmark message carries. */
export const BODY = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_";
