/**
 * `conformance`: runs the RFC 7395 server checks of `_checks.ts` against an endpoint, each
 * over its own connection with bounded waits, and reports pass, fail or skip per check with
 * the digest rule numbers it covers.
 *
 * @example
 * ```ts ignore
 * import { conformance, formatTable } from "./conformance.ts";
 * const report = await conformance({ url: "ws://127.0.0.1:5280/xmpp-websocket", domain: "localhost" });
 * console.log(formatTable(report));
 * ```
 * @module
 */

import { type CheckContext, type CheckOutcome, CHECKS, type InboundRecord } from "./_checks.ts";
import { ConnectError, type OpenResult, openWebSocket } from "./_ws.ts";
import { domainHint } from "./probe.ts";
import { StreamStepError, XmppWire } from "./_xmpp.ts";

export { CHECKS } from "./_checks.ts";

/** Options of {@link conformance}. */
export interface ConformanceOptions {
  /** The endpoint, `ws:` or `wss:`. */
  readonly url: string;
  /**
   * The `to` of `<open/>`. Default: the domain of `user` when it is a bare JID, else the URL's
   * host, or, when the server refuses that host with `host-unknown` and names another domain in
   * its `<open from>`, that domain.
   */
  readonly domain?: string;
  /** Bound on each wait of a check, in ms (default 3 000). */
  readonly timeoutMs?: number;
  /** How long the server must stay silent before the client's `<open/>` (default 1 000). */
  readonly silenceMs?: number;
  /** How long an open stream is watched for whitespace keepalives (default 2 000). */
  readonly idleMs?: number;
  /** Credentials for the checks after authentication (skipped without them). */
  readonly user?: string;
  readonly password?: string;
  /** Allow PLAIN over `ws:` to a non-loopback host (default false). */
  readonly allowPlain?: boolean;
  /** `Origin` header to send with every upgrade. */
  readonly origin?: string;
  /** PEM CA certificates for `wss:`. */
  readonly caCerts?: readonly string[];
  /** Run only these check ids (default: all). */
  readonly only?: readonly string[];
  /** Called once the endpoint proved usable, before the first check. */
  readonly onStart?: (url: string, domain: string) => void;
  /** Sees each result as soon as its check ends. */
  readonly onResult?: (result: CheckResult) => void;
}

/** The result of one check. */
export interface CheckResult extends CheckOutcome {
  readonly id: string;
  readonly rules: readonly number[];
  readonly title: string;
  /** How long the check took, in ms. */
  readonly ms: number;
}

/** The whole run. */
export interface ConformanceReport {
  readonly url: string;
  readonly domain: string;
  /** 0 every check passed (or was skipped), 1 a check failed, 2 the endpoint is unusable. */
  readonly exitCode: 0 | 1 | 2;
  /** Why the run stopped before the checks (exit code 2). */
  readonly error?: string;
  readonly results: readonly CheckResult[];
  readonly counts: { readonly pass: number; readonly fail: number; readonly skip: number };
}

/** Runs the checks. Never rejects on network or peer trouble. */
export async function conformance(options: ConformanceOptions): Promise<ConformanceReport> {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    return stopped(options.url, options.domain ?? "", `Invalid URL: '${options.url}'`);
  }
  const given = options.domain ?? options.user?.match(/@([^@/]+)$/)?.[1];
  let domain = given ?? url.hostname.replace(/^\[|\]$/g, "");
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    return stopped(url.href, domain, `Not a ws: or wss: URL: ${url.href}`);
  }
  const unknown = (options.only ?? []).filter((id) => !CHECKS.some((check) => check.id === id));
  if (unknown.length > 0) return stopped(url.href, domain, `Unknown check: ${unknown.join(", ")}`);
  const timeoutMs = options.timeoutMs ?? 3_000;
  const inbound: InboundRecord[] = [];
  let current = "preflight";
  let ctx: CheckContext = {
    url,
    domain,
    timeoutMs,
    silenceMs: options.silenceMs ?? 1_000,
    idleMs: options.idleMs ?? 2_000,
    credentials: options.user !== undefined && options.password !== undefined
      ? {
        username: options.user.replace(/@.*$/, ""),
        password: options.password,
        allowPlain: options.allowPlain === true || url.protocol === "wss:" ||
          /^(localhost|127\.[\d.]+|\[::1\])$/i.test(url.hostname),
      }
      : undefined,
    caCerts: options.caCerts,
    inbound,
    connect: (protocols = ["xmpp"]) =>
      openWebSocket(url, {
        protocols,
        timeoutMs,
        ...(options.origin ? { headers: { Origin: options.origin } } : {}),
        ...(options.caCerts ? { caCerts: options.caCerts } : {}),
        observer: (event) => {
          if (event.type === "text" && event.dir === "in") {
            inbound.push({ check: current, data: event.data });
          } else if (event.type === "binary" && event.dir === "in") {
            inbound.push({ check: current, binaryBytes: event.bytes });
          }
        },
      }),
  };

  let { problem, hint } = await preflight(ctx);
  if (problem && hint !== undefined && given === undefined) {
    // The URL's host is not served, and the server names its domain (RFC 6120 §4.9.3.6).
    domain = hint;
    ctx = { ...ctx, domain };
    ({ problem } = await preflight(ctx));
  }
  if (problem) return stopped(url.href, domain, problem);

  options.onStart?.(url.href, domain);
  const results: CheckResult[] = [];
  for (const check of CHECKS) {
    if (options.only && !options.only.includes(check.id)) continue;
    current = check.id;
    const started = performance.now();
    let outcome: CheckOutcome;
    try {
      outcome = await check.run(ctx);
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      outcome = {
        status: "fail",
        detail: error instanceof ConnectError || error instanceof StreamStepError
          ? text
          : `internal error: ${text}`,
      };
    }
    const result = {
      id: check.id,
      rules: check.rules,
      title: check.title,
      ...outcome,
      ms: Math.round(performance.now() - started),
    };
    results.push(result);
    options.onResult?.(result);
  }
  const count = (status: string) => results.filter((r) => r.status === status).length;
  const counts = { pass: count("pass"), fail: count("fail"), skip: count("skip") };
  return { url: url.href, domain, exitCode: counts.fail > 0 ? 1 : 0, results, counts };
}

