/**
 * Loopback tests of `deno/serve.ts` on real sockets, with Deno's own `WebSocket` client and a
 * hand-written raw client (for HTTP details and wire frames), sanitizers on. Names start with
 * the rule number of the RFC 7395 digest (§1) where one applies.
 */

import { assert, assertEquals, assertMatch, assertStringIncludes, assertThrows } from "@std/assert";
import { element, NS, serialize } from "../../core/mod.ts";
import { serveXmpp, type ServeXmppOptions, type XmppServer } from "../../deno/mod.ts";
import {
  Client,
  CLOSE,
  closeCodeOf,
  deadline,
  delay,
  OPEN,
  parse,
  RawClient,
  recorder,
  TEST_CERT,
  TEST_KEY,
  upgradeRequest,
} from "../_support/endpoint.ts";

async function withServer(
  options: ServeXmppOptions,
  run: (xmpp: XmppServer, url: string) => Promise<void>,
): Promise<void> {
  const xmpp = serveXmpp({
    hostname: "127.0.0.1",
    port: 0,
    session: { domains: ["localhost"] },
    ...options,
  });
  try {
    await run(xmpp, `ws://127.0.0.1:${xmpp.addr.port}/xmpp-websocket`);
  } finally {
    await deadline(xmpp.shutdown(), "the server to shut down");
  }
}

// ---- open, elements, close ----------------------------------------------------------------

Deno.test("#19 #20 the server answers <open/> with its header, then features in a second message", async () => {
  const app = recorder();
  await withServer({ application: app.application }, async (_xmpp, url) => {
    const client = await Client.open(url);
    assertEquals(client.ws.protocol, "xmpp");
    const { open, features } = await client.openStream();
    assertEquals([open.name, open.ns], ["open", NS.FRAMING]);
    assertEquals(open.attrs.from, "localhost");
    assertEquals(open.attrs.version, "1.0");
    assertEquals(open.attrs["xml:lang"], "en");
    assertMatch(open.attrs.id ?? "", /^[0-9a-f-]{36}$/);
    assertEquals([features.name, features.ns], ["features", NS.STREAMS]);
    const conn = await app.opened.next("onOpened");
    assertEquals(conn.streamId, open.attrs.id);
    assert(conn.canSend());
    assertEquals(conn.secure, false);
    assertMatch(conn.remoteAddr, /^127\.0\.0\.1:\d+$/);
    client.ws.close();
    await client.closeEvent();
  });
});

Deno.test("#12 elements reach the application, and the application's elements reach the client", async () => {
  const app = recorder({
    onElement: (conn, el) => {
      app.elements.push(el);
      conn.send(element("message", NS.CLIENT, { from: "echo@localhost" }, el.children));
    },
  });
  await withServer({ application: app.application }, async (_xmpp, url) => {
    const client = await Client.open(url);
    await client.openStream();
    client.ws.send(
      `<message xmlns='${NS.CLIENT}' to='echo@localhost'><body>hi &amp; bye</body></message>`,
    );
    const received = await app.elements.next("onElement");
    assertEquals([received.name, received.ns, received.attrs.to], [
      "message",
      NS.CLIENT,
      "echo@localhost",
    ]);
    assertEquals(
      await client.next("the echo"),
      `<message xmlns='${NS.CLIENT}' from='echo@localhost'><body>hi &amp; bye</body></message>`,
    );
    client.ws.close();
    await client.closeEvent();
  });
});

Deno.test("application: accept may come later, asynchronously, with features and a given id", async () => {
  const features = element("features", NS.STREAMS, {}, [
    element("mechanisms", NS.SASL, {}, [element("mechanism", NS.SASL, {}, ["PLAIN"])]),
  ]);
  const app = recorder({
    onOpenRequested: async (conn, attributes, restart) => {
      assertEquals([attributes.to, attributes.version, restart], ["localhost", "1.0", false]);
      await delay(50);
      conn.accept({ features, id: "upstream-id-1" });
    },
  });
  await withServer({ application: app.application }, async (_xmpp, url) => {
    const client = await Client.open(url);
    const { open, features: received } = await client.openStream();
    assertEquals(open.attrs.id, "upstream-id-1");
    assertEquals(serialize(received), serialize(features));
    client.ws.close();
    await client.closeEvent();
  });
});

