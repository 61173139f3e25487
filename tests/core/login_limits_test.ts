/**
 * Issue 9, finding 4: unlimited password guessing. Failed logins are counted per client address
 * and per account with back-off (`core/server/login_limits.ts`), in the hub: refused attempts
 * get `temporary-auth-failure` before any PBKDF2 work, another address still logs in, the real
 * user gets in once the back-off has passed; PLAIN's PBKDF2 can be handed to the adapter
 * (`derive-key` / `key-derived`). The tables stay bounded however many addresses and names a
 * peer uses.
 */

import { assert, assertEquals, assertThrows } from "@std/assert";
import { serialize, textOf } from "../../core/mod.ts";
import { pbkdf2 } from "../../core/sasl/mod.ts";
import type { HubOutput } from "../../core/server/mod.ts";
import { LoginLimits } from "../../core/server/login_limits.ts";
import { HubNet, PASSWORDS } from "../_support/hub_net.ts";

const SASL = "urn:ietf:params:xml:ns:xmpp-sasl";

function plainAuth(user: string, password: string): string {
  return `<auth xmlns='${SASL}' mechanism='PLAIN'>${btoa(`\0${user}\0${password}`)}</auth>`;
}

/** A secure connection from `address`, its stream opened. */
function connectFrom(net: HubNet, connId: string, address: string): void {
  net.input({ type: "connection-opened", connId, secure: true, loopback: false, address });
  net.open(connId);
}

/** The SASL answer's condition (`success` for a success). */
function answer(net: HubNet, connId: string): string {
  const [reply] = net.take(connId);
  if (!reply) return "none";
  if (reply.name === "success") return "success";
  return reply.children.find((c) => typeof c !== "string" && c.name !== "text")
    ? (reply.children.find((c) => typeof c !== "string" && c.name !== "text") as { name: string })
      .name
    : serialize(reply);
}

/** One PLAIN attempt on a fresh connection from `address`. */
function attempt(net: HubNet, n: number, address: string, user: string, password: string): string {
  const connId = `c${n}`;
  connectFrom(net, connId, address);
  net.send(connId, plainAuth(user, password));
  return answer(net, connId);
}

Deno.test("login limits: after N failures from an address, it is refused with temporary-auth-failure (doubling back-off); another address logs in meanwhile", () => {
  const net = new HubNet({
    loginLimits: { maxFailuresPerAddress: 3, maxFailuresPerAccount: 100, baseBackoffMs: 1_000 },
  });
  const attacker = "203.0.113.66";
  let n = 0;
  for (let i = 0; i < 3; i++) {
    assertEquals(attempt(net, n++, attacker, "bob", `guess-${i}`), "not-authorized");
  }
  // The third failure starts the back-off (1 s): the next attempt is refused before any
  // password work, even with the right password.
  assertEquals(attempt(net, n++, attacker, "bob", PASSWORDS.bob!), "temporary-auth-failure");
  const refusal = net.log.filter((o) => o.type === "notice" && o.event === "limit-auth");
  assertEquals(refusal.length, 1);
  // The real bob, from another address, is not affected.
  assertEquals(attempt(net, n++, "198.51.100.7", "bob", PASSWORDS.bob!), "success");
  // After the back-off, one more failure doubles it (2 s).
  net.now += 1_000;
  assertEquals(attempt(net, n++, attacker, "bob", "guess-3"), "not-authorized");
  net.now += 1_999;
  assertEquals(attempt(net, n++, attacker, "bob", "guess-6"), "temporary-auth-failure");
  net.now += 1;
  assertEquals(attempt(net, n++, attacker, "alice", PASSWORDS.alice!), "success");
});

Deno.test("login limits: an IPv6 /64 is one address", () => {
  const net = new HubNet({ loginLimits: { maxFailuresPerAddress: 2, maxFailuresPerAccount: 100 } });
  let n = 0;
  for (let i = 0; i < 3; i++) attempt(net, n++, `2001:db8:5:6::${i + 1}`, "bob", "wrong");
  assertEquals(
    attempt(net, n++, "2001:db8:5:6::99", "alice", PASSWORDS.alice!),
    "temporary-auth-failure",
  );
  assertEquals(attempt(net, n++, "2001:db8:5:7::1", "alice", PASSWORDS.alice!), "success");
});

