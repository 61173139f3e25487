/**
 * The pure client reducer (core/client/client.ts) against scripted server messages on a
 * virtual clock: the login transcript, subprotocol and redirect rules, backoff with a fake
 * random, fatal errors, XEP-0198 counting, resumption and its failure, liveness probes, iq
 * correlation, the close handshake and the offline queue. Rules cited as "#N" are those of the
 * digest's §1.
 */

import { assert, assertEquals, assertMatch, assertThrows } from "@std/assert";
import { element, NS, XmppUsageError } from "../../core/mod.ts";
import { clientStep, createClient, messageStanza } from "../../core/client/mod.ts";
import { bindFeatures, F, Harness, mechanisms, OPEN_REPLY, parse, SASL, SM } from "./_harness.ts";

const CLOSE = `<close xmlns='${F}'/>`;
const types = (outputs: readonly { type: string }[]) =>
  outputs.map((o) => o.type).filter((t) => t !== "set-timer" && t !== "clear-timer");

Deno.test("reducer: the login transcript (#18, #44 STARTTLS ignored, #35-#37 restart, bind, XEP-0198)", () => {
  const h = new Harness({ resource: "r" });
  assertEquals(h.input({ type: "connect" }).find((o) => o.type === "open-transport"), {
    type: "open-transport",
    url: "ws://127.0.0.1:5280/xmpp-websocket",
  });
  h.take();
  h.input({ type: "transport-opened", protocol: "xmpp" });
  // #18: to and version; no from over an unencrypted connection.
  assertEquals(h.sent(), [`<open xmlns='${F}' to='localhost' version='1.0'/>`]);
  h.server(OPEN_REPLY);
  h.server(
    mechanisms(
      ["PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256"],
      "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>",
    ),
  );
  const auth = parse(h.sent()[0]!);
  assertEquals([auth.name, auth.attrs.mechanism], ["auth", "SCRAM-SHA-256"]);
  const rest = new Harness({ resource: "r" });
  rest.open(mechanisms(["SCRAM-SHA-256"]));
  rest.scram();
  // #36 / #37: after <success/>, a fresh <open/> and no <close/>.
  assertEquals(rest.sent(), [`<open xmlns='${F}' to='localhost' version='1.0'/>`]);
  rest.server(OPEN_REPLY.replace("s1", "s2"));
  rest.server(bindFeatures(true));
  const bind = parse(rest.sent()[0]!);
  assertEquals([bind.name, bind.attrs.type], ["iq", "set"]);
  assertMatch(
    rest.all.flatMap((o) => o.type === "send-text" ? [o.text] : []).at(-1)!,
    /<resource>r<\/resource>/,
  );
  rest.server(
    `<iq xmlns='jabber:client' type='result' id='${bind.attrs.id}'><bind xmlns='${NS.BIND}'><jid>alice@localhost/r</jid></bind></iq>`,
  );
  assertEquals(rest.sent(), [`<enable xmlns='${SM}' resume='true'/>`]);
  const outputs = rest.server(`<enabled xmlns='${SM}' id='abc' resume='true'/>`);
  assertEquals(outputs.find((o) => o.type === "online"), {
    type: "online",
    jid: "alice@localhost/r",
    resumed: false,
    streamManagement: true,
  });
  assertEquals(rest.state.status, "online");
  assert(rest.timers.has("liveness"));
});

Deno.test("reducer: over wss the header carries from (#18); PLAIN only on wss or loopback unless allowed", () => {
  const secure = new Harness({ endpoints: ["wss://example.com/ws"] });
  secure.input({ type: "connect" });
  secure.take();
  secure.input({ type: "transport-opened", protocol: "xmpp" });
  assertEquals(secure.sent(), [
    `<open xmlns='${F}' from='alice@localhost' to='localhost' version='1.0'/>`,
  ]);
  secure.server(OPEN_REPLY);
  secure.server(mechanisms(["PLAIN"]));
  assertEquals(parse(secure.sent()[0]!).attrs.mechanism, "PLAIN");

  const insecure = new Harness({ endpoints: ["ws://example.com/ws"], allowInsecure: true });
  insecure.open(mechanisms(["PLAIN"]));
  const closed = insecure.state.connection?.error;
  assertEquals(closed?.kind === "auth-failed" && closed.condition, "no-mechanism");
  const insecureSent = insecure.sent();
  assertEquals(insecureSent.at(-1), CLOSE);
  assert(!insecureSent.some((t) => t.startsWith("<auth")), "no <auth/> in clear text");
  insecure.server(CLOSE);
  assertEquals(insecure.state.status, "closed");
  assertEquals(insecure.state.error?.reconnect, "never");

  const allowed = new Harness({
    endpoints: ["ws://example.com/ws"],
    allowInsecure: true,
    allowPlain: true,
  });
  allowed.open(mechanisms(["PLAIN"]));
  assertEquals(parse(allowed.sent().at(-1)!).attrs.mechanism, "PLAIN");

  const loopback = new Harness();
  loopback.open(mechanisms(["PLAIN"]));
  assertEquals(parse(loopback.sent().at(-1)!).attrs.mechanism, "PLAIN");
});

