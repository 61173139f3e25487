/**
 * Fault (issue 9): the gateway process dies. Two gateway instances (`deno run deno/main.ts
 * --upstream ...`) stand in front of the same private Prosody, both listed by XEP-0156
 * discovery; the first is killed with SIGKILL while alice (the project's client, XEP-0198 on) is
 * online through it. Prosody sees the TCP connection drop and keeps alice's session for
 * resumption. alice reconnects with backoff, finds the first gateway gone, moves to the second
 * and resumes (`<resume/>`, digest §2.2: the stream restarts only after SASL, not after
 * `<resumed/>`). Nothing is lost: what bob sent her while she was away arrives after resumption,
 * what she sent before the kill arrives once (resent past the server's `h`), and what she
 * queued while offline goes out after resumption.
 */

import { assert, assertEquals } from "@std/assert";
import { childElement, element, NS, textOf, type XmlElement } from "../../core/mod.ts";
import { DiscoveryCache, type FetchLike, XmppClient } from "../../deno/client.ts";
import { recorder, waitFor } from "../_support/client.ts";
import { freePort, KillableProsody, ServerProcess, waitUntil } from "../_support/processes.ts";

const ACCOUNTS = [
  { username: "alice", password: "alice-secret" },
  { username: "bob", password: "bob-secret" },
];
const body = (el: XmlElement) => textOf(childElement(el, "body", NS.CLIENT)!);

/** A fetch answering XEP-0156 host-meta.json with `endpoints` (and 404 for the XRD form). */
function hostMeta(endpoints: readonly string[]): FetchLike {
  return (url) =>
    Promise.resolve(
      url.endsWith("/.well-known/host-meta.json")
        ? new Response(
          JSON.stringify({
            links: endpoints.map((href) => ({ rel: "urn:xmpp:alt-connections:websocket", href })),
          }),
          { headers: { "content-type": "application/json" } },
        )
        : new Response("not here\n", { status: 404 }),
    );
}

Deno.test("fault: the gateway process killed: the client moves to a second gateway in front of the same upstream and resumes with XEP-0198, nothing lost", async () => {
  await using prosody = await KillableProsody.start({ accounts: ACCOUNTS });
  const upstream = ["--upstream", `127.0.0.1:${prosody.c2sPort}`, "--upstream-tls", "off"];
  const secondPort = freePort(); // the second gateway starts only after alice lost the first
  await using first = await ServerProcess.start(upstream);
  const secondUrl = `ws://127.0.0.1:${secondPort}/xmpp-websocket`;
  const rec = recorder();
  const alice = await XmppClient.connect({
    service: "localhost",
    fetch: hostMeta([first.url, secondUrl]),
    discoveryCache: new DiscoveryCache(),
    allowInsecure: true, // ws: links on loopback, from a stub discovery
    username: "alice",
    password: "alice-secret",
    resource: "phone",
    backoff: { baseMs: 100, maxMs: 400 },
    ackEvery: 100, // nothing acknowledged before the kill: everything unacked is resent
    webSocket: rec.factory,
  });
  // bob talks to Prosody's own WebSocket endpoint: no gateway between him and the server.
  const bob = await XmppClient.connect({
    service: prosody.server.websocketUrl,
    domain: "localhost",
    username: "bob",
    password: "bob-secret",
  });
  let second: ServerProcess | undefined;
  const failed: XmlElement[] = [];
  alice.on("stanzas-failed", (f) => failed.push(...f.elements));
  const toAlice: string[] = [];
  const toBob: string[] = [];
  try {
    assertEquals(alice.jid, "alice@localhost/phone");
    assertEquals(rec.opened.map((o) => o.url), [first.url]);
    const ready = [
      waitFor(alice, "presence", (p) => p.attrs.from === alice.jid),
      waitFor(bob, "presence", (p) => p.attrs.from === bob.jid),
    ];
    alice.presence();
    bob.presence();
    await Promise.all(ready);
    alice.on("message", (m) => toAlice.push(body(m)));
    bob.on("message", (m) => toBob.push(body(m)));

    const lost = waitFor(alice, "disconnected");
    const resumed = waitFor(alice, "online", (o) => o.resumed, 20_000);
    for (let i = 1; i <= 3; i++) alice.message(bob.jid!, `before the kill ${i}`);
    const status = await first.kill("SIGKILL");
    assertEquals(status.signal, "SIGKILL");
    const cut = await lost;
    assertEquals([cut.error.kind, cut.error.reconnect], ["connection", "backoff"]);

    // While alice is away: bob writes to her full JID (held by Prosody for resumption), and
    // she queues a message of her own.
    bob.message(alice.jid!, "while you were away");
    await bob.iq("get", element("ping", "urn:xmpp:ping"), "localhost"); // bob's message went through Prosody
    alice.message(bob.jid!, "queued while offline");

    second = await ServerProcess.start(upstream, { port: secondPort });
    const online = await resumed;
    assertEquals(online.jid, "alice@localhost/phone");
    assertEquals(rec.opened.at(-1)!.url, secondUrl, "the last socket went to the second gateway");
    assert(
      rec.log.some((l) => l.startsWith("> <resume xmlns='urn:xmpp:sm:3'")),
      rec.log.join("\n"),
    );

    await waitUntil(
      () => toAlice.length >= 1 && toBob.length >= 4,
      `every message to arrive (alice got ${JSON.stringify(toAlice)}, bob got ${
        JSON.stringify(toBob)
      })`,
    );
    assertEquals(toAlice, ["while you were away"]);
    assertEquals(toBob, [
      "before the kill 1",
      "before the kill 2",
      "before the kill 3",
      "queued while offline",
    ]);
    assertEquals(failed, []);
    // The session goes on through the second gateway.
    const pong = await alice.iq("get", element("ping", "urn:xmpp:ping"), "localhost");
    assertEquals(pong.attrs.type, "result");
  } finally {
    await alice.close();
    await bob.close();
    await second?.stop();
  }
});
