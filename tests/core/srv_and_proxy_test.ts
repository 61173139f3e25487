/**
 * Pure helpers of the gateway: RFC 2782 / RFC 6120 §3.2 SRV ordering and the PROXY protocol
 * encoders.
 */

import { assertEquals } from "@std/assert";
import { orderSrvTargets, proxyHeaderV1, proxyHeaderV2 } from "../../core/mod.ts";

const rec = (target: string, priority: number, weight: number, port = 5222) => ({
  target,
  port,
  priority,
  weight,
});

Deno.test("SRV: lower priority first; weights choose within a priority; trailing dots dropped", () => {
  const records = [rec("c.example.", 20, 0), rec("a.example.", 10, 90), rec("b.example.", 10, 10)];
  // random() = 0.95 lands past a's 90 of 100: b first, then a.
  assertEquals(orderSrvTargets(records, () => 0.95).map((r) => r.target), [
    "b.example",
    "a.example",
    "c.example",
  ]);
  assertEquals(orderSrvTargets(records, () => 0.1).map((r) => r.target), [
    "a.example",
    "b.example",
    "c.example",
  ]);
});

Deno.test("SRV: a single '.' target means the service is not offered", () => {
  assertEquals(orderSrvTargets([rec(".", 0, 0)], Math.random), []);
});

Deno.test("SRV: zero weights keep every record; extra fields (e.g. the TLS mode) are preserved", () => {
  const ordered = orderSrvTargets([{ ...rec("x.", 5, 0), tls: "direct" as const }, {
    ...rec("y.", 5, 0),
    tls: "none" as const,
  }], () => 0);
  assertEquals(ordered.map((r) => [r.target, r.tls]), [["x", "direct"], ["y", "none"]]);
});

Deno.test("PROXY v1: TCP4, TCP6, and UNKNOWN for mixed or unparsable families", () => {
  assertEquals(
    proxyHeaderV1({ hostname: "192.0.2.1", port: 4000 }, { hostname: "10.0.0.1", port: 5222 }),
    "PROXY TCP4 192.0.2.1 10.0.0.1 4000 5222\r\n",
  );
  assertEquals(
    proxyHeaderV1({ hostname: "2001:db8::1", port: 4000 }, { hostname: "::1", port: 5222 }),
    "PROXY TCP6 2001:db8::1 ::1 4000 5222\r\n",
  );
  assertEquals(
    proxyHeaderV1({ hostname: "192.0.2.1", port: 1 }, { hostname: "::1", port: 2 }),
    "PROXY UNKNOWN\r\n",
  );
  assertEquals(
    proxyHeaderV1({ hostname: "example.com", port: 1 }, { hostname: "10.0.0.1", port: 2 }),
    "PROXY UNKNOWN\r\n",
  );
});

Deno.test("PROXY v2: IPv6 addresses (including ::ffff:a.b.c.d) and the LOCAL form", () => {
  const v6 = proxyHeaderV2({ hostname: "::ffff:192.0.2.1", port: 0x1234 }, {
    hostname: "2001:db8::2",
    port: 5222,
  });
  assertEquals(v6[13], 0x21);
  assertEquals((v6[14]! << 8) | v6[15]!, 36);
  assertEquals([...v6.subarray(16, 32)], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1]);
  assertEquals([...v6.subarray(48, 50)], [0x12, 0x34]);
  const local = proxyHeaderV2({ hostname: "host", port: 1 }, { hostname: "10.0.0.1", port: 2 });
  assertEquals([...local.subarray(12)], [0x20, 0x00, 0x00, 0x00]);
});