Deno.test("reducer: a wrong SCRAM server signature is refused: no restart, closed, never retried", () => {
  const h = new Harness();
  h.open(mechanisms(["SCRAM-SHA-1"]));
  h.scram("wonderland", true);
  assertEquals(h.sent(), [CLOSE]);
  h.server(CLOSE);
  assertEquals(h.state.error, {
    kind: "auth-failed",
    condition: "server-signature-mismatch",
    text: "the server signature is wrong",
    reconnect: "never",
  });
  assert(!h.all.some((o) => o.type === "online"));
});

Deno.test("reducer: SASL failure from the server ends the client (not-authorized: never)", () => {
  const h = new Harness({ password: "not-the-password" });
  h.open(mechanisms(["SCRAM-SHA-256"]));
  h.scram("wonderland");
  h.server(CLOSE);
  assertEquals(h.state.status, "closed");
  assertEquals(h.state.error?.kind === "auth-failed" && h.state.error.condition, "not-authorized");
});

Deno.test("reducer: no xmpp subprotocol: no <open/> (#4); the next candidate is tried", () => {
  const h = new Harness({ endpoints: ["ws://127.0.0.1:1/a", "ws://127.0.0.1:2/b"] });
  h.input({ type: "connect" });
  h.take();
  const outputs = h.input({ type: "transport-opened", protocol: "" });
  assert(!outputs.some((o) => o.type === "send-text"));
  assertEquals(outputs.filter((o) => o.type === "close-transport").length, 1);
  assertEquals(outputs.find((o) => o.type === "open-transport"), {
    type: "open-transport",
    url: "ws://127.0.0.1:2/b",
  });
  h.input({ type: "transport-opened", protocol: "chat" });
  assertEquals(h.state.status, "closed");
  assertEquals(h.state.error, {
    kind: "connection",
    reason: "subprotocol",
    text: "The server answered with subprotocol 'chat'",
    reconnect: "never",
  });
});

Deno.test("reducer: see-other-uri is followed at once, downgrades refused (#33), at most 5 in a row (#34)", () => {
  const h = new Harness({ endpoints: ["wss://a.example/ws"] });
  h.input({ type: "connect" });
  h.input({ type: "transport-opened", protocol: "xmpp" });
  h.take();
  h.server(`<close xmlns='${F}' see-other-uri='wss://b.example/ws'/>`);
  assertEquals(h.sent(), [CLOSE]);
  h.input({ type: "transport-closed", code: 1000 });
  const next = h.take();
  assertEquals(next.find((o) => o.type === "open-transport"), {
    type: "open-transport",
    url: "wss://b.example/ws",
  });
  for (let i = 0; i < 5; i++) {
    h.input({ type: "transport-opened", protocol: "xmpp" });
    h.server(OPEN_REPLY);
    h.server(`<close xmlns='${F}' see-other-uri='wss://c${i}.example/ws'/>`);
    h.input({ type: "transport-closed", code: 1000 });
  }
  assertEquals(h.state.status, "closed");
  assertEquals(
    h.state.error?.kind === "redirect" && h.state.error.text,
    "more than 5 redirects in a row",
  );
  assertEquals(h.all.filter((o) => o.type === "open-transport").length, 6);

  // wss -> ws: refused by the core, nothing opened.
  const down = new Harness({ endpoints: ["wss://a.example/ws"] });
  down.input({ type: "connect" });
  down.input({ type: "transport-opened", protocol: "xmpp" });
  down.server(`<close xmlns='${F}' see-other-uri='ws://evil.example/ws'/>`);
  down.input({ type: "transport-closed", code: 1000 });
  assertEquals(down.state.status, "closed");
  assertEquals(
    down.state.error?.kind === "redirect" && down.state.error.uri,
    "ws://evil.example/ws",
  );
  assertEquals(down.all.filter((o) => o.type === "open-transport").length, 1);
  // wss -> https (BOSH): not a transport this client speaks.
  const bosh = new Harness({ endpoints: ["wss://a.example/ws"] });
  bosh.input({ type: "connect" });
  bosh.input({ type: "transport-opened", protocol: "xmpp" });
  bosh.server(`<close xmlns='${F}' see-other-uri='https://a.example/bosh'/>`);
  bosh.input({ type: "transport-closed", code: 1000 });
  assertEquals(bosh.state.error?.reconnect, "never");
  assertEquals(bosh.all.filter((o) => o.type === "open-transport").length, 1);
});

