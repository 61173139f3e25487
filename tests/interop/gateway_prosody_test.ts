/**
 * Issue 3 end to end: the gateway (deno/gateway.ts) in front of a real Prosody started by the
 * test (tests/_support/prosody.ts), reached by our test client, by raw hostile sockets and by a
 * real third-party library (@xmpp/client). Digest rules are cited as "§2.x" / "#N".
 */

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { childElement, element, NS, serialize, textOf } from "../../core/mod.ts";
import { type GatewayServeOptions, serveGateway } from "../../deno/gateway.ts";
import { createLogger } from "../../deno/mod.ts";
import { type ProsodyOptions, type ProsodyServer, startProsody } from "../_support/prosody.ts";
import { WsTestClient } from "../_support/ws_client.ts";
import { runNodeClient } from "./_node.ts";

const ACCOUNTS = [{ username: "alice", password: "alice-secret" }, {
  username: "bob",
  password: "bob-secret",
}];
const quiet = createLogger("error", "text");

async function withGateway(
  prosodyOptions: ProsodyOptions,
  gatewayOptions:
    | Partial<GatewayServeOptions>
    | ((prosody: ProsodyServer) => Partial<GatewayServeOptions>),
  body: (url: string, prosody: ProsodyServer, base: string) => Promise<void>,
): Promise<void> {
  const prosody = await startProsody({ accounts: ACCOUNTS, ...prosodyOptions });
  const gateway = serveGateway({
    hostname: "127.0.0.1",
    port: 0,
    domains: ["localhost"],
    upstream: { hostname: "127.0.0.1", port: prosody.c2sPort },
    upstreamTls: "off",
    log: quiet,
    ...(typeof gatewayOptions === "function" ? gatewayOptions(prosody) : gatewayOptions),
  });
  try {
    await body(
      `ws://127.0.0.1:${gateway.addr.port}/xmpp-websocket`,
      prosody,
      `http://127.0.0.1:${gateway.addr.port}`,
    );
  } finally {
    await gateway.shutdown();
    await prosody.stop();
  }
}

async function chatWithSelf(client: WsTestClient, jid: string): Promise<void> {
  client.send(
    element("message", NS.CLIENT, { to: jid, type: "chat", id: "m1" }, [
      element("body", NS.CLIENT, {}, ["hello <self> & co"]),
    ]),
  );
  const echoed = await client.next((e) => e.name === "message");
  assertEquals(textOf(childElement(echoed, "body", NS.CLIENT)!), "hello <self> & co");
  const pong = await client.iq("get", element("ping", "urn:xmpp:ping"), "localhost");
  assertEquals(pong.attrs.type, "result");
}

Deno.test("issue 3: PLAIN login, bind, message to self, ping and clean close through the gateway", async () => {
  await withGateway({}, {}, async (url) => {
    const client = await WsTestClient.connect(url);
    assert(client.mechanisms().includes("PLAIN"));
    await client.login("alice", "alice-secret", "PLAIN");
    const jid = await client.bind("web");
    assertEquals(jid, "alice@localhost/web");
    await chatWithSelf(client, jid);
    await client.close();
    assertEquals(client.terminal, { type: "stream-closed", initiator: "local" });
    assertEquals(client.closeCode, 1000);
    // #12: every message the client received parsed standalone; #39: none was whitespace.
    assert(client.transcript.every((line) => line.slice(2).startsWith("<")));
  });
});

Deno.test("issue 3: SCRAM-SHA-256 login through the gateway (server signature verified)", async () => {
  await withGateway({ authentication: "internal_plain" }, {}, async (url) => {
    const client = await WsTestClient.connect(url);
    assert(client.mechanisms().includes("SCRAM-SHA-256"), client.mechanisms().join());
    await client.login("bob", "bob-secret", "SCRAM-SHA-256");
    await chatWithSelf(client, await client.bind());
    await client.close();
  });
});