Deno.test("#35 #38 after <success/>, the client's new <open/> is a restart with a fresh stream id", async () => {
  const restarts: boolean[] = [];
  const app = recorder({
    onOpenRequested: (conn, _attributes, restart) => {
      restarts.push(restart);
      conn.accept();
    },
    onElement: (conn) => conn.send(element("success", NS.SASL)),
  });
  await withServer({ application: app.application }, async (_xmpp, url) => {
    const client = await Client.open(url);
    const first = await client.openStream();
    client.ws.send(`<auth xmlns='${NS.SASL}' mechanism='PLAIN'>AGEAYg==</auth>`);
    assertEquals(parse(await client.next("<success/>")).name, "success");
    const second = await client.openStream();
    assert(second.open.attrs.id !== undefined && second.open.attrs.id !== first.open.attrs.id);
    assertEquals(restarts, [false, true]);
    assertEquals((await app.opened.next("onOpened")).streamId, second.open.attrs.id); // now on the new stream
    client.ws.close();
    await client.closeEvent();
  });
});

Deno.test("application: a throwing hook ends the stream with <internal-server-error/>", async () => {
  const app = recorder({
    onElement: () => {
      throw new Error("deliberate failure (expected in this test)");
    },
    onError: (conn) => conn.fail("internal-server-error"),
  });
  await withServer({ application: app.application }, async (_xmpp, url) => {
    const client = await Client.open(url);
    await client.openStream();
    client.ws.send(`<presence xmlns='${NS.CLIENT}'/>`);
    assertStringIncludes(await client.next("the stream error"), "internal-server-error");
    assertEquals(await client.next("<close/>"), CLOSE);
    assertEquals((await client.closeEvent()).code, 1000);
    assertEquals((await app.ended.next("onEnded")).type, "stream-failed");
  });
});

Deno.test("#27 #28 client-initiated close: the server answers <close/>, the client closes the WebSocket", async () => {
  const app = recorder();
  await withServer({ application: app.application }, async (_xmpp, url) => {
    const client = await Client.open(url);
    await client.openStream();
    client.ws.send(CLOSE);
    assertEquals(await client.next("the server's <close/>"), CLOSE);
    assertEquals(await app.ended.next("onEnded"), { type: "stream-closed", initiator: "peer" });
    client.ws.close(1000);
    const event = await client.closeEvent();
    assertEquals([event.code, event.wasClean], [1000, true]);
  });
});

Deno.test("#27 #28 server-initiated close: <close/>, the client answers, the server closes with 1000", async () => {
  const app = recorder();
  await withServer({ application: app.application }, async (_xmpp, url) => {
    const client = await Client.open(url);
    await client.openStream();
    const conn = await app.opened.next("onOpened");
    assert(conn.close());
    assertEquals(await client.next("the server's <close/>"), CLOSE);
    assert(!conn.canSend());
    client.ws.send(CLOSE);
    const event = await client.closeEvent();
    assertEquals([event.code, event.wasClean], [1000, true]);
    assertEquals(await app.ended.next("onEnded"), { type: "stream-closed", initiator: "local" });
    assertEquals(conn.send(element("presence", NS.CLIENT)), false); // ended: a no-op
  });
});

Deno.test("#29 a client that never answers <close/> is disconnected after closeTimeoutMs", async () => {
  const app = recorder();
  await withServer({
    application: app.application,
    session: { domains: ["localhost"], closeTimeoutMs: 200 },
  }, async (_xmpp, url) => {
    const client = await Client.open(url);
    await client.openStream();
    (await app.opened.next("onOpened")).close();
    assertEquals(await client.next("the server's <close/>"), CLOSE);
    assertEquals((await client.closeEvent()).code, 1000);
    assertEquals((await app.ended.next("onEnded")).type, "stream-failed");
  });
});

