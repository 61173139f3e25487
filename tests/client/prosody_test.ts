/**
 * The client library against a real server no one here wrote: Prosody's own WebSocket endpoint
 * (`mod_websocket`), and our gateway in front of Prosody's c2s port. Login (SCRAM-SHA-1 with
 * Prosody's hashed accounts, SCRAM-SHA-256 with plain ones), chat, ping, XEP-0198 resumption
 * after a cut with nothing lost, and the close handshake. Prosody comes from
 * `scripts/install_test_deps.sh`.
 */

import { assert, assertEquals } from "@std/assert";
import { childElement, element, NS, textOf, type XmlElement } from "../../core/mod.ts";
import { XmppClient } from "../../deno/client.ts";
import { serveGateway } from "../../deno/gateway.ts";
import { createLogger } from "../../deno/mod.ts";
import { type ProsodyOptions, startProsody } from "../_support/prosody.ts";
import { CutProxy } from "../_support/proxy.ts";
import { recorder, until, waitFor } from "../_support/client.ts";

const ACCOUNTS = [
  { username: "alice", password: "alice-secret" },
  { username: "bob", password: "bob-secret" },
];
const body = (el: XmlElement) => textOf(childElement(el, "body", NS.CLIENT)!);

async function chatAndClose(url: string, mechanism: string): Promise<void> {
  const rec = recorder();
  const alice = await XmppClient.connect({
    service: url,
    domain: "localhost",
    username: "alice",
    password: "alice-secret",
    resource: "web",
    webSocket: rec.factory,
  });
  const bob = await XmppClient.connect({
    service: url,
    domain: "localhost",
    username: "bob",
    password: "bob-secret",
  });
  try {
    assertEquals(alice.jid, "alice@localhost/web");
    assert(
      rec.log.some((l) => l.startsWith("> <auth") && l.includes(`mechanism='${mechanism}'`)),
      rec.log.join("\n"),
    );
    const ready = [
      waitFor(alice, "presence", (p) => p.attrs.from === alice.jid),
      waitFor(bob, "presence", (p) => p.attrs.from === bob.jid),
    ];
    alice.presence();
    bob.presence();
    await Promise.all(ready);
    const got = waitFor(bob, "message");
    alice.message(bob.jid!, "hello <bob> & co");
    const message = await got;
    assertEquals([message.attrs.from, body(message)], [alice.jid, "hello <bob> & co"]);
    const pong = await alice.iq("get", element("ping", "urn:xmpp:ping"), "localhost");
    assertEquals(pong.attrs.type, "result");
  } finally {
    await alice.close();
    await bob.close();
  }
  assertEquals(await alice.closed, undefined);
  // Our <close/> is the last thing sent; the server's <close/> the last received (Prosody may
  // send a final XEP-0198 <a/> in between).
  const close = "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>";
  const sent = rec.log.filter((l) => l.startsWith(">"));
  const received = rec.log.filter((l) => l.startsWith("<"));
  assertEquals([sent.at(-1), received.at(-1)], [`> ${close}`, `< ${close}`]);
  assert(rec.log.indexOf(`> ${close}`) < rec.log.indexOf(`< ${close}`));
}

async function resumeAfterCut(url: (proxyPort: number) => string, port: number): Promise<void> {
  const proxy = new CutProxy({ hostname: "127.0.0.1", port });
  const alice = await XmppClient.connect({
    service: url(port),
    domain: "localhost",
    username: "alice",
    password: "alice-secret",
  });
  const bob = await XmppClient.connect({
    service: url(proxy.port),
    domain: "localhost",
    username: "bob",
    password: "bob-secret",
    backoff: { baseMs: 50, maxMs: 200 },
    ackEvery: 100,
  });
  const failed: XmlElement[] = [];
  bob.on("stanzas-failed", (f) => failed.push(...f.elements));
  try {
    const ready = [
      waitFor(alice, "presence", (p) => p.attrs.from === alice.jid),
      waitFor(bob, "presence", (p) => p.attrs.from === bob.jid),
    ];
    alice.presence();
    bob.presence();
    await Promise.all(ready);
    const toAlice: string[] = [];
    const toBob: string[] = [];
    alice.on("message", (m) => toAlice.push(body(m)));
    bob.on("message", (m) => toBob.push(body(m)));
    const resumed = waitFor(bob, "online", (o) => o.resumed);
    const lost = waitFor(bob, "disconnected");
    for (let i = 1; i <= 3; i++) bob.message("alice@localhost", `from bob ${i}`);
    proxy.cut();
    // Alice writes once bob's side has seen the cut (an event, not a sleep). Whether Prosody
    // has noticed it yet does not matter: what it writes to the dead socket was never
    // acknowledged by bob and comes again on resumption (XEP-0198 §5), as does what it holds
    // for the hibernating session. Either way, nothing may be lost.
    await lost;
    for (let i = 1; i <= 3; i++) alice.message(bob.jid!, `from alice ${i}`);
    await resumed;
    await until("the messages", () => toAlice.length >= 3 && toBob.length >= 3).catch(() => {});
    assertEquals(toAlice, [1, 2, 3].map((i) => `from bob ${i}`));
    assertEquals(toBob, [1, 2, 3].map((i) => `from alice ${i}`));
    assertEquals(failed, []);
  } finally {
    await proxy.close();
    await alice.close();
    await bob.close();
  }
}

async function withProsody(
  options: ProsodyOptions,
  body: (prosody: Awaited<ReturnType<typeof startProsody>>) => Promise<void>,
): Promise<void> {
  const prosody = await startProsody({ accounts: ACCOUNTS, ...options });
  try {
    await body(prosody);
  } finally {
    await prosody.stop();
  }
}

Deno.test("client vs Prosody's WebSocket endpoint: SCRAM-SHA-1, chat, ping, close handshake", async () => {
  await withProsody({}, (prosody) => chatAndClose(prosody.websocketUrl, "SCRAM-SHA-1"));
});

Deno.test("client vs Prosody's WebSocket endpoint: SCRAM-SHA-256 with plain-stored accounts", async () => {
  await withProsody(
    { authentication: "internal_plain" },
    (prosody) => chatAndClose(prosody.websocketUrl, "SCRAM-SHA-256"),
  );
});

Deno.test("client vs Prosody's WebSocket endpoint: resumption after a cut loses nothing", async () => {
  await withProsody({}, (prosody) =>
    resumeAfterCut(
      (port) => `ws://127.0.0.1:${port}/xmpp-websocket`,
      prosody.httpPort,
    ));
});

Deno.test("client vs our gateway in front of Prosody: login, chat, ping, resumption, close", async () => {
  await withProsody({}, async (prosody) => {
    const gateway = serveGateway({
      hostname: "127.0.0.1",
      port: 0,
      domains: ["localhost"],
      upstream: { hostname: "127.0.0.1", port: prosody.c2sPort },
      upstreamTls: "off",
      log: createLogger("error", "text"),
    });
    try {
      const url = `ws://127.0.0.1:${gateway.addr.port}/xmpp-websocket`;
      await chatAndClose(url, "SCRAM-SHA-1");
      await resumeAfterCut((port) => `ws://127.0.0.1:${port}/xmpp-websocket`, gateway.addr.port);
    } finally {
      await gateway.shutdown();
    }
  });
});
