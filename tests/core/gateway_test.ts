/**
 * Bridge tests (digest §2): a gateway driven with scripted browser messages and upstream bytes.
 */

import { assert, assertEquals } from "@std/assert";

import { F, Harness, HEADER, OPEN } from "./_gateway_harness.ts";

Deno.test("§2.2/§2.3 open: <open/> becomes a stream header, upstream header + features become <open/> + filtered features (§2.9)", () => {
  const h = new Harness({ upstreamTls: "off" });
  h.open(
    "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1-PLUS</mechanism><mechanism>PLAIN</mechanism></mechanisms><compression xmlns='http://jabber.org/features/compress'><method>zlib</method></compression></stream:features>",
  );
  assertEquals(h.toUpstream, [
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>",
  ]);
  assertEquals(h.toClient, [
    `<open xmlns='${F}' from='localhost' id='up-1' version='1.0' xml:lang='en'/>`,
    "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>",
  ]);
  assertEquals(h.gw.phase, "relaying");
});

Deno.test("§2.8 STARTTLS upstream is the gateway's own business; the client sees post-TLS features", () => {
  const h = new Harness({ upstreamTls: "required" });
  h.open();
  assertEquals(h.toClient, [], "nothing reaches the client before TLS");
  assertEquals(h.toUpstream[1], "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  const out = h.upstream("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  assert(out.some((o) => o.type === "upstream" && o.output.type === "start-tls"));
  h.run({ type: "upstream", input: { type: "transport-secured", now: ++h.now } });
  assert(
    h.toUpstream[2]!.startsWith("<?xml version='1.0'?><stream:stream"),
    "a new header after TLS",
  );
  h.upstream(
    HEADER.replace("up-1", "up-2") +
      "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>",
  );
  assertEquals(h.toClient.length, 2);
  assert(h.toClient[0]!.includes("id='up-2'"), "the client sees the post-TLS stream id");
  assert(!h.toClient[1]!.includes("starttls"));
});

Deno.test("§2.9 required STARTTLS refused by policy 'off' ends the client stream with an error", () => {
  const h = new Harness({ upstreamTls: "off" });
  h.open(
    "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>",
  );
  assertEquals(h.toClient.length, 3, "open, error, close");
  assert(h.toClient[1]!.includes("internal-server-error"));
});

Deno.test("§2.2/§2.3 stanzas are relayed both ways as standalone elements; whitespace is dropped", () => {
  const h = new Harness({ upstreamTls: "off" });
  h.open("<stream:features/>");
  h.login();
  h.client("<message xmlns='jabber:client' to='a@localhost'><body>hi</body></message>");
  // Relayed as received (issue 10): the redundant declaration of the stream's namespace stays.
  assertEquals(
    h.toUpstream.at(-1),
    "<message xmlns='jabber:client' to='a@localhost'><body>hi</body></message>",
  );
  const before = h.toClient.length;
  h.upstream("  \n<message from='a@localhost'><body>yo</body><x xmlns='urn:x'/></message> ");
  assertEquals(h.toClient.slice(before), [
    "<message xmlns='jabber:client' from='a@localhost'><body>yo</body><x xmlns='urn:x'/></message>",
  ]);
});

Deno.test("§2.8 restart after SASL success: upstream parser and header restart, client gets new <open/>", () => {
  const h = new Harness({ upstreamTls: "off" });
  h.open(
    "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>",
  );
  h.client("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>");
  h.upstream("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
  assertEquals(h.toClient.at(-1), "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
  const sent = h.toUpstream.length;
  h.client(OPEN);
  assertEquals(h.toUpstream.length, sent + 1);
  assert(
    h.toUpstream.at(-1)!.startsWith("<?xml version='1.0'?><stream:stream"),
    "no footer before the new header",
  );
  h.upstream(
    HEADER.replace("up-1", "up-2") +
      "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>",
  );
  assert(h.toClient.at(-2)!.includes("id='up-2'"));
  assert(h.toClient.at(-1)!.includes("urn:ietf:params:xml:ns:xmpp-bind"));
});

Deno.test("§2.8 SASL2 success is not a restart", () => {
  const h = new Harness({ upstreamTls: "off" });
  h.open("<stream:features/>");
  h.upstream(
    "<success xmlns='urn:xmpp:sasl:2'><authorization-identifier>a@localhost/r</authorization-identifier></success><message from='x@localhost'/>",
  );
  assertEquals(h.toClient.length, 4, "success and the next stanza are both relayed");
});

Deno.test("§2.2 <close/> becomes the footer; the client's <close/> is answered after the server's footer", () => {
  const h = new Harness({ upstreamTls: "off" });
  h.open("<stream:features/>");
  const before = h.toClient.length;
  h.client(`<close xmlns='${F}'/>`);
  assertEquals(h.toUpstream.at(-1), "</stream:stream>");
  assertEquals(h.toClient.length, before, "no reply before the server's footer");
  h.upstream("<message from='late@localhost'/></stream:stream>");
  assertEquals(h.toClient.slice(before), [
    "<message xmlns='jabber:client' from='late@localhost'/>",
    `<close xmlns='${F}'/>`,
  ]);
  assert(h.all.some((o) => o.type === "upstream" && o.output.type === "close-transport"));
});

Deno.test("§2.2 a WebSocket dropped without <close/> closes TCP without the footer (resumable)", () => {
  const h = new Harness({ upstreamTls: "off" });
  h.open("<stream:features/>");
  h.run({ type: "client", input: { type: "transport-closed", now: ++h.now, code: 1006 } });
  assert(!h.toUpstream.includes("</stream:stream>"));
  assert(h.all.some((o) => o.type === "upstream" && o.output.type === "close-transport"));
});

Deno.test("§2.3 an upstream lost without footer closes the WebSocket with 1011 and no <close/>", () => {
  const h = new Harness({ upstreamTls: "off" });
  h.open("<stream:features/>");
  const before = h.toClient.length;
  h.run({ type: "upstream", input: { type: "transport-closed", now: ++h.now } });
  assertEquals(h.toClient.length, before, "no <close/>");
  const close = h.all.find((o) => o.type === "client" && o.output.type === "close-transport");
  assertEquals(
    close?.type === "client" && close.output.type === "close-transport" && close.output.code,
    1011,
  );
});

Deno.test("§2.3 unreachable upstream: <open/>, stream error, <close/>", () => {
  const h = new Harness();
  h.run({
    type: "client",
    input: { type: "transport-opened", now: 1, secure: true, streamId: "ws-1" },
  });
  h.client(OPEN);
  h.run({ type: "upstream-failed", now: 3, reason: "ECONNREFUSED" });
  assertEquals(h.toClient.length, 3);
  assert(h.toClient[0]!.startsWith(`<open xmlns='${F}' from='localhost'`));
  assert(h.toClient[1]!.includes("<remote-connection-failed"));
  assertEquals(h.toClient[2], `<close xmlns='${F}'/>`);
});

Deno.test("§5.5 no open relay: <open to> outside the configured domains gets host-unknown, nothing connects", () => {
  const h = new Harness();
  h.run({
    type: "client",
    input: { type: "transport-opened", now: 1, secure: true, streamId: "ws-1" },
  });
  const out = h.client(`<open xmlns='${F}' to='intranet.example' version='1.0'/>`);
  assert(!out.some((o) => o.type === "connect-upstream"));
  assert(h.toClient[1]!.includes("host-unknown"));
});

Deno.test("§2.2 client STARTTLS is answered with <failure/> and never forwarded", () => {
  const h = new Harness({ upstreamTls: "off" });
  h.open("<stream:features/>");
  const sent = h.toUpstream.length;
  h.client("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  assertEquals(h.toUpstream.length, sent + 1, "only the footer goes upstream");
  assert(h.toClient.some((t) => t === "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"));
});

Deno.test("§2.10 see-other-host is mapped to see-other-uri when configured", () => {
  const h = new Harness({
    upstreamTls: "off",
    seeOtherHost: { "b.localhost": "wss://b.localhost/xmpp-websocket" },
  });
  h.open("<stream:features/>");
  h.upstream(
    "<stream:error><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>b.localhost</see-other-host></stream:error>",
  );
  assertEquals(
    h.toClient.at(-1),
    `<close xmlns='${F}' see-other-uri='wss://b.localhost/xmpp-websocket'/>`,
  );
});

Deno.test("§2.3 an upstream stream error is relayed, then <close/>", () => {
  const h = new Harness({ upstreamTls: "off" });
  h.open("<stream:features/>");
  h.upstream(
    "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>",
  );
  assert(h.toClient.at(-2)!.includes("<conflict"));
  assertEquals(h.toClient.at(-1), `<close xmlns='${F}'/>`);
});

Deno.test("§2.12 client data sent before the upstream is ready is buffered in order, and bounded", () => {
  const h = new Harness({ upstreamTls: "off", maxBufferedElements: 2 });
  h.run({
    type: "client",
    input: { type: "transport-opened", now: 1, secure: true, streamId: "ws-1" },
  });
  h.client(OPEN);
  const A = "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>";
  const B = "<abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>";
  h.client(A);
  h.client(B);
  h.run({ type: "upstream", input: { type: "transport-opened", now: ++h.now, secure: false } });
  h.upstream(HEADER + "<stream:features/>");
  assertEquals(h.toUpstream.slice(1), [A, B]);
  const h2 = new Harness({ maxBufferedElements: 1 });
  h2.run({
    type: "client",
    input: { type: "transport-opened", now: 1, secure: true, streamId: "ws-1" },
  });
  h2.client(OPEN);
  h2.client(A);
  h2.client(B);
  assert(h2.toClient.some((t) => t.includes("resource-constraint")));
});

Deno.test("§2.12 an upstream that does not keep up ends the session with resource-constraint, never an unbounded queue", () => {
  const h = new Harness({ upstreamTls: "off" });
  h.open("<stream:features/>");
  h.run({ type: "upstream-backlogged", now: ++h.now });
  assert(h.toClient.some((t) => t.includes("<resource-constraint")));
  assertEquals(h.toClient.at(-1), `<close xmlns='${F}'/>`);
  assert(h.all.some((o) => o.type === "upstream" && o.output.type === "close-transport"));
});

Deno.test("digest §3 legacy framing (opt-in): a draft-00 client is detected, translated and counted", () => {
  const h = new Harness({ upstreamTls: "off", legacyFraming: true });
  h.run({
    type: "client",
    input: { type: "transport-opened", now: 1, secure: true, streamId: "ws-1" },
  });
  const out = h.client(
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>",
  );
  assert(out.some((o) => o.type === "notice" && o.event === "legacy-framing"));
  h.run({ type: "upstream", input: { type: "transport-opened", now: ++h.now, secure: false } });
  h.upstream(
    HEADER +
      "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>",
  );
  assertEquals(
    h.toClient[0],
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='up-1' version='1.0' xml:lang='en'>",
  );
  // Stanzas rely on the header's namespaces; whitespace keepalives are tolerated.
  h.client(" ");
  h.client("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>");
  assertEquals(
    h.toUpstream.at(-1),
    "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>",
  );
  h.upstream("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
  h.client(
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>",
  );
  assert(h.toUpstream.at(-1)!.startsWith("<?xml version='1.0'?><stream:stream"), "restart");
  h.upstream(HEADER.replace("up-1", "up-2") + "<stream:features/>");
  h.client("<message to='a@localhost'><body>hi</body></message>");
  // Draft-00 messages are parts of one document: they take the tree path, serialized again.
  assertEquals(h.toUpstream.at(-1), "<message to='a@localhost'><body>hi</body></message>");
  h.client("</stream:stream>");
  assertEquals(h.toUpstream.at(-1), "</stream:stream>");
});

Deno.test("digest §3 legacy framing is off by default: a draft-00 header gets the RFC 7395 error", () => {
  const h = new Harness();
  h.run({
    type: "client",
    input: { type: "transport-opened", now: 1, secure: true, streamId: "ws-1" },
  });
  h.client(
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>",
  );
  assert(
    h.toClient.some((t) => t.includes("not-well-formed") || t.includes("invalid-namespace")),
    h.toClient.join("\n"),
  );
});

Deno.test("digest §3.2 legacy framing: an error during the open is one message (header + error + footer)", () => {
  const h = new Harness({ legacyFraming: true });
  h.run({
    type: "client",
    input: { type: "transport-opened", now: 1, secure: true, streamId: "ws-1" },
  });
  h.client(
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='elsewhere' version='1.0'>",
  );
  assertEquals(h.toClient.length, 1);
  assert(
    h.toClient[0]!.startsWith("<stream:stream ") && h.toClient[0]!.includes("host-unknown") &&
      h.toClient[0]!.endsWith("</stream:stream>"),
  );
});

// ---- issue 8: untrusted bytes through the gateway ------------------------------------------

Deno.test("issue 8 #5: a stanza before SASL success is never relayed; the stream ends with not-authorized (RFC 6120 §4.9.3.12)", () => {
  for (
    const early of [
      "<message xmlns='jabber:client' to='a@localhost'><body>early</body></message>",
      "<iq xmlns='jabber:client' type='get' id='1'><query xmlns='jabber:iq:roster'/></iq>",
      "<presence xmlns='jabber:client'/>",
      "<enable xmlns='urn:xmpp:sm:3'/>",
      // Registration is relayed only when the server offered it (see below).
      "<iq xmlns='jabber:client' type='get' id='r'><query xmlns='jabber:iq:register'/></iq>",
    ]
  ) {
    const h = new Harness({ upstreamTls: "off" });
    h.open(
      "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></stream:features>",
    );
    const sent = h.toUpstream.length;
    h.client(early);
    // Upstream gets at most the gateway's own stream error and footer, never the element.
    for (const text of h.toUpstream.slice(sent)) {
      assert(text.startsWith("<stream:error>") || text === "</stream:stream>", text);
    }
    assert(h.toClient.some((t) => t.includes("<not-authorized")), early);
    assertEquals(h.toClient.at(-1), `<close xmlns='${F}'/>`);
    assert(h.all.some((o) => o.type === "upstream" && o.output.type === "close-transport"));
  }
  // Also while the upstream is not ready yet (the element would have been buffered).
  const h = new Harness({ upstreamTls: "off" });
  h.run({
    type: "client",
    input: { type: "transport-opened", now: 1, secure: true, streamId: "ws-1" },
  });
  h.client(OPEN);
  h.client("<message xmlns='jabber:client' to='a@localhost'/>");
  assertEquals(h.gw.buffer, []);
  assert(h.toClient.some((t) => t.includes("<not-authorized")));
});

Deno.test("issue 8 #5: XEP-0077 registration is relayed before login only when the server offers it", () => {
  const h = new Harness({ upstreamTls: "off" });
  h.open(
    "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>" +
      "<register xmlns='http://jabber.org/features/iq-register'/></stream:features>",
  );
  const register =
    "<iq xmlns='jabber:client' type='get' id='r'><query xmlns='jabber:iq:register'/></iq>";
  h.client(register);
  assertEquals(
    h.toUpstream.at(-1),
    "<iq type='get' id='r'><query xmlns='jabber:iq:register'/></iq>",
  );
  h.client("<iq xmlns='jabber:client' type='get' id='x'><query xmlns='jabber:iq:roster'/></iq>");
  assert(h.toClient.some((t) => t.includes("<not-authorized")));
});

Deno.test("issue 8 #4: a stream error after SASL success and before the restart opens a new upstream document first", () => {
  const h = new Harness({ upstreamTls: "off" });
  h.open(
    "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></stream:features>",
  );
  h.client("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>");
  h.upstream("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
  const sent = h.toUpstream.length;
  // The client breaks the framing instead of restarting: its stream error goes upstream.
  h.client("<message xmlns='jabber:client'><unclosed></message>");
  const after = h.toUpstream.slice(sent);
  assertEquals(after.length, 3, after.join("\n"));
  assert(after[0]!.startsWith("<?xml version='1.0'?><stream:stream "), "a new header first");
  assert(after[1]!.startsWith("<stream:error>") && after[1]!.includes("not-well-formed"));
  assertEquals(after[2], "</stream:stream>");
  // The bytes after <success/> form one well-formed document: the new header binds stream:.
  const doc = after.join("").replace(/^<\?xml[^>]*\?>/, "");
  assert(doc.includes("xmlns:stream='http://etherx.jabber.org/streams'"));
});

Deno.test("issue 9 #7: an upstream see-other-host is looked up in a Map (no prototype keys)", () => {
  for (const host of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
    const h = new Harness({ upstreamTls: "off" });
    h.open("<stream:features/>");
    h.upstream(
      "<stream:error><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>" + host +
        "</see-other-host></stream:error>",
    );
    assert(h.toClient.some((t) => t.includes("<see-other-host")), host);
    assert(h.all.some((o) => o.type === "notice" && o.event === "unmapped-see-other-host"));
  }
});

Deno.test("issue 8 #4: the client's <close/> after SASL success and before the restart closes upstream TCP without a bare footer", () => {
  const h = new Harness({ upstreamTls: "off" });
  h.open(
    "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></stream:features>",
  );
  h.client("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>");
  h.upstream("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
  const sent = h.toUpstream.length;
  h.client(`<close xmlns='${F}'/>`);
  assertEquals(h.toUpstream.slice(sent), [], "no footer outside a document");
  assert(h.all.some((o) => o.type === "upstream" && o.output.type === "close-transport"));
  assertEquals(h.toClient.at(-1), `<close xmlns='${F}'/>`, "the client's <close/> is answered");
});

Deno.test("RFC 6120 §6.4.5: the gateway bounds failed SASL attempts itself (maxAuthFailures, default 3)", () => {
  const h = new Harness({ upstreamTls: "off" });
  h.open(
    "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></stream:features>",
  );
  const failure = "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>";
  for (let i = 1; i <= 3; i++) {
    h.client("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYw==</auth>");
    h.upstream(failure);
    assert(h.toClient.some((t) => t.startsWith("<failure")), `failure ${i} is relayed`);
    assertEquals(h.toClient.some((t) => t.includes("<policy-violation")), i === 3, `after ${i}`);
  }
  assertEquals(h.toClient.at(-1), `<close xmlns='${F}'/>`);
  assert(h.all.some((o) => o.type === "upstream" && o.output.type === "close-transport"));
  // Pipelined attempts are bounded before they are relayed.
  const p = new Harness({ upstreamTls: "off" });
  p.open(
    "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></stream:features>",
  );
  const before = p.toUpstream.length;
  for (let i = 0; i < 10; i++) {
    p.client("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='X-EVIL'/>");
  }
  assertEquals(p.toUpstream.slice(before).filter((t) => t.startsWith("<auth")).length, 3);
  assert(p.toClient.some((t) => t.includes("<policy-violation")));
});
