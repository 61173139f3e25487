/**
 * Fault (issue 9): the upstream stalls. A TCP proxy between the gateway (`deno run deno/main.ts
 * --upstream <proxy>`) and a private Prosody stops forwarding in both directions while keeping
 * the connections open: nothing closes, nothing arrives. The session must still end, by the
 * liveness probe: the project's client sends XEP-0198 `<r/>` after `probeAfterMs` of inbound
 * silence and drops the connection when no `<a/>` comes within `probeTimeoutMs`. The gateway then
 * releases the stalled upstream connection (the proxy sees it closed), and the client resumes
 * through a fresh upstream connection with nothing lost.
 *
 * The gateway's own WebSocket ping (`--ping-interval`, short here) keeps probing the client side
 * only: it cannot see an upstream stall, and the test shows it does not end a healthy client.
 */

import { assert, assertEquals } from "@std/assert";
import { childElement, element, NS, textOf, type XmlElement } from "../../core/mod.ts";
import { XmppClient } from "../../deno/client.ts";
import { recorder, waitFor } from "../_support/client.ts";
import { CutProxy } from "../_support/proxy.ts";
import { KillableProsody, ServerProcess, sleep, waitUntil } from "../_support/processes.ts";

const ACCOUNTS = [
  { username: "alice", password: "alice-secret" },
  { username: "bob", password: "bob-secret" },
];
const body = (el: XmlElement) => textOf(childElement(el, "body", NS.CLIENT)!);

Deno.test("fault: an upstream that stalls: the client's liveness probe ends the session, the gateway releases the upstream, the client resumes", async () => {
  await using prosody = await KillableProsody.start({ accounts: ACCOUNTS });
  const proxy = new CutProxy({ hostname: "127.0.0.1", port: prosody.c2sPort });
  const gateway = await ServerProcess.start([
    "--upstream",
    `127.0.0.1:${proxy.port}`,
    "--upstream-tls",
    "off",
    "--ping-interval",
    "300",
  ]);
  const rec = recorder();
  let alice: XmppClient | undefined;
  let bob: XmppClient | undefined;
  try {
    alice = await XmppClient.connect({
      service: gateway.url,
      domain: "localhost",
      username: "alice",
      password: "alice-secret",
      probeAfterMs: 400,
      probeTimeoutMs: 400,
      backoff: { baseMs: 50, maxMs: 200 },
      webSocket: rec.factory,
    });
    bob = await XmppClient.connect({
      service: prosody.server.websocketUrl,
      domain: "localhost",
      username: "bob",
      password: "bob-secret",
    });
    const a = alice;
    const ready = [
      waitFor(a, "presence", (p) => p.attrs.from === a.jid),
      waitFor(bob, "presence", (p) => p.attrs.from === bob!.jid),
    ];
    a.presence();
    bob.presence();
    await Promise.all(ready);
    const toAlice: string[] = [];
    a.on("message", (m) => toAlice.push(body(m)));

    // Healthy and idle: the probes (and the gateway's WebSocket pings) are answered.
    await sleep(1_000);
    assertEquals(a.status, "online");
    assert(rec.log.includes("> <r xmlns='urn:xmpp:sm:3'/>"), "a probe was sent");
    assertEquals(rec.opened.length, 1);
    assertEquals(proxy.live, 1);

    const lost = waitFor(a, "disconnected");
    const resumed = waitFor(a, "online", (o) => o.resumed, 15_000);
    proxy.silence(); // the upstream stalls: open, silent, swallowing everything
    bob.message(a.jid!, "sent during the stall");
    const error = (await lost).error;
    assertEquals(error.kind === "connection" && error.reason, "liveness-timeout");
    await resumed;
    assertEquals(rec.opened.length, 2);
    await waitUntil(() => toAlice.length >= 1, "the message sent during the stall");
    assertEquals(toAlice, ["sent during the stall"]);
    const pong = await a.iq("get", element("ping", "urn:xmpp:ping"), "localhost");
    assertEquals(pong.attrs.type, "result");
    // The gateway let go of the stalled upstream connection once the client's socket went.
    await waitUntil(() => proxy.live === 1, "the stalled upstream connection to be closed");
    assertEquals(await gateway.metric("xmpp_ws_connections_open"), 1);
  } finally {
    await alice?.close();
    await bob?.close();
    await gateway.stop();
    await proxy.close();
  }
});
