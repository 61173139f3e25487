/**
 * Pairs (testing pyramid item 2): a client session and a server session back to back, with a
 * virtual clock. Rules cited as "#N" are those of §1 of the RFC 7395 digest.
 */

import { assert, assertEquals, assertThrows } from "@std/assert";
import {
  CLOSE_CODES,
  DocumentParser,
  element,
  NS,
  type Output,
  type SessionConfig,
  type XmlElement,
  XmppUsageError,
} from "../../core/mod.ts";
import { type Endpoint, Pair } from "./_pair.ts";

const CLIENT: SessionConfig = {
  role: "client",
  to: "example.com",
  from: "juliet@example.com",
  lang: "en",
};
const SERVER: SessionConfig = { role: "server", domains: ["example.com"] };

const FEATURES = element("features", NS.STREAMS, {}, [
  element("mechanisms", NS.SASL, {}, [element("mechanism", NS.SASL, {}, ["PLAIN"])]),
]);
const BIND_FEATURES = element("features", NS.STREAMS, {}, [element("bind", NS.BIND)]);
const AUTH = element("auth", NS.SASL, { mechanism: "PLAIN" }, ["AGp1bGlldABy"]);
const SUCCESS = element("success", NS.SASL);

const parser = new DocumentParser();

/** Parses one sent message as a standalone document (#12, #14). */
function parsed(text: string | undefined): XmlElement {
  if (text === undefined) throw new Error("no message was sent");
  assert(text.startsWith("<") && !text.startsWith("<?xml"), `bad first characters: ${text}`);
  const result = parser.parse(text);
  if (!result.ok) throw new Error(`not one well-formed element (${result.error.text}): ${text}`);
  return result.element;
}

function isFraming(text: string, name: "open" | "close"): boolean {
  const el = parsed(text);
  return el.ns === NS.FRAMING && el.name === name;
}

/** The invariants every pair test ends with. */
function assertHealthy(pair: Pair): void {
  for (const endpoint of [pair.client, pair.server]) {
    const label = endpoint.side;
    assert(endpoint.terminals().length <= 1, `${label}: more than one terminal notice`);
    let closed = false;
    for (const { output } of endpoint.log) {
      if (output.type === "close-transport") closed = true;
      if (output.type === "send-text") {
        assert(!closed, `${label} sent ${output.text} after close-transport`);
        parsed(output.text);
      }
    }
  }
}

function last<T>(items: readonly T[]): T | undefined {
  return items[items.length - 1];
}

/** Connects and opens a stream (server answers with `features`). */
function openPair(
  client: SessionConfig = CLIENT,
  server: SessionConfig = SERVER,
  features: XmlElement = FEATURES,
): Pair {
  const pair = new Pair(client, server);
  pair.connect();
  pair.input("server", { type: "accept-stream", features, nextStreamId: "s2" });
  assertEquals(pair.client.phase, "open");
  assertEquals(pair.server.phase, "open");
  return pair;
}

function terminal(endpoint: Endpoint): Output | undefined {
  const terminals = endpoint.terminals();
  assert(terminals.length <= 1);
  return terminals[0];
}