Deno.test("§2.8/§2.9 Prosody requiring STARTTLS: the gateway does TLS with the CA-file option; the client never sees STARTTLS", async () => {
  await withGateway({ starttls: "required" }, (prosody) => ({
    upstreamTls: "required",
    upstreamCaCerts: [prosody.caCert!],
  }), async (url) => {
    const client = await WsTestClient.connect(url);
    assert(!serialize(client.features!).includes(NS.TLS), "#43: no STARTTLS toward the WebSocket");
    assert(client.mechanisms().includes("SCRAM-SHA-1"));
    await client.login("alice", "alice-secret", "SCRAM-SHA-1");
    await chatWithSelf(client, await client.bind());
    await client.close();
    assertEquals(client.terminal?.type, "stream-closed");
  });
});

Deno.test("§2.8 an untrusted upstream certificate fails the client stream, never falls back to plaintext", async () => {
  await withGateway({ starttls: "required" }, { upstreamTls: "required" }, async (url) => {
    const socket = new WebSocket(url, ["xmpp"]);
    const messages: string[] = [];
    socket.onmessage = (e) => messages.push(e.data);
    await new Promise((resolve) => socket.onopen = resolve);
    socket.send(`<open xmlns='${NS.FRAMING}' to='localhost' version='1.0'/>`);
    const code = await new Promise<number>((resolve) => socket.onclose = (e) => resolve(e.code));
    assertEquals(
      code,
      1011,
      `a transport failure toward the server (§2.3): ${messages.join("\n")}`,
    );
    assert(
      !messages.some((m) => m.includes("mechanisms")),
      "no features over an unverified channel",
    );
  });
});

Deno.test("XEP-0368 direct TLS to the upstream", async () => {
  await withGateway({ starttls: "optional", directTls: true }, (prosody) => ({
    upstream: { hostname: "127.0.0.1", port: prosody.directTlsPort! },
    upstreamTls: "direct",
    upstreamCaCerts: [prosody.caCert!],
  }), async (url) => {
    const client = await WsTestClient.connect(url);
    await client.login("alice", "alice-secret", "PLAIN");
    await chatWithSelf(client, await client.bind());
    await client.close();
  });
});

Deno.test("§2.2 XEP-0198: after the WebSocket is cut, the session resumes through the gateway with no message lost", async () => {
  await withGateway({}, {}, async (url) => {
    const alice = await WsTestClient.connect(url);
    await alice.login("alice", "alice-secret", "PLAIN");
    const aliceJid = await alice.bind("phone");
    alice.send(element("enable", NS.SM, { resume: "true" }));
    const enabled = await alice.next((e) => e.ns === NS.SM);
    assertEquals(enabled.name, "enabled");
    const previd = enabled.attrs.id!;
    await alice.cut(); // no <close/>: the gateway must not send the stream footer

    const bob = await WsTestClient.connect(url);
    await bob.login("bob", "bob-secret", "PLAIN");
    await bob.bind();
    bob.send(
      element("message", NS.CLIENT, { to: aliceJid, type: "chat" }, [
        element("body", NS.CLIENT, {}, ["while you were away"]),
      ]),
    );
    await bob.iq("get", element("ping", "urn:xmpp:ping"), "localhost"); // the message is through

    const back = await WsTestClient.connect(url);
    await back.login("alice", "alice-secret", "PLAIN");
    back.send(element("resume", NS.SM, { previd, h: "0" }));
    const resumed = await back.next((e) => e.ns === NS.SM);
    assertEquals(resumed.name, "resumed", serialize(resumed));
    const missed = await back.next((e) => e.name === "message");
    assertEquals(textOf(childElement(missed, "body", NS.CLIENT)!), "while you were away");
    await back.close();
    await bob.close();
  });
});

