/**
 * The contract every TCP connector of the project honours (Deno's `connectTcp` and Node's
 * `connectTcpNode`): one suite of loopback tests, registered once per connector.
 *
 * @module
 */

import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { createServer, type Socket } from "node:net";
import { TLSSocket } from "node:tls";
import type { TcpConnection, TcpConnectOptions, TcpHandlers } from "../../deno/tcp.ts";
import { deadline, TEST_CERT, TEST_KEY } from "./endpoint.ts";

/** A one-connection loopback server running `script` on the accepted connection. */
export async function withServer(
  script: (conn: Deno.Conn) => Promise<void>,
  body: (port: number) => Promise<void>,
  listener: Deno.Listener = Deno.listen({ hostname: "127.0.0.1", port: 0 }),
): Promise<void> {
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
  try {
    for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
      parts.push(buf.slice(0, n));
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.ConnectionReset)) throw error;
  }
  return concat(parts);
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

const encode = (text: string) => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** A TCP connector under test. */
export type Connect = (options: TcpConnectOptions, handlers: TcpHandlers) => Promise<TcpConnection>;

/** Registers the contract tests for `connect`, named `<label>: ...`. */
export function tcpContract(label: string, connect: Connect): void {
  Deno.test(`${label}: chunks arrive unmodified (copies), even split inside a UTF-8 character`, async () => {
    const bytes = encode("<message><body>h\u00e9llo \u{1F600}</body></message>");
    const cut = bytes.indexOf(0xf0) + 2; // inside the 4-byte emoji
    let first: () => void = () => {};
    const gotFirst = new Promise<void>((resolve) => first = resolve);
    await withServer(async (conn) => {
      await conn.write(bytes.subarray(0, cut));
      await deadline(gotFirst, "the first chunk"); // two chunks for sure: an event, not a pause
      await conn.write(bytes.subarray(cut));
    }, async (port) => {
      const chunks: Uint8Array[] = [];
      let closedWith: unknown = "not yet";
      const tcp = await connect({ hostname: "127.0.0.1", port }, {
        onChunk: (chunk) => {
          chunks.push(chunk);
          first();
        },
        onClosed: (error) => closedWith = error,
      });
      assertEquals(tcp.secure, false);
      await tcp.closed;
      assertEquals(closedWith, undefined, "a clean EOF reports no error");
      assert(chunks.length >= 2, "the server wrote the rest after the first chunk arrived");
      assert(chunks.every((chunk) => chunk.constructor === Uint8Array), "plain Uint8Arrays");
      assertEquals(concat(chunks), bytes);
    });
  });

  Deno.test(`${label}: writes go out in order as UTF-8, and close() flushes them first`, async () => {
    const big = "x".repeat(300_000);
    let received = "";
    await withServer(async (conn) => {
      received = decode(await readAll(conn));
    }, async (port) => {
      const tcp = await connect({ hostname: "127.0.0.1", port }, {
        onChunk: () => {},
        onClosed: () => {},
      });
      tcp.write("<a>\u00e9</a>");
      tcp.write(big);
      const bytes = encode("</stream:stream>");
      tcp.write(bytes);
      bytes.fill(0); // write copied them
      await tcp.close();
    });
    assertEquals(received, "<a>\u00e9</a>" + big + "</stream:stream>");
  });

  Deno.test(`${label}: write after the peer closed throws a clear error; onClosed runs once`, async () => {
    await withServer(async () => {}, async (port) => {
      let closedCalls = 0;
      const tcp = await connect({ hostname: "127.0.0.1", port }, {
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

  Deno.test(`${label}: write after close() throws; onClosed runs once with no error`, async () => {
    await withServer(async (conn) => {
      await readAll(conn);
    }, async (port) => {
      const reports: unknown[] = [];
      const tcp = await connect({ hostname: "127.0.0.1", port }, {
        onChunk: () => {},
        onClosed: (...args) => reports.push(args),
      });
      await tcp.close();
      assertEquals(reports, [[]]);
      assertThrows(() => tcp.write("x"), Error, "closed");
    });
  });

  Deno.test(`${label}: the write queue is bounded`, async () => {
    await withServer(async (conn) => {
      await readAll(conn);
    }, async (port) => {
      const tcp = await connect({ hostname: "127.0.0.1", port, maxQueuedBytes: 1000 }, {
        onChunk: () => {},
        onClosed: () => {},
      });
      tcp.write("a".repeat(600));
      const error = assertThrows(() => tcp.write("b".repeat(600)), Error, "the limit is 1000");
      assertEquals(error.name, "WriteQueueFull");
      await tcp.close();
    });
  });

  Deno.test(`${label}: the handler can answer from onChunk and close from there`, async () => {
    let got = "";
    await withServer(async (conn) => {
      await conn.write(encode("ping"));
      got = decode(await readAll(conn));
    }, async (port) => {
      const tcp = await connect({ hostname: "127.0.0.1", port }, {
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

  Deno.test(`${label}: a promise from onChunk pauses reading until it settles`, async () => {
    // Two connections fed alike: "one", then "two" and "three" once the client has seen "one".
    // The reference connection never pauses; once it has everything, the paused one (whose
    // bytes were written before the reference's) would have it too, had it kept reading: an
    // event to compare with, not a pause that stands for "the rest has arrived by now".
    const feed = (seenOne: Promise<void>, wrote: () => void) => async (conn: Deno.Conn) => {
      await conn.write(encode("one"));
      await deadline(seenOne, "the client to see 'one'");
      await conn.write(encode("two"));
      await conn.write(encode("three"));
      wrote();
    };
    const signal = () => {
      let fire: () => void = () => {};
      const fired = new Promise<void>((resolve) => fire = resolve);
      return { fire, fired };
    };
    const [pausedOne, pausedWrote, referenceOne, referenceWrote, referenceAll] = [
      signal(),
      signal(),
      signal(),
      signal(),
      signal(),
    ];
    await withServer(
      feed(pausedOne.fired, pausedWrote.fire),
      (pausedPort) =>
        withServer(feed(referenceOne.fired, referenceWrote.fire), async (referencePort) => {
          const seen: string[] = [];
          let release: () => void = () => {};
          const tcp = await connect({ hostname: "127.0.0.1", port: pausedPort }, {
            onChunk: (chunk) => {
              seen.push(decode(chunk));
              pausedOne.fire();
              return seen.length === 1
                ? new Promise<void>((resolve) => release = resolve)
                : undefined;
            },
            onClosed: () => {},
          });
          await deadline(pausedWrote.fired, "the paused connection's server to write everything");
          let reference = "";
          const control = await connect({ hostname: "127.0.0.1", port: referencePort }, {
            onChunk: (chunk) => {
              reference += decode(chunk);
              referenceOne.fire();
              if (reference === "onetwothree") referenceAll.fire();
            },
            onClosed: () => {},
          });
          await deadline(referenceAll.fired, "the reference connection to receive everything");
          await deadline(referenceWrote.fired, "the reference server");
          assertEquals(seen, ["one"], "nothing is delivered while the promise is pending");
          release();
          await deadline(tcp.closed, "the paused connection to end");
          await deadline(control.closed, "the reference connection to end");
          assertEquals(seen.join(""), "onetwothree");
        }),
    );
  });

  Deno.test(`${label}: close() drops what a stalled peer never reads, after closeFlushMs`, async () => {
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => release = resolve);
    await withServer(async () => {
      await released; // never reads
    }, async (port) => {
      const tcp = await connect({
        hostname: "127.0.0.1",
        port,
        closeFlushMs: 100,
        maxQueuedBytes: 64 << 20,
      }, {
        onChunk: () => {},
        onClosed: () => {},
      });
      for (let i = 0; i < 32; i++) tcp.write("x".repeat(1 << 20)); // far beyond the socket buffers
      // Ordered by timers, not read on a clock: a timer armed before close() for a shorter
      // delay than closeFlushMs has fired by the time close() gives up (timers fire in the
      // order of their deadlines); close() returning at all is a bounded wait.
      let flushWindowPassed = false;
      const marker = setTimeout(() => flushWindowPassed = true, 90);
      await deadline(tcp.close(), "close() to give up on the stalled peer");
      clearTimeout(marker);
      assert(flushWindowPassed, "close() gave up before closeFlushMs");
      release();
    });
  });

  Deno.test(`${label}: a failed STARTTLS rejects, reports onClosed(error); writes meanwhile throw`, async () => {
    await withServer(async (conn) => {
      await conn.write(encode("<proceed/>"));
      await conn.read(new Uint8Array(4096)); // the ClientHello; this server speaks no TLS
    }, async (port) => {
      let upgrade: Promise<void> | undefined;
      let writeError: unknown;
      const reports: unknown[] = [];
      const tcp = await connect({ hostname: "127.0.0.1", port }, {
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

  Deno.test(`${label}: STARTTLS from onChunk, verified with caCerts and serverName; then TLS both ways`, async () => {
    // A node:net server that answers <proceed/> and then speaks TLS on the same socket.
    const received: string[] = [];
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.once("data", () => {
        socket.write("<proceed/>", () => {
          const secured = new TLSSocket(socket, { isServer: true, cert: TEST_CERT, key: TEST_KEY });
          secured.on("data", (data) => {
            received.push(String(data));
            secured.end("<secured/>");
          });
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    try {
      const chunks: string[] = [];
      let started: (upgrade: Promise<void>) => void = () => {};
      const upgraded = new Promise<void>((resolve) => started = resolve); // settles with startTls
      const tcp = await connect({ hostname: "127.0.0.1", port }, {
        onChunk: (chunk, connection) => {
          chunks.push(decode(chunk));
          if (chunks.length === 1) {
            started(connection.startTls({ caCerts: [TEST_CERT], serverName: "localhost" }));
          }
        },
        onClosed: () => {},
      });
      tcp.write("<starttls/>");
      await deadline(upgraded, "<proceed/> and the TLS handshake");
      assertEquals(tcp.secure, true);
      tcp.write("<open/>");
      await tcp.closed;
      assertEquals(chunks, ["<proceed/>", "<secured/>"]);
      assertEquals(received, ["<open/>"]);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  Deno.test(`${label}: direct TLS (XEP-0368) with caCerts; an untrusted certificate is refused`, async () => {
    const listen = () =>
      Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert: TEST_CERT, key: TEST_KEY });
    await withServer(async (conn) => {
      await conn.write(encode("hello over tls"));
    }, async (port) => {
      let got = "";
      const tcp = await connect({
        hostname: "127.0.0.1",
        port,
        tls: "direct",
        caCerts: [TEST_CERT],
        serverName: "localhost",
      }, { onChunk: (chunk) => void (got += decode(chunk)), onClosed: () => {} });
      assertEquals(tcp.secure, true);
      await tcp.closed;
      assertEquals(got, "hello over tls");
    }, listen());
    await withServer(async (conn) => {
      await (conn as Deno.TlsConn).handshake().catch(() => {});
    }, async (port) => {
      await assertRejects(() =>
        connect({ hostname: "127.0.0.1", port, tls: "direct", serverName: "localhost" }, {
          onChunk: () => {},
          onClosed: () => {},
        })
      );
    }, listen());
  });

  Deno.test(`${label}: startTls outside onChunk is refused; a refused connect rejects`, async () => {
    await withServer(async (conn) => {
      await readAll(conn);
    }, async (port) => {
      const tcp = await connect({ hostname: "127.0.0.1", port }, {
        onChunk: () => {},
        onClosed: () => {},
      });
      await assertRejects(() => tcp.startTls(), Error, "outside onChunk");
      await tcp.close();
    });
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    const error = await connect({ hostname: "127.0.0.1", port }, {
      onChunk: () => {},
      onClosed: () => {},
    }).catch((e) => e);
    assertEquals(error.code, "ECONNREFUSED");
  });
}
