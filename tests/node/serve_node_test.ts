/**
 * Loopback tests of `node_adapter/serve.ts` run by `deno test`: Deno's Node compatibility runs
 * `node:http`, `node:https` and the `ws` package, and Deno's own WebSocket client (or a raw
 * client writing HTTP and frames by hand) connects. Sanitizers are on. The same adapter under
 * real Node 20 is tested by `real_node_test.ts`. Names start with the rule number of the RFC 7395
 * digest where one applies.
 */

import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { element, NS, serialize, type XmlElement } from "../../core/mod.ts";
import {
  type AttachedSocket,
  serveXmppNode,
  type ServeXmppNodeOptions,
  type XmppNodeServer,
} from "../../node_adapter/mod.ts";
import {
  Client,
  CLOSE,
  closeCodeOf,
  deadline,
  OPEN,
  parse,
  RawClient,
  recorder,
  TEST_CERT,
  TEST_KEY,
  upgradeRequest,
} from "../_support/endpoint.ts";

async function withServer(
  options: ServeXmppNodeOptions,
  run: (xmpp: XmppNodeServer, url: string) => Promise<void>,
): Promise<void> {
  const xmpp = await serveXmppNode({
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

function hasChild(el: XmlElement, name: string): boolean {
  return el.children.some((child) => typeof child !== "string" && child.name === name);
}

// ---- open, elements, close ----------------------------------------------------------------

Deno.test("node: #19 #20 <open/> is answered with the header, then features in a second message", async () => {
  const app = recorder();
  await withServer({ application: app.application }, async (_xmpp, url) => {
    const client = await Client.open(url);
    assertEquals(client.ws.protocol, "xmpp");
    const { open, features } = await client.openStream();
    assertEquals([open.name, open.ns], ["open", NS.FRAMING]);
    assertEquals([open.attrs.from, open.attrs.version], ["localhost", "1.0"]);
    assertEquals([features.name, features.ns], ["features", NS.STREAMS]);
    const conn = await app.opened.next("onOpened");
    assertEquals(conn.streamId, open.attrs.id);
    assert(/^127\.0\.0\.1:\d+$/.test(conn.remoteAddr), conn.remoteAddr);
    assertEquals(conn.secure, false);
    client.ws.send(CLOSE);
    assertEquals(await client.next("<close/>"), CLOSE);
    client.ws.close(1000);
    await client.closeEvent();
  });
});

Deno.test("node: #12 an application echoes elements; features come from accept()", async () => {
  const features = element("features", NS.STREAMS, {}, [element("bind", NS.BIND)]);
  const app = recorder({
    onOpenRequested: (conn) => conn.accept({ features }),
    onElement: (conn, el) => conn.send(el),
  });
  await withServer({ application: app.application }, async (xmpp, url) => {
    const client = await Client.open(url);
    const opened = await client.openStream();
    assertEquals(serialize(opened.features), serialize(parse(serialize(features))));
    const message =
      `<message xmlns='${NS.CLIENT}' to='a@localhost'><body>h\u00e9 &amp; &lt;</body></message>`;
    client.ws.send(message);
    assertEquals(serialize(parse(await client.next("the echo"))), serialize(parse(message)));
    assertEquals(xmpp.connections.size, 1);
    assertEquals(xmpp.liveCount, 1);
    client.ws.send(CLOSE);
    assertEquals(await client.next("<close/>"), CLOSE);
    client.ws.close(1000);
    await client.closeEvent();
  });
});

Deno.test("node: #27 #28 client-initiated close: <close/> answered, the client closes, onEnded once", async () => {
  const app = recorder();
  await withServer({ application: app.application }, async (xmpp, url) => {
    const client = await Client.open(url);
    await client.openStream();
    client.ws.send(CLOSE);
    assertEquals(await client.next("<close/>"), CLOSE);
    client.ws.close(1000);
    assertEquals((await client.closeEvent()).code, 1000);
    assertEquals(await app.ended.next("onEnded"), { type: "stream-closed", initiator: "peer" });
    await deadline(
      (async () => {
        while (xmpp.liveCount > 0) await new Promise((r) => setTimeout(r, 10));
      })(),
      "the connection to be forgotten",
    );
    assertEquals(xmpp.connections.size, 0);
  });
});

Deno.test("node: #27 #28 server-initiated close: <close/>, the client answers, the server closes with 1000", async () => {
  const app = recorder();
  await withServer({ application: app.application }, async (_xmpp, url) => {
    const client = await Client.open(url);
    await client.openStream();
    (await app.opened.next("onOpened")).close();
    assertEquals(await client.next("<close/>"), CLOSE);
    client.ws.send(CLOSE);
    assertEquals((await client.closeEvent()).code, 1000);
    assertEquals(await app.ended.next("onEnded"), { type: "stream-closed", initiator: "local" });
  });
});

// ---- the HTTP handshake --------------------------------------------------------------------

Deno.test("node: #3 an upgrade without the xmpp subprotocol gets 400 with an explanation, and no upgrade", async () => {
  await withServer({}, async (xmpp) => {
    for (const offered of [[], ["Sec-WebSocket-Protocol: chat"]]) {
      const raw = await RawClient.connect(xmpp.addr.port);
      try {
        await raw.write(upgradeRequest(xmpp.addr.port, offered));
        const response = await raw.readResponse();
        assertEquals(response.status, 400);
        assertStringIncludes(response.body, "Sec-WebSocket-Protocol: xmpp");
        assertStringIncludes(response.body, offered.length ? "offered: 'chat'" : "offered: none");
        assert(!response.headers.some(([name]) => name === "sec-websocket-accept"));
        assertEquals(await raw.readEnd(), true); // the connection closes after the refusal
      } finally {
        raw.close();
      }
    }
    await assertRejects(() => Client.open(`ws://127.0.0.1:${xmpp.addr.port}/xmpp-websocket`, []));
  });
});

Deno.test("node: #2 'chat, xmpp' on two header lines is answered with exactly Sec-WebSocket-Protocol: xmpp", async () => {
  await withServer({}, async (xmpp) => {
    const raw = await RawClient.connect(xmpp.addr.port);
    try {
      await raw.write(
        upgradeRequest(xmpp.addr.port, [
          "Sec-WebSocket-Protocol: chat",
          "Sec-WebSocket-Protocol: xmpp",
        ]),
      );
      const response = await raw.readResponse();
      assertEquals(response.status, 101);
      assertEquals(
        response.headers.filter(([name]) => name === "sec-websocket-protocol"),
        [["sec-websocket-protocol", "xmpp"]],
      );
      await raw.writeFrame(0x1, OPEN);
      assertStringIncludes(await raw.readText(), "<open ");
      assertStringIncludes(await raw.readText(), "<stream:features");
    } finally {
      raw.close();
    }
  });
});

Deno.test("node: §5.1 an Origin outside allowedOrigins gets 403; a listed one is upgraded", async () => {
  await withServer({ allowedOrigins: ["https://Chat.Example.org/"] }, async (xmpp) => {
    for (
      const [origin, status] of [["https://evil.example", 403], [
        "https://chat.example.org",
        101,
      ]] as const
    ) {
      const raw = await RawClient.connect(xmpp.addr.port);
      try {
        await raw.write(
          upgradeRequest(xmpp.addr.port, ["Sec-WebSocket-Protocol: xmpp", `Origin: ${origin}`]),
        );
        const response = await raw.readResponse();
        assertEquals(response.status, status, origin);
        if (status === 403) assertStringIncludes(response.body, "Forbidden");
      } finally {
        raw.close();
      }
    }
  });
  await withServer({ allowMissingOrigin: false }, async (xmpp) => {
    const raw = await RawClient.connect(xmpp.addr.port);
    try {
      await raw.write(upgradeRequest(xmpp.addr.port, ["Sec-WebSocket-Protocol: xmpp"]));
      assertEquals((await raw.readResponse()).status, 403);
    } finally {
      raw.close();
    }
  });
});

Deno.test("node: a plain GET gets the diagnostic page; POST 405; other paths 404 or the fallback handler", async () => {
  const base = (xmpp: XmppNodeServer) => `http://127.0.0.1:${xmpp.addr.port}`;
  await withServer({}, async (xmpp) => {
    const page = await fetch(`${base(xmpp)}/xmpp-websocket`);
    assertEquals(page.status, 200);
    assertEquals(page.headers.get("content-type"), "text/html; charset=utf-8");
    assertStringIncludes(await page.text(), "RFC 7395");
    // A large unread body is discarded: the connection serves the next request, shutdown ends.
    const big = new Uint8Array(4 << 20);
    const post = await fetch(`${base(xmpp)}/xmpp-websocket`, { method: "POST", body: big });
    assertEquals([post.status, post.headers.get("allow")], [405, "GET, HEAD"]);
    await post.body?.cancel();
    const missing = await fetch(`${base(xmpp)}/elsewhere`);
    assertEquals([missing.status, await missing.text()], [404, "Not Found\n"]);
  });
  await withServer({
    handler: async (request, info) =>
      new Response(
        `${request.method} ${new URL(request.url).pathname} ${await request
          .text()} ${info.remoteAddr.hostname}`,
        { headers: { "x-one": "1" } },
      ),
  }, async (xmpp) => {
    const response = await fetch(`${base(xmpp)}/api?q=1`, { method: "PUT", body: "payload" });
    assertEquals(response.headers.get("x-one"), "1");
    assertEquals(await response.text(), "PUT /api payload 127.0.0.1");
  });
});

Deno.test("node: trustedProxies: the client address comes from X-Forwarded-For only behind a trusted peer", async () => {
  const app = recorder();
  await withServer(
    { application: app.application, trustedProxies: ["127.0.0.1"] },
    async (xmpp) => {
      const raw = await RawClient.connect(xmpp.addr.port);
      try {
        await raw.write(
          upgradeRequest(xmpp.addr.port, [
            "Sec-WebSocket-Protocol: xmpp",
            "X-Forwarded-For: 203.0.113.9, 127.0.0.1",
          ]),
        );
        assertEquals((await raw.readResponse()).status, 101);
        await raw.writeFrame(0x1, OPEN);
        await raw.readText();
        assertEquals((await app.opened.next("onOpened")).remoteAddr, "203.0.113.9:0");
      } finally {
        raw.close();
      }
    },
  );
});

// ---- what the core refuses -----------------------------------------------------------------

Deno.test("node: #6 a binary message (a Buffer in ws, an ArrayBuffer to the driver) closes with 1003", async () => {
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

Deno.test("node: oversized messages: the core's <policy-violation/> then 1009; beyond maxPayload ws refuses with 1009", async () => {
  const app = recorder();
  const session = { domains: ["localhost"], limits: { maxBytes: 10_000 } };
  await withServer({ session, application: app.application }, async (_xmpp, url) => {
    const client = await Client.open(url);
    await client.openStream();
    client.ws.send(`<message xmlns='${NS.CLIENT}'><body>${"x".repeat(10_000)}</body></message>`);
    const error = parse(await client.next("the stream error"));
    assertEquals([error.name, error.ns], ["error", NS.STREAMS]);
    assert(hasChild(error, "policy-violation"));
    assertEquals(await client.next("<close/>"), CLOSE);
    assertEquals((await client.closeEvent()).code, 1009);
    assertEquals((await app.ended.next("onEnded")).type, "stream-failed");
  });
  await withServer({ session, application: app.application }, async (_xmpp, url) => {
    const client = await Client.open(url);
    await client.openStream();
    // Over maxPayload (2 × maxBytes): ws fails the connection before the core sees the message.
    client.ws.send(`<message xmlns='${NS.CLIENT}'><body>${"x".repeat(20_001)}</body></message>`);
    assertEquals((await client.closeEvent()).code, 1009);
    assertEquals(client.messages.items, []);
    const notice = await app.ended.next("onEnded");
    assertEquals([notice.type, notice.type === "stream-failed" && notice.reason], [
      "stream-failed",
      "transport-lost",
    ]);
  });
});

Deno.test("node: #17 a client that never sends <open/> is closed with 1008 after openTimeoutMs", async () => {
  await withServer(
    { session: { domains: ["localhost"], openTimeoutMs: 100 } },
    async (_xmpp, url) => {
      const client = await Client.open(url);
      assertEquals((await client.closeEvent()).code, 1008);
      assertEquals(client.messages.items, []);
    },
  );
});

// ---- keepalive, attach, TLS, shutdown --------------------------------------------------------

Deno.test("node: #41 keepalive: a Ping after a silent interval; a Pong keeps it; no Pong terminates", async () => {
  const app = recorder();
  await withServer({ application: app.application, pingIntervalMs: 100 }, async (xmpp) => {
    const raw = await RawClient.connect(xmpp.addr.port);
    try {
      await raw.write(upgradeRequest(xmpp.addr.port, ["Sec-WebSocket-Protocol: xmpp"]));
      assertEquals((await raw.readResponse()).status, 101);
      // Timers fire in deadline order: a 90 ms marker armed now has fired before a Ping that
      // honours the 100 ms interval (no wall-clock threshold on a busy machine).
      let marker = false;
      const markerTimer = setTimeout(() => marker = true, 90);
      assertEquals((await raw.readFrame())?.opcode, 0x9);
      clearTimeout(markerTimer);
      assert(marker, "the first Ping came before the ping interval");
      await raw.writeFrame(0xa, new Uint8Array()); // Pong: the connection stays up
      await raw.writeFrame(0x9, "abc"); // the client's own Ping
      const pong = await raw.readFrame();
      assertEquals([pong?.opcode, new TextDecoder().decode(pong?.payload)], [0xa, "abc"]);
      assertEquals((await raw.readFrame())?.opcode, 0x9);
      assertEquals(await raw.readFrame(), null); // no Pong this time: terminated, no Close frame
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

Deno.test("node: Deno's client answers Pings, so a silent session outlives several intervals", async () => {
  await withServer({ pingIntervalMs: 50 }, async (_xmpp, url) => {
    const client = await Client.open(url);
    await client.openStream();
    await new Promise((resolve) => setTimeout(resolve, 400));
    assertEquals(client.ws.readyState, WebSocket.OPEN);
    client.ws.send(CLOSE);
    assertEquals(await client.next("<close/>"), CLOSE);
    client.ws.close();
    await client.closeEvent();
  });
});

Deno.test("node: attach drives the socket through the web-standard surface, open event included", async () => {
  const events: string[] = [];
  let ended: () => void = () => {};
  const attach = (socket: WebSocket): AttachedSocket => {
    events.push(`attached readyState=${socket.readyState}`);
    socket.onopen = () => events.push(`open protocol=${socket.protocol}`);
    socket.onmessage = (event) => {
      events.push(`message ${event.data}`);
      socket.send(`echo ${event.data}`);
    };
    socket.onclose = (event) => {
      events.push(`close ${event.code}`);
      ended();
    };
    return {
      ended: new Promise((resolve) => ended = resolve),
      shutdown: () => socket.close(1001),
    };
  };
  await withServer({ attach }, async (xmpp, url) => {
    const client = await Client.open(url);
    client.ws.send("hi");
    assertEquals(await client.next(), "echo hi");
    assertEquals(xmpp.liveCount, 1);
    assertEquals(xmpp.connections.size, 0);
  });
  assertEquals(events, ["attached readyState=1", "open protocol=xmpp", "message hi", "close 1001"]);
});

Deno.test("node: cert and key serve wss (node:https), and the sessions are secure", async () => {
  const app = recorder();
  await withServer(
    { cert: TEST_CERT, key: TEST_KEY, application: app.application },
    async (xmpp) => {
      const raw = await RawClient.connectTls(xmpp.addr.port, TEST_CERT);
      try {
        await raw.write(upgradeRequest(xmpp.addr.port, ["Sec-WebSocket-Protocol: xmpp"]));
        assertEquals((await raw.readResponse()).status, 101);
        await raw.writeFrame(0x1, OPEN);
        assertStringIncludes(await raw.readText(), "<open ");
        assertStringIncludes(await raw.readText(), "<stream:features");
        assertEquals((await app.opened.next("onOpened")).secure, true);
        await raw.writeFrame(0x1, CLOSE);
        assertEquals(await raw.readText(), CLOSE);
      } finally {
        raw.close();
      }
    },
  );
});

Deno.test("node: shutdown: aborting the signal ends live streams with <system-shutdown/> and stops the server", async () => {
  const controller = new AbortController();
  const xmpp = await serveXmppNode({ hostname: "127.0.0.1", port: 0, signal: controller.signal });
  const client = await Client.open(`ws://127.0.0.1:${xmpp.addr.port}/xmpp-websocket`);
  await client.openStream();
  controller.abort();
  assertStringIncludes(await client.next("the stream error"), "system-shutdown");
  assertEquals(await client.next("<close/>"), CLOSE);
  client.ws.send(CLOSE);
  assertEquals((await client.closeEvent()).code, 1000);
  await deadline(xmpp.finished, "the server to finish");
  assertEquals(xmpp.connections.size, 0);
  assertEquals(xmpp.server.listening, false);
});

Deno.test("node: drain redirects live sessions (<close see-other-uri/>) and refuses new ones with 503", async () => {
  const xmpp = await serveXmppNode({ hostname: "127.0.0.1", port: 0 });
  const url = `ws://127.0.0.1:${xmpp.addr.port}/xmpp-websocket`;
  const clients = [await Client.open(url), await Client.open(url)];
  for (const client of clients) await client.openStream();
  const drained = xmpp.drain(100, "wss://other.example/xmpp-websocket");
  for (const client of clients) {
    const close = parse(await client.next("the redirect"));
    assertEquals(close.attrs["see-other-uri"], "wss://other.example/xmpp-websocket");
    client.ws.send(CLOSE);
    assertEquals((await client.closeEvent()).code, 1000);
  }
  await deadline(drained, "the drain to finish");
  assertEquals(xmpp.liveCount, 0);
});

Deno.test("node: serveXmppNode rejects invalid options with RangeError before listening", async () => {
  await assertRejects(() => serveXmppNode({ pingIntervalMs: 60_000 }), RangeError);
  await assertRejects(() => serveXmppNode({ cert: TEST_CERT }), RangeError);
  await assertRejects(() => serveXmppNode({ allowedOrigins: ["not an origin"] }), RangeError);
});

Deno.test("node: #7 invalid UTF-8 in a text frame fails the connection with close code 1007", async () => {
  await withServer({}, async (xmpp) => {
    const raw = await RawClient.connect(xmpp.addr.port);
    try {
      await raw.write(upgradeRequest(xmpp.addr.port, ["Sec-WebSocket-Protocol: xmpp"]));
      assertEquals((await raw.readResponse()).status, 101);
      await raw.writeFrame(0x1, new Uint8Array([0xc3, 0x28]));
      const frame = await raw.readFrame();
      assertEquals(closeCodeOf(frame), 1007);
    } finally {
      raw.close();
    }
  });
});
