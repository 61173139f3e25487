/**
 * Issue 9, finding 2 (pre-auth lockout) and the admission-control deliverable, over real
 * sockets: upgrades refused before they happen (HTTP 503 with `Retry-After`) for connections in
 * total, per client address, unauthenticated per address and new per address per second; the
 * pre-authentication deadline (`connection-timeout`); the same on the embedded server (both
 * WebSocket layers) and on the gateway, counted in `/metrics`.
 *
 * Client addresses other than 127.0.0.1 come from `X-Forwarded-For`, believed from the trusted
 * proxy 127.0.0.1 (the address `clientAddress` returns, as admission control counts it).
 */

import { assert, assertEquals, assertMatch } from "@std/assert";
import { embeddedServer, loadAccounts } from "../../deno/embedded.ts";
import { serveXmpp } from "../../deno/serve.ts";
import { serveGateway } from "../../deno/gateway.ts";
import type { ServeXmppOptions, XmppServer } from "../../deno/mod.ts";
import { OPEN, RawClient, upgradeRequest } from "../_support/endpoint.ts";

type Layer = "native" | "strict";
const SASL = "urn:ietf:params:xml:ns:xmpp-sasl";
const BIND =
  "<iq xmlns='jabber:client' type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>";

/** An upgrade from `address` (through the trusted proxy): the 101's client, or the refusal. */
async function upgrade(
  port: number,
  address: string,
): Promise<
  { ok: true; client: RawClient } | {
    ok: false;
    status: number;
    retryAfter: string | undefined;
    body: string;
  }
> {
  const client = await RawClient.connect(port);
  await client.write(
    upgradeRequest(port, ["Sec-WebSocket-Protocol: xmpp", `X-Forwarded-For: ${address}`]),
  );
  const response = await client.readResponse();
  if (response.status === 101) return { ok: true, client };
  client.close();
  const retryAfter = response.headers.find(([name]) => name === "retry-after")?.[1];
  return { ok: false, status: response.status, retryAfter, body: response.body };
}

/** The refusal of an upgrade that must be refused. */
async function refused(
  port: number,
  address: string,
): Promise<{ status: number; retryAfter: string | undefined; body: string }> {
  const result = await upgrade(port, address);
  if (result.ok) {
    result.client.close();
    throw new Error(`upgrade from ${address} accepted, expected a refusal`);
  }
  return result;
}

async function admitted(port: number, address: string): Promise<RawClient> {
  const result = await upgrade(port, address);
  if (!result.ok) throw new Error(`refused: ${result.status} ${result.body}`);
  return result.client;
}

/** Sends `<open/>` and reads the answer up to the features. */
async function openStream(client: RawClient): Promise<string> {
  await client.writeFrame(0x1, OPEN);
  await client.readText(); // <open/>
  return await client.readText(); // <features/>
}

async function embedded(
  layer: Layer,
  options: Pick<ServeXmppOptions, "admission">,
  run: (xmpp: XmppServer, password: string) => Promise<void>,
): Promise<void> {
  const { accounts, demo } = await loadAccounts({ demoUsers: ["alice"] });
  const app = embeddedServer({ accounts });
  const xmpp = serveXmpp({
    hostname: "127.0.0.1",
    port: 0,
    session: { domains: ["localhost"] },
    application: app,
    websocketLayer: layer,
    trustedProxies: ["127.0.0.1"],
    secure: true, // TLS ends at the (trusted) proxy: PLAIN is allowed
    ...options,
  });
  try {
    await run(xmpp, demo[0]!.password);
  } finally {
    await xmpp.shutdown();
    app.stop();
  }
}

