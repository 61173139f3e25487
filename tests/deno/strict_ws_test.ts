/**
 * The strict WebSocket layer (`websocketLayer: "strict"`, the core's RFC 6455 codec over
 * `Deno.listen`) against the native one (`Deno.serve` + `Deno.upgradeWebSocket`), on real
 * sockets on 127.0.0.1 with a raw client that writes exactly the bytes under test (issue 8,
 * finding 3, items (a)-(e)). Where the native layer's behaviour is a documented limitation
 * (README, "Known limitations"), the test asserts it, so that a change in Deno shows up here.
 * No wall-clock thresholds: short configured timeouts, and the test waits for the event.
 */

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { NS } from "../../core/mod.ts";
import { serveXmpp, type ServeXmppOptions, type XmppServer } from "../../deno/mod.ts";
import { embeddedServer, loadAccounts } from "../../deno/embedded.ts";
import {
  CLOSE,
  closeCodeOf,
  deadline,
  OPEN,
  RawClient,
  recorder,
  upgradeRequest,
} from "../_support/endpoint.ts";
import { WsTestClient } from "../_support/ws_client.ts";

type Layer = "strict" | "native";

async function withServer(
  layer: Layer,
  options: ServeXmppOptions,
  run: (xmpp: XmppServer) => Promise<void>,
): Promise<void> {
  const xmpp = serveXmpp({
    hostname: "127.0.0.1",
    port: 0,
    websocketLayer: layer,
    session: { domains: ["localhost"] },
    ...options,
  });
  try {
    await run(xmpp);
  } finally {
    await deadline(xmpp.shutdown(), "the server to shut down");
  }
}

/** Connects a raw client and completes the upgrade (101). */
async function upgraded(xmpp: XmppServer): Promise<RawClient> {
  const raw = await RawClient.connect(xmpp.addr.port);
  await raw.write(upgradeRequest(xmpp.addr.port, ["Sec-WebSocket-Protocol: xmpp"]));
  assertEquals((await raw.readResponse()).status, 101);
  return raw;
}

/** A masked client frame of any length (RawClient.writeFrame is limited to 125 bytes). */
function bigFrameHeader(opcode: number, announced: number): Uint8Array {
  const head = new Uint8Array(14);
  head[0] = 0x80 | opcode;
  head[1] = 0x80 | 127;
  new DataView(head.buffer).setBigUint64(2, BigInt(announced));
  head.set([1, 2, 3, 4], 10);
  return head;
}

/** An upgrade request with some lines replaced (`null` drops a line). */
function request(port: number, change: Record<string, string | null>, line = "GET"): string {
  const headers: Record<string, string | null> = {
    Host: `127.0.0.1:${port}`,
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Protocol": "xmpp",
    ...change,
  };
  const first = line.includes(" ") ? line : `${line} /xmpp-websocket HTTP/1.1`;
  return [
    first,
    ...Object.entries(headers).filter(([, v]) => v !== null).map(([k, v]) => `${k}: ${v}`),
    "",
    "",
  ].join("\r\n");
}

async function statusOf(
  xmpp: XmppServer,
  text: string,
): Promise<{ status: number; headers: [string, string][] }> {
  const raw = await RawClient.connect(xmpp.addr.port);
  try {
    await raw.write(text);
    return await raw.readResponse();
  } finally {
    raw.close();
  }
}

// ---- (a) the opening handshake (RFC 6455 §4.2.1-§4.2.2) ----------------------------------

for (const layer of ["strict", "native"] as const) {
  Deno.test(`(a) ${layer}: POST, a key that is not 16 base64 bytes, and version 8 are refused (405, 400, 426)`, async () => {
    await withServer(layer, {}, async (xmpp) => {
      const port = xmpp.addr.port;
      assertEquals((await statusOf(xmpp, request(port, {}, "POST"))).status, 405);
      const badKeys = ["not base64!", "AAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAAAA"];
      for (const key of badKeys) {
        assertEquals(
          (await statusOf(xmpp, request(port, { "Sec-WebSocket-Key": key }))).status,
          400,
          key,
        );
      }
      const version = await statusOf(xmpp, request(port, { "Sec-WebSocket-Version": "8" }));
      assertEquals(version.status, 426);
      assert(version.headers.some(([n, v]) => n === "sec-websocket-version" && v === "13"));
      assertEquals((await statusOf(xmpp, request(port, {}))).status, 101);
    });
  });
}