Deno.test("reducer: failures before the first login are not retried; a connection that never opens times out", () => {
  const h = new Harness();
  h.input({ type: "connect" });
  h.input({ type: "transport-closed", code: 1006 });
  assertEquals(h.state.status, "closed");
  assertEquals(h.all.filter((o) => o.type === "open-transport").length, 1);

  const hanging = new Harness({ negotiationTimeoutMs: 5_000 });
  hanging.input({ type: "connect" });
  hanging.advance(5_000);
  assertEquals(hanging.state.status, "closed");
  assert(hanging.all.some((o) => o.type === "close-transport"));
});

Deno.test("reducer: reconnection delays are capped exponential with full jitter (fake random 0.5)", () => {
  const h = new Harness({ backoff: { baseMs: 1_000, maxMs: 3_000 } });
  h.login();
  h.jitter = "80000000"; // randomFraction = 0.5
  const delays: number[] = [];
  const attempts = () => h.all.filter((o) => o.type === "open-transport").length;
  for (let i = 0; i < 4; i++) {
    h.take();
    const base = attempts();
    const start = h.now;
    h.input({ type: "transport-closed", code: 1006 });
    const disconnected = h.peek("disconnected")[0]!;
    assertEquals(disconnected.error.reconnect, "backoff");
    delays.push(disconnected.retryAt - start);
    assertEquals(h.state.status, "reconnecting");
    assert(!h.peek("open-transport").length, "never two attempts at once");
    h.advance(disconnected.retryAt - start - 1);
    assertEquals(attempts(), base);
    h.advance(1);
    assertEquals(attempts(), base + 1);
    h.input({ type: "transport-closed", code: 1006 }); // the attempt fails at once...
    h.take();
    const again = h.all.filter((o) => o.type === "disconnected").at(-1)!;
    if (again.type !== "disconnected") throw new Error();
    delays.push(again.retryAt - h.now);
    h.advance(again.retryAt - h.now);
    h.input({ type: "transport-opened", protocol: "xmpp" }); // ...the next one succeeds
    h.server(OPEN_REPLY);
    h.server(mechanisms(["SCRAM-SHA-256"]));
    h.scram();
    h.server(OPEN_REPLY.replace("s1", "s2"));
    h.server(bindFeatures(true));
    h.take();
    h.server(`<resumed xmlns='${SM}' previd='sm-1' h='0'/>`);
    assertEquals(h.state.status, "online");
  }
  // 0.5 * min(3000, 1000 * 2^n), the count restarting once online.
  assertEquals(delays, [500, 1000, 500, 1000, 500, 1000, 500, 1000]);
  const capped = new Harness({ backoff: { baseMs: 1_000, maxMs: 3_000 } });
  capped.login();
  capped.jitter = "ffffffff";
  const waits: number[] = [];
  capped.input({ type: "transport-closed", code: 1006 });
  for (let i = 0; i < 4; i++) {
    const d = capped.all.filter((o) => o.type === "disconnected").at(-1)!;
    if (d.type !== "disconnected") throw new Error();
    waits.push(d.retryAt - capped.now);
    capped.advance(d.retryAt - capped.now);
    capped.input({ type: "transport-closed", code: 1006 });
  }
  assertEquals(waits, [999, 1999, 2999, 2999]);
});

Deno.test("reducer: fatal stream errors stop the client; transient ones are retried", () => {
  const h = new Harness();
  h.login();
  h.take();
  h.server(
    `<stream:error xmlns:stream='http://etherx.jabber.org/streams'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>`,
  );
  assertEquals(h.sent(), [CLOSE]);
  h.server(CLOSE);
  assertEquals(h.state.status, "closed");
  assertEquals(h.state.error, {
    kind: "stream-error",
    by: "peer",
    condition: "conflict",
    reconnect: "never",
  });
  h.advance(120_000);
  assertEquals(h.all.filter((o) => o.type === "open-transport").length, 1);

  const t = new Harness();
  t.login();
  t.jitter = "80000000";
  t.server(
    `<error xmlns='http://etherx.jabber.org/streams'><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></error>`,
  );
  t.server(CLOSE);
  assertEquals(t.state.status, "reconnecting");
  assertEquals(t.state.error, undefined);
});

