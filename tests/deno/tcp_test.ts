import { assertEquals, assertThrows } from "@std/assert";
import { connectTcp } from "../../deno/tcp.ts";
import { tcpContract } from "../_support/tcp_contract.ts";

/** A one-connection loopback server running `script` on the accepted connection. */
async function withServer(
  script: (conn: Deno.Conn) => Promise<void>,
  body: (port: number) => Promise<void>,
): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    const conn = await listener.accept();
    try {
      await script(conn);
    } finally {
      try {
        conn.close();
      } catch { /* closed by the script */ }
    }
  })();
  try {
    await body((listener.addr as Deno.NetAddr).port);
  } finally {
    listener.close();
    await served;
  }
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
