/**
 * Gateway operations that need no XMPP server: the PROXY protocol header toward the upstream,
 * and client addresses taken from X-Forwarded-For only when the peer is a trusted proxy.
 */

import { assert, assertEquals } from "@std/assert";
import { NS } from "../../core/mod.ts";
import { serveGateway } from "../../deno/gateway.ts";
import { createLogger } from "../../deno/mod.ts";

/** Opens a WebSocket to the gateway, sends <open/>, and returns the first bytes upstream got. */
async function firstUpstreamBytes(
  proxyProtocol: "v1" | "v2",
  trustedProxies: string[],
  forwardedFor: string | undefined,
): Promise<Uint8Array> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const gateway = serveGateway({
    hostname: "127.0.0.1",
    port: 0,
    domains: ["localhost"],
    upstream: { hostname: "127.0.0.1", port: (listener.addr as Deno.NetAddr).port },
    upstreamTls: "off",
    proxyProtocol,
    trustedProxies,
    log: createLogger("error", "text"),
  });
  try {
    // deno-lint-ignore no-explicit-any
    const options: any = {
      protocols: ["xmpp"],
      headers: forwardedFor ? { "x-forwarded-for": forwardedFor } : {},
    };
    const socket = new WebSocket(`ws://127.0.0.1:${gateway.addr.port}/xmpp-websocket`, options);
    await new Promise((resolve) => socket.onopen = resolve);
    socket.send(`<open xmlns='${NS.FRAMING}' to='localhost' version='1.0'/>`);
    const conn = await listener.accept();
    let bytes = new Uint8Array(0);
    const buffer = new Uint8Array(4096);
    while (!new TextDecoder().decode(bytes).includes("<stream:stream")) {
      const n = await conn.read(buffer);
      if (n === null) break;
      bytes = new Uint8Array([...bytes, ...buffer.subarray(0, n)]);
    }
    conn.close();
    await new Promise((resolve) => socket.onclose = resolve);
    return bytes;
  } finally {
    listener.close();
    await gateway.shutdown();
  }
}

Deno.test("PROXY v1: the upstream sees the client address; X-Forwarded-For is believed only from a trusted proxy", async () => {
  const trusted = new TextDecoder().decode(
    await firstUpstreamBytes("v1", ["127.0.0.1"], "198.51.100.1, 203.0.113.9"),
  );
  const firstLine = trusted.slice(0, trusted.indexOf("\r\n"));
  assert(/^PROXY TCP4 203\.0\.113\.9 127\.0\.0\.1 0 \d+$/.test(firstLine), firstLine);
  assert(trusted.slice(firstLine.length + 2).startsWith("<?xml version='1.0'?><stream:stream"));

  const untrusted = new TextDecoder().decode(await firstUpstreamBytes("v1", [], "203.0.113.9"));
  assert(
    /^PROXY TCP4 127\.0\.0\.1 127\.0\.0\.1 \d+ \d+\r\n/.test(untrusted),
    untrusted.slice(0, 60),
  );
});

Deno.test("PROXY v2: binary header with the client's IPv4 address before the first XMPP byte", async () => {
  const bytes = await firstUpstreamBytes("v2", ["127.0.0.1"], "203.0.113.9");
  assertEquals([...bytes.subarray(0, 12)], [
    0x0d,
    0x0a,
    0x0d,
    0x0a,
    0x00,
    0x0d,
    0x0a,
    0x51,
    0x55,
    0x49,
    0x54,
    0x0a,
  ]);
  assertEquals(bytes[12], 0x21); // version 2, PROXY
  assertEquals(bytes[13], 0x11); // TCP over IPv4
  assertEquals((bytes[14]! << 8) | bytes[15]!, 12);
  assertEquals([...bytes.subarray(16, 20)], [203, 0, 113, 9]);
  assert(new TextDecoder().decode(bytes.subarray(28)).startsWith("<?xml"));
});

Deno.test("§2.12 backpressure: an upstream that stops reading ends the session with resource-constraint (bounded queue)", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const gateway = serveGateway({
    hostname: "127.0.0.1",
    port: 0,
    domains: ["localhost"],
    upstream: { hostname: "127.0.0.1", port: (listener.addr as Deno.NetAddr).port },
    upstreamTls: "off",
    log: createLogger("error", "text"),
  });
  let upstream: Deno.Conn | undefined;
  try {
    const socket = new WebSocket(`ws://127.0.0.1:${gateway.addr.port}/xmpp-websocket`, ["xmpp"]);
    const messages: string[] = [];
    socket.onmessage = (e) => messages.push(e.data);
    const closed = new Promise<number>((resolve) => socket.onclose = (e) => resolve(e.code));
    await new Promise((resolve) => socket.onopen = resolve);
    socket.send(`<open xmlns='${NS.FRAMING}' to='localhost' version='1.0'/>`);
    upstream = await listener.accept();
    // A server that never reads: it answers the header, accepts the login blindly (the gateway
    // relays nothing but authentication before SASL success), and then stops reading for good.
    const header = (id: string) =>
      "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='" +
      id + "' version='1.0'>";
    const write = (text: string) => upstream!.write(new TextEncoder().encode(text));
    await write(header("s") + "<stream:features/>");
    while (messages.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    socket.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>");
    await write("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    while (messages.length < 3) await new Promise((resolve) => setTimeout(resolve, 10));
    socket.send(`<open xmlns='${NS.FRAMING}' to='localhost' version='1.0'/>`);
    await write(header("s2") + "<stream:features/>");
    while (messages.length < 5) await new Promise((resolve) => setTimeout(resolve, 10));
    const body = "x".repeat(200_000);
    let code: number | undefined;
    closed.then((c) => code = c);
    for (let i = 0; i < 200 && code === undefined; i++) {
      socket.send(`<message xmlns='jabber:client' to='a@localhost'><body>${body}</body></message>`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await closed;
    assert(
      messages.some((m) => m.includes("<resource-constraint")),
      messages.map((m) => m.slice(0, 80)).join("\n"),
    );
  } finally {
    upstream?.close();
    listener.close();
    await gateway.shutdown();
  }
});