// ---- handshake ----------------------------------------------------------------------------

Deno.test("#3 an upgrade without the xmpp subprotocol gets 400 with an explanation, and no upgrade", async () => {
  await withServer({}, async (xmpp) => {
    for (
      const offered of [[], ["Sec-WebSocket-Protocol: chat"], ["Sec-WebSocket-Protocol: XMPP"]]
    ) {
      const raw = await RawClient.connect(xmpp.addr.port);
      try {
        await raw.write(upgradeRequest(xmpp.addr.port, offered));
        const response = await raw.readResponse();
        assertEquals(response.status, 400);
        assertStringIncludes(response.body, "subprotocol 'xmpp'");
        assertEquals(response.headers.filter(([name]) => name === "sec-websocket-protocol"), []);
        assertEquals(response.headers.filter(([name]) => name === "upgrade"), []);
      } finally {
        raw.close();
      }
    }
    assertEquals(xmpp.connections.size, 0);
  });
});

Deno.test("#3 Deno's WebSocket client offering no subprotocol cannot connect", async () => {
  await withServer({}, async (_xmpp, url) => {
    const client = new Client(url, []);
    const error = await deadline(
      client.opened.then(() => undefined, (e: Error) => e),
      "the handshake to fail",
    );
    assert(error instanceof Error);
    await client.closeEvent();
  });
});

Deno.test("#2 'chat, xmpp' (one or two header lines) is answered with exactly one Sec-WebSocket-Protocol: xmpp", async () => {
  await withServer({}, async (xmpp, url) => {
    for (
      const offered of [["Sec-WebSocket-Protocol: chat, xmpp"], [
        "Sec-WebSocket-Protocol: chat",
        "Sec-WebSocket-Protocol:  xmpp ",
      ]]
    ) {
      const raw = await RawClient.connect(xmpp.addr.port);
      try {
        await raw.write(upgradeRequest(xmpp.addr.port, offered));
        const response = await raw.readResponse();
        assertEquals(response.status, 101);
        assertEquals(response.headers.filter(([name]) => name === "sec-websocket-protocol"), [[
          "sec-websocket-protocol",
          "xmpp",
        ]]);
      } finally {
        raw.close();
      }
    }
    const client = await Client.open(url, ["chat", "xmpp"]);
    assertEquals(client.ws.protocol, "xmpp");
    client.ws.close();
    await client.closeEvent();
  });
});

Deno.test("§5.1 an Origin outside allowedOrigins gets 403; a listed one is upgraded", async () => {
  const options = { allowedOrigins: ["https://Chat.Example.org/"], allowMissingOrigin: false };
  await withServer(options, async (xmpp) => {
    const cases: [string[], number][] = [
      [["Origin: https://evil.example"], 403],
      [[], 403],
      [["Origin: https://chat.example.org"], 101],
    ];
    for (const [origin, status] of cases) {
      const raw = await RawClient.connect(xmpp.addr.port);
      try {
        await raw.write(
          upgradeRequest(xmpp.addr.port, [...origin, "Sec-WebSocket-Protocol: xmpp"]),
        );
        const response = await raw.readResponse();
        assertEquals(response.status, status, origin.join());
        if (status === 403) assertStringIncludes(response.body, "Forbidden");
      } finally {
        raw.close();
      }
    }
  });
});

Deno.test("a plain GET on the endpoint gets the diagnostic page; other paths get 404 or the fallback handler", async () => {
  await withServer({}, async (xmpp) => {
    const base = `http://127.0.0.1:${xmpp.addr.port}`;
    const page = await fetch(`${base}/xmpp-websocket`);
    assertEquals(page.status, 200);
    assertEquals(page.headers.get("content-type"), "text/html; charset=utf-8");
    assertStringIncludes(await page.text(), "<code>xmpp</code>");
    const post = await fetch(`${base}/xmpp-websocket`, { method: "POST", body: "x" });
    assertEquals([post.status, post.headers.get("allow")], [405, "GET, HEAD"]);
    await post.body?.cancel();
    const missing = await fetch(`${base}/elsewhere`);
    assertEquals([missing.status, await missing.text()], [404, "Not Found\n"]);
  });
  await withServer({
    handler: (request) => new Response(`fallback ${new URL(request.url).pathname}`),
  }, async (xmpp) => {
    const response = await fetch(`http://127.0.0.1:${xmpp.addr.port}/healthz`);
    assertEquals(await response.text(), "fallback /healthz");
  });
});

