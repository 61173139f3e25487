/**
 * Issue 8, hostile suite over real sockets against the embedded server (deno/embedded.ts behind
 * serveXmpp on 127.0.0.1, port 0): every case of `_cases.ts`, each on a fresh connection from a
 * raw WebSocket client (exact frames: invalid UTF-8, binary), while a logged-in bystander must
 * answer a ping after every case and at the end, and only ever receive well-formed stanzas from
 * real senders. Every message the server sends is checked to be one well-formed element by an
 * independent parser (`saxes`).
 *
 * The endpoint runs the strict RFC 6455 layer (`websocketLayer: "strict"`), or the layer named
 * by `HOSTILE_LAYER` (`native`: Deno's own, for comparison).
 */

import { assertEquals } from "@std/assert";
import { ATTACKER, BYSTANDER, CASES, DOMAIN, SUITE_LIMITS } from "./_cases.ts";
import { reach } from "./_driver.ts";
import { bystanderCheck, endpointExtras, judge, runSuite } from "./_suite.ts";
import { SocketWire } from "./_socket_wire.ts";
import { embeddedServer, loadAccounts } from "../../deno/embedded.ts";
import { serveXmpp } from "../../deno/serve.ts";

/** The WebSocket layer under test. */
export const LAYER = (Deno.env.get("HOSTILE_LAYER") ?? "strict") as "strict" | "native";

/**
 * Cases failing because of open findings of issue 8 (the lead empties this list):
 * - finding 3 (the WebSocket layer): with `HOSTILE_LAYER=native` about 30 more cases fail
 *   (invalid UTF-8 and oversized messages end with TCP dropped, 1006, instead of 1007 / 1009);
 * - the reserved-namespace declarations (see hostile_core_test.ts), found by this suite.
 */
const PENDING_FINDINGS: readonly string[] = [];

Deno.test(`hostile suite over sockets: the embedded server (${LAYER} WebSocket layer), with a bystander`, async () => {
  const { accounts } = await loadAccounts({
    users: [
      `${ATTACKER.username}:${ATTACKER.password}`,
      `${BYSTANDER.username}:${BYSTANDER.password}`,
    ],
  });
  // A rate limit above the bystander's one ping per case (the default, 20/s, is for people);
  // the floods still exceed it.
  const app = embeddedServer({ accounts, domain: DOMAIN, rate: { perSecond: 100, burst: 200 } });
  const xmpp = serveXmpp({
    hostname: "127.0.0.1",
    port: 0,
    session: { domains: [DOMAIN], limits: SUITE_LIMITS, closeTimeoutMs: 1_000 },
    application: app,
    ...endpointExtras(LAYER),
  });
  const port = xmpp.addr.port;
  try {
    const bystanderWire = await SocketWire.connect(port);
    const bystander = (await reach(bystanderWire, "bound", BYSTANDER))!;
    const counter = { n: 0 };
    const allowed = (from: string) =>
      from === DOMAIN || from === bystander || from.startsWith(`${ATTACKER.username}@${DOMAIN}/`);
    const run = await runSuite({
      label: "embedded",
      bystander,
      connect: () => SocketWire.connect(port),
      afterCase: async () => {
        const problems = await bystanderCheck(bystanderWire, allowed, counter);
        // Settle the attacker's connection before the next case.
        for (const wire of [...SocketWire.live]) if (wire !== bystanderWire) await wire.dispose();
        return problems;
      },
    }, CASES);
    const problems = judge(
      `embedded, ${LAYER} layer`,
      run,
      LAYER === "strict" ? PENDING_FINDINGS : [],
    );
    assertEquals(await bystanderCheck(bystanderWire, allowed, counter), [], "bystander at the end");
    assertEquals(problems, []);
  } finally {
    await SocketWire.disposeAll();
    await xmpp.shutdown();
    app.stop();
  }
});