Deno.test("pair: open, features, SASL success, restart with a new id (#18-#20, #35-#38)", () => {
  const pair = new Pair(CLIENT, SERVER);
  pair.connect();

  // #18: the client's first message is <open/> in the framing namespace, with to, version and
  // (over wss) from; no id.
  const open = parsed(pair.client.sent[0]);
  assertEquals(open.name, "open");
  assertEquals(open.ns, NS.FRAMING);
  assertEquals(open.attrs, {
    to: "example.com",
    version: "1.0",
    from: "juliet@example.com",
    "xml:lang": "en",
  });
  // #17: the server says nothing first.
  assertEquals(pair.server.sent, []);
  assertEquals(pair.server.notices(), [{
    type: "stream-open-requested",
    attributes: { to: "example.com", version: "1.0", from: "juliet@example.com", lang: "en" },
    restart: false,
  }]);
  assertEquals(pair.server.phase, "opening");
  assertEquals(pair.client.phase, "opening");

  pair.input("server", { type: "accept-stream", features: FEATURES, nextStreamId: "s2" });
  // #19: the response header; #20: features in a message of their own.
  assertEquals(pair.server.sent.length, 2);
  const response = parsed(pair.server.sent[0]);
  assertEquals(response.ns, NS.FRAMING);
  assertEquals(response.attrs, {
    from: "example.com",
    to: "juliet@example.com",
    id: "s1",
    version: "1.0",
    "xml:lang": "en",
  });
  assertEquals(parsed(pair.server.sent[1]), FEATURES);
  assertEquals(pair.client.notices(), [
    {
      type: "stream-opened",
      id: "s1",
      attributes: {
        from: "example.com",
        to: "juliet@example.com",
        id: "s1",
        version: "1.0",
        lang: "en",
      },
      restart: false,
    },
    { type: "element-received", element: FEATURES },
  ]);

  // SASL: auth from the client, success from the server.
  pair.input("client", { type: "send-element", element: AUTH });
  assertEquals(last(pair.server.notices()), { type: "element-received", element: AUTH });
  const sentBeforeSuccess = pair.client.sent.length;
  pair.input("server", { type: "send-element", element: SUCCESS });
  assertEquals(pair.client.notices().slice(-2), [
    { type: "element-received", element: SUCCESS },
    { type: "restart-required" },
  ]);
  // Until the restart, nothing may be sent.
  assertThrows(
    () => pair.input("client", { type: "send-element", element: element("presence", NS.CLIENT) }),
    XmppUsageError,
  );
  assertThrows(
    () => pair.input("server", { type: "send-element", element: element("presence", NS.CLIENT) }),
    XmppUsageError,
  );

  // #36 / #37: a fresh <open/>, and no <close/>, after <success/>.
  pair.input("client", { type: "restart-stream" });
  const afterSuccess = pair.client.sent.slice(sentBeforeSuccess);
  assertEquals(afterSuccess.length, 1);
  assert(isFraming(afterSuccess[0]!, "open"));
  assertEquals(parsed(afterSuccess[0]).attrs.to, "example.com");
  assertEquals(last(pair.server.notices()), {
    type: "stream-open-requested",
    attributes: { to: "example.com", version: "1.0", from: "juliet@example.com", lang: "en" },
    restart: true,
  });

  // #35 / #38: a new <open/> with a new id, then the new features.
  pair.input("server", { type: "accept-stream", features: BIND_FEATURES });
  const opened = pair.client.ofType("stream-opened");
  assertEquals(opened.length, 2);
  assertEquals(opened[1]!.id, "s2");
  assertEquals(opened[1]!.restart, true);
  assert(opened[0]!.id !== opened[1]!.id);
  assertEquals(last(pair.client.notices()), { type: "element-received", element: BIND_FEATURES });
  assertEquals(pair.server.ofType("stream-opened").map((o) => [o.id, o.restart]), [
    ["s1", false],
    ["s2", true],
  ]);
  assertEquals(pair.client.phases, ["idle", "opening", "open", "opening", "open"]);
  assertEquals(pair.server.phases, ["idle", "opening", "open", "opening", "open"]);
  assertEquals(pair.client.session.streamId, "s2");
  assertEquals(pair.server.session.streamId, "s2");
  // The only timers left: none (open timers cleared once each header arrived).
  assertEquals(pair.timers(), []);
  assertEquals(pair.client.terminals(), []);
  assertEquals(pair.server.terminals(), []);
  assertHealthy(pair);
});

Deno.test("pair: a restarted stream needs a new id (#38)", () => {
  const pair = new Pair(CLIENT, SERVER);
  pair.connect();
  pair.input("server", { type: "accept-stream", features: FEATURES });
  pair.input("server", { type: "send-element", element: SUCCESS });
  pair.input("client", { type: "restart-stream" });
  // No nextStreamId was supplied: the reducer cannot invent one.
  assertThrows(() => pair.input("server", { type: "accept-stream" }), XmppUsageError);
  // Reusing the first id is refused too.
  assertThrows(() => pair.input("server", { type: "accept-stream", id: "s1" }), XmppUsageError);
  pair.input("server", { type: "accept-stream", id: "s-fresh" });
  assertEquals(last(pair.client.ofType("stream-opened"))?.id, "s-fresh");
  assertHealthy(pair);
});