Deno.test("reducer: XEP-0198 counts inbound stanzas, answers <r/>, asks every ackEvery stanzas, applies <a/>", () => {
  const h = new Harness({ ackEvery: 3 });
  h.login();
  h.take();
  h.server("<message xmlns='jabber:client' from='bob@localhost/x'><body>1</body></message>");
  h.server("<presence xmlns='jabber:client' from='bob@localhost/x'/>");
  h.server(`<r xmlns='${SM}'/>`);
  assertEquals(h.sent(), [`<a xmlns='${SM}' h='2'/>`]);
  for (let i = 1; i <= 3; i++) {
    h.input({ type: "send", element: messageStanza("bob@localhost", `m${i}`, { id: `m${i}` }) });
  }
  const sent = h.sent();
  assertEquals(sent.length, 4);
  assertEquals(sent[3], `<r xmlns='${SM}'/>`);
  const acked = h.server(`<a xmlns='${SM}' h='2'/>`);
  assertEquals(
    acked.flatMap((o) => o.type === "stanzas-acked" ? o.elements.map((e) => e.attrs.id) : []),
    ["m1", "m2"],
  );
  assertEquals(h.state.sm?.unacked.length, 1);
  // An h above what was sent: stream error (XEP-0198 handled-count-too-high).
  h.server(`<a xmlns='${SM}' h='9'/>`);
  assertMatch(h.sent()[0]!, /undefined-condition/);
});

Deno.test("reducer: resumption resends what was not acknowledged, keeps iqs, answers with h", () => {
  const h = new Harness();
  h.login({ resumeId: "prev-1" });
  h.server("<message xmlns='jabber:client' from='bob@localhost/x'><body>in</body></message>");
  for (let i = 1; i <= 3; i++) {
    h.input({ type: "send", element: messageStanza("bob@localhost", `m${i}`, { id: `m${i}` }) });
  }
  h.input({
    type: "send-iq",
    element: element("iq", NS.CLIENT, { type: "get", id: "q1", to: "localhost" }, [
      element("ping", "urn:xmpp:ping"),
    ]),
  });
  h.server(`<a xmlns='${SM}' h='1'/>`);
  h.input({ type: "transport-closed", code: 1006 });
  h.advance(2_000);
  h.input({ type: "transport-opened", protocol: "xmpp" });
  h.server(OPEN_REPLY);
  h.server(mechanisms(["SCRAM-SHA-256"]));
  h.scram();
  h.take();
  h.server(OPEN_REPLY.replace("s1", "s3"));
  h.server(bindFeatures(true));
  assertEquals(h.sent(), [`<resume xmlns='${SM}' previd='prev-1' h='1'/>`]);
  const outputs = h.server(`<resumed xmlns='${SM}' previd='prev-1' h='2'/>`);
  const resent = outputs.flatMap((o) => o.type === "send-text" ? [parse(o.text)] : []);
  assertEquals(resent.map((e) => e.attrs.id ?? e.name), ["m3", "q1", "r"]);
  assertEquals(outputs.find((o) => o.type === "online"), {
    type: "online",
    jid: "alice@localhost/r",
    resumed: true,
    streamManagement: true,
  });
  const answer = h.server(
    "<iq xmlns='jabber:client' type='result' id='q1' from='localhost' to='alice@localhost/r'/>",
  );
  assertEquals(types(answer), ["iq-answered"]);
  assert(!h.all.some((o) => o.type === "stanzas-failed"));
});

