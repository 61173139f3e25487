/**
 * The gateway on Node (`serveGatewayNode`: `ws` + `connectTcpNode`, under Deno's Node
 * compatibility) in front of a real Prosody started by the test (tests/_support/prosody.ts):
 * plain TCP, STARTTLS with the CA option (Node's `tls.connect({ socket })`), direct TLS, an
 * unreachable upstream, and the plain HTTP resources. Needs `scripts/install_test_deps.sh`.
 */

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { childElement, element, NS, serialize, textOf } from "../../core/mod.ts";
import { createLogger } from "../../deno/mod.ts";
import { type GatewayNodeServeOptions, serveGatewayNode } from "../../node_adapter/mod.ts";
import { type ProsodyOptions, startProsody } from "../_support/prosody.ts";
import { WsTestClient } from "../_support/ws_client.ts";

const ACCOUNTS = [{ username: "alice", password: "alice-secret" }];
const quiet = createLogger("error", "text");

async function withGateway(
  prosodyOptions: ProsodyOptions,
  gatewayOptions: (
    prosody: { c2sPort: number; directTlsPort: number | undefined; caCert: string | undefined },
  ) => Partial<GatewayNodeServeOptions>,
  body: (url: string, base: string) => Promise<void>,
): Promise<void> {
  const prosody = await startProsody({ accounts: ACCOUNTS, ...prosodyOptions });
  try {
    const gateway = await serveGatewayNode({
      hostname: "127.0.0.1",
      port: 0,
      domains: ["localhost"],
      upstream: { hostname: "127.0.0.1", port: prosody.c2sPort },
      upstreamTls: "off",
      log: quiet,
      ...gatewayOptions(prosody),
    });
    try {
      const base = `http://127.0.0.1:${gateway.addr.port}`;
      await body(`ws://127.0.0.1:${gateway.addr.port}/xmpp-websocket`, base);
    } finally {
      await gateway.shutdown();
    }
  } finally {
    await prosody.stop();
  }
}

async function loginChatClose(url: string, mechanism: "PLAIN" | "SCRAM-SHA-1"): Promise<void> {
  const client = await WsTestClient.connect(url);
  assert(!serialize(client.features!).includes(NS.TLS), "#43: no STARTTLS toward the WebSocket");
  await client.login("alice", "alice-secret", mechanism);
  const jid = await client.bind("node");
  assertEquals(jid, "alice@localhost/node");
  client.send(
    element("message", NS.CLIENT, { to: jid, type: "chat", id: "m1" }, [
      element("body", NS.CLIENT, {}, ["hello <self> & co"]),
    ]),
  );
  const echoed = await client.next((e) => e.name === "message");
  assertEquals(textOf(childElement(echoed, "body", NS.CLIENT)!), "hello <self> & co");
  await client.close();
  assertEquals(client.terminal, { type: "stream-closed", initiator: "local" });
  assertEquals(client.closeCode, 1000);
}

Deno.test("node gateway: PLAIN login, bind, message to self and clean close over plain TCP", async () => {
  await withGateway({}, () => ({}), (url) => loginChatClose(url, "PLAIN"));
});

Deno.test("node gateway: Prosody requiring STARTTLS: Node's tls.connect({ socket }) with the CA option", async () => {
  await withGateway(
    { starttls: "required" },
    (prosody) => ({ upstreamTls: "required", upstreamCaCerts: [prosody.caCert!] }),
    (url) => loginChatClose(url, "SCRAM-SHA-1"),
  );
});

Deno.test("node gateway: XEP-0368 direct TLS to the upstream", async () => {
  await withGateway(
    { starttls: "optional", directTls: true },
    (prosody) => ({
      upstream: { hostname: "127.0.0.1", port: prosody.directTlsPort! },
      upstreamTls: "direct",
      upstreamCaCerts: [prosody.caCert!],
    }),
    (url) => loginChatClose(url, "PLAIN"),
  );
});

Deno.test("node gateway: XEP-0156 host-meta, /healthz and /metrics", async () => {
  await withGateway({}, () => ({}), async (url, base) => {
    const client = await WsTestClient.connect(url);
    await client.close();
    const xrd = await fetch(`${base}/.well-known/host-meta`);
    assertEquals(xrd.headers.get("access-control-allow-origin"), "*");
    assertStringIncludes(await xrd.text(), `href='${url}'`);
    assertEquals(await (await fetch(`${base}/healthz`)).json(), {
      ready: true,
      status: "ok",
      draining: false,
      upstream: "reachable",
    });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assertStringIncludes(metrics, "xmpp_ws_connections_total 1");
    assertStringIncludes(metrics, 'xmpp_ws_elements_total{direction="to_server"}');
  });
});

Deno.test("node gateway: §2.3 unreachable upstream: <open/>, remote-connection-failed, <close/>", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close(); // nothing listens there now
  const gateway = await serveGatewayNode({
    hostname: "127.0.0.1",
    port: 0,
    domains: ["localhost"],
    upstream: { hostname: "127.0.0.1", port },
    log: quiet,
  });
  try {
    const socket = new WebSocket(`ws://127.0.0.1:${gateway.addr.port}/xmpp-websocket`, ["xmpp"]);
    const messages: string[] = [];
    socket.onmessage = (e) => messages.push(e.data);
    await new Promise((resolve) => socket.onopen = resolve);
    socket.send(`<open xmlns='${NS.FRAMING}' to='localhost' version='1.0'/>`);
    await new Promise((resolve) => socket.onclose = resolve);
    assertEquals(messages.length, 3, messages.join("\n"));
    assertStringIncludes(messages[0]!, "<open ");
    assertStringIncludes(messages[1]!, "<remote-connection-failed");
    assertStringIncludes(messages[2]!, "<close ");
    assertStringIncludes(
      await (await fetch(`http://127.0.0.1:${gateway.addr.port}/metrics`)).text(),
      "xmpp_ws_upstream_connect_failures_total 1",
    );
  } finally {
    await gateway.shutdown();
  }
});
