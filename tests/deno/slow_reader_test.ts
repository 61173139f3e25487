/**
 * Issue 9, finding 1: a session that stops reading while another sends it 250 KB messages
 * grew the embedded server's memory without bound. Now two budgets bound it, over real sockets
 * on both WebSocket layers:
 * - the outbound budget of the connection (`bufferedAmount`, `outbound.maxBufferedBytes`): a
 *   slow reader's stream ends with `resource-constraint` after the grace period, and its
 *   XEP-0198 session waits for resumption with what was queued for it;
 * - the XEP-0198 queue's byte budget (`maxUnackedBytes`): a live session past it ends the same
 *   way, with its queue bounded by the budget plus one stanza.
 * The assertions are on the connection's end, its condition and the queue's byte count, never
 * on resident memory or timing.
 */

import { assert, assertEquals, assertMatch } from "@std/assert";
import { embeddedServer, type EmbeddedServerOptions, loadAccounts } from "../../deno/embedded.ts";
import { serveXmpp } from "../../deno/serve.ts";
import type { ServeXmppOptions } from "../../deno/mod.ts";
import { deadline, OPEN, RawClient, upgradeRequest } from "../_support/endpoint.ts";

type Layer = "native" | "strict";
const SASL = "urn:ietf:params:xml:ns:xmpp-sasl";
const SM = "urn:xmpp:sm:3";
const BIND =
  "<iq xmlns='jabber:client' type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>";
const BODY = "x".repeat(250_000);

/** A raw client (it reads only when told to) logged in as `user`, resource bound. */
async function rawLogin(
  port: number,
  user: string,
  password: string,
): Promise<{ client: RawClient; jid: string }> {
  const client = await RawClient.connect(port);
  await client.write(upgradeRequest(port, ["Sec-WebSocket-Protocol: xmpp"]));
  assertEquals((await client.readResponse()).status, 101);
  await client.writeFrame(0x1, OPEN);
  await client.readText();
  await client.readText();
  await client.writeFrame(
    0x1,
    `<auth xmlns='${SASL}' mechanism='PLAIN'>${btoa(`\0${user}\0${password}`)}</auth>`,
  );
  assertMatch(await client.readText(), /<success/);
  await client.writeFrame(0x1, OPEN);
  await client.readText();
  await client.readText();
  return { client, jid: "" };
}

async function bind(client: RawClient): Promise<string> {
  await client.writeFrame(0x1, BIND);
  const result = await client.readText();
  return /<jid>([^<]+)<\/jid>/.exec(result)![1]!;
}

/** Reads text frames until one matches `pattern` (at most `max`); returns those read. */
async function readUntil(client: RawClient, pattern: RegExp, max: number): Promise<string[]> {
  const texts: string[] = [];
  for (let i = 0; i < max; i++) {
    const frame = await client.readFrame();
    if (frame === null) break;
    if (frame.opcode !== 0x1) continue;
    const text = new TextDecoder().decode(frame.payload);
    texts.push(text);
    if (pattern.test(text)) return texts;
  }
  throw new Error(
    `no frame matched ${pattern} in ${texts.length}: ${texts.slice(-3).join(" | ").slice(0, 300)}`,
  );
}