Deno.test("reducer: a failed resumption reports the lost stanzas and iqs, then binds afresh", () => {
  const h = new Harness();
  h.login();
  for (let i = 1; i <= 3; i++) {
    h.input({ type: "send", element: messageStanza("bob@localhost", `m${i}`, { id: `m${i}` }) });
  }
  h.input({
    type: "send-iq",
    element: element("iq", NS.CLIENT, { type: "get", id: "q1", to: "bob@localhost/x" }, [
      element("query", "urn:example"),
    ]),
  });
  h.input({ type: "transport-closed", code: 1006 });
  h.advance(2_000);
  h.input({ type: "transport-opened", protocol: "xmpp" });
  h.server(OPEN_REPLY);
  h.server(mechanisms(["SCRAM-SHA-256"]));
  h.scram();
  h.server(OPEN_REPLY.replace("s1", "s3"));
  h.server(bindFeatures(true));
  h.take();
  const outputs = h.server(
    `<failed xmlns='${SM}' h='1'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>`,
  );
  const failed = outputs.find((o) => o.type === "stanzas-failed");
  assertEquals(
    failed?.type === "stanzas-failed" && [failed.reason, failed.elements.map((e) => e.attrs.id)],
    ["resume-failed", ["m2", "m3", "q1"]],
  );
  assertEquals(outputs.find((o) => o.type === "iq-failed"), {
    type: "iq-failed",
    id: "q1",
    reason: "session-lost",
  });
  assertEquals(
    parse(outputs.flatMap((o) => o.type === "send-text" ? [o.text] : []).at(-1)!).name,
    "iq",
  );
  assertEquals(h.state.sm, undefined);
});

Deno.test("reducer: liveness: a probe after silence (ping without XEP-0198), dead without an answer", () => {
  const h = new Harness({ probeAfterMs: 20_000, probeTimeoutMs: 5_000 });
  h.login({ sm: false });
  h.take();
  h.advance(19_999);
  assertEquals(h.sent(), []);
  h.advance(1);
  const ping = parse(h.sent()[0]!);
  assertEquals([ping.name, ping.attrs.type, ping.attrs.to], ["iq", "get", "localhost"]);
  h.server(`<iq xmlns='jabber:client' type='result' id='${ping.attrs.id}' from='localhost'/>`);
  assertEquals(h.take().filter((o) => o.type === "stanza-received"), []); // swallowed
  h.advance(5_000);
  assertEquals(h.state.status, "online");
  h.advance(15_000); // 20 s of silence again
  assertEquals(parse(h.sent()[0]!).name, "iq");
  h.advance(5_000);
  const ended = h.take();
  assert(ended.some((o) => o.type === "close-transport"));
  const d = ended.find((o) => o.type === "disconnected");
  assertEquals(
    d?.type === "disconnected" && d.error.kind === "connection" && d.error.reason,
    "liveness-timeout",
  );
  assert(!ended.some((o) => o.type === "send-text"), "no <close/>: the session stays resumable");

  const sm = new Harness({ probeAfterMs: 20_000, probeTimeoutMs: 5_000 });
  sm.login();
  sm.take();
  sm.advance(20_000);
  assertEquals(sm.sent(), [`<r xmlns='${SM}'/>`]);
  sm.server(`<a xmlns='${SM}' h='0'/>`);
  sm.advance(10_000);
  assertEquals(sm.state.status, "online");
});

Deno.test("reducer: iq correlation: answers matched by id and sender, spoofs ignored, timeouts reported", () => {
  const h = new Harness({ iqTimeoutMs: 1_000 });
  h.login({ sm: false });
  const iq = (id: string) =>
    element("iq", NS.CLIENT, { type: "get", id, to: "bob@localhost/x" }, [element("q", "urn:x")]);
  h.input({ type: "send-iq", element: iq("a") });
  h.input({ type: "send-iq", element: iq("b") });
  assertThrows(() => h.input({ type: "send-iq", element: iq("a") }), TypeError);
  h.take();
  const spoof = h.server("<iq xmlns='jabber:client' type='result' id='a' from='eve@localhost/x'/>");
  assertEquals(types(spoof), ["stanza-received"]);
  const real = h.server("<iq xmlns='jabber:client' type='error' id='a' from='bob@localhost/x'/>");
  assertEquals(types(real), ["iq-answered"]);
  h.advance(1_000);
  assertEquals(h.take().filter((o) => o.type === "iq-failed"), [
    { type: "iq-failed", id: "b", reason: "timeout" },
  ]);
});

Deno.test("reducer: server pings are answered; other stanzas reach the application", () => {
  const h = new Harness();
  h.login();
  h.take();
  h.server(
    "<iq xmlns='jabber:client' type='get' id='p' from='localhost'><ping xmlns='urn:xmpp:ping'/></iq>",
  );
  assertEquals(h.sent(), ["<iq xmlns='jabber:client' type='result' id='p' to='localhost'/>"]);
  const out = h.server(
    "<message xmlns='jabber:client' from='bob@localhost/x'><body>hi</body></message>",
  );
  assertEquals(types(out), ["stanza-received"]);
});

