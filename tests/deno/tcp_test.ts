import { assertEquals, assertThrows } from "@std/assert";
import { connectTcp } from "../../deno/tcp.ts";
import { tcpContract, withServer } from "../_support/tcp_contract.ts";
import { delay } from "../_support/endpoint.ts";

tcpContract("tcp", connectTcp);

Deno.test("tcp: a peer reset ends the connection (Deno reads ECONNRESET as EOF)", async () => {
  await withServer(async (conn) => {
    // SO_LINGER 0 is not exposed; closing with unread data makes the kernel send RST.
    await delay(50);
    conn.close();
  }, async (port) => {
    const reports: unknown[] = [];
    const tcp = await connectTcp({ hostname: "127.0.0.1", port }, {
      onChunk: () => {},
      onClosed: (...args) => reports.push(args),
    });
    tcp.write("unread data");
    await tcp.closed;
    assertEquals(reports.length, 1);
    assertThrows(() => tcp.write("more"), Error, "closed");
  });
});