Deno.test("#15 #11 #6 §5.5 hostile inputs get the right error while Prosody keeps serving other sessions", async () => {
  await withGateway({}, { clientLimits: { maxBytes: 20_000 } }, async (url) => {
    const bystander = await WsTestClient.connect(url);
    await bystander.login("bob", "bob-secret", "PLAIN");
    const bystanderJid = await bystander.bind();
    const cases: Array<[string, string | Uint8Array, string | undefined, number]> = [
      [
        "two elements in one message",
        "<presence xmlns='jabber:client'/><presence xmlns='jabber:client'/>",
        "not-well-formed",
        1000,
      ],
      [
        "an element split over two messages",
        "<message xmlns='jabber:client'><body>a",
        "not-well-formed",
        1000,
      ],
      [
        "a DTD",
        "<!DOCTYPE x [<!ENTITY a 'b'>]><message xmlns='jabber:client'/>",
        "restricted-xml",
        1000,
      ],
      ["a comment", "<message xmlns='jabber:client'><!-- hi --></message>", "restricted-xml", 1000],
      [
        "a wrong framing namespace",
        `<open xmlns='${NS.STREAMS}' to='localhost' version='1.0'/>`,
        "invalid-namespace",
        1000,
      ],
      [
        "an oversized message",
        `<message xmlns='jabber:client'><body>${"x".repeat(30_000)}</body></message>`,
        "policy-violation",
        1009,
      ],
      [
        "a binary message",
        new TextEncoder().encode("<presence xmlns='jabber:client'/>"),
        undefined,
        1003,
      ],
    ];
    for (const [name, payload, condition, code] of cases) {
      const client = await WsTestClient.connect(url);
      client.socket.send(payload);
      await client.closed;
      assertEquals(client.closeCode, code, name);
      if (condition) {
        assert(
          client.transcript.some((l) => l.includes(`<${condition} xmlns='${NS.STREAM_ERRORS}'`)),
          `${name}: ${client.transcript.join("\n")}`,
        );
        assertStringIncludes(client.transcript.at(-1)!, "<close xmlns=", name);
      }
    }
    await chatWithSelf(bystander, bystanderJid);
    await bystander.close();
  });
});