Deno.test("login limits: distributed guessing of one account backs off, and the real user gets in once the back-off has passed (never a permanent lock)", () => {
  const net = new HubNet({
    loginLimits: {
      maxFailuresPerAddress: 100,
      maxFailuresPerAccount: 5,
      baseBackoffMs: 1_000,
      maxBackoffMs: 8_000,
    },
  });
  let n = 0;
  // A guess every 100 ms for 60 s, each from another address: past 5 failures the account backs
  // off (1 s, 2 s, 4 s, then 8 s at most), whatever the address, so that few guesses get through.
  const answers: string[] = [];
  for (let i = 0; i < 600; i++) {
    answers.push(attempt(net, n++, `10.${i >> 8}.${i & 0xff}.1`, "bob", `guess-${i}`));
    net.now += 100;
  }
  assertEquals(answers.slice(0, 6), [...Array(5).fill("not-authorized"), "temporary-auth-failure"]);
  const guessed = answers.filter((a) => a === "not-authorized").length;
  assert(guessed <= 5 + 3 + 60 / 8 + 1, `${guessed} guesses got through`);
  assertEquals(guessed + answers.filter((a) => a === "temporary-auth-failure").length, 600);
  // The real bob is refused while the back-off lasts (a distributed attack costs him a wait)...
  assertEquals(attempt(net, n++, "198.51.100.1", "bob", PASSWORDS.bob!), "temporary-auth-failure");
  // ...but the back-off is bounded: once it has passed he gets in, and his failures are forgotten.
  net.now += 8_000;
  assertEquals(attempt(net, n++, "198.51.100.1", "bob", PASSWORDS.bob!), "success");
  assertEquals(attempt(net, n++, "192.0.2.200", "bob", "guess-again"), "not-authorized");
  assertEquals(attempt(net, n++, "198.51.100.1", "bob", PASSWORDS.bob!), "success");
  // Other accounts were never affected.
  assertEquals(attempt(net, n++, "192.0.2.1", "alice", PASSWORDS.alice!), "success");
});

Deno.test("login limits: SCRAM is refused at the challenge once its account backs off", () => {
  const net = new HubNet({ loginLimits: { maxFailuresPerAccount: 1, maxFailuresPerAddress: 100 } });
  let n = 0;
  assertEquals(attempt(net, n++, "192.0.2.1", "alice", "wrong"), "not-authorized");
  connectFrom(net, "scram", "192.0.2.3");
  net.send(
    "scram",
    `<auth xmlns='${SASL}' mechanism='SCRAM-SHA-256'>${
      btoa("n,,n=alice,r=abcdefghijklmnop")
    }</auth>`,
  );
  assertEquals(answer(net, "scram"), "temporary-auth-failure");
  // A failed SCRAM exchange counts too (its username comes from the client-first message).
  const fresh = new HubNet({
    loginLimits: { maxFailuresPerAccount: 1, maxFailuresPerAddress: 100 },
  });
  for (let i = 0; i < 1; i++) {
    connectFrom(fresh, `s${i}`, `192.0.2.${i + 1}`);
    fresh.send(
      `s${i}`,
      `<auth xmlns='${SASL}' mechanism='SCRAM-SHA-1'>${
        btoa("n,,n=alice,r=abcdefghijklmnop")
      }</auth>`,
    );
    const challenge = fresh.take(`s${i}`)[0]!;
    assertEquals(challenge.name, "challenge");
    const nonce = /r=([^,]+)/.exec(atob(textOf(challenge)))![1];
    fresh.send(
      `s${i}`,
      `<response xmlns='${SASL}'>${btoa(`c=biws,r=${nonce},p=${btoa("x".repeat(20))}`)}</response>`,
    );
    assertEquals(answer(fresh, `s${i}`), "not-authorized");
  }
  assertEquals(attempt(fresh, 9, "192.0.2.9", "alice", PASSWORDS.alice!), "temporary-auth-failure");
});