Deno.test("reducer: close handshake (#27, #28), and a close that times out (#29)", () => {
  const h = new Harness();
  h.login();
  h.input({ type: "send", element: messageStanza("bob@localhost", "bye", { id: "m1" }) });
  h.take();
  h.input({ type: "close" });
  // XEP-0198 §4: a final <a/> for everything handled, then <close/>.
  assertEquals(h.sent(), ["<a xmlns='urn:xmpp:sm:3' h='0'/>", CLOSE]);
  assertEquals(h.state.status, "closing");
  assertThrows(
    () => h.input({ type: "send", element: messageStanza("bob@localhost", "late") }),
    XmppUsageError,
  );
  const outputs = h.server(CLOSE);
  assertEquals(outputs.find((o) => o.type === "close-transport"), {
    type: "close-transport",
    code: 1000,
    reason: "Stream closed",
  });
  assertEquals(outputs.at(-1), { type: "closed", error: undefined });
  // What was unacknowledged was handled before the server's <close/>.
  assert(outputs.some((o) => o.type === "stanzas-acked"));

  const slow = new Harness({ closeTimeoutMs: 2_000 });
  slow.login();
  slow.input({ type: "close" });
  slow.advance(2_000);
  assertEquals(slow.state.status, "closed");
  assertEquals(slow.state.error?.kind === "connection" && slow.state.error.reason, "close-timeout");
});

Deno.test("reducer: stanzas sent while offline are queued, then sent once online; the queue is bounded", () => {
  const h = new Harness({ maxQueue: 2 });
  h.input({ type: "send", element: messageStanza("bob@localhost", "early 1", { id: "e1" }) });
  h.input({ type: "send", element: messageStanza("bob@localhost", "early 2", { id: "e2" }) });
  assertThrows(
    () => h.input({ type: "send", element: messageStanza("bob@localhost", "too many") }),
    XmppUsageError,
  );
  assertThrows(() => h.input({ type: "send", element: element("r", SM) }), TypeError);
  assertThrows(
    () => h.input({ type: "send", element: messageStanza("bob@localhost", "nul \u0000") }),
    TypeError,
  );
  h.login({ sm: false });
  const sent = h.all.flatMap((o) => o.type === "send-text" ? [o.text] : []);
  assertEquals(sent.slice(-2).map((t) => parse(t).attrs.id), ["e1", "e2"]);
  assertEquals(h.state.outbox, []);
});

Deno.test("reducer: a closed client reports what it never sent; close is idempotent", () => {
  const h = new Harness();
  h.input({ type: "send", element: messageStanza("bob@localhost", "never", { id: "n1" }) });
  h.input({ type: "close" });
  h.input({ type: "close" });
  const failed = h.all.find((o) => o.type === "stanzas-failed");
  assertEquals(failed?.type === "stanzas-failed" && failed.reason, "closed");
  assertEquals(h.all.filter((o) => o.type === "closed").length, 1);
  assertThrows(
    () => clientStep(h.state, { type: "connect", now: 0, random: "x" }),
    XmppUsageError,
  );
});

Deno.test("reducer: createClient refuses bad configurations", () => {
  const base = { domain: "localhost", username: "a", password: "b" };
  assertThrows(() => createClient({ ...base, endpoints: [] }), RangeError, "No endpoint");
  assertThrows(
    () => createClient({ ...base, endpoints: ["http://x/"] }),
    RangeError,
    "not a WebSocket URL",
  );
  assertThrows(
    () => createClient({ ...base, endpoints: ["ws://example.com/"] }),
    RangeError,
    "insecure",
  );
  assertThrows(
    () => createClient({ domain: "localhost", endpoints: ["wss://x/"] }),
    RangeError,
    "username",
  );
  assertThrows(
    () => createClient({ ...base, endpoints: ["wss://x/"], probeAfterMs: 60_000 }),
    RangeError,
    "probeAfterMs",
  );
  assertEquals(createClient({ ...base, endpoints: ["ws://[::1]:5280/"] }).config.endpoints, [
    "ws://[::1]:5280/",
  ]);
});

Deno.test("reducer: SASL elements outside authentication are a protocol violation", () => {
  const h = new Harness();
  h.login();
  h.take();
  h.server(`<success xmlns='${SASL}'/>`);
  assertMatch(h.sent()[0]!, /undefined-condition/);
});