Deno.test("§2.3 unreachable upstream: <open/>, remote-connection-failed, <close/>", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close(); // nothing listens there now
  const gateway = serveGateway({
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

Deno.test("XEP-0156 host-meta (XRD and JRD with CORS), /healthz and /metrics on the gateway", async () => {
  await withGateway({}, {}, async (url, _prosody, base) => {
    const client = await WsTestClient.connect(url);
    await client.close();
    const xrd = await fetch(`${base}/.well-known/host-meta`);
    assertEquals(xrd.headers.get("access-control-allow-origin"), "*");
    assertStringIncludes(await xrd.text(), `href='${url}'`);
    const jrd = await (await fetch(`${base}/.well-known/host-meta.json`)).json();
    assertEquals(jrd.links[0], { rel: "urn:xmpp:alt-connections:websocket", href: url });
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

Deno.test("issue 3: a real third-party client (@xmpp/client over ws) logs in, chats and closes through the gateway", async () => {
  await withGateway({}, {}, async (url) => {
    const report = await runNodeClient("xmppjs_chat.mjs", [
      url,
      "localhost",
      "alice",
      "alice-secret",
    ]);
    assertEquals(report, {
      exitCode: 0,
      online: true,
      echoed: true,
      pong: true,
      closed: true, // the server's <close/> answered ours, and the client is offline
      mechanism: "SCRAM-SHA-1", // read on the wire: xmpp.js 0.14 has no SCRAM-SHA-256
      jid: "alice@localhost/xmppjs",
    });
  });
});

Deno.test("digest §3 a draft-00 client (open <stream:stream> framing) logs in through the gateway when --legacy-framing is on", async () => {
  await withGateway({}, { legacyFraming: true }, async (url, _prosody, base) => {
    const socket = new WebSocket(url, ["xmpp"]);
    const inbox: string[] = [];
    let wake = () => {};
    socket.onmessage = (e) => {
      inbox.push(e.data);
      wake();
    };
    const closed = new Promise<number>((resolve) => socket.onclose = (e) => resolve(e.code));
    await new Promise((resolve) => socket.onopen = resolve);
    const next = async (match: (m: string) => boolean): Promise<string> => {
      for (const deadline = Date.now() + 5_000; Date.now() < deadline;) {
        const index = inbox.findIndex(match);
        if (index >= 0) return inbox.splice(index, 1)[0]!;
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 100);
        });
      }
      throw new Error(`no matching message; got:\n${inbox.join("\n")}`);
    };
    const header =
      "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";
    socket.send(header);
    assert((await next((m) => m.startsWith("<stream:stream "))).endsWith(">"));
    await next((m) => m.includes("features"));
    socket.send(
      `<auth xmlns='${NS.SASL}' mechanism='PLAIN'>${btoa("\0alice\0alice-secret")}</auth>`,
    );
    await next((m) => m.includes("<success"));
    socket.send(header); // the restart: a new open header, no footer
    await next((m) => m.includes("features") && m.includes(NS.BIND));
    // Stanzas of draft-00 rely on the header's default namespace.
    socket.send(
      "<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>legacy</resource></bind></iq>",
    );
    assertStringIncludes(await next((m) => m.includes("id='b1'")), "alice@localhost/legacy");
    socket.send(" "); // a whitespace keepalive is tolerated in this framing
    socket.send("</stream:stream>");
    assertEquals(await next((m) => m.includes("</stream:stream>")), "</stream:stream>");
    socket.close(1000);
    await closed;
    assertStringIncludes(
      await (await fetch(`${base}/metrics`)).text(),
      "xmpp_ws_legacy_connections_total 1",
    );
  });
});

Deno.test("RFC 6120 §3.2 / XEP-0368: --upstream srv finds the server through _xmpp-client._tcp records", async () => {
  const asked: string[] = [];
  await withGateway({}, (prosody) => ({
    upstream: "srv",
    upstreamTls: "optional",
    srvLookup: (name) => {
      asked.push(name);
      return Promise.resolve(
        name === "_xmpp-client._tcp.localhost"
          ? [{ target: "127.0.0.1.", port: prosody.c2sPort, priority: 0, weight: 0 }]
          : [],
      );
    },
  }), async (url) => {
    const client = await WsTestClient.connect(url);
    await client.login("alice", "alice-secret", "PLAIN");
    await chatWithSelf(client, await client.bind());
    await client.close();
    assertEquals(asked.sort(), ["_xmpp-client._tcp.localhost", "_xmpps-client._tcp.localhost"]);
  });
});

Deno.test("issue 3 done-when: `deno run deno/main.ts --upstream` in front of a stock Prosody serves @xmpp/client (login, chat, close)", async () => {
  const prosody = await startProsody({ accounts: ACCOUNTS });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../../deno/main.ts", import.meta.url).pathname,
      "--port",
      "0",
      "--upstream",
      `127.0.0.1:${prosody.c2sPort}`,
      "--drain",
      "100",
    ],
    env: { XMPP_WS_LOG_FORMAT: "json" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let log = "";
  const pump = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (t) => void (log += t) }),
  );
  try {
    const deadline = Date.now() + 15_000;
    while (!/"url":"ws:\/\/127\.0\.0\.1:\d+/.test(log) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const url = /"url":"(ws:\/\/127\.0\.0\.1:\d+\/xmpp-websocket)"/.exec(log)?.[1];
    if (url === undefined) throw new Error(`the gateway did not start:\n${log}`);
    const report = await runNodeClient("xmppjs_chat.mjs", [
      url,
      "localhost",
      "alice",
      "alice-secret",
    ]);
    assertEquals(report, {
      exitCode: 0,
      online: true,
      echoed: true,
      pong: true,
      closed: true, // the server's <close/> answered ours, and the client is offline
      mechanism: "SCRAM-SHA-1", // read on the wire: xmpp.js 0.14 has no SCRAM-SHA-256
      jid: "alice@localhost/xmppjs",
    });
    // JSON logs carry a connection id and never an element's content (no SASL payloads).
    const lines = log.trim().split("\n").map((l) => JSON.parse(l));
    assert(lines.some((l) => l.message === "upstream connected" && typeof l.conn === "string"));
    assert(!log.includes("<auth") && !log.includes("alice-secret"));
  } finally {
    child.kill("SIGTERM");
    assertEquals((await child.status).code, 0);
    await pump;
    await prosody.stop();
  }
});