Deno.test("PLAIN with plainDerivation 'adapter': the hub asks for the PBKDF2 and judges the answer", () => {
  const net = new HubNet({ plainDerivation: "adapter" });
  const derive = (outputs: HubOutput[]) => {
    const order = outputs.find((o) => o.type === "derive-key");
    if (order?.type !== "derive-key") throw new Error("no derive-key output");
    return order;
  };
  connectFrom(net, "c1", "192.0.2.1");
  const order = derive(net.send("c1", plainAuth("alice", PASSWORDS.alice!)));
  assertEquals(net.take("c1"), []); // nothing answered yet
  const { hash, password, salt, iterations, length } = order.derivation;
  assertEquals([hash, iterations, length], ["SHA-256", 4096, 32]);
  const key = pbkdf2(hash, password, salt, iterations, length);
  // An answer for another request id is ignored.
  net.input({ type: "key-derived", connId: "c1", id: "not-this-one", key });
  assertEquals(net.take("c1"), []);
  const done = net.input({ type: "key-derived", connId: "c1", id: order.id, key });
  assertEquals(answer(net, "c1"), "success");
  assert(done.some((o) => o.type === "authenticated" && o.connId === "c1"));
  // A wrong password: the derived key does not match.
  connectFrom(net, "c2", "192.0.2.1");
  const wrong = derive(net.send("c2", plainAuth("alice", "not-her-password")));
  const d = wrong.derivation;
  const wrongKey = pbkdf2(d.hash, d.password, d.salt, d.iterations, d.length);
  net.input({ type: "key-derived", connId: "c2", id: wrong.id, key: wrongKey });
  assertEquals(answer(net, "c2"), "not-authorized");
  // SASL while a derivation is pending ends the stream; a late answer then changes nothing.
  connectFrom(net, "c3", "192.0.2.1");
  const pending = derive(net.send("c3", plainAuth("alice", PASSWORDS.alice!)));
  net.send("c3", plainAuth("alice", PASSWORDS.alice!));
  assertEquals(net.failures.get("c3")?.condition, "policy-violation");
  const late = net.input({ type: "key-derived", connId: "c3", id: pending.id, key });
  assertEquals(late.filter((o) => o.type !== "notice"), []);
});

Deno.test("login limits: the tables stay bounded whatever the number of addresses and names", () => {
  const limits = new LoginLimits({ maxTracked: 1_000, maxFailuresPerAddress: 3 });
  for (let i = 0; i < 50_000; i++) {
    limits.failed(
      `2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::1`,
      `user${i}`,
      i,
    );
  }
  const stats = limits.stats();
  assert(stats.trackedAddresses <= 1_000 && stats.trackedAccounts <= 1_000, JSON.stringify(stats));
  // Failures are forgotten once the window has passed since the last one.
  const short = new LoginLimits({ windowMs: 1_000, maxFailuresPerAddress: 2, baseBackoffMs: 10 });
  short.failed("192.0.2.1", undefined, 0);
  assertEquals(short.refusedUntil("192.0.2.1", undefined, 1), undefined);
  short.failed("192.0.2.1", undefined, 500);
  assertEquals(short.refusedUntil("192.0.2.1", undefined, 501), 510);
  short.failed("192.0.2.1", undefined, 1_600); // the window passed: counting starts again
  assertEquals(short.refusedUntil("192.0.2.1", undefined, 1_601), undefined);
  short.failed("192.0.2.1", undefined, 1_700);
  assertEquals(short.refusedUntil("192.0.2.1", undefined, 1_701), 1_710);
  assertThrows(
    () => new LoginLimits({ maxFailuresPerAccount: 0 }),
    RangeError,
    "maxFailuresPerAccount",
  );
});