Deno.test("pair: stanzas both ways arrive intact, each one standalone (#12, #14, #15)", () => {
  const pair = openPair();
  const message = element("message", NS.CLIENT, { to: "romeo@example.net", type: "chat" }, [
    element("body", NS.CLIENT, {}, ["Wherefore art thou? <3 & 'quotes' \"too\""]),
    element("x", "urn:example:x", { "{urn:example:attr}flag": "yes", "xml:lang": "en" }, [
      element("y", "urn:example:x", {}, ["tab\there"]),
    ]),
  ]);
  pair.input("client", { type: "send-element", element: message });
  assertEquals(last(pair.server.notices()), { type: "element-received", element: message });
  const wire = parsed(last(pair.client.sent));
  assertEquals(wire, message);

  const iq = element("iq", NS.CLIENT, { type: "result", id: "p1", to: "juliet@example.com/r" });
  pair.input("server", { type: "send-element", element: iq });
  assertEquals(last(pair.client.notices()), { type: "element-received", element: iq });
  assert(last(pair.server.sent)!.includes("xmlns='jabber:client'"));

  // A features element the server sends later (e.g. after bind) keeps its prefix declaration.
  pair.input("server", { type: "send-element", element: BIND_FEATURES });
  assertEquals(last(pair.client.notices()), { type: "element-received", element: BIND_FEATURES });

  for (let i = 0; i < 20; i++) {
    const presence = element("presence", NS.CLIENT, { id: `p${i}` });
    pair.input(i % 2 === 0 ? "client" : "server", { type: "send-element", element: presence });
  }
  assertEquals(pair.server.ofType("element-received").length, 1 + 10);
  assertEquals(pair.client.ofType("element-received").length, 1 + 1 + 1 + 10);
  assertEquals(pair.client.phase, "open");
  assertEquals(pair.server.phase, "open");
  assertHealthy(pair);
});

Deno.test("pair: STARTTLS is never advertised over WebSocket (#43, #44)", () => {
  const features = element("features", NS.STREAMS, {}, [
    element("starttls", NS.TLS, {}, [element("required", NS.TLS)]),
    ...FEATURES.children,
  ]);
  const pair = openPair(CLIENT, SERVER, features);
  const sent = parsed(pair.server.sent[1]);
  assertEquals(sent, FEATURES);
  assertEquals(pair.client.ofType("element-received")[0]?.element, FEATURES);
  assertHealthy(pair);
});

Deno.test("pair: the client closes; the initiator closes the transport (#27, #28)", () => {
  const pair = openPair();
  pair.input("client", { type: "close-stream" });
  assertEquals(pair.client.sent.filter((t) => isFraming(t, "close")).length, 1);
  assertEquals(pair.server.sent.filter((t) => isFraming(t, "close")).length, 1);
  // The server answered <close/> and left the transport close to the client.
  assertEquals(pair.server.closeIssued, false);
  assertEquals(pair.client.ofType("close-transport"), [{
    type: "close-transport",
    code: CLOSE_CODES.NORMAL,
    reason: "Stream closed",
  }]);
  assertEquals(terminal(pair.client), { type: "stream-closed", initiator: "local" });
  assertEquals(terminal(pair.server), { type: "stream-closed", initiator: "peer" });
  assertEquals(pair.client.phases, ["idle", "opening", "open", "closing", "closed"]);
  assertEquals(pair.server.phases, ["idle", "opening", "open", "closed"]);
  assert(pair.client.transportClosed && pair.server.transportClosed);
  assertEquals(pair.timers(), []);
  assertEquals(pair.client.dropped, []);
  assertEquals(pair.server.dropped, []);
  assertThrows(() => pair.input("client", { type: "close-stream" }), XmppUsageError);
  assertHealthy(pair);
});

