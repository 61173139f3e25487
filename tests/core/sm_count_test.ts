/**
 * Issue 12 finding 2: XEP-0198 counting on the embedded server's hub, and the log line of every
 * stream error it sends. Replays, element by element, what `@xmpp/client` 0.14 does in its
 * documented pattern (tests/interop/clean_stop_test.ts runs the library itself, where the race
 * depends on timing): `<presence/>` before `<enable/>`, then an `<a/>` that counts the presence
 * echo sent before `<enabled/>` (XEP-0198 §4 says it must not), then a stale `<a h='0'/>`.
 */

import { assert, assertEquals, assertMatch } from "@std/assert";
import { childElement } from "../../core/mod.ts";
import type { HubOutput, Notice } from "../../core/server/mod.ts";
import { HubNet } from "../_support/hub_net.ts";

const SM = "urn:xmpp:sm:3";

function logs(outputs: readonly HubOutput[], event?: string): Notice[] {
  return outputs.filter((o): o is Notice =>
    o.type === "notice" && (event === undefined || o.event === event)
  );
}

Deno.test("XEP-0198 §4: counters start at <enable/>: nothing sent or received before counts", () => {
  const net = new HubNet();
  const alice = net.login("a1", "alice", { resource: "phone" });
  net.send("a1", "<presence/>"); // before <enable/>: not in the server's h
  net.send("a1", `<enable xmlns='${SM}' resume='true'/>`);
  assertEquals(net.take("a1").map((e) => e.name), ["presence", "enabled"]);
  const sm = net.hub.sessions.get(alice)!.sm!;
  assertEquals([sm.inbound, sm.acked, sm.unacked.length], [0, 0, 0], "the echo is not queued");
  assertEquals(net.hub.sessions.get(alice)!.sentBeforeSm, 2, "the bind result and the echo");
  net.send("a1", `<message to='${alice}'><body>me</body></message>`);
  net.send("a1", `<r xmlns='${SM}'/>`);
  const out = net.take("a1");
  assertEquals(out.map((e) => e.name), ["message", "r", "a"]);
  assertEquals(out[2]!.attrs.h, "1", "only the message counts");
  assertEquals(net.hub.sessions.get(alice)!.sm!.unacked.length, 1);
});

Deno.test("issue 12 #2: @xmpp/client's early count (h=2 for 1 sent) is ignored, not a stream error", () => {
  const net = new HubNet();
  const alice = net.login("a1", "alice");
  // On "online" it sends <presence/>, then its <enable/>, then the message to itself.
  net.send("a1", "<presence/>");
  net.send("a1", `<enable xmlns='${SM}' resume='true'/>`);
  net.send("a1", `<message to='${alice}' type='chat'><body>hello me</body></message>`);
  assertEquals(net.take("a1").map((e) => e.name), ["presence", "enabled", "message", "r"]);
  // It counted the presence echo (sent before <enabled/>) and the message: h=2, 1 sent.
  const early = net.send("a1", `<a xmlns='${SM}' h='2'/>`);
  assertEquals(net.failures.get("a1"), undefined, "no stream error");
  const [event] = logs(early, "ack-above-sent");
  assertEquals(event?.level, "info");
  assertEquals(
    event?.text,
    "h=2, send-count=1, sent before <enabled/>=2: ignored, 1 stanzas kept",
  );
  let sm = net.hub.sessions.get(alice)!.sm!;
  assertEquals([sm.acked, sm.unacked.length], [0, 1], "nothing taken as acknowledged");
  assertEquals(sm.requested, false, "the <r/> was answered: the next delivery asks again");
  // Once it has reset, its <a h='0'/> before <close/> is in range.
  net.send("a1", `<a xmlns='${SM}' h='0'/>`);
  assertEquals(net.failures.get("a1"), undefined);
  // The next delivery asks again, and a correct ack is taken as usual.
  net.send("a1", `<message to='${alice}' type='chat'><body>again</body></message>`);
  assertEquals(net.take("a1").map((e) => e.name), ["message", "r"]);
  net.send("a1", `<a xmlns='${SM}' h='2'/>`);
  sm = net.hub.sessions.get(alice)!.sm!;
  assertEquals([sm.acked, sm.unacked.length], [2, 0]);
  // A clean close: the session ends, with no stream error logged anywhere.
  const closed = net.end("a1", true);
  assertEquals(logs(closed, "session-ended")[0]?.text, "disconnected");
  assertEquals(logs(net.log, "stream-error"), []);
});

Deno.test("issue 12 #2: a kept stanza is sent again on <resume/> (no loss)", () => {
  const net = new HubNet();
  const alice = net.login("a1", "alice");
  net.send("a1", "<presence/>");
  net.send("a1", `<enable xmlns='${SM}' resume='true'/>`);
  const id = net.take("a1").find((e) => e.name === "enabled")!.attrs.id!;
  net.send("a1", `<message to='${alice}' id='m1'><body>hello me</body></message>`);
  net.send("a1", `<a xmlns='${SM}' h='2'/>`); // the early count: ignored
  net.take("a1");
  net.end("a1", false); // the connection drops
  net.connect("a2", { secure: true });
  net.open("a2");
  net.authenticate("a2", "alice");
  net.open("a2", true);
  // Resuming with an early-counted h resumes too; everything unacknowledged comes again.
  const outputs = net.send("a2", `<resume xmlns='${SM}' previd='${id}' h='2'/>`);
  const out = net.take("a2");
  assertEquals(out.map((e) => e.attrs.id ?? e.name), ["resumed", "m1", "r"]);
  assertEquals(logs(outputs, "ack-above-sent").length, 1);
  assertEquals(net.hub.sessions.get(alice)!.sm!.acked, 0);
  // An excess beyond the stanzas sent before <enabled/> fails the resume, as before.
  net.end("a2", false);
  net.connect("a3", { secure: true });
  net.open("a3");
  net.authenticate("a3", "alice");
  net.open("a3", true);
  net.send("a3", `<resume xmlns='${SM}' previd='${id}' h='4'/>`);
  const failed = net.take("a3")[0]!;
  assertEquals(failed.name, "failed");
  assert(childElement(failed, "handled-count-too-high", SM));
});