async function scenario(
  layer: Layer,
  hubOptions: Partial<EmbeddedServerOptions>,
  endpoint: Pick<ServeXmppOptions, "outbound">,
  endedBy: "outbound budget" | "queue budget",
): Promise<void> {
  const { accounts, demo } = await loadAccounts({ demoUsers: ["alice", "bob"] });
  const password = (user: string) => demo.find((d) => d.username === user)!.password;
  const app = embeddedServer({ accounts, rate: { perSecond: 1_000, burst: 1_000 }, ...hubOptions });
  const xmpp = serveXmpp({
    hostname: "127.0.0.1",
    port: 0,
    session: { domains: ["localhost"] },
    application: app,
    websocketLayer: layer,
    ...endpoint,
  });
  const port = xmpp.addr.port;
  const clients: RawClient[] = [];
  let alice: WebSocket | undefined;
  try {
    // Bob logs in, enables XEP-0198 with resumption, then stops reading.
    const bob = (await rawLogin(port, "bob", password("bob"))).client;
    clients.push(bob);
    const bobJid = await bind(bob);
    await bob.writeFrame(0x1, `<enable xmlns='${SM}' resume='true'/>`);
    const enabled = await bob.readText();
    const previd = /id='([^']+)'/.exec(enabled)![1]!;
    // Alice sends him 250 KB messages until his connection is gone (bounded).
    alice = new WebSocket(`ws://127.0.0.1:${port}/xmpp-websocket`, "xmpp");
    const aliceReady = aliceLogin(alice, password("alice"));
    await deadline(aliceReady, "alice to log in");
    const bobSession = () => app.hub.sessions.get(bobJid);
    let sent = 0;
    for (; sent < 400 && bobSession()?.connId !== undefined; sent++) {
      alice.send(
        `<message xmlns='jabber:client' to='${bobJid}' type='chat' id='m${sent}'><body>${BODY}</body></message>`,
      );
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // Bob's connection ended; his session hibernates with its queue, within the byte budget.
    const session = bobSession();
    if (session === undefined) throw new Error("bob's session should wait for resumption");
    assertEquals(session.connId, undefined);
    const sm = session.sm!;
    assert(sm.unacked.length > 0 && sm.unacked.length <= sent, `${sm.unacked.length} of ${sent}`);
    console.log(
      `${layer}, ${endedBy}: ${sent} sent, ${sm.unacked.length} queued, ${sm.unackedBytes} characters`,
    );
    assertEquals(xmpp.endpointStats().slowReaders, endedBy === "outbound budget" ? 1 : 0);
    const budget = app.hub.config.maxUnackedBytes;
    assert(sm.unackedBytes <= budget + 260_000, `${sm.unackedBytes} > ${budget} + one stanza`);
    // The stream error he was sent is resource-constraint (he reads what waited for him).
    const tail = await readUntil(bob, /<resource-constraint/, sent + 20);
    assertMatch(tail.at(-1)!, /<resource-constraint/);
    bob.close();
    // He comes back and resumes: everything he did not acknowledge comes again.
    const again = (await rawLogin(port, "bob", password("bob"))).client;
    clients.push(again);
    await again.writeFrame(0x1, `<resume xmlns='${SM}' previd='${previd}' h='0'/>`);
    assertMatch(await again.readText(), /<resumed/);
    const resent = await readUntil(again, new RegExp(`id='m${sm.unacked.length - 1}'`), sent + 5);
    assertEquals(resent.filter((text) => text.startsWith("<message")).length, sm.unacked.length);
  } finally {
    alice?.close();
    for (const client of clients) client.close();
    await xmpp.shutdown();
    app.stop();
  }
}

function aliceLogin(ws: WebSocket, password: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let stage = 0;
    ws.onopen = () => ws.send(OPEN);
    ws.onerror = () => reject(new Error("alice's WebSocket failed"));
    ws.onmessage = (event) => {
      const text = String(event.data);
      if (stage === 0 && text.includes("<mechanisms")) {
        stage = 1;
        ws.send(`<auth xmlns='${SASL}' mechanism='PLAIN'>${btoa(`\0alice\0${password}`)}</auth>`);
      } else if (stage === 1 && text.includes("<success")) {
        stage = 2;
        ws.send(OPEN);
      } else if (stage === 2 && text.includes("<bind")) {
        stage = 3;
        ws.send(BIND);
      } else if (stage === 3 && text.includes("id='b'")) {
        stage = 4;
        resolve();
      }
    };
  });
}

for (const layer of ["native", "strict"] as const) {
  Deno.test(`slow reader (${layer}): over the outbound budget past the grace period, the stream ends with resource-constraint; the XEP-0198 session waits with its queue and resumes`, async () => {
    await scenario(
      layer,
      { maxUnackedBytes: 256 << 20, maxUnacked: 10_000 }, // out of the way: the transport decides
      { outbound: { maxBufferedBytes: 512 << 10, slowReaderGraceMs: 200 } },
      "outbound budget",
    );
  });

  Deno.test(`slow reader (${layer}): the XEP-0198 queue's byte budget ends a live session that does not keep up (resource-constraint) and bounds what it keeps`, async () => {
    await scenario(
      layer,
      { maxUnackedBytes: 1 << 20 },
      { outbound: { maxBufferedBytes: 256 << 20, slowReaderGraceMs: 60_000 } }, // out of the way
      "queue budget",
    );
  });
}
