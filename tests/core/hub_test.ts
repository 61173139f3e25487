/**
 * The hub (issue 4), driven through `hubStep` with a deterministic clock and randomness: SASL,
 * binding, routing, presence, roster and subscriptions, disco, ping, XEP-0198 and limits.
 */

import { assert, assertEquals, assertThrows } from "@std/assert";
import {
  childElement,
  childElements,
  serialize,
  textOf,
  type XmlElement,
  XmppUsageError,
} from "../../core/mod.ts";
import { createHub, hubStep } from "../../core/server/mod.ts";
import { HubNet, PASSWORDS } from "../_support/hub_net.ts";

const SASL = "urn:ietf:params:xml:ns:xmpp-sasl";
const SM = "urn:xmpp:sm:3";
const STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";
const ROSTER = "jabber:iq:roster";
const DISCO_INFO = "http://jabber.org/protocol/disco#info";
const DISCO_ITEMS = "http://jabber.org/protocol/disco#items";

function errorCondition(stanza: XmlElement | undefined): string | undefined {
  const error = stanza && childElement(stanza, "error", "jabber:client");
  return error && childElements(error).find((c) => c.ns === STANZAS && c.name !== "text")?.name;
}

function mechanisms(features: XmlElement | undefined): string[] {
  const list = features && childElement(features, "mechanisms", SASL);
  return list ? childElements(list, "mechanism", SASL).map(textOf) : [];
}

function rosterItems(iq: XmlElement): XmlElement[] {
  return childElements(childElement(iq, "query", ROSTER)!, "item", ROSTER);
}

// --- SASL ------------------------------------------------------------------------------------