Deno.test("XEP-0198 §6: an h beyond the early count ends the stream, logged with condition and text", () => {
  const net = new HubNet();
  const alice = net.login("a1", "alice");
  net.send("a1", "<presence/>");
  net.send("a1", `<enable xmlns='${SM}'/>`);
  net.send("a1", `<message to='${alice}'><body>1</body></message>`);
  net.take("a1");
  const outputs = net.send("a1", `<a xmlns='${SM}' h='4'/>`); // 1 sent + 2 before <enabled/> = 3
  const failure = net.failures.get("a1");
  assertEquals(failure?.condition, "undefined-condition");
  assertEquals(failure?.text, "handled-count-too-high: h=4, send-count=1");
  assertEquals(failure?.extra?.name, "handled-count-too-high");
  const [logged] = logs(outputs, "stream-error");
  assertEquals(logged, {
    type: "notice",
    level: "warn",
    event: "stream-error",
    connId: "a1",
    jid: alice,
    condition: "undefined-condition",
    text: "undefined-condition: handled-count-too-high: h=4, send-count=1",
  });
  assertEquals(logs(outputs, "session-ended")[0]?.text, "disconnected");
});

Deno.test("XEP-0198: a malformed h ends the stream without quoting it back", () => {
  const net = new HubNet();
  net.login("a1", "alice");
  net.send("a1", `<enable xmlns='${SM}'/>`);
  net.take("a1");
  const outputs = net.send("a1", `<a xmlns='${SM}' h='12x&#10;injected'/>`);
  const failure = net.failures.get("a1");
  assertEquals(failure?.condition, "undefined-condition");
  assertEquals(failure?.text, "Missing or invalid h");
  assertEquals(failure?.extra, undefined, "not handled-count-too-high: nothing was counted");
  assertEquals(logs(outputs, "stream-error")[0]?.text, "undefined-condition: Missing or invalid h");
});

Deno.test("the count of stanzas sent before <enabled/> stops at maxUnacked", () => {
  const net = new HubNet({ maxUnacked: 3 });
  const alice = net.login("a1", "alice");
  for (let i = 0; i < 6; i++) {
    net.send("a1", `<message to='${alice}'><body>${i}</body></message>`);
  }
  assertEquals(net.take("a1").length, 6);
  assertEquals(net.hub.sessions.get(alice)!.sentBeforeSm, 3);
  net.send("a1", `<enable xmlns='${SM}'/>`);
  net.send("a1", `<message to='${alice}'><body>after</body></message>`);
  net.send("a1", `<a xmlns='${SM}' h='4'/>`); // 1 sent + 3: tolerated
  assertEquals(net.failures.get("a1"), undefined);
  net.send("a1", `<a xmlns='${SM}' h='5'/>`);
  assertEquals(net.failures.get("a1")?.condition, "undefined-condition");
});

Deno.test("stream errors: every one the hub sends is logged once, with condition and text", () => {
  const net = new HubNet();
  net.connect("c1", { secure: true });
  net.open("c1");
  const outputs = net.send("c1", "<message><body>secret payload</body></message>");
  assertEquals(net.failures.get("c1")?.condition, "not-authorized");
  const errors = logs(outputs, "stream-error");
  assertEquals(errors.length, 1);
  assertEquals(errors[0]!.text, "not-authorized: Authenticate first");
  assert(!JSON.stringify(errors[0]).includes("secret"), "never the payload");
  // The adapter then reports the end with the stream error its session layer saw: no repeat.
  const ended = net.input({
    type: "connection-ended",
    connId: "c1",
    clean: true,
    streamError: { condition: "not-authorized", text: "Authenticate first" },
  });
  assertEquals(logs(ended, "stream-error"), []);
});

Deno.test("stream errors of the session layer are logged from connection-ended, text cut and flat", () => {
  const net = new HubNet();
  const alice = net.login("a1", "alice");
  const long = `line one\nline two ${"x".repeat(400)}`;
  const outputs = net.input({
    type: "connection-ended",
    connId: "a1",
    clean: true,
    streamError: { condition: "policy-violation", text: long },
  });
  const [event] = logs(outputs, "stream-error");
  assertEquals([event?.level, event?.connId, event?.jid], ["warn", "a1", alice]);
  assertMatch(event!.text!, /^policy-violation: line one line two x+…$/);
  assertEquals(event!.text!.length, "policy-violation: ".length + 200);
  // Ordinary ends are info.
  net.login("b1", "bob");
  const timeout = net.input({
    type: "connection-ended",
    connId: "b1",
    clean: true,
    streamError: { condition: "connection-timeout" },
  });
  assertEquals(logs(timeout, "stream-error")[0]?.level, "info");
  assertEquals(logs(timeout, "stream-error")[0]?.text, "connection-timeout");
});