Deno.test("pair: the server closes; the server closes the transport (#27, #28)", () => {
  const pair = openPair();
  pair.input("server", { type: "close-stream" });
  assertEquals(pair.client.sent.filter((t) => isFraming(t, "close")).length, 1);
  assertEquals(pair.client.closeIssued, false);
  assertEquals(pair.server.ofType("close-transport").length, 1);
  assertEquals(terminal(pair.server), { type: "stream-closed", initiator: "local" });
  assertEquals(terminal(pair.client), { type: "stream-closed", initiator: "peer" });
  assertEquals(pair.server.phases, ["idle", "opening", "open", "closing", "closed"]);
  assertEquals(pair.client.phases, ["idle", "opening", "open", "closed"]);
  assertEquals(pair.timers(), []);
  assertHealthy(pair);
});

Deno.test("pair: while closing, a side still processes what arrives (RFC 6120 §4.4)", () => {
  const pair = openPair();
  // The server's stanza and the client's <close/> cross on the wire: hold both back.
  pair.deaf.add("client");
  pair.deaf.add("server");
  pair.input("server", { type: "send-element", element: element("message", NS.CLIENT) });
  pair.input("client", { type: "close-stream" });
  assertEquals(pair.client.phase, "closing");
  pair.deaf.clear();
  // The stanza arrives after the client's <close/> went out: it is still delivered.
  pair.input("client", { type: "text-received", data: last(pair.server.sent)! });
  assertEquals(last(pair.client.notices())?.type, "element-received");
  // But no new element may be sent while closing.
  assertThrows(
    () => pair.input("client", { type: "send-element", element: element("presence", NS.CLIENT) }),
    XmppUsageError,
  );
  // Now the client's <close/> reaches the server, which answers; the handshake completes.
  pair.input("server", { type: "text-received", data: last(pair.client.sent)! });
  assertEquals(terminal(pair.client), { type: "stream-closed", initiator: "local" });
  assertEquals(terminal(pair.server), { type: "stream-closed", initiator: "peer" });
  assertHealthy(pair);
});

Deno.test("pair: a peer that never answers <close/> times out (#29)", () => {
  const pair = openPair({ ...CLIENT, closeTimeoutMs: 5_000 });
  pair.deaf.add("server");
  pair.input("client", { type: "close-stream" });
  assertEquals(pair.timers(), [{ side: "client", timer: "close", at: 5_000 }]);
  pair.advance(4_999);
  assertEquals(pair.client.phase, "closing");
  assertEquals(pair.client.terminals(), []);
  pair.advance(1);
  assertEquals(pair.client.ofType("close-transport"), [{
    type: "close-transport",
    code: CLOSE_CODES.NORMAL,
    reason: "Close handshake timed out",
  }]);
  assertEquals(terminal(pair.client), {
    type: "stream-failed",
    reason: "close-timeout",
    by: "local",
  });
  assertEquals(terminal(pair.server), {
    type: "stream-failed",
    reason: "transport-lost",
    by: "transport",
  });
  assertEquals(pair.client.phase, "closed");
  assertEquals(pair.server.phase, "closed");
  assertEquals(pair.timers(), []);
  assertHealthy(pair);
});

Deno.test("pair: a peer that answers <close/> but never closes the transport (#28, #29)", () => {
  const pair = openPair(CLIENT, { ...SERVER, closeTimeoutMs: 2_000 });
  pair.neverClosesTransport.add("client");
  pair.input("client", { type: "close-stream" });
  assertEquals(terminal(pair.client), { type: "stream-closed", initiator: "local" });
  assertEquals(terminal(pair.server), { type: "stream-closed", initiator: "peer" });
  assertEquals(pair.linkClosed, false);
  assertEquals(pair.timers(), [{ side: "server", timer: "close", at: 2_000 }]);
  pair.advance(2_000);
  assertEquals(pair.server.ofType("close-transport"), [{
    type: "close-transport",
    code: CLOSE_CODES.NORMAL,
    reason: "Close handshake timed out",
  }]);
  assert(pair.linkClosed);
  // Still exactly one terminal notice each.
  assertEquals(pair.server.terminals().length, 1);
  assertEquals(pair.client.terminals().length, 1);
  assertEquals(pair.timers(), []);
  assertHealthy(pair);
});