/**
 * Can the endpoint be used at all: a 101 for `xmpp`, and a stream for `domain`? With
 * `host-unknown`, `hint` is the domain the server names in its `<open from>`, if another.
 */
async function preflight(ctx: CheckContext): Promise<{ problem?: string; hint?: string }> {
  let result: OpenResult;
  try {
    result = await ctx.connect(["xmpp"]);
  } catch (error) {
    return { problem: (error as Error).message };
  }
  if (!result.socket) {
    return {
      problem: result.problem ??
        `Not an XMPP WebSocket endpoint: HTTP ${result.status} to an upgrade offering 'xmpp'`,
    };
  }
  try {
    await new XmppWire(result.socket, ctx.timeoutMs).openStream(ctx.domain);
  } catch (error) {
    if (error instanceof StreamStepError && error.condition === "host-unknown") {
      const hint = domainHint(error, ctx.domain);
      return {
        problem: `The endpoint does not serve the domain '${ctx.domain}' (${error.message}); ` +
          `give the right one with --domain${hint ? ` (the server names itself ${hint})` : ""}`,
        ...(hint !== undefined ? { hint } : {}),
      };
    }
  } finally {
    await result.socket.shutdown(Math.min(ctx.timeoutMs, 1_000));
  }
  return {};
}

function stopped(url: string, domain: string, error: string): ConformanceReport {
  return { url, domain, exitCode: 2, error, results: [], counts: { pass: 0, fail: 0, skip: 0 } };
}

const ID_WIDTH = Math.max(...CHECKS.map((check) => check.id.length));
const RULE_WIDTH = Math.max(...CHECKS.map((check) => rulesOf(check.rules).length));

function rulesOf(rules: readonly number[]): string {
  return rules.map((n) => `#${n}`).join(" ");
}

/**
 * The title and column header of the table.
 *
 * @example
 * ```ts
 * import { tableHeader } from "./conformance.ts";
 * console.log(tableHeader("ws://h/x", "h").split("\n")[0]); // "RFC 7395 conformance of ws://h/x (domain h)"
 * ```
 */
export function tableHeader(url: string, domain: string): string {
  return `RFC 7395 conformance of ${url} (domain ${domain})\n\n` +
    `${"RESULT"}  ${"CHECK".padEnd(ID_WIDTH)}  ${"RULES".padEnd(RULE_WIDTH)}  DETAIL`;
}

/**
 * One row of the table: result, check id, rules, detail.
 *
 * @example
 * ```ts
 * import { formatRow } from "./conformance.ts";
 * const row = formatRow({ id: "server-silent-first", rules: [17], title: "", status: "pass", detail: "silent for 1000 ms", ms: 1000 });
 * console.log(row.startsWith("pass    server-silent-first")); // true
 * ```
 */
export function formatRow(result: CheckResult): string {
  return `${result.status.padEnd(6)}  ${result.id.padEnd(ID_WIDTH)}  ${
    rulesOf(result.rules).padEnd(RULE_WIDTH)
  }  ${result.detail}`.trimEnd();
}

/**
 * The whole report as text: the header, one row per check and the totals (or the error).
 *
 * @example
 * ```ts
 * import { formatTable } from "./conformance.ts";
 * const text = formatTable({
 *   url: "ws://h/x", domain: "h", exitCode: 2, error: "Cannot connect", results: [],
 *   counts: { pass: 0, fail: 0, skip: 0 },
 * });
 * console.log(text.split("\n").at(-1)); // "error: Cannot connect"
 * ```
 */
export function formatTable(report: ConformanceReport): string {
  if (report.error) {
    return `RFC 7395 conformance of ${report.url} (domain ${report.domain})\n\nerror: ${report.error}`;
  }
  const { pass, fail, skip } = report.counts;
  return [
    tableHeader(report.url, report.domain),
    ...report.results.map(formatRow),
    "",
    `${pass} passed, ${fail} failed, ${skip} skipped`,
  ].join("\n");
}