Deno.test("features: SCRAM always, PLAIN only over a secure or loopback connection", () => {
  const net = new HubNet();
  net.connect("insecure");
  assertEquals(mechanisms(net.open("insecure")), ["SCRAM-SHA-256", "SCRAM-SHA-1"]);
  net.connect("wss", { secure: true });
  assertEquals(mechanisms(net.open("wss")), ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"]);
  net.connect("lo", { loopback: true });
  assertEquals(mechanisms(net.open("lo")), ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"]);
});

Deno.test("SCRAM-SHA-256 and SCRAM-SHA-1 logins, restart features, generated resource", () => {
  const net = new HubNet();
  net.connect("c1");
  net.open("c1");
  net.authenticate("c1", "alice", "SCRAM-SHA-256");
  const features = net.open("c1", true)!;
  assertEquals(childElements(features).map((f) => f.name), ["bind", "session", "sm"]);
  net.send("c1", "<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
  const bound = net.take("c1")[0]!;
  const jid = textOf(childElement(childElement(bound, "bind")!, "jid")!);
  assert(/^alice@localhost\/ws-[A-Za-z0-9]+$/.test(jid), jid);
  // The RFC 3921 session is tolerated.
  net.send(
    "c1",
    "<iq type='set' id='s' to='localhost'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>",
  );
  assertEquals(net.take("c1")[0]!.attrs, { type: "result", id: "s", from: "localhost", to: jid });

  assertEquals(
    net.login("c2", "bob", { mechanism: "SCRAM-SHA-1", resource: "desk" }),
    "bob@localhost/desk",
  );
  assertEquals(net.timerAt({ kind: "login", connId: "c1" }), undefined, "login timer cleared");
  assertEquals(net.timerAt({ kind: "login", connId: "c2" }), undefined, "login timer cleared");
});

Deno.test("PLAIN: refused over an insecure connection, accepted over loopback", () => {
  const net = new HubNet();
  const plain = (user: string, pw: string) => btoa(`\0${user}\0${pw}`);
  net.connect("c1");
  net.open("c1");
  net.send(
    "c1",
    `<auth xmlns='${SASL}' mechanism='PLAIN'>${plain("alice", PASSWORDS.alice!)}</auth>`,
  );
  assertEquals(net.takeText("c1"), [`<failure xmlns='${SASL}'><encryption-required/></failure>`]);
  net.connect("c2", { loopback: true });
  net.open("c2");
  net.send(
    "c2",
    `<auth xmlns='${SASL}' mechanism='PLAIN'>${plain("alice", PASSWORDS.alice!)}</auth>`,
  );
  assertEquals(net.takeText("c2"), [`<success xmlns='${SASL}'/>`]);
});

Deno.test("SASL failures are bounded: the third ends the stream with policy-violation", () => {
  const net = new HubNet();
  net.connect("c1");
  net.open("c1");
  net.send("c1", `<auth xmlns='${SASL}' mechanism='DIGEST-MD5'/>`);
  assertEquals(net.takeText("c1"), [`<failure xmlns='${SASL}'><invalid-mechanism/></failure>`]);
  net.send("c1", `<auth xmlns='${SASL}' mechanism='SCRAM-SHA-1'/>`);
  assertEquals(net.takeText("c1"), [`<challenge xmlns='${SASL}'>=</challenge>`]);
  net.send("c1", `<abort xmlns='${SASL}'/>`);
  assertEquals(net.takeText("c1"), [`<failure xmlns='${SASL}'><aborted/></failure>`]);
  assert(!net.failures.has("c1"));
  // A wrong password: not-authorized, and the limit is reached.
  const wrong = new HubNet();
  wrong.connect("w");
  wrong.open("w");
  for (let i = 0; i < 3; i++) {
    const threw = (() => {
      try {
        wrong.authenticate("w", "mallory");
        return false;
      } catch {
        return true;
      }
    })();
    assert(threw);
  }
  assertEquals(wrong.failures.get("w")?.condition, "policy-violation");
  assert(!wrong.hub.connections.has("w"));
  net.send("c1", `<auth xmlns='${SASL}' mechanism='X'/>`);
  assertEquals(net.failures.get("c1")?.condition, "policy-violation");
});

Deno.test("a wrong password gets not-authorized after the SCRAM exchange", () => {
  const net = new HubNet();
  net.connect("c1");
  net.open("c1");
  assertThrows(() => net.authenticate("c1", "mallory"));
  const failure = net.log.filter((o) => o.type === "send-element").at(-1)!;
  assert(
    failure.type === "send-element" && serialize(failure.element).includes("<not-authorized/>"),
  );
});

Deno.test("stanzas before authentication or binding end the stream with not-authorized", () => {
  const net = new HubNet();
  net.connect("c1");
  net.open("c1");
  net.send("c1", "<message to='bob@localhost'><body>hi</body></message>");
  assertEquals(net.failures.get("c1")?.condition, "not-authorized");
  net.connect("c2");
  net.open("c2");
  net.authenticate("c2", "alice");
  net.open("c2", true);
  net.send("c2", "<iq type='get' id='r'><query xmlns='jabber:iq:roster'/></iq>");
  assertEquals(net.failures.get("c2")?.condition, "not-authorized");
});

Deno.test("host-unknown for another domain; login timeout ends with connection-timeout", () => {
  const net = new HubNet({ loginTimeoutMs: 10_000 });
  net.connect("c1");
  assertEquals(net.open("c1", false, "example.org"), undefined);
  assertEquals(net.failures.get("c1")?.condition, "host-unknown");
  net.connect("c2");
  net.open("c2");
  net.advance(9_999);
  assert(!net.failures.has("c2"));
  net.advance(1);
  assertEquals(net.failures.get("c2")?.condition, "connection-timeout");
  assertEquals(net.hub.connections.size, 0);
});

// --- Binding ---------------------------------------------------------------------------------

Deno.test("resource conflict: the newest session wins, the older gets a conflict stream error", () => {
  const net = new HubNet();
  net.online("b1", "bob", "home");
  const first = net.online("a1", "alice", "phone");
  const second = net.login("a2", "alice", { resource: "phone" });
  assertEquals(first, second);
  assertEquals(net.failures.get("a1")?.condition, "conflict");
  assertEquals(net.hub.sessions.get(second)?.connId, "a2");
  assert(!net.hub.connections.has("a1"));
  // Elements reported late for the replaced connection are ignored.
  net.send("a1", "<message to='bob@localhost/home'><body>late</body></message>");
  assertEquals(net.take("b1"), []);
});

Deno.test("an invalid resource is refused with bad-request", () => {
  const net = new HubNet();
  net.connect("c1", { secure: true });
  net.open("c1");
  net.authenticate("c1", "alice");
  net.open("c1", true);
  net.send(
    "c1",
    "<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource> </resource></bind></iq>",
  );
  // An empty (blank) resource means "generate one".
  assertEquals(net.take("c1")[0]!.attrs.type, "result");
});

// --- Routing ---------------------------------------------------------------------------------

Deno.test("message to a full JID: delivered with from stamped; forged from ends the stream", () => {
  const net = new HubNet();
  const alice = net.online("a1", "alice", "phone");
  const bob = net.online("b1", "bob", "desk");
  net.send("a1", `<message to='${bob}' type='chat' id='m1'><body>hi</body></message>`);
  const [got] = net.stanzas("b1");
  assertEquals(got!.attrs, { to: bob, type: "chat", id: "m1", from: alice });
  net.send("a1", `<message from='${alice}' to='${bob}'><body>ok</body></message>`);
  assertEquals(net.stanzas("b1").length, 1);
  net.send("a1", "<message from='carol@localhost' to='bob@localhost'><body>evil</body></message>");
  assertEquals(net.failures.get("a1")?.condition, "invalid-from");
  assertEquals(net.stanzas("b1"), []);
});

Deno.test("message to a bare JID: highest non-negative priority; offline full JID falls back", () => {
  const net = new HubNet();
  const alice = net.online("a1", "alice", "phone");
  net.online("b1", "bob", "desk", 5);
  net.online("b2", "bob", "phone", 5);
  net.online("b3", "bob", "tablet", 1);
  net.online("b4", "bob", "bot", -1);
  for (const c of ["a1", "b1", "b2", "b3", "b4"]) net.take(c);
  net.send("a1", "<message to='bob@localhost' type='chat'><body>hi</body></message>");
  assertEquals([
    net.stanzas("b1").length,
    net.stanzas("b2").length,
    net.stanzas("b3").length,
    net.stanzas("b4").length,
  ], [
    1,
    1,
    0,
    0,
  ]);
  // headline: every non-negative resource.
  net.send("a1", "<message to='bob@localhost' type='headline'><body>news</body></message>");
  assertEquals([
    net.stanzas("b1").length,
    net.stanzas("b2").length,
    net.stanzas("b3").length,
    net.stanzas("b4").length,
  ], [1, 1, 1, 0]);
  // A full JID that is not bound is treated as the bare JID.
  net.send("a1", "<message to='bob@localhost/gone' type='chat'><body>x</body></message>");
  assertEquals([net.stanzas("b1").length, net.stanzas("b2").length], [1, 1]);
  assertEquals(net.stanzas("a1"), []);
  void alice;
});

Deno.test("no offline storage: an offline account and an unknown user both get service-unavailable", () => {
  const net = new HubNet();
  const alice = net.online("a1", "alice", "phone");
  net.send("a1", "<message to='bob@localhost' id='m1' type='chat'><body>hi</body></message>");
  const [offline] = net.stanzas("a1");
  assertEquals(offline!.attrs, { type: "error", id: "m1", from: "bob@localhost", to: alice });
  assertEquals(errorCondition(offline), "service-unavailable");
  net.send("a1", "<message to='nobody@localhost' id='m2'><body>hi</body></message>");
  assertEquals(errorCondition(net.stanzas("a1")[0]), "service-unavailable");
  net.send("a1", "<iq to='nobody@localhost' id='i1' type='get'><ping xmlns='urn:xmpp:ping'/></iq>");
  assertEquals(errorCondition(net.stanzas("a1")[0]), "service-unavailable");
  net.send("a1", "<message to='someone@example.org' id='m3'><body>hi</body></message>");
  assertEquals(errorCondition(net.stanzas("a1")[0]), "remote-server-not-found");
  net.send("a1", "<message to='bad@@jid' id='m4'><body>hi</body></message>");
  assertEquals(errorCondition(net.stanzas("a1")[0]), "jid-malformed");
  // Errors are never answered with errors; presence to unknown users is dropped.
  net.send("a1", "<message to='nobody@localhost' type='error'/>");
  net.send("a1", "<presence to='nobody@localhost'/>");
  assertEquals(net.stanzas("a1"), []);
});

Deno.test("iqs: routed to full JIDs, service-unavailable when nobody handles them", () => {
  const net = new HubNet();
  const alice = net.online("a1", "alice", "phone");
  const bob = net.online("b1", "bob", "desk");
  net.send("a1", `<iq to='${bob}' type='get' id='v1'><query xmlns='jabber:iq:version'/></iq>`);
  assertEquals(net.stanzas("b1")[0]!.attrs, { to: bob, type: "get", id: "v1", from: alice });
  net.send("b1", `<iq to='${alice}' type='result' id='v1'/>`);
  assertEquals(net.stanzas("a1")[0]!.attrs, { to: alice, type: "result", id: "v1", from: bob });
  for (const to of ["localhost", "bob@localhost", "bob@localhost/offline"]) {
    net.send("a1", `<iq to='${to}' type='get' id='x'><query xmlns='jabber:iq:version'/></iq>`);
    const [answer] = net.stanzas("a1");
    assertEquals(errorCondition(answer), "service-unavailable", to);
    assertEquals(answer!.attrs.from, to);
  }
  net.send("a1", "<iq type='get' id='bad'/>");
  assertEquals(errorCondition(net.stanzas("a1")[0]), "bad-request");
});

// --- Presence, roster, subscriptions ---------------------------------------------------------

/** Makes alice and bob mutually subscribed (directly through the flows). */
function befriend(net: HubNet, a: string, b: string, aJid: string, bJid: string): void {
  net.send(a, `<presence to='${bJid}' type='subscribe'/>`);
  net.send(b, `<presence to='${aJid}' type='subscribed'/>`);
  net.send(b, `<presence to='${aJid}' type='subscribe'/>`);
  net.send(a, `<presence to='${bJid}' type='subscribed'/>`);
  net.take(a);
  net.take(b);
}

Deno.test("roster: get, set with push to interested resources, remove", () => {
  const net = new HubNet();
  const a1 = net.login("a1", "alice", { resource: "one" });
  const a2 = net.login("a2", "alice", { resource: "two" });
  net.login("a3", "alice", { resource: "three" }); // never asks for the roster
  net.send("a1", "<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>");
  const [roster] = net.stanzas("a1");
  assertEquals(roster!.attrs, { type: "result", id: "r1", to: a1 });
  assertEquals(rosterItems(roster!), []);
  net.send("a2", "<iq type='get' id='r2'><query xmlns='jabber:iq:roster'/></iq>");
  net.take("a2");
  net.send(
    "a1",
    "<iq type='set' id='s1'><query xmlns='jabber:iq:roster'><item jid='Bob@localhost' name='Bob'><group>Friends</group></item></query></iq>",
  );
  const [push1, result] = net.stanzas("a1");
  assertEquals(push1!.attrs.type, "set");
  assertEquals(
    serialize(rosterItems(push1!)[0]!),
    "<item xmlns='jabber:iq:roster' jid='bob@localhost' name='Bob' subscription='none'><group>Friends</group></item>",
  );
  assertEquals(result!.attrs, { type: "result", id: "s1", to: a1 });
  const [push2] = net.stanzas("a2");
  assertEquals(push2!.attrs.to, a2);
  assertEquals(net.stanzas("a3"), []);
  // The push is answered by the client; the answer is absorbed.
  net.send("a2", `<iq type='result' id='${push2!.attrs.id}' to='alice@localhost'/>`);
  assertEquals(net.stanzas("a2"), []);
  net.send(
    "a1",
    "<iq type='set' id='s2'><query xmlns='jabber:iq:roster'><item jid='bob@localhost' subscription='remove'/></query></iq>",
  );
  const [removed] = net.stanzas("a1");
  assertEquals(rosterItems(removed!)[0]!.attrs, { jid: "bob@localhost", subscription: "remove" });
  net.send(
    "a1",
    "<iq type='set' id='s3'><query xmlns='jabber:iq:roster'><item jid='bob@localhost' subscription='remove'/></query></iq>",
  );
  assertEquals(errorCondition(net.stanzas("a1")[0]), "item-not-found");
  net.send(
    "a1",
    "<iq type='set' id='s4'><query xmlns='jabber:iq:roster'><item jid='x@localhost'/><item jid='y@localhost'/></query></iq>",
  );
  assertEquals(errorCondition(net.stanzas("a1")[0]), "bad-request");
});

Deno.test("subscription flow: subscribe, subscribed, presence, unsubscribe (RFC 6121 §3)", () => {
  const net = new HubNet();
  const alice = net.online("a1", "alice", "phone");
  const bob = net.online("b1", "bob", "desk");
  for (const c of ["a1", "b1"]) {
    net.send(c, "<iq type='get' id='r'><query xmlns='jabber:iq:roster'/></iq>");
    net.take(c);
  }
  net.send("a1", `<presence to='${bob}' type='subscribe'/>`); // a full JID is treated as bare
  const [askPush] = net.stanzas("a1");
  assertEquals(rosterItems(askPush!)[0]!.attrs, {
    jid: "bob@localhost",
    subscription: "none",
    ask: "subscribe",
  });
  const [request] = net.stanzas("b1");
  assertEquals(request!.attrs, { to: "bob@localhost", type: "subscribe", from: "alice@localhost" });

  net.send("b1", "<presence to='alice@localhost' type='subscribed'/>");
  const bobSide = net.stanzas("b1");
  assertEquals(rosterItems(bobSide[0]!)[0]!.attrs, {
    jid: "alice@localhost",
    subscription: "from",
  });
  const aliceSide = net.stanzas("a1");
  assertEquals(rosterItems(aliceSide[0]!)[0]!.attrs, { jid: "bob@localhost", subscription: "to" });
  assertEquals(aliceSide[1]!.attrs, {
    to: "alice@localhost",
    type: "subscribed",
    from: "bob@localhost",
  });
  // ... and bob's current presence follows.
  assertEquals(aliceSide[2]!.attrs, { from: bob, to: "alice@localhost" });
  assertEquals(aliceSide.length, 3);

  // Now bob's presence changes reach alice, not the other way round.
  net.send("b1", "<presence><show>away</show></presence>");
  assertEquals(net.stanzas("a1").map((s) => s.attrs.from), [bob]);
  assertEquals(net.stanzas("b1").map((s) => s.attrs.from), [bob]); // its own echo
  net.send("a1", "<presence><show>dnd</show></presence>");
  assertEquals(net.stanzas("b1"), []);
  assertEquals(net.stanzas("a1").map((s) => s.attrs.from), [alice]); // its own echo

  // A repeated request for an existing subscription is answered by the server for bob.
  net.send("a1", "<presence to='bob@localhost' type='subscribe'/>");
  assertEquals(net.stanzas("b1"), []);
  assertEquals(net.stanzas("a1").map((s) => [s.attrs.from, s.attrs.type]), [[bob, undefined]]);

  net.send("a1", "<presence to='bob@localhost' type='unsubscribe'/>");
  assertEquals(rosterItems(net.stanzas("a1")[0]!)[0]!.attrs, {
    jid: "bob@localhost",
    subscription: "none",
  });
  const bobAfter = net.stanzas("b1");
  assertEquals(rosterItems(bobAfter[0]!)[0]!.attrs, {
    jid: "alice@localhost",
    subscription: "none",
  });
  assertEquals(bobAfter[1]!.attrs.type, "unsubscribe");
});

Deno.test("pending subscription requests are delivered at the contact's next initial presence", () => {
  const net = new HubNet();
  net.online("a1", "alice", "phone");
  net.send(
    "a1",
    "<presence to='bob@localhost' type='subscribe'><status>hi bob</status></presence>",
  );
  const bob = net.login("b1", "bob", { resource: "desk" });
  net.send("b1", "<presence/>");
  const got = net.stanzas("b1");
  assertEquals(got.map((s) => s.attrs.type), [undefined, "subscribe"]);
  assertEquals(got[0]!.attrs.from, bob); // its own presence, echoed
  net.send("b1", "<presence to='alice@localhost' type='unsubscribed'/>"); // deny
  const denied = net.stanzas("a1");
  assertEquals(denied.map((s) => s.attrs.type), ["unsubscribed"]); // no roster request: no push
  assertEquals(net.hub.rosters.get("alice@localhost")?.items.get("bob@localhost")?.ask, false);
});

Deno.test("presence broadcast: own resources and subscribers; probes answered; unavailable at the end", () => {
  const net = new HubNet();
  const alice = net.online("a1", "alice", "phone");
  const bob = net.online("b1", "bob", "desk");
  befriend(net, "a1", "b1", alice, bob);
  // A second resource of alice comes online.
  const alice2 = net.login("a2", "alice", { resource: "laptop" });
  net.send("a2", "<presence><priority>3</priority></presence>");
  const toA2 = net.stanzas("a2").map((s) => s.attrs.from);
  assertEquals(toA2.sort(), [alice, alice2, bob].sort()); // own echo, the probe answer, the sibling
  assertEquals(net.stanzas("a1").map((s) => s.attrs.from), [alice2]);
  assertEquals(net.stanzas("b1").map((s) => s.attrs.from), [alice2]);
  // The connection drops without stream management: unavailable to everyone who saw it.
  net.end("a2", false);
  for (const c of ["a1", "b1"]) {
    const [gone] = net.stanzas(c);
    assertEquals([gone!.attrs.from, gone!.attrs.type], [alice2, "unavailable"]);
  }
  // An explicit unavailable, then directed presence to a non-contact.
  net.online("c1", "carol", "pc");
  net.send("a1", "<presence to='carol@localhost'/>");
  assertEquals(net.stanzas("c1").map((s) => s.attrs.from), [alice]);
  net.send("a1", "<presence type='unavailable'/>");
  assertEquals(net.stanzas("b1").map((s) => s.attrs.type), ["unavailable"]);
  assertEquals(net.stanzas("c1").map((s) => s.attrs.type), ["unavailable"]);
});

Deno.test("subscriptions: unknown accounts answer unsubscribed; removing a contact cancels both ways", () => {
  const net = new HubNet();
  const alice = net.online("a1", "alice", "phone");
  const bob = net.online("b1", "bob", "desk");
  for (const c of ["a1", "b1"]) {
    net.send(c, "<iq type='get' id='r'><query xmlns='jabber:iq:roster'/></iq>");
    net.take(c);
  }
  net.send("a1", "<presence to='nobody@localhost' type='subscribe'/>");
  const answer = net.stanzas("a1");
  const pushes = answer.filter((s) => s.name === "iq").map((iq) => rosterItems(iq)[0]!.attrs);
  assertEquals(pushes.map((p) => p.ask), ["subscribe", undefined]);
  assertEquals(pushes[1], {
    jid: "nobody@localhost",
    subscription: "none",
  });
  assertEquals(answer.find((s) => s.name === "presence")!.attrs, {
    from: "nobody@localhost",
    to: "alice@localhost",
    type: "unsubscribed",
  });
  befriend(net, "a1", "b1", alice, bob);
  assertEquals(
    net.hub.rosters.get("bob@localhost")!.items.get("alice@localhost")!.subscription,
    "both",
  );
  net.send(
    "a1",
    "<iq type='set' id='rm'><query xmlns='jabber:iq:roster'><item jid='bob@localhost' subscription='remove'/></query></iq>",
  );
  assertEquals(net.hub.rosters.get("alice@localhost")!.items.has("bob@localhost"), false);
  assertEquals(
    net.hub.rosters.get("bob@localhost")!.items.get("alice@localhost")!.subscription,
    "none",
  );
  const toBob = net.stanzas("b1").filter((s) => s.name === "presence").map((s) => s.attrs.type);
  assertEquals(toBob, ["unavailable", "unsubscribed", "unsubscribe"]);
});

// --- Disco and ping --------------------------------------------------------------------------

Deno.test("XEP-0030: server and account info and items; unknown node", () => {
  const net = new HubNet({ serverName: "test server" });
  const alice = net.online("a1", "alice", "phone");
  net.send("a1", `<iq to='localhost' type='get' id='d1'><query xmlns='${DISCO_INFO}'/></iq>`);
  const [info] = net.stanzas("a1");
  assertEquals(info!.attrs, { type: "result", id: "d1", from: "localhost", to: alice });
  const query = childElement(info!, "query", DISCO_INFO)!;
  assertEquals(childElement(query, "identity")!.attrs, {
    category: "server",
    type: "im",
    name: "test server",
  });
  const features = childElements(query, "feature").map((f) => f.attrs.var);
  assert(features.includes("urn:xmpp:ping") && features.includes(DISCO_ITEMS), features.join());
  net.send("a1", `<iq to='localhost' type='get' id='d2'><query xmlns='${DISCO_ITEMS}'/></iq>`);
  assertEquals(childElements(childElement(net.stanzas("a1")[0]!, "query", DISCO_ITEMS)!), []);
  net.send("a1", `<iq to='bob@localhost' type='get' id='d3'><query xmlns='${DISCO_INFO}'/></iq>`);
  const account = childElement(net.stanzas("a1")[0]!, "query", DISCO_INFO)!;
  assertEquals(childElement(account, "identity")!.attrs, {
    category: "account",
    type: "registered",
  });
  net.send(
    "a1",
    `<iq to='localhost' type='get' id='d4'><query xmlns='${DISCO_INFO}' node='x'/></iq>`,
  );
  assertEquals(errorCondition(net.stanzas("a1")[0]), "item-not-found");
});

Deno.test("XEP-0199: the server answers pings, and pings silent clients", () => {
  const net = new HubNet({ pingIntervalMs: 60_000, pingTimeoutMs: 10_000 });
  const alice = net.online("a1", "alice", "phone");
  for (const to of ["localhost", "alice@localhost", "bob@localhost"]) {
    net.send("a1", `<iq to='${to}' type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq>`);
    assertEquals(net.stanzas("a1")[0]!.attrs, { type: "result", id: "p", from: to, to: alice });
  }
  net.send("a1", "<iq type='get' id='p0'><ping xmlns='urn:xmpp:ping'/></iq>");
  assertEquals(net.stanzas("a1")[0]!.attrs, { type: "result", id: "p0", to: alice });
  net.advance(60_000);
  const [ping] = net.stanzas("a1");
  assertEquals([ping!.attrs.type, ping!.attrs.from, ping!.attrs.to], ["get", "localhost", alice]);
  assert(childElement(ping!, "ping", "urn:xmpp:ping"));
  net.advance(5_000);
  net.send("a1", `<iq type='result' id='${ping!.attrs.id}' to='localhost'/>`);
  net.advance(5_000);
  assert(!net.failures.has("a1"), "answered in time");
  net.advance(60_000);
  assertEquals(net.stanzas("a1").length, 1); // a second ping
  net.advance(10_000);
  assertEquals(net.failures.get("a1")?.condition, "connection-timeout");
  assert(!net.hub.sessions.has(alice));
});

// --- XEP-0198 --------------------------------------------------------------------------------

function enable(net: HubNet, connId: string, max = "300"): string {
  net.send(connId, `<enable xmlns='${SM}' resume='true'/>`);
  const [enabled] = net.take(connId);
  assertEquals(enabled!.name, "enabled");
  assertEquals([enabled!.attrs.resume, enabled!.attrs.max], ["true", max]);
  return enabled!.attrs.id!;
}

Deno.test("XEP-0198: enable, count only stanzas, r/a both ways", () => {
  const net = new HubNet();
  const alice = net.online("a1", "alice", "phone");
  const bob = net.online("b1", "bob", "desk");
  net.send("a1", `<enable xmlns='${SM}'/>`);
  assertEquals(net.takeText("a1"), [`<enabled xmlns='${SM}'/>`]);
  net.send("a1", `<enable xmlns='${SM}'/>`);
  assertEquals(net.take("a1")[0]!.name, "failed");
  net.send("a1", `<iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq>`); // 1 in, 1 out
  net.send("a1", `<message to='${bob}'><body>1</body></message>`); // 2 in
  net.send("a1", `<r xmlns='${SM}'/>`); // not counted
  const out = net.take("a1");
  assertEquals(out.map((e) => e.name), ["iq", "r", "a"]); // the server asks once per outstanding request
  assertEquals(out[2]!.attrs.h, "2");
  net.send("b1", `<message to='${alice}'><body>a</body></message>`);
  net.send("b1", `<message to='${alice}'><body>b</body></message>`);
  assertEquals(net.take("a1").map((e) => e.name), ["message", "message"]);
  assertEquals(net.hub.sessions.get(alice)!.sm!.unacked.length, 3);
  net.send("a1", `<a xmlns='${SM}' h='1'/>`);
  assertEquals(net.hub.sessions.get(alice)!.sm!.unacked.length, 2);
  net.send("a1", `<a xmlns='${SM}' h='3'/>`);
  assertEquals(net.hub.sessions.get(alice)!.sm!.unacked.length, 0);
  // An h that goes backwards is a stale ack (xmpp.js resets its counter late): ignored.
  net.send("a1", `<a xmlns='${SM}' h='1'/>`);
  assertEquals(net.failures.get("a1"), undefined);
  assertEquals(net.hub.sessions.get(alice)!.sm!.acked, 3);
  // Above what was sent by more than the 2 stanzas sent before <enabled/> (the bind result and
  // the presence echo; a smaller excess is ignored, see tests/core/sm_count_test.ts).
  net.send("a1", `<a xmlns='${SM}' h='6'/>`);
  assertEquals(net.failures.get("a1")?.condition, "undefined-condition");
  assert(net.failures.get("a1")?.text?.includes("handled-count-too-high"));
  // XEP-0198 §4: the application-specific condition travels in the stream error.
  const extra = net.failures.get("a1")?.extra;
  assertEquals([extra?.name, extra?.ns, extra?.attrs.h, extra?.attrs["send-count"]], [
    "handled-count-too-high",
    SM,
    "6",
    "3",
  ]);
});

Deno.test("XEP-0198: resume after a drop sends unacknowledged stanzas again", () => {
  const net = new HubNet();
  const alice = net.online("a1", "alice", "phone");
  const bob = net.online("b1", "bob", "desk");
  befriend(net, "a1", "b1", alice, bob);
  const id = enable(net, "a1");
  net.send("b1", `<message to='${alice}' id='m1'><body>one</body></message>`);
  net.send("a1", `<a xmlns='${SM}' h='1'/>`);
  net.send("b1", `<message to='${alice}' id='m2'><body>two</body></message>`);
  net.take("a1");
  net.end("a1", false); // the WebSocket dropped without <close/>
  assertEquals(net.hub.sessions.get(alice)?.connId, undefined);
  assertEquals(net.timerAt({ kind: "sm", id }), net.now + 300_000);
  assertEquals(net.stanzas("b1"), []); // still available to bob
  net.send("b1", `<message to='alice@localhost' id='m3'><body>three</body></message>`);
  assertEquals(net.stanzas("b1"), []); // queued for the hibernating session, no error
  net.advance(60_000);
  // Resume on a new connection.
  net.connect("a2", { secure: true });
  net.open("a2");
  net.authenticate("a2", "alice");
  net.open("a2", true);
  net.send("a2", `<resume xmlns='${SM}' previd='${id}' h='1'/>`);
  const out = net.take("a2");
  assertEquals(serialize(out[0]!), `<resumed xmlns='${SM}' previd='${id}' h='0'/>`);
  assertEquals(out.slice(1).map((e) => e.attrs.id ?? e.name), ["m2", "m3", "r"]);
  assertEquals(net.timerAt({ kind: "sm", id }), undefined);
  net.send("a2", `<message to='${bob}'><body>back</body></message>`);
  assertEquals(net.stanzas("b1")[0]!.attrs.from, alice);
});

Deno.test("XEP-0198: failed resumes (unknown, expired, other account, h too high)", () => {
  const net = new HubNet({ hibernationMs: 10_000 });
  const alice = net.online("a1", "alice", "phone");
  const id = enable(net, "a1", "10");
  net.end("a1", false);
  const resumeOn = (connId: string, user: string, previd: string, h = 0) => {
    net.connect(connId, { secure: true });
    net.open(connId);
    net.authenticate(connId, user);
    net.open(connId, true);
    net.send(connId, `<resume xmlns='${SM}' previd='${previd}' h='${h}'/>`);
    return net.take(connId)[0]!;
  };
  const unknown = resumeOn("x1", "alice", "nope");
  assertEquals(
    serialize(unknown),
    `<failed xmlns='${SM}'><item-not-found xmlns='${STANZAS}'/></failed>`,
  );
  assertEquals(resumeOn("x2", "bob", id).name, "failed"); // someone else's session
  const tooHigh = resumeOn("x3", "alice", id, 5);
  assertEquals(tooHigh.name, "failed");
  assert(childElement(tooHigh, "handled-count-too-high", SM));
  assert(!net.hub.sessions.has(alice), "the broken session ended");
  // Expiry: a new session hibernates, then the window passes.
  const alice2 = net.login("a2", "alice", { resource: "phone" });
  const id2 = enable(net, "a2", "10");
  net.end("a2", false);
  net.advance(10_000);
  assert(!net.hub.sessions.has(alice2));
  assertEquals(resumeOn("x4", "alice", id2).name, "failed");
  // After a failed resume the client binds as usual.
  net.send("x4", "<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
  assertEquals(net.take("x4")[0]!.attrs.type, "result");
});

Deno.test("XEP-0198: a clean close ends the session; undelivered messages go back to the bare JID", () => {
  const net = new HubNet();
  net.online("a1", "alice", "phone");
  const bob = net.online("b1", "bob", "desk");
  enable(net, "b1");
  net.send("a1", `<message to='${bob}' id='m1' type='chat'><body>unacked</body></message>`);
  net.take("b1");
  net.end("b1", true);
  assert(!net.hub.sessions.has(bob));
  // Bob has no other resource: alice learns that the message was not delivered.
  const [error] = net.stanzas("a1").filter((s) => s.name === "message");
  assertEquals([error!.attrs.id, errorCondition(error)], ["m1", "service-unavailable"]);
});

Deno.test("XEP-0198: too many unacknowledged stanzas: a live session's stream ends (resource-constraint) and it hibernates with its queue; a hibernating one ends (issue 9, finding 1)", () => {
  const net = new HubNet({ maxUnacked: 3 });
  net.online("a1", "alice", "phone");
  const bob = net.online("b1", "bob", "desk");
  const id = enable(net, "b1");
  for (let i = 0; i < 3; i++) net.send("a1", `<message to='${bob}'><body>${i}</body></message>`);
  assert(!net.failures.has("b1"));
  net.send("a1", `<message to='${bob}' type='chat' id='m4'><body>4</body></message>`);
  assertEquals(net.failures.get("b1")?.condition, "resource-constraint");
  // Bob is not keeping up: his connection ends, his session waits with what he did not ack.
  assertEquals(net.hub.sessions.get(bob)?.connId, undefined);
  assertEquals(net.hub.sessions.get(bob)?.sm?.unacked.length, 4);
  assertEquals(net.stanzas("a1").filter((s) => s.name === "message").length, 0);
  // One more while he hibernates: the session ends, and what bob never acknowledged goes back
  // to alice as errors (bob has no other resource).
  net.send("a1", `<message to='${bob}' type='chat' id='m5'><body>5</body></message>`);
  assert(!net.hub.sessions.has(bob));
  assertEquals(net.stanzas("a1").filter((s) => s.name === "message").length, 5);
  assert(!net.hub.resumable.has(id));
});

// --- Limits ----------------------------------------------------------------------------------

Deno.test("limits: stanza rate (token bucket): stanzas over it are refused with resource-constraint (wait), the session stays usable (issue 8 #6)", () => {
  const net = new HubNet({ rate: { perSecond: 2, burst: 5 }, maxThrottled: 3 });
  const bob = net.online("b1", "bob", "desk");
  net.online("a1", "alice", "phone");
  net.now += 10_000; // refill
  net.take("a1");
  for (let i = 0; i < 5; i++) net.send("a1", `<message to='${bob}'><body>${i}</body></message>`);
  net.now += 500; // one more token
  net.send("a1", `<message to='${bob}'><body>5</body></message>`);
  assertEquals(net.stanzas("b1").length, 6);
  assertEquals(net.take("a1"), []);
  // Over the limit: refused with an error the client can act on; nothing reaches bob.
  net.send("a1", `<message to='${bob}' id='m6'><body>6</body></message>`);
  net.send("a1", `<iq type='get' id='q1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
  net.send("a1", `<presence to='${bob}' id='p1'/>`);
  assert(!net.failures.has("a1"));
  assertEquals(net.stanzas("b1"), []);
  const refused = net.stanzas("a1");
  assertEquals(refused.map((el) => [el.name, el.attrs.id, el.attrs.type]), [
    ["message", "m6", "error"],
    ["iq", "q1", "error"],
    ["presence", "p1", "error"],
  ]);
  assertEquals(refused.map(errorCondition), Array(3).fill("resource-constraint"));
  // After a pause the session works again, and the refusal count starts over.
  net.now += 1_000;
  net.send("a1", `<message to='${bob}'><body>7</body></message>`);
  assertEquals(net.stanzas("b1").length, 1);
  // A flood that does not stop ends the stream after maxThrottled refusals in a row.
  for (let i = 0; i < 10 && !net.failures.has("a1"); i++) {
    net.send("a1", `<message to='${bob}'><body>x</body></message>`);
  }
  assertEquals(net.failures.get("a1")?.condition, "policy-violation");
});

Deno.test("limits: over the rate before login, the stream ends with policy-violation", () => {
  const net = new HubNet({ rate: { perSecond: 1, burst: 2 } });
  net.connect("c1", { secure: true });
  net.open("c1");
  for (let i = 0; i < 3; i++) net.send("c1", "<abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
  assertEquals(net.failures.get("c1")?.condition, "policy-violation");
});

Deno.test("limits: sessions per account and in total, connections", () => {
  const net = new HubNet({ maxSessionsPerAccount: 2, maxSessions: 3, maxConnections: 5 });
  net.login("a1", "alice", { resource: "1" });
  net.login("a2", "alice", { resource: "2" });
  net.connect("a3", { secure: true });
  net.open("a3");
  net.authenticate("a3", "alice");
  net.open("a3", true);
  const bindIq = "<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>";
  net.send("a3", bindIq);
  assertEquals(errorCondition(net.take("a3")[0]), "resource-constraint");
  // Replacing one's own resource is allowed at the limit.
  net.send(
    "a3",
    "<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>2</resource></bind></iq>",
  );
  assertEquals(net.take("a3")[0]!.attrs.type, "result");
  net.login("b1", "bob", { resource: "1" });
  net.connect("b2", { secure: true });
  net.open("b2");
  net.authenticate("b2", "bob");
  net.open("b2", true);
  net.send("b2", bindIq);
  assertEquals(errorCondition(net.take("b2")[0]), "resource-constraint");
  net.connect("c1");
  net.connect("c2");
  assertEquals(net.failures.get("c2")?.condition, "resource-constraint");
});

Deno.test("unknown elements: invalid-namespace, unsupported-stanza-type", () => {
  const net = new HubNet();
  net.online("a1", "alice", "phone");
  net.send("a1", "<message xmlns='jabber:server'/>");
  assertEquals(net.failures.get("a1")?.condition, "invalid-namespace");
  net.online("a2", "alice", "laptop");
  net.send("a2", "<foo xmlns='urn:example'/>");
  assertEquals(net.failures.get("a2")?.condition, "unsupported-stanza-type");
});

Deno.test("API misuse throws; unknown connections and timers are ignored; configuration checked", () => {
  const net = new HubNet();
  net.connect("c1");
  assertThrows(() => net.connect("c1"), Error, "already open");
  assertEquals(net.send("zz", "<presence/>"), []);
  assertEquals(net.end("zz", false), []);
  assertThrows(() => createHub({ domain: "a@b", accounts: [] }), RangeError);
  assertThrows(
    () => createHub({ domain: "localhost", accounts: [], rate: { perSecond: 0, burst: 1 } }),
    RangeError,
  );
  const hub = createHub({ domain: "localhost", accounts: [] });
  const next = hubStep(hub, {
    type: "timer-fired",
    now: 0,
    random: "r",
    timer: { kind: "ping", connId: "x" },
  }).state;
  assertEquals(next.connections.size, 0);
});

Deno.test("the hub state is linear: a stepped state is spent, and stepping it again throws", () => {
  const hub = createHub({ domain: "localhost", accounts: [] });
  const opened = {
    type: "connection-opened",
    now: 0,
    random: "r".repeat(24),
    connId: "c1",
    secure: true,
    loopback: false,
  } as const;
  const { state: next } = hubStep(hub, opened);
  assert(next !== hub);
  // The maps were updated in place: the old state must never be read as if it were current.
  assertThrows(() => hubStep(hub, { ...opened, connId: "c2" }), XmppUsageError, "already stepped");
  // The new state works, and a refused misuse does not spend it.
  assertThrows(() => hubStep(next, opened), XmppUsageError, "already open");
  const { state: third } = hubStep(next, { ...opened, connId: "c2" });
  assertEquals([...third.connections.keys()], ["c1", "c2"]);
});
