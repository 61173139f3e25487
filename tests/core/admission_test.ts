/**
 * Admission control (issue 9, finding 2), the pure decisions of `core/http/admission.ts`:
 * caps in total, per address and per address before authentication, the rate of new
 * connections per address, IPv6 grouped by /64, the pre-authentication deadline, and bounded
 * memory however many addresses a peer uses.
 */

import { assert, assertEquals, assertThrows } from "@std/assert";
import { addressKey, Admission, type AdmissionDecision } from "../../core/http/admission.ts";

function ticketOf(decision: AdmissionDecision) {
  if (!decision.ok) throw new Error(`refused: ${decision.reason}`);
  return decision.ticket;
}

Deno.test("admission: total cap, then a release makes room", () => {
  const admission = new Admission({ maxConnections: 2 });
  const a = ticketOf(admission.admit("192.0.2.1", 0));
  ticketOf(admission.admit("192.0.2.2", 0));
  assertEquals(admission.admit("192.0.2.3", 0), {
    ok: false,
    reason: "total",
    retryAfterSeconds: 5,
  });
  admission.release(a, 1);
  admission.release(a, 1); // twice changes nothing
  assert(admission.admit("192.0.2.3", 2).ok);
  assertEquals(admission.stats().open, 2);
  assertEquals(admission.stats().refused.total, 1);
});

Deno.test("admission: per-address cap counts one address only", () => {
  const admission = new Admission({ maxPerAddress: 3, maxUnauthenticatedPerAddress: 3 });
  for (let i = 0; i < 3; i++) ticketOf(admission.admit("198.51.100.9", 0));
  const refused = admission.admit("198.51.100.9", 0);
  assertEquals(refused.ok ? "" : refused.reason, "per-address");
  assert(admission.admit("198.51.100.10", 0).ok);
});

Deno.test("admission: unauthenticated connections per address; authenticated ones do not count", () => {
  const admission = new Admission({ maxUnauthenticatedPerAddress: 2 });
  const first = ticketOf(admission.admit("192.0.2.1", 0));
  ticketOf(admission.admit("192.0.2.1", 0));
  const refused = admission.admit("192.0.2.1", 0);
  assertEquals(refused.ok ? "" : refused.reason, "unauthenticated");
  // Another address is not affected (finding 2: one address cannot lock others out).
  assert(admission.admit("192.0.2.77", 0).ok);
  admission.authenticated(first);
  admission.authenticated(first); // twice changes nothing
  assert(admission.admit("192.0.2.1", 0).ok);
  assertEquals(admission.stats().unauthenticated, 3);
});

Deno.test("admission: new connections per address per second (token bucket), Retry-After from the refill", () => {
  const admission = new Admission({ newPerSecond: 2, newBurst: 3 });
  for (let i = 0; i < 3; i++) admission.release(ticketOf(admission.admit("192.0.2.1", 0)), 0);
  assertEquals(admission.admit("192.0.2.1", 0), {
    ok: false,
    reason: "rate",
    retryAfterSeconds: 1,
  });
  assert(!admission.admit("192.0.2.1", 400).ok);
  assert(admission.admit("192.0.2.1", 500).ok); // one token after 0.5 s at 2/s
  assert(admission.admit("192.0.2.2", 500).ok);
  const slow = new Admission({ newPerSecond: 0.1, newBurst: 1 });
  ticketOf(slow.admit("192.0.2.1", 0));
  const refused = slow.admit("192.0.2.1", 0);
  assertEquals(refused.ok ? 0 : refused.retryAfterSeconds, 10);
});

Deno.test("admission: an IPv6 /64 is one client; IPv4-mapped addresses are IPv4", () => {
  assertEquals(addressKey("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
  assertEquals(addressKey("[2001:DB8:1:2::9]"), "2001:db8:1:2::/64");
  assertEquals(addressKey("2001:db8:1:2ff::1", 56), "2001:db8:1:200::/56");
  assertEquals(addressKey("::ffff:203.0.113.5"), "203.0.113.5");
  assertEquals(addressKey("unknown"), "unknown");
  const admission = new Admission({ maxPerAddress: 2 });
  ticketOf(admission.admit("2001:db8::1", 0));
  ticketOf(admission.admit("2001:db8::2", 0));
  const refused = admission.admit("2001:db8::ffff:1", 0);
  assertEquals(refused.ok ? "" : refused.reason, "per-address");
  assert(admission.admit("2001:db8:0:1::1", 0).ok);
});

Deno.test("admission: addresses remembered for their rate are bounded, oldest forgotten first", () => {
  const admission = new Admission({ maxTrackedAddresses: 100, newPerSecond: 1, newBurst: 2 });
  // A peer with a whole IPv6 range opens and closes connections from 10 000 /64s.
  for (let i = 0; i < 10_000; i++) {
    const address = `2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::1`;
    admission.release(ticketOf(admission.admit(address, i)), i);
    assert(admission.stats().idleAddresses <= 100);
  }
  const stats = admission.stats();
  assertEquals([stats.open, stats.activeAddresses, stats.idleAddresses], [0, 0, 100]);
  assertEquals(stats.admitted, 10_000);
  // A remembered address whose bucket has refilled is forgotten (nothing left to remember).
  const quiet = new Admission({ newPerSecond: 1, newBurst: 2 });
  quiet.release(ticketOf(quiet.admit("192.0.2.1", 0)), 0);
  assertEquals(quiet.stats().idleAddresses, 1);
  assert(quiet.admit("192.0.2.2", 5_000).ok);
  assertEquals(quiet.stats().idleAddresses, 0);
});

Deno.test("admission: the pre-authentication deadline", () => {
  const admission = new Admission({ preAuthTimeoutMs: 1_000 });
  const late = ticketOf(admission.admit("192.0.2.1", 0));
  const prompt = ticketOf(admission.admit("192.0.2.1", 0));
  admission.authenticated(prompt);
  assert(!admission.expired(late, 999));
  assert(admission.expired(late, 1_000));
  assert(!admission.expired(prompt, 5_000));
  admission.release(late, 1_000);
  assert(!admission.expired(late, 5_000)); // released: nothing to end
  assertEquals(admission.stats().preAuthTimeouts, 1);
});

Deno.test("admission: invalid limits throw RangeError", () => {
  assertThrows(() => new Admission({ maxConnections: 0 }), RangeError, "maxConnections");
  assertThrows(() => new Admission({ newPerSecond: -1 }), RangeError, "newPerSecond");
  assertThrows(() => new Admission({ ipv6PrefixBits: 129 }), RangeError, "ipv6PrefixBits");
  assertThrows(() => new Admission({ maxPerAddress: 1.5 }), RangeError, "maxPerAddress");
});
