/**
 * Runs the hostile cases against one target and compares the failures with the list of cases
 * known to fail because of an open finding of issue 8 (`PENDING_FINDINGS` in each test file,
 * which the fixes empty). A case failing outside that list fails the test; so does a listed case
 * that now passes (so the list only shrinks).
 *
 * @module
 */

import { ATTACKER, describeOutcome, DOMAIN, type HostileCase } from "./_cases.ts";
import { describeObservation, matches, reach, runCase, SetupError, type Wire } from "./_driver.ts";
import { checkStandalone } from "./_strict_xml.ts";
import { DocumentParser } from "../../core/mod.ts";

/** A target of the suite. */
export interface SuiteTarget {
  readonly label: string;
  connect(): Promise<Wire> | Wire;
  /** The bystander's full JID (`{bystander}`). */
  readonly bystander: string;
  /** Checks after each case (bystander health, upstream bytes); returns problems. */
  afterCase?(c: HostileCase): Promise<readonly string[]> | readonly string[];
}

/** The result of a run. */
export interface SuiteRun {
  /** Case name -> why it failed. */
  readonly failures: Map<string, string>;
  readonly ms: number;
  readonly cases: number;
}

/** Runs `cases` one after the other against `target`. */
export async function runSuite(
  target: SuiteTarget,
  cases: readonly HostileCase[],
): Promise<SuiteRun> {
  const failures = new Map<string, string>();
  const started = performance.now();
  for (const c of cases) {
    const wire = await target.connect();
    try {
      let jid: string | undefined;
      try {
        jid = await reach(wire, c.at, ATTACKER);
      } catch (error) {
        if (!(error instanceof SetupError)) throw error;
        failures.set(c.name, `setup to '${c.at}' failed: ${error.message}`);
        continue;
      }
      const observed = await runCase(
        wire,
        c,
        { self: jid ?? `${ATTACKER.username}@${DOMAIN}`, bystander: target.bystander },
        ATTACKER,
      );
      if (!matches(c, observed)) {
        failures.set(
          c.name,
          `expected ${describeOutcome(c.expect)}, observed ${describeObservation(observed)}` +
            (observed.texts.length > 0
              ? `\n      last messages: ${
                observed.texts.slice(-3).map((t) => t.slice(0, 200)).join(" | ")
              }`
              : ""),
        );
      }
    } finally {
      wire.abort();
    }
    const after = await target.afterCase?.(c) ?? [];
    if (after.length > 0) {
      const before = failures.get(c.name);
      failures.set(c.name, [before, ...after].filter(Boolean).join("\n      "));
    }
  }
  return { failures, ms: performance.now() - started, cases: cases.length };
}

/**
 * Prints the run and the pending list, and returns the problems: failures not pending, and
 * pending cases that now pass.
 */
export function judge(
  label: string,
  run: SuiteRun,
  pending: readonly string[],
): string[] {
  const pendingSet = new Set(pending);
  const unexpected = [...run.failures].filter(([name]) => !pendingSet.has(name));
  const fixed = pending.filter((name) => !run.failures.has(name));
  const stillPending = pending.filter((name) => run.failures.has(name));
  console.log(
    `[${label}] ${run.cases} cases in ${(run.ms / 1000).toFixed(1)} s: ${
      run.cases - run.failures.size
    } pass, ${stillPending.length} pending (PENDING_FINDINGS), ${unexpected.length} unexpected failures`,
  );
  for (const name of stillPending) {
    console.log(`  PENDING ${name}\n      ${run.failures.get(name)}`);
  }
  const problems: string[] = [];
  for (const [name, why] of unexpected) problems.push(`FAIL ${name}\n      ${why}`);
  for (const name of fixed) {
    problems.push(`PASSES NOW, remove from PENDING_FINDINGS: ${name}`);
  }
  return problems;
}

const parser = new DocumentParser();

/**
 * The bystander's health after a case: everything it received since the last check is exactly
 * one well-formed element, every `from` is a real sender (`allowedFrom`), and it gets its own
 * ping answered. Returns the problems.
 */
export async function bystanderCheck(
  wire: Wire,
  allowedFrom: (from: string) => boolean,
  counter: { n: number },
): Promise<string[]> {
  const problems: string[] = [];
  const id = `by-${++counter.n}`;
  await wire.send(
    `<iq xmlns='jabber:client' type='get' id='${id}' to='${DOMAIN}'><ping xmlns='urn:xmpp:ping'/></iq>`,
  );
  for (let i = 0; i < 100_000; i++) {
    const event = await wire.next();
    if (event.type !== "text") {
      problems.push(`bystander: ${JSON.stringify(event)} instead of the ping answer`);
      break;
    }
    const bad = checkStandalone(event.text);
    if (bad) {
      problems.push(`bystander got a malformed message (${bad}): ${event.text.slice(0, 300)}`);
    }
    const result = parser.parse(event.text);
    if (!result.ok) continue;
    const from = result.element.attrs.from;
    if (from !== undefined && !allowedFrom(from)) {
      problems.push(`bystander got a stanza from '${from}': ${event.text.slice(0, 300)}`);
    }
    if (result.element.attrs.id === id) {
      if (result.element.attrs.type !== "result") problems.push(`bystander ping: ${event.text}`);
      break;
    }
  }
  return problems;
}

/**
 * Endpoint options shared by the socket suites: the WebSocket layer under test, and admission
 * control opened wide (every suite connects hundreds of times a second from 127.0.0.1, which the
 * per-address defaults rightly refuse). Untyped, so that the suites run on endpoints that do not
 * know an option yet.
 */
export function endpointExtras(layer: "strict" | "native"): object {
  return {
    websocketLayer: layer,
    admission: {
      maxConnections: 100_000,
      maxPerAddress: 100_000,
      maxUnauthenticatedPerAddress: 100_000,
      newPerSecond: 1_000_000,
      newBurst: 1_000_000,
    },
  };
}