Deno.test("(a) strict: an HTTP/1.0 upgrade is refused with 400", async () => {
  await withServer("strict", {}, async (xmpp) => {
    const text = request(xmpp.addr.port, {}, "GET /xmpp-websocket HTTP/1.0");
    assertEquals((await statusOf(xmpp, text)).status, 400);
  });
});

Deno.test("(a) native, documented limitation: Deno.serve hides the HTTP version, so an HTTP/1.0 upgrade gets 101", async () => {
  await withServer("native", {}, async (xmpp) => {
    const text = request(xmpp.addr.port, {}, "GET /xmpp-websocket HTTP/1.0");
    assertEquals((await statusOf(xmpp, text)).status, 101);
  });
});

// ---- (b) invalid UTF-8 (RFC 6455 §8.1, digest #7) ------------------------------------------

Deno.test("(b) strict: invalid UTF-8 in a text frame gets Close 1007, then TCP ends", async () => {
  const app = recorder();
  await withServer("strict", { application: app.application }, async (xmpp) => {
    const raw = await upgraded(xmpp);
    try {
      await raw.writeFrame(0x1, new Uint8Array([0x3c, 0xc3, 0x28]));
      assertEquals(closeCodeOf(await raw.readFrame()), 1007);
      assert(await raw.readEnd());
    } finally {
      raw.close();
    }
    const notice = await app.ended.next("onEnded");
    assertEquals(notice.type, "stream-failed");
  });
});

// (native: tests/deno/serve_test.ts "#7 ..." asserts Deno's drop without a Close frame.)

// ---- (c) masking (RFC 6455 §5.1) -----------------------------------------------------------

Deno.test("(c) strict: an unmasked client frame gets Close 1002 and is not processed", async () => {
  const app = recorder();
  await withServer("strict", { application: app.application }, async (xmpp) => {
    const raw = await upgraded(xmpp);
    try {
      const open = new TextEncoder().encode(OPEN);
      await raw.write(new Uint8Array([0x81, open.length, ...open]));
      assertEquals(closeCodeOf(await raw.readFrame()), 1002);
      assert(await raw.readEnd());
    } finally {
      raw.close();
    }
    await app.ended.next("onEnded");
    assertEquals(app.opened.items, [], "no stream was opened");
  });
});

Deno.test("(c) native, documented limitation: Deno accepts an unmasked client frame", async () => {
  await withServer("native", {}, async (xmpp) => {
    const raw = await upgraded(xmpp);
    try {
      const open = new TextEncoder().encode(OPEN);
      await raw.write(new Uint8Array([0x81, open.length, ...open]));
      assertStringIncludes(await raw.readText(), "<open ");
    } finally {
      raw.close();
    }
  });
});

// ---- (d) size before buffering, (e) the close timeout (§7.1.1, digest #29) -----------------

Deno.test("(d)(e) strict: a 60 MiB message is refused from its header: policy-violation, <close/>, 1009; TCP ends at the close timeout", async () => {
  const app = recorder();
  const options = {
    application: app.application,
    session: { domains: ["localhost"], limits: { maxBytes: 10_000 } },
    strictLayer: { closeTimeoutMs: 100 },
  };
  await withServer("strict", options, async (xmpp) => {
    const raw = await upgraded(xmpp);
    try {
      await raw.writeFrame(0x1, OPEN);
      await raw.readText(); // <open/>
      await raw.readText(); // <features/>
      await raw.write(bigFrameHeader(0x1, 60 * 1024 * 1024));
      await raw.write(new Uint8Array(65_536).fill(0x61)); // some of it; never the rest
      const error = await raw.readText();
      assertStringIncludes(error, "<policy-violation");
      assertEquals(await raw.readText(), CLOSE);
      assertEquals(closeCodeOf(await raw.readFrame()), 1009);
      // The client never finishes its frame, so it cannot answer the Close: TCP ends anyway.
      assert(await raw.readEnd());
    } finally {
      raw.close();
    }
    assertEquals((await app.ended.next("onEnded")).type, "stream-failed");
  });
});

