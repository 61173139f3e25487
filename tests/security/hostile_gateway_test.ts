/**
 * Issue 8, hostile suite over real sockets against the gateway (deno/gateway.ts) in front of a
 * real Prosody (tests/_support/prosody.ts), with the validating recorder (`_recorder.ts`)
 * between them: every byte each way must belong to one well-formed XML stream per restart, or
 * the case fails. Every message the gateway sends to a client must re-parse (with `saxes`) as
 * exactly one well-formed element. A bystander logged in through the gateway must answer a ping
 * after every case and at the end.
 *
 * The endpoint runs the strict RFC 6455 layer unless `HOSTILE_LAYER=native`.
 */

import { assert, assertEquals } from "@std/assert";
import { ATTACKER, BYSTANDER, CASES, DOMAIN, SUITE_LIMITS } from "./_cases.ts";
import { reach } from "./_driver.ts";
import { bystanderCheck, endpointExtras, judge, runSuite } from "./_suite.ts";
import { SocketWire } from "./_socket_wire.ts";
import { ValidatingProxy } from "./_recorder.ts";
import { serveGateway } from "../../deno/gateway.ts";
import { createLogger } from "../../deno/mod.ts";
import { startProsody } from "../_support/prosody.ts";

const LAYER = (Deno.env.get("HOSTILE_LAYER") ?? "strict") as "strict" | "native";

/** Cases failing because of open findings of issue 8 (the lead empties this list). */
const PENDING_FINDINGS: readonly string[] = [];

Deno.test(`hostile suite over sockets: the gateway in front of Prosody, upstream bytes validated (${LAYER} layer)`, async () => {
  const prosody = await startProsody({
    accounts: [
      { username: ATTACKER.username, password: ATTACKER.password },
      { username: BYSTANDER.username, password: BYSTANDER.password },
    ],
  });
  const recorder = new ValidatingProxy({ hostname: "127.0.0.1", port: prosody.c2sPort });
  const gateway = serveGateway({
    hostname: "127.0.0.1",
    port: 0,
    domains: [DOMAIN],
    upstream: { hostname: "127.0.0.1", port: recorder.port },
    upstreamTls: "off",
    clientLimits: SUITE_LIMITS,
    closeTimeoutMs: 1_000,
    log: createLogger("error", "text"),
    ...endpointExtras(LAYER),
  });
  const port = gateway.addr.port;
  try {
    const bystanderWire = await SocketWire.connect(port);
    const bystander = (await reach(bystanderWire, "bound", BYSTANDER))!;
    const counter = { n: 0 };
    const allowed = (from: string) =>
      from === DOMAIN || from === bystander || from.startsWith(`${ATTACKER.username}@${DOMAIN}/`);
    const run = await runSuite({
      label: "gateway",
      bystander,
      connect: () => SocketWire.connect(port),
      afterCase: async () => {
        const problems = await bystanderCheck(bystanderWire, allowed, counter);
        for (const wire of [...SocketWire.live]) if (wire !== bystanderWire) await wire.dispose();
        return [...problems, ...recorder.takeProblems()];
      },
    }, CASES);
    const problems = judge(`gateway + Prosody, ${LAYER} layer`, run, PENDING_FINDINGS);
    assertEquals(await bystanderCheck(bystanderWire, allowed, counter), [], "bystander at the end");
    console.log(
      `recorder: ${recorder.connections} upstream connections, ${recorder.streams} streams, ` +
        `${recorder.bytesUp} bytes up and ${recorder.bytesDown} down checked`,
    );
    assert(recorder.connections > CASES.length / 2, "the cases went through the recorder");
    assertEquals(problems, []);
  } finally {
    await SocketWire.disposeAll();
    await gateway.shutdown();
    await recorder.close();
    await prosody.stop();
  }
});