Deno.test("pair: open timeout when the server application never accepts", () => {
  const pair = new Pair({ ...CLIENT, openTimeoutMs: 10_000 }, SERVER);
  pair.connect();
  assertEquals(pair.server.phase, "opening");
  pair.advance(9_999);
  assertEquals(pair.client.terminals(), []);
  pair.advance(1);
  assertEquals(pair.client.ofType("close-transport"), [{
    type: "close-transport",
    code: CLOSE_CODES.POLICY_VIOLATION,
    reason: "No stream header in time",
  }]);
  assertEquals(terminal(pair.client), {
    type: "stream-failed",
    reason: "open-timeout",
    by: "local",
  });
  assertEquals(terminal(pair.server), {
    type: "stream-failed",
    reason: "transport-lost",
    by: "transport",
  });
  assertEquals(pair.server.closeIssued, false);
  assertEquals(pair.timers(), []);
  assertHealthy(pair);
});

Deno.test("pair: open timeout when the client's <open/> never arrives (#17)", () => {
  const pair = new Pair({ ...CLIENT, openTimeoutMs: 60_000 }, { ...SERVER, openTimeoutMs: 20_000 });
  pair.deaf.add("server");
  pair.connect();
  pair.advance(20_000);
  assertEquals(terminal(pair.server), {
    type: "stream-failed",
    reason: "open-timeout",
    by: "local",
  });
  assertEquals(pair.server.ofType("close-transport")[0]?.code, CLOSE_CODES.POLICY_VIOLATION);
  assertEquals(pair.server.sent, []);
  assertEquals(terminal(pair.client), {
    type: "stream-failed",
    reason: "transport-lost",
    by: "transport",
  });
  assertEquals(pair.timers(), []);
  assertHealthy(pair);
});

Deno.test("pair: open timeout when the client never restarts after <success/> (#35)", () => {
  const pair = openPair(CLIENT, { ...SERVER, openTimeoutMs: 15_000 });
  pair.advance(1_000);
  pair.input("server", { type: "send-element", element: SUCCESS });
  assertEquals(last(pair.client.notices()), { type: "restart-required" });
  pair.advance(14_999);
  assertEquals(pair.server.terminals(), []);
  pair.advance(1);
  assertEquals(terminal(pair.server), {
    type: "stream-failed",
    reason: "open-timeout",
    by: "local",
  });
  assertEquals(terminal(pair.client), {
    type: "stream-failed",
    reason: "transport-lost",
    by: "transport",
  });
  assertHealthy(pair);
});

Deno.test("pair: transport loss ends both streams (#30)", () => {
  const pair = openPair();
  pair.input("client", { type: "send-element", element: element("presence", NS.CLIENT) });
  pair.advance(100);
  pair.cut();
  for (const endpoint of [pair.client, pair.server]) {
    assertEquals(terminal(endpoint), {
      type: "stream-failed",
      reason: "transport-lost",
      by: "transport",
    });
    assertEquals(endpoint.phase, "closed");
    assertEquals(endpoint.closeIssued, false);
    // A lost transport is not a close handshake: no <close/> was sent.
    assertEquals(endpoint.sent.filter((t) => isFraming(t, "close")), []);
    assertThrows(
      () =>
        pair.input(endpoint.side, {
          type: "send-element",
          element: element("presence", NS.CLIENT),
        }),
      XmppUsageError,
    );
  }
  assertEquals(pair.timers(), []);
  assertHealthy(pair);
});

Deno.test("pair: transport loss while closing is a failure, not a close", () => {
  const pair = openPair();
  pair.deaf.add("server");
  pair.input("client", { type: "close-stream" });
  pair.cut();
  assertEquals(terminal(pair.client), {
    type: "stream-failed",
    reason: "transport-lost",
    by: "transport",
  });
  assertEquals(pair.timers(), []);
  assertHealthy(pair);
});