Deno.test("(e) strict: a client that never answers the Close after a stream error loses TCP at the close timeout", async () => {
  await withServer("strict", { strictLayer: { closeTimeoutMs: 100 } }, async (xmpp) => {
    const raw = await upgraded(xmpp);
    try {
      await raw.writeFrame(0x1, OPEN);
      await raw.readText();
      await raw.readText();
      await raw.writeFrame(0x1, "<message xmlns='jabber:client'><unclosed></message>");
      assertStringIncludes(await raw.readText(), "stream:error");
      assertEquals(await raw.readText(), CLOSE);
      assertEquals((await raw.readFrame())?.opcode, 0x8);
      assert(await raw.readEnd()); // no Close sent back
    } finally {
      raw.close();
    }
  });
});

Deno.test("(e) strict, rule #37: <close/> right after SASL success is answered, and TCP ends at the close timeout", async () => {
  const { accounts } = await loadAccounts({ users: ["alice:secret"] });
  const app = embeddedServer({ accounts });
  try {
    await withServer("strict", {
      application: app,
      // The session waits closeTimeoutMs for the client to close the WebSocket after our
      // <close/> (#28), then sends a Close frame; the strict layer then waits closeTimeoutMs
      // for the Close to be answered.
      session: { domains: ["localhost"], closeTimeoutMs: 100 },
    }, async (xmpp) => {
      const raw = await upgraded(xmpp);
      try {
        await raw.writeFrame(0x1, OPEN);
        await raw.readText();
        assertStringIncludes(await raw.readText(), "PLAIN");
        await raw.writeFrame(
          0x1,
          `<auth xmlns='${NS.SASL}' mechanism='PLAIN'>${btoa("\0alice\0secret")}</auth>`,
        );
        assertStringIncludes(await raw.readText(), "<success");
        await raw.writeFrame(0x1, CLOSE);
        assertEquals(await raw.readText(), CLOSE);
        assertEquals((await raw.readFrame())?.opcode, 0x8);
        assert(await raw.readEnd()); // no Close sent back
      } finally {
        raw.close();
      }
    });
  } finally {
    app.stop();
  }
});

// ---- XMPP through the strict layer; other paths -----------------------------------------------

Deno.test("strict: an XMPP login, bind, ping and close with Deno's WebSocket client", async () => {
  const { accounts } = await loadAccounts({ users: ["alice:secret"] });
  const app = embeddedServer({ accounts });
  try {
    await withServer("strict", { application: app }, async (xmpp) => {
      const url = `ws://127.0.0.1:${xmpp.addr.port}/xmpp-websocket`;
      const client = await WsTestClient.connect(url);
      assertEquals(client.socket.protocol, "xmpp");
      await client.login("alice", "secret");
      const jid = await client.bind();
      assert(jid.startsWith("alice@localhost/"));
      const pong = await client.iq("get", {
        name: "ping",
        ns: "urn:xmpp:ping",
        attrs: {},
        children: [],
      });
      assertEquals(pong.attrs.type, "result");
      await client.close();
      assertEquals(client.closeCode, 1000);
    });
  } finally {
    app.stop();
  }
});

Deno.test("strict: other paths are served over HTTP/1.1, kept alive; oversized heads get 431", async () => {
  const handler = (req: Request) => new Response(`you asked for ${new URL(req.url).pathname}\n`);
  await withServer("strict", { handler }, async (xmpp) => {
    const raw = await RawClient.connect(xmpp.addr.port);
    try {
      const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
      await raw.write(get("/a") + get("/xmpp-websocket"));
      const first = await raw.readResponse();
      assertEquals([first.status, first.body], [200, "you asked for /a\n"]);
      assert(first.headers.some(([n, v]) => n === "connection" && v === "keep-alive"));
      const page = await raw.readResponse();
      assertEquals(page.status, 200);
      assertStringIncludes(page.body, "XMPP over WebSocket endpoint");
    } finally {
      raw.close();
    }
    const big = `GET / HTTP/1.1\r\nHost: h\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`;
    assertEquals((await statusOf(xmpp, big)).status, 431);
    const response = await fetch(`http://127.0.0.1:${xmpp.addr.port}/fetched`);
    assertEquals(await response.text(), "you asked for /fetched\n");
  });
});

Deno.test("strict: a client that sends its request head too slowly is disconnected (header timeout)", async () => {
  await withServer("strict", { strictLayer: { headerTimeoutMs: 100 } }, async (xmpp) => {
    const raw = await RawClient.connect(xmpp.addr.port);
    try {
      await raw.write("GET /xmpp-websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n"); // never finished
      assert(await raw.readEnd());
    } finally {
      raw.close();
    }
  });
});
