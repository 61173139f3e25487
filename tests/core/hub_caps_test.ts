/**
 * Issue 9, finding 7: the state one account can make the embedded server keep is bounded, each
 * cap through the pure hub with the stanza error RFC 6121 §2.3.3 (and §2.4.3 for updates) asks
 * for: roster items per account (`policy-violation`), item names and group names
 * (`not-acceptable`), groups per item (`not-acceptable`), valid bare JIDs only (`bad-request`),
 * entities remembered for directed presence per session (`resource-constraint`). A roster update
 * changes the stored roster in place instead of copying it.
 */

import { assert, assertEquals, assertThrows } from "@std/assert";
import { childElement, childElements, type XmlElement } from "../../core/mod.ts";
import { createHub } from "../../core/server/mod.ts";
import { HubNet } from "../_support/hub_net.ts";

const STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";
const ROSTER = "jabber:iq:roster";

function errorCondition(stanza: XmlElement | undefined): string | undefined {
  const error = stanza && childElement(stanza, "error", "jabber:client");
  return error && childElements(error).find((c) => c.ns === STANZAS && c.name !== "text")?.name;
}

function rosterSet(id: string, item: string): string {
  return `<iq type='set' id='${id}'><query xmlns='${ROSTER}'>${item}</query></iq>`;
}

/** The answer to a roster set from `connId` (the result or error, not the pushes). */
function answer(net: HubNet, connId: string, id: string, item: string): XmlElement {
  net.send(connId, rosterSet(id, item));
  const reply = net.stanzas(connId).find((s) => s.attrs.id === id);
  if (reply === undefined) throw new Error(`no answer to ${id}`);
  return reply;
}

function groups(n: number, length = 5): string {
  return Array.from({ length: n }, (_, i) => `<group>${String(i).padStart(length, "g")}</group>`)
    .join("");
}

Deno.test("roster item names and groups: over the configured lengths or counts, not-acceptable (RFC 6121 §2.3.3)", () => {
  const net = new HubNet({ maxRosterNameLength: 10, maxRosterGroups: 3, maxRosterGroupLength: 8 });
  net.login("a1", "alice");
  const bob = "jid='bob@localhost'";
  const cases: [string, string | undefined][] = [
    [`<item ${bob} name='${"n".repeat(10)}'/>`, undefined],
    [`<item ${bob} name='${"n".repeat(11)}'/>`, "not-acceptable"],
    [`<item ${bob} name='${"é".repeat(11)}'/>`, "not-acceptable"],
    [`<item ${bob}>${groups(3)}</item>`, undefined],
    [`<item ${bob}>${groups(4)}</item>`, "not-acceptable"],
    [`<item ${bob}><group>${"g".repeat(8)}</group></item>`, undefined],
    [`<item ${bob}><group>${"g".repeat(9)}</group></item>`, "not-acceptable"],
    [`<item ${bob}><group> </group></item>`, "not-acceptable"],
    [`<item ${bob}><group>a</group><group>a</group></item>`, "bad-request"],
  ];
  cases.forEach(([item, condition], i) => {
    const reply = answer(net, "a1", `s${i}`, item);
    assertEquals(reply.attrs.type, condition === undefined ? "result" : "error", item);
    assertEquals(errorCondition(reply), condition, item);
  });
  // The defaults refuse the 32 KB names of finding 7.
  const defaults = new HubNet();
  defaults.login("a1", "alice");
  const big = answer(defaults, "a1", "big", `<item ${bob} name='${"x".repeat(32_768)}'/>`);
  assertEquals(errorCondition(big), "not-acceptable");
  assertEquals(defaults.hub.rosters.get("alice@localhost")?.items.size ?? 0, 0);
});

Deno.test("roster items name valid bare JIDs only: anything else is bad-request and stores nothing", () => {
  const net = new HubNet();
  net.login("a1", "alice");
  for (
    const jid of [
      "bob@localhost/phone",
      "@localhost",
      "bob@",
      "a b@localhost",
      "bob@evil<x>.example",
      "bob@exa_mple.com",
      "bob@-.example",
      `bob@${"a".repeat(64)}.example`,
    ]
  ) {
    const item = `<item jid='${jid.replace(/</g, "&lt;").replace(/>/g, "&gt;")}'/>`;
    assertEquals(errorCondition(answer(net, "a1", "j", item)), "bad-request", jid);
  }
  assertEquals(net.hub.rosters.get("alice@localhost")?.items.size ?? 0, 0);
  for (const jid of ["bob@chat.example.org", "xn--bcher-kva.example", "bob@[2001:db8::1]"]) {
    assertEquals(answer(net, "a1", "ok", `<item jid='${jid}'/>`).attrs.type, "result", jid);
  }
});