Deno.test("pair: redirect with see-other-uri in answer to <open/>, followed (#32, #33, #34)", () => {
  const pair = new Pair(CLIENT, SERVER);
  pair.connect();
  pair.input("server", { type: "close-stream", seeOtherUri: "wss://b.example.com/xmpp" });
  const close = parsed(last(pair.server.sent));
  assertEquals(
    close,
    element("close", NS.FRAMING, { "see-other-uri": "wss://b.example.com/xmpp" }),
  );
  assertEquals(pair.server.ofType("close-transport")[0]?.code, CLOSE_CODES.NORMAL);
  assertEquals(terminal(pair.server), { type: "stream-closed", initiator: "local" });
  assertEquals(terminal(pair.client), {
    type: "stream-redirected",
    uri: "wss://b.example.com/xmpp",
  });
  assertEquals(pair.client.ofType("stream-opened"), []);
  assertEquals(pair.client.phase, "closed");
  assertEquals(pair.server.phase, "closed");
  assertEquals(pair.timers(), []);
  assertHealthy(pair);

  // The application follows: a new session to the new endpoint, with the same `to` (#34).
  const next = new Pair(CLIENT, SERVER);
  next.connect({ streamId: "b1" });
  next.input("server", { type: "accept-stream", features: FEATURES });
  assertEquals(parsed(next.client.sent[0]).attrs.to, "example.com");
  assertEquals(next.client.ofType("stream-opened")[0]?.id, "b1");
  assertHealthy(next);
});

Deno.test("pair: redirect of an open stream (#32)", () => {
  const pair = openPair();
  pair.input("server", { type: "close-stream", seeOtherUri: "https://b.example.com/bosh" });
  assertEquals(terminal(pair.client), {
    type: "stream-redirected",
    uri: "https://b.example.com/bosh",
  });
  assertEquals(terminal(pair.server), { type: "stream-closed", initiator: "local" });
  assertHealthy(pair);
});

Deno.test("pair: a redirect from wss to ws is refused by the client (#33)", () => {
  // TLS ends in front of the server, so the server itself sees an insecure transport.
  const pair = new Pair(CLIENT, SERVER);
  pair.connect({ clientSecure: true, serverSecure: false });
  pair.input("server", { type: "close-stream", seeOtherUri: "ws://x.example.com/xmpp" });
  const failed = terminal(pair.client);
  assertEquals(failed?.type, "stream-failed");
  assertEquals(failed?.type === "stream-failed" && failed.reason, "insecure-redirect");
  assertEquals(pair.client.ofType("stream-redirected"), []);
  assertEquals(pair.client.phase, "closed");
  assertHealthy(pair);

  // From plain ws, a ws target is acceptable.
  const plain = new Pair(CLIENT, SERVER);
  plain.connect({ clientSecure: false });
  plain.input("server", { type: "close-stream", seeOtherUri: "ws://x.example.com/xmpp" });
  assertEquals(terminal(plain.client), {
    type: "stream-redirected",
    uri: "ws://x.example.com/xmpp",
  });
  // Without TLS the client does not reveal its JID (#18, RFC 6120 §4.7.1).
  assertEquals(parsed(plain.client.sent[0]).attrs.from, undefined);
  assertHealthy(plain);

  // A secure server refuses to send such a redirect at all.
  const secure = new Pair(CLIENT, SERVER);
  secure.connect();
  assertThrows(
    () => secure.input("server", { type: "close-stream", seeOtherUri: "http://x.example.com/" }),
    XmppUsageError,
  );
  assertEquals(secure.server.phase, "opening");
});

Deno.test("pair: no xmpp subprotocol means no stream (#4)", () => {
  const pair = new Pair(CLIENT, SERVER);
  pair.connect({ protocol: "chat" });
  assertEquals(pair.client.sent, []);
  assertEquals(pair.client.ofType("close-transport")[0]?.code, CLOSE_CODES.PROTOCOL_ERROR);
  const failed = terminal(pair.client);
  assertEquals(failed?.type === "stream-failed" && failed.reason, "subprotocol");
  assertEquals(terminal(pair.server)?.type, "stream-failed");
  assertHealthy(pair);
});