for (const layer of ["native", "strict"] as const) {
  Deno.test(`admission (${layer}): one address holding its maximum of unauthenticated connections gets 503 + Retry-After; a real login from another address succeeds (finding 2)`, async () => {
    await embedded(
      layer,
      { admission: { maxUnauthenticatedPerAddress: 5 } },
      async (xmpp, password) => {
        const port = xmpp.addr.port;
        const held: RawClient[] = [];
        try {
          // The attacker's connections each send <open/> and wait (the lockout of finding 2).
          for (let i = 0; i < 5; i++) {
            const client = await admitted(port, "203.0.113.9");
            held.push(client);
            assertMatch(await openStream(client), /<mechanisms/);
          }
          const refusal = await refused(port, "203.0.113.9");
          assertEquals(refusal.status, 503);
          assertEquals(refusal.retryAfter, "5");
          assertMatch(refusal.body, /unauthenticated/);
          // Meanwhile a real user from another address logs in and binds.
          const user = await admitted(port, "198.51.100.20");
          await openStream(user);
          await user.writeFrame(
            0x1,
            `<auth xmlns='${SASL}' mechanism='PLAIN'>${btoa(`\0alice\0${password}`)}</auth>`,
          );
          assertMatch(await user.readText(), /<success/);
          await openStream(user);
          await user.writeFrame(0x1, BIND);
          assertMatch(await user.readText(), /type='result'/);
          user.close();
          // One of the attacker's connections ends: its place is free again.
          held.pop()!.close();
          let again: RawClient | undefined;
          for (let i = 0; i < 50 && again === undefined; i++) {
            await new Promise((resolve) => setTimeout(resolve, 20)); // until the server saw the end
            const result = await upgrade(port, "203.0.113.9");
            if (result.ok) again = result.client;
          }
          assert(again !== undefined);
          held.push(again!);
          const stats = xmpp.endpointStats().admission;
          assert(stats.refused.unauthenticated >= 1, JSON.stringify(stats));
        } finally {
          for (const client of held) client.close();
        }
      },
    );
  });
}

Deno.test("admission: an authenticated connection no longer counts as unauthenticated", async () => {
  await embedded(
    "native",
    { admission: { maxUnauthenticatedPerAddress: 1 } },
    async (xmpp, password) => {
      const port = xmpp.addr.port;
      const first = await admitted(port, "192.0.2.5");
      assertEquals((await refused(port, "192.0.2.5")).status, 503);
      await openStream(first);
      await first.writeFrame(
        0x1,
        `<auth xmlns='${SASL}' mechanism='PLAIN'>${btoa(`\0alice\0${password}`)}</auth>`,
      );
      assertMatch(await first.readText(), /<success/);
      const second = await admitted(port, "192.0.2.5");
      first.close();
      second.close();
    },
  );
});

Deno.test("admission: connections in total, per address, and new per address per second", async () => {
  await embedded("native", { admission: { maxConnections: 3, maxPerAddress: 2 } }, async (xmpp) => {
    const port = xmpp.addr.port;
    const a = await admitted(port, "192.0.2.1");
    const b = await admitted(port, "192.0.2.1");
    const perAddress = await refused(port, "192.0.2.1");
    assert(perAddress.status === 503 && /per-address/.test(perAddress.body));
    const c = await admitted(port, "192.0.2.2");
    const total = await refused(port, "192.0.2.3");
    assert(total.status === 503 && /total/.test(total.body));
    assertEquals(total.retryAfter, "5");
    for (const client of [a, b, c]) client.close();
  });
  await embedded("strict", { admission: { newPerSecond: 1, newBurst: 2 } }, async (xmpp) => {
    const port = xmpp.addr.port;
    const a = await admitted(port, "192.0.2.1");
    const b = await admitted(port, "192.0.2.1");
    const rate = await refused(port, "192.0.2.1");
    assert(rate.status === 503 && /rate/.test(rate.body));
    assertEquals(rate.retryAfter, "1");
    const other = await admitted(port, "192.0.2.2"); // another address has its own bucket
    for (const client of [a, b, other]) client.close();
    assertEquals(xmpp.endpointStats().admission.refused.rate, 1);
  });
});

Deno.test("admission: a connection that does not authenticate within preAuthTimeoutMs ends with connection-timeout; one that did is not ended", async () => {
  await embedded("native", { admission: { preAuthTimeoutMs: 300 } }, async (xmpp, password) => {
    const port = xmpp.addr.port;
    const user = await admitted(port, "192.0.2.7");
    await openStream(user);
    await user.writeFrame(
      0x1,
      `<auth xmlns='${SASL}' mechanism='PLAIN'>${btoa(`\0alice\0${password}`)}</auth>`,
    );
    assertMatch(await user.readText(), /<success/);
    const idle = await admitted(port, "192.0.2.8");
    await openStream(idle);
    assertMatch(await idle.readText(), /<connection-timeout/);
    assertMatch(await idle.readText(), /<close/);
    // The authenticated one outlived the deadline: it restarts and binds.
    await openStream(user);
    await user.writeFrame(0x1, BIND);
    assertMatch(await user.readText(), /type='result'/);
    assertEquals(xmpp.endpointStats().admission.preAuthTimeouts, 1);
    user.close();
    idle.close();
  });
});