Deno.test("cert and key serve wss, and the sessions are secure", async () => {
  const app = recorder();
  await withServer(
    { application: app.application, cert: TEST_CERT, key: TEST_KEY },
    async (xmpp) => {
      const raw = await RawClient.connectTls(xmpp.addr.port, TEST_CERT);
      try {
        await raw.write(upgradeRequest(xmpp.addr.port, ["Sec-WebSocket-Protocol: xmpp"]));
        assertEquals((await raw.readResponse()).status, 101);
        await raw.writeFrame(0x1, new TextEncoder().encode(OPEN));
        const open = await raw.readFrame();
        assertEquals(open?.opcode, 0x1);
        assertEquals(parse(new TextDecoder().decode(open!.payload)).name, "open");
        assertEquals((await app.opened.next("onOpened")).secure, true);
      } finally {
        raw.close();
      }
      assertEquals((await app.ended.next("onEnded")).type, "stream-failed");
    },
  );
});

Deno.test("serveXmpp rejects invalid options with RangeError", () => {
  assertThrows(() => serveXmpp({ pingIntervalMs: 60_000 }), RangeError, "pingIntervalMs");
  assertThrows(() => serveXmpp({ cert: "x" }), RangeError, "'cert' and 'key'");
  assertThrows(() => serveXmpp({ allowedOrigins: ["not an origin"] }), RangeError, "origin");
  assertThrows(() => serveXmpp({ session: { openTimeoutMs: -1 } }), RangeError, "openTimeoutMs");
});

// ---- the transport's rules ----------------------------------------------------------------

Deno.test("#17 the server says nothing first (for the digest's 2 s, ended by its own open timeout)", async () => {
  // The digest's test: open the WebSocket, wait 2 s, the server sends no message. The wait is
  // the server's own: with openTimeoutMs at 2 s it closes (1008) when that time is up, and
  // everything it sent before its Close frame is in `messages`. No sleep stands for "nothing
  // came"; the close event says the 2 s are over.
  await withServer({ session: { openTimeoutMs: 2_000 } }, async (_xmpp, url) => {
    const client = await Client.open(url);
    const event = await client.closeEvent();
    assertEquals(event.code, 1008);
    assertEquals(client.messages.items, []);
  });
});

Deno.test("#17 a client that never sends <open/> is closed with 1008 after openTimeoutMs", async () => {
  await withServer({ session: { openTimeoutMs: 200 } }, async (_xmpp, url) => {
    const client = await Client.open(url);
    const event = await client.closeEvent();
    assertEquals(event.code, 1008);
    assertEquals(client.messages.items, []);
  });
});

Deno.test("#6 a binary message closes with 1003", async () => {
  const app = recorder();
  await withServer({ application: app.application }, async (_xmpp, url) => {
    const client = await Client.open(url);
    await client.openStream();
    client.ws.send(new TextEncoder().encode(`<presence xmlns='${NS.CLIENT}'/>`));
    assertEquals((await client.closeEvent()).code, 1003);
    const notice = await app.ended.next("onEnded");
    assertEquals([notice.type, notice.type === "stream-failed" && notice.condition], [
      "stream-failed",
      "unsupported-stanza-type",
    ]);
    assertEquals(app.elements.items, []);
  });
});