Deno.test("pair: a refused <open/> gets a header, the error, then <close/> (#24, #25)", () => {
  const pair = new Pair({ ...CLIENT, to: "nope.example" }, SERVER);
  pair.connect();
  const sent = pair.server.sent.map(parsed);
  assertEquals(sent.map((el) => el.name), ["open", "error", "close"]);
  assertEquals(sent[0]!.attrs.from, "example.com");
  assertEquals(pair.server.ofType("close-transport").length, 1);
  assertEquals(terminal(pair.server), {
    type: "stream-failed",
    reason: "stream-error",
    by: "local",
    condition: "host-unknown",
    text: "nope.example is not served here",
  });
  const failed = terminal(pair.client);
  assertEquals(failed?.type === "stream-failed" && [failed.by, failed.condition], [
    "peer",
    "host-unknown",
  ]);
  assertEquals(pair.client.phase, "closed");
  assertEquals(pair.server.phase, "closed");
  assertHealthy(pair);
});

Deno.test("pair: a gateway-style server relays in-flight data before answering <close/>", () => {
  const pair = openPair(CLIENT, { ...SERVER, autoReplyClose: false });
  pair.input("client", { type: "close-stream" });
  assertEquals(last(pair.server.notices()), { type: "close-requested" });
  assertEquals(pair.server.phase, "closing");
  const relayed = element("message", NS.CLIENT, { id: "late" });
  pair.input("server", { type: "send-element", element: relayed });
  assertEquals(last(pair.client.notices()), { type: "element-received", element: relayed });
  pair.input("server", { type: "close-stream" });
  assertEquals(terminal(pair.server), { type: "stream-closed", initiator: "peer" });
  assertEquals(terminal(pair.client), { type: "stream-closed", initiator: "local" });
  assertEquals(pair.client.ofType("close-transport").length, 1);
  assertEquals(pair.server.closeIssued, false);
  assertEquals(pair.timers(), []);
  assertHealthy(pair);
});

Deno.test("pair over RFC 6120 TCP framing: open, SASL restart, stanzas, close", () => {
  const pair = new Pair(
    { ...CLIENT, transport: "tcp" },
    { ...SERVER, transport: "tcp" },
  );
  pair.connect();
  assert(pair.client.sent[0]!.startsWith("<?xml version='1.0'?><stream:stream "));
  pair.input("server", { type: "accept-stream", features: FEATURES, nextStreamId: "s2" });
  assertEquals(pair.client.ofType("stream-opened").map((o) => o.id), ["s1"]);
  assertEquals(last(pair.client.notices()), { type: "element-received", element: FEATURES });

  pair.input("client", { type: "send-element", element: AUTH });
  assertEquals(last(pair.server.notices()), { type: "element-received", element: AUTH });
  pair.input("server", { type: "send-element", element: SUCCESS });
  assertEquals(last(pair.client.notices()), { type: "restart-required" });
  // RFC 6120 §4.3.3: both sides start a new document; the client sends a new header (with no
  // footer first), and the server must parse it as the start of a new stream.
  pair.input("client", { type: "restart-stream" });
  assertEquals(pair.server.terminals(), [], "the server refused the restarted stream");
  assertEquals(last(pair.server.notices()), {
    type: "stream-open-requested",
    attributes: { to: "example.com", version: "1.0", from: "juliet@example.com", lang: "en" },
    restart: true,
  });
  pair.input("server", { type: "accept-stream", features: BIND_FEATURES });
  assertEquals(pair.client.ofType("stream-opened").map((o) => [o.id, o.restart]), [
    ["s1", false],
    ["s2", true],
  ]);

  const message = element("message", NS.CLIENT, { to: "romeo@example.net" }, [
    element("body", NS.CLIENT, {}, ["caf\u00e9 \u{1F600}"]),
  ]);
  pair.input("client", { type: "send-element", element: message });
  assertEquals(last(pair.server.notices()), { type: "element-received", element: message });
  pair.input("server", { type: "send-element", element: message });
  assertEquals(last(pair.client.notices()), { type: "element-received", element: message });

  pair.input("client", { type: "close-stream" });
  assertEquals(last(pair.client.sent), "</stream:stream>");
  assertEquals(last(pair.server.sent), "</stream:stream>");
  assertEquals(terminal(pair.client), { type: "stream-closed", initiator: "local" });
  assertEquals(terminal(pair.server), { type: "stream-closed", initiator: "peer" });
  assertEquals(pair.timers(), []);
});