Deno.test("admission on the gateway: caps before the upgrade (it had none), the pre-auth deadline, and /metrics", async () => {
  // An upstream that accepts and says nothing: no connection here gets as far as logging in.
  const upstream = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of upstream) accepted.push(conn);
  })();
  const gateway = serveGateway({
    hostname: "127.0.0.1",
    port: 0,
    domains: ["localhost"],
    upstream: { hostname: "127.0.0.1", port: (upstream.addr as Deno.NetAddr).port },
    trustedProxies: ["127.0.0.1"],
    admission: { maxUnauthenticatedPerAddress: 2, maxConnections: 3, preAuthTimeoutMs: 300 },
    log: () => {},
  });
  const clients: RawClient[] = [];
  try {
    const port = gateway.addr.port;
    clients.push(await admitted(port, "203.0.113.1"), await admitted(port, "203.0.113.1"));
    const perAddress = await refused(port, "203.0.113.1");
    assert(perAddress.status === 503 && perAddress.retryAfter === "5");
    clients.push(await admitted(port, "203.0.113.2"));
    const total = await refused(port, "203.0.113.3");
    assert(total.status === 503 && /total/.test(total.body));
    // Nobody authenticates (the upstream never answers their <open/>): the deadline ends them
    // all with connection-timeout (and the upstream connection is closed without a footer).
    for (const client of clients) await client.writeFrame(0x1, OPEN);
    for (const client of clients) {
      const texts: string[] = [];
      for (let i = 0; i < 5 && !/connection-timeout/.test(texts.join("")); i++) {
        const frame = await client.readFrame();
        if (frame === null || frame.opcode !== 0x1) break;
        texts.push(new TextDecoder().decode(frame.payload));
      }
      assertMatch(texts.join(""), /<connection-timeout/);
      assertMatch(await client.readText(), /<close/);
    }
    const metrics = gateway.metrics.render();
    assertMatch(metrics, /xmpp_ws_admission_refused_total\{reason="unauthenticated"\} 1/);
    assertMatch(metrics, /xmpp_ws_admission_refused_total\{reason="total"\} 1/);
    assertMatch(metrics, /xmpp_ws_preauth_timeouts_total 3/);
  } finally {
    for (const client of clients) client.close();
    await gateway.shutdown();
    upstream.close();
    await accepting.catch(() => {});
    for (const conn of accepted) {
      try {
        conn.close();
      } catch {
        // Closed by the gateway already.
      }
    }
  }
});

Deno.test("slowloris (strict layer): the header timeout ends a silent connection, a partial request line, and headers trickled under the timeout each (finding 3)", async () => {
  const xmpp = serveXmpp({
    hostname: "127.0.0.1",
    port: 0,
    session: { domains: ["localhost"] },
    websocketLayer: "strict",
    strictLayer: { headerTimeoutMs: 300 },
  });
  try {
    const port = xmpp.addr.port;
    // A TCP connection that never sends a byte.
    const silent = await RawClient.connect(port);
    assert(await silent.readEnd());
    silent.close();
    // A request line that never ends.
    const partial = await RawClient.connect(port);
    await partial.write("GET /xmpp-websocket HT");
    assert(await partial.readEnd());
    partial.close();
    // Header lines trickled every 100 ms, each well within the timeout: the timeout bounds the
    // whole head, so the connection ends before the head is complete (30 lines would take 3 s).
    const trickle = await RawClient.connect(port);
    let ended = false;
    const end = trickle.readEnd().then(() => ended = true);
    await trickle.write("GET /xmpp-websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    let lines = 0;
    for (; lines < 30 && !ended; lines++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      try {
        await trickle.write(`X-Trickle-${lines}: ${"a".repeat(10)}\r\n`);
      } catch {
        break; // the server closed the connection: the write failed
      }
    }
    await end;
    assert(lines < 30, "the connection outlived the trickled head");
    trickle.close();
  } finally {
    await xmpp.shutdown();
  }
});

Deno.test("admission on the Node adapter: the same decision before the upgrade (503 + Retry-After)", async () => {
  const { serveXmppNode } = await import("../../node_adapter/serve.ts");
  const xmpp = await serveXmppNode({
    hostname: "127.0.0.1",
    port: 0,
    session: { domains: ["localhost"] },
    trustedProxies: ["127.0.0.1"],
    admission: { maxUnauthenticatedPerAddress: 1 },
  });
  try {
    const port = xmpp.addr.port;
    const first = await admitted(port, "203.0.113.4");
    const refusal = await refused(port, "203.0.113.4");
    assertEquals([refusal.status, refusal.retryAfter], [503, "5"]);
    const other = await admitted(port, "203.0.113.5");
    assertEquals(xmpp.endpointStats().admission.refused.unauthenticated, 1);
    first.close();
    other.close();
  } finally {
    await xmpp.shutdown();
  }
});