Deno.test("#7 invalid UTF-8 in a text frame: Deno drops the connection without a Close frame (no 1007)", async () => {
  const app = recorder();
  await withServer({ application: app.application }, async (xmpp) => {
    const raw = await RawClient.connect(xmpp.addr.port);
    try {
      await raw.write(upgradeRequest(xmpp.addr.port, ["Sec-WebSocket-Protocol: xmpp"]));
      assertEquals((await raw.readResponse()).status, 101);
      await raw.writeFrame(0x1, new Uint8Array([0xc3, 0x28]));
      // RFC 6455 §8.1 asks for 1007; Deno's server fails the connection with no Close frame.
      const frame = await raw.readFrame();
      assertEquals(
        frame,
        null,
        `expected the connection to drop, got close code ${closeCodeOf(frame)}`,
      );
    } finally {
      raw.close();
    }
    const notice = await app.ended.next("onEnded");
    assertEquals([notice.type, notice.type === "stream-failed" && notice.reason], [
      "stream-failed",
      "transport-lost",
    ]);
  });
});

Deno.test("oversized message: a <policy-violation/> stream error, <close/>, then close code 1009", async () => {
  await withServer(
    { session: { domains: ["localhost"], limits: { maxBytes: 10_000 } } },
    async (_xmpp, url) => {
      const client = await Client.open(url);
      await client.openStream();
      client.ws.send(`<message xmlns='${NS.CLIENT}'><body>${"x".repeat(10_000)}</body></message>`);
      const error = parse(await client.next("the stream error"));
      assertEquals([error.name, error.ns], ["error", NS.STREAMS]);
      assert(
        error.children.some((child) =>
          typeof child !== "string" && child.name === "policy-violation"
        ),
      );
      assertEquals(await client.next("<close/>"), CLOSE);
      assertEquals((await client.closeEvent()).code, 1009);
    },
  );
});

Deno.test("#41 keepalive: a Ping after pingIntervalMs of client silence, Pong to the client's Ping, 1001 when no Pong comes back", async () => {
  const app = recorder();
  await withServer({ application: app.application, pingIntervalMs: 150 }, async (xmpp) => {
    const raw = await RawClient.connect(xmpp.addr.port);
    try {
      // Ordered by timers, not read on a clock: a 100 ms marker armed before the server (in this
      // process) can arm its 150 ms ping timer has fired by the time the Ping arrives.
      let quietPassed = false;
      const marker = setTimeout(() => quietPassed = true, 100);
      await raw.write(upgradeRequest(xmpp.addr.port, ["Sec-WebSocket-Protocol: xmpp"]));
      assertEquals((await raw.readResponse()).status, 101);
      assertEquals((await raw.readFrame())?.opcode, 0x9);
      clearTimeout(marker);
      assert(quietPassed, "the first Ping came before pingIntervalMs of silence");
      await raw.writeFrame(0xa, new Uint8Array()); // Pong: the connection stays up
      await raw.writeFrame(0x9, new TextEncoder().encode("abc")); // the client's own Ping
      const pong = await raw.readFrame();
      assertEquals([pong?.opcode, new TextDecoder().decode(pong?.payload)], [0xa, "abc"]);
      assertEquals((await raw.readFrame())?.opcode, 0x9);
      const close = await raw.readFrame(); // no Pong this time
      assertEquals(closeCodeOf(close), 1001);
    } finally {
      raw.close();
    }
    assertEquals((await app.ended.next("onEnded")).type, "stream-failed");
  });
});

Deno.test("shutdown: aborting the signal ends live streams with <system-shutdown/> and stops the server", async () => {
  const controller = new AbortController();
  const xmpp = serveXmpp({ hostname: "127.0.0.1", port: 0, signal: controller.signal });
  const client = await Client.open(`ws://127.0.0.1:${xmpp.addr.port}/xmpp-websocket`);
  await client.openStream();
  controller.abort();
  assertStringIncludes(await client.next("the stream error"), "system-shutdown");
  assertEquals(await client.next("<close/>"), CLOSE);
  assertEquals((await client.closeEvent()).code, 1000);
  await deadline(xmpp.finished, "the server to finish");
  assertEquals(xmpp.connections.size, 0);
});
