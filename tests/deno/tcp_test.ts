import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { connectTcp } from "../../deno/tcp.ts";

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

/** Reads until EOF. */
async function readAll(conn: Deno.Conn): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(64 * 1024);
  for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
    parts.push(buf.slice(0, n));
  }
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((sum, c) => sum + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("tcp: chunks arrive unmodified, even split inside a UTF-8 character", async () => {
  const bytes = new TextEncoder().encode("<message><body>h\u00e9llo \u{1F600}</body></message>");
  const cut = bytes.indexOf(0xf0) + 2; // inside the 4-byte emoji
  await withServer(async (conn) => {
    await conn.write(bytes.subarray(0, cut));
    await delay(20);
    await conn.write(bytes.subarray(cut));
  }, async (port) => {
    const chunks: Uint8Array[] = [];
    let closedWith: unknown = "not yet";
    const tcp = await connectTcp({ hostname: "127.0.0.1", port }, {
      onChunk: (chunk) => void chunks.push(chunk),
      onClosed: (error) => closedWith = error,
    });
    assertEquals(tcp.secure, false);
    await tcp.closed;
    assertEquals(closedWith, undefined, "a clean EOF reports no error");
    assert(chunks.length >= 2, "the server wrote twice with a pause between");
    assertEquals(concat(chunks), bytes);
  });
});

Deno.test("tcp: writes go out in order as UTF-8, and close() flushes them first", async () => {
  const big = "x".repeat(300_000);
  let received = "";
  await withServer(async (conn) => {
    received = new TextDecoder().decode(await readAll(conn));
  }, async (port) => {
    const tcp = await connectTcp({ hostname: "127.0.0.1", port }, {
      onChunk: () => {},
      onClosed: () => {},
    });
    tcp.write("<a>\u00e9</a>");
    tcp.write(big);
    tcp.write("</stream:stream>");
    await tcp.close();
  });
  assertEquals(received, "<a>\u00e9</a>" + big + "</stream:stream>");
});

Deno.test("tcp: write after the peer closed throws a clear error", async () => {
  await withServer(async () => {}, async (port) => {
    let closedCalls = 0;
    const tcp = await connectTcp({ hostname: "127.0.0.1", port }, {
      onChunk: () => {},
      onClosed: () => closedCalls++,
    });
    await tcp.closed;
    assertEquals(closedCalls, 1);
    assertThrows(
      () => tcp.write("<presence/>"),
      Error,
      "Cannot write: the TCP connection is closed",
    );
    await tcp.close(); // idempotent
    assertEquals(closedCalls, 1);
  });
});

Deno.test("tcp: write after close() throws; onClosed runs once with no error", async () => {
  await withServer(async (conn) => {
    await readAll(conn);
  }, async (port) => {
    const reports: unknown[] = [];
    const tcp = await connectTcp({ hostname: "127.0.0.1", port }, {
      onChunk: () => {},
      onClosed: (...args) => reports.push(args),
    });
    await tcp.close();
    assertEquals(reports, [[]]);
    assertThrows(() => tcp.write("x"), Error, "closed");
  });
});

Deno.test("tcp: the write queue is bounded", async () => {
  await withServer(async (conn) => {
    await readAll(conn);
  }, async (port) => {
    const tcp = await connectTcp({ hostname: "127.0.0.1", port, maxQueuedBytes: 1000 }, {
      onChunk: () => {},
      onClosed: () => {},
    });
    tcp.write("a".repeat(600));
    assertThrows(() => tcp.write("b".repeat(600)), Error, "the limit is 1000");
    await tcp.close();
  });
});

Deno.test("tcp: the handler can answer from onChunk and close from there", async () => {
  let got = "";
  await withServer(async (conn) => {
    await conn.write(new TextEncoder().encode("ping"));
    got = new TextDecoder().decode(await readAll(conn));
  }, async (port) => {
    const tcp = await connectTcp({ hostname: "127.0.0.1", port }, {
      onChunk: (_chunk, connection) => {
        connection.write("pong");
        void connection.close();
      },
      onClosed: () => {},
    });
    await tcp.closed;
  });
  assertEquals(got, "pong");
});

Deno.test("tcp: close() drops what a stalled peer never reads, after closeFlushMs", async () => {
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => release = resolve);
  await withServer(async () => {
    await released; // never reads
  }, async (port) => {
    const tcp = await connectTcp({
      hostname: "127.0.0.1",
      port,
      closeFlushMs: 100,
      maxQueuedBytes: 64 << 20,
    }, {
      onChunk: () => {},
      onClosed: () => {},
    });
    for (let i = 0; i < 32; i++) tcp.write("x".repeat(1 << 20)); // far beyond the socket buffers
    const started = performance.now();
    await tcp.close();
    const took = performance.now() - started;
    assert(took >= 90 && took < 2_000, `close() took ${took} ms`);
    release();
  });
});

Deno.test("tcp: a failed STARTTLS rejects, reports onClosed(error); writes meanwhile throw", async () => {
  await withServer(async (conn) => {
    await conn.write(new TextEncoder().encode("<proceed/>"));
    await conn.read(new Uint8Array(4096)); // the ClientHello; this server speaks no TLS
  }, async (port) => {
    let upgrade: Promise<void> | undefined;
    let writeError: unknown;
    const reports: unknown[] = [];
    const tcp = await connectTcp({ hostname: "127.0.0.1", port }, {
      onChunk: (_chunk, connection) => {
        upgrade = connection.startTls({ serverName: "localhost" });
        try {
          connection.write("<stream:stream>");
        } catch (error) {
          writeError = error;
        }
      },
      onClosed: (...args) => reports.push(args),
    });
    await tcp.closed;
    assert(upgrade, "startTls was called");
    await assertRejects(() => upgrade!);
    assert(writeError instanceof Error && /TLS upgrade is pending/.test(writeError.message));
    assertEquals(reports.length, 1);
    assert(
      reports[0] instanceof Array && reports[0][0] instanceof Error,
      "onClosed got the TLS error",
    );
    assertEquals(tcp.secure, false);
  });
});

Deno.test("tcp: startTls outside onChunk is refused; a refused connect rejects", async () => {
  await withServer(async (conn) => {
    await readAll(conn);
  }, async (port) => {
    const tcp = await connectTcp({ hostname: "127.0.0.1", port }, {
      onChunk: () => {},
      onClosed: () => {},
    });
    await assertRejects(() => tcp.startTls(), Error, "outside onChunk");
    await tcp.close();
  });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await assertRejects(() =>
    connectTcp({ hostname: "127.0.0.1", port }, { onChunk: () => {}, onClosed: () => {} })
  );
});

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