Deno.test("roster size: a new item beyond maxRosterItems is a policy-violation; updates and removals still work", () => {
  const net = new HubNet({ maxRosterItems: 3 });
  net.login("a1", "alice");
  for (const n of [1, 2, 3]) {
    assertEquals(
      answer(net, "a1", `add${n}`, `<item jid='c${n}@example.org'/>`).attrs.type,
      "result",
    );
  }
  const full = answer(net, "a1", "add4", "<item jid='c4@example.org'/>");
  assertEquals(errorCondition(full), "policy-violation");
  assertEquals(net.hub.rosters.get("alice@localhost")!.items.size, 3);
  // Renaming an existing item is not a new item.
  assertEquals(
    answer(net, "a1", "ren", "<item jid='c1@example.org' name='One'/>").attrs.type,
    "result",
  );
  // A subscription request would add an item: refused the same way, and nothing reaches bob.
  net.online("b1", "bob");
  net.send("a1", "<presence to='bob@localhost' type='subscribe'/>");
  const [refused] = net.stanzas("a1");
  assertEquals([refused?.name, errorCondition(refused)], ["presence", "policy-violation"]);
  assertEquals(net.stanzas("b1"), []);
  // Removing one makes room again.
  answer(net, "a1", "rm", "<item jid='c2@example.org' subscription='remove'/>");
  net.send("a1", "<presence to='bob@localhost' type='subscribe'/>");
  assertEquals(net.stanzas("b1").map((s) => s.attrs.type), ["subscribe"]);
  // Approving a request from someone not in a full roster is refused as well.
  answer(net, "a1", "add5", "<item jid='c5@example.org'/>");
  net.online("c1", "carol");
  net.send("c1", "<presence to='alice@localhost' type='subscribe'/>");
  net.take("a1");
  net.send("a1", "<presence to='carol@localhost' type='subscribed'/>");
  assertEquals(errorCondition(net.stanzas("a1")[0]), "policy-violation");
  assertEquals(net.stanzas("c1"), []);
});

Deno.test("directed presence: a session remembers at most maxDirectedPresences entities; one more is a resource-constraint", () => {
  const net = new HubNet({ maxDirectedPresences: 2 });
  net.online("a1", "alice", "phone");
  net.online("b1", "bob", "desk");
  net.online("c1", "carol", "pc");
  net.send("a1", "<presence to='bob@localhost/desk'/>");
  net.send("a1", "<presence to='bob@localhost/other'/>"); // not bound: remembered all the same
  assertEquals(net.stanzas("b1").length, 1);
  net.send("a1", "<presence to='carol@localhost'/>");
  const [refused] = net.stanzas("a1");
  assertEquals([refused?.name, errorCondition(refused)], ["presence", "resource-constraint"]);
  assertEquals(net.stanzas("c1"), [], "the refused presence is not delivered");
  // Sending to a remembered entity again, or unavailable to one, needs no new slot.
  net.send("a1", "<presence to='bob@localhost/desk'><show>away</show></presence>");
  assertEquals(net.stanzas("a1"), []);
  net.send("a1", "<presence to='bob@localhost/other' type='unavailable'/>");
  net.send("a1", "<presence to='carol@localhost'/>");
  assertEquals(net.stanzas("a1"), []);
  assertEquals(net.stanzas("c1").length, 1);
  assertEquals(net.hub.sessions.get("alice@localhost/phone")!.directed.length, 2);
  // Going unavailable tells exactly the remembered entities.
  net.take("b1");
  net.send("a1", "<presence type='unavailable'/>");
  assertEquals(net.stanzas("b1").map((s) => s.attrs.type), ["unavailable"]);
  assertEquals(net.stanzas("c1").map((s) => s.attrs.type), ["unavailable"]);
});

Deno.test("a roster update changes the stored roster in place: its cost does not grow with the roster", () => {
  const net = new HubNet({ maxRosterItems: 5_000, rate: { perSecond: 1e6, burst: 1e6 } });
  net.login("a1", "alice");
  answer(net, "a1", "first", "<item jid='c0@example.org'/>");
  const items = net.hub.rosters.get("alice@localhost")!.items;
  for (let n = 1; n < 2_000; n++) answer(net, "a1", `add${n}`, `<item jid='c${n}@example.org'/>`);
  answer(net, "a1", "ren", "<item jid='c7@example.org' name='Seven'/>");
  answer(net, "a1", "rm", "<item jid='c8@example.org' subscription='remove'/>");
  // The same map object all along: no update copied the items (the old code made a new Map of
  // every item at every change, O(items) each).
  assert(net.hub.rosters.get("alice@localhost")!.items === items);
  assertEquals(items.size, 1_999);
  assertEquals(items.get("c7@example.org")?.name, "Seven");
});

Deno.test("the caps are configuration: positive integers, checked at creation", () => {
  const hub = createHub({ domain: "localhost", accounts: [] });
  assertEquals(
    [
      hub.config.maxRosterItems,
      hub.config.maxRosterNameLength,
      hub.config.maxRosterGroups,
      hub.config.maxRosterGroupLength,
      hub.config.maxDirectedPresences,
    ],
    [1_000, 1_024, 64, 1_024, 100],
  );
  for (
    const key of [
      "maxRosterItems",
      "maxRosterNameLength",
      "maxRosterGroups",
      "maxRosterGroupLength",
      "maxDirectedPresences",
    ]
  ) {
    assertThrows(
      () => createHub({ domain: "localhost", accounts: [], [key]: 0 }),
      RangeError,
      key,
    );
  }
});
