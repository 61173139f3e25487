/**
 * Issue 8, hostile suite against the pure core (no sockets, virtual clock): every case of
 * `_cases.ts` against
 *
 * 1. the server-role session reducer with a scripted application (the cases the framing decides);
 * 2. the embedded server's hub behind server sessions, with a logged-in bystander that must answer
 *    a ping after every case and only ever receive well-formed stanzas from real senders;
 * 3. the gateway bridge in front of a scripted RFC 6120 server that is as lax as Prosody 0.12
 *    (stanzas before SASL success get stanza errors), with every upstream byte checked by an
 *    independent strict parser (`saxes`) as one well-formed stream per restart.
 *
 * Every message sent to a client is checked to be exactly one well-formed element.
 * `PENDING_FINDINGS` lists the cases that fail because of open findings of issue 8; the test
 * prints them, and fails on any other failure, or when a listed case passes.
 */

import { assertEquals } from "@std/assert";
import { BYSTANDER, CASES, casesPerFamily, type HostileCase } from "./_cases.ts";
import { reach, SetupError } from "./_driver.ts";
import { GatewayTarget, HubTarget, ReducerTarget } from "./_core_targets.ts";
import { bystanderCheck, judge, runSuite } from "./_suite.ts";

/**
 * Per target, the cases failing because of open findings of issue 8 (empty: every finding is
 * fixed; a case that fails again fails the test).
 */
const PENDING_FINDINGS: Record<string, readonly string[]> = { reducer: [], hub: [], gateway: [] };

Deno.test("hostile suite: at least 200 cases, unique names, every family", () => {
  const names = new Set(CASES.map((c) => c.name));
  assertEquals(names.size, CASES.length, "case names are unique");
  console.log(`${CASES.length} cases:`, casesPerFamily());
  if (CASES.length < 200) throw new Error(`only ${CASES.length} cases`);
});

Deno.test("hostile suite, core: the session reducer (server role) on the framing cases", async () => {
  const target = new ReducerTarget();
  const run = await runSuite({
    label: "reducer",
    bystander: `${BYSTANDER.username}@localhost/bystander`,
    connect: () => target.connect(),
  }, CASES.filter((c) => c.decidedBy === "framing"));
  const problems = judge("core reducer", run, PENDING_FINDINGS.reducer!);
  assertEquals(problems, []);
});

Deno.test("hostile suite, core: the embedded server's hub, with a bystander", async () => {
  const target = new HubTarget();
  const bystanderWire = target.connect();
  const bystander = await reach(bystanderWire, "bound", BYSTANDER);
  if (bystander === undefined) throw new SetupError("bystander not bound");
  const counter = { n: 0 };
  const allowed = (from: string) =>
    from === "localhost" || from === bystander || from.startsWith("alice@localhost/");
  const run = await runSuite({
    label: "hub",
    bystander,
    connect: () => target.connect(),
    afterCase: async (_c: HostileCase) => {
      target.tick(1_000); // a second between cases: the bystander's rate limit refills
      return await bystanderCheck(bystanderWire, allowed, counter);
    },
  }, CASES);
  const problems = judge("core hub", run, PENDING_FINDINGS.hub!);
  assertEquals(await bystanderCheck(bystanderWire, allowed, counter), []);
  assertEquals(problems, []);
});

Deno.test("hostile suite, core: the gateway bridge, upstream bytes checked by a strict parser", async () => {
  const target = new GatewayTarget();
  const run = await runSuite({
    label: "gateway",
    bystander: `${BYSTANDER.username}@localhost/bystander`,
    connect: () => target.connect(),
    afterCase: () => target.takeProblems(),
  }, CASES);
  const problems = judge("core gateway", run, PENDING_FINDINGS.gateway!);
  assertEquals(problems, []);
});
