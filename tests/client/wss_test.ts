/**
 * The client over `wss:` (a throwaway CA given to Deno's WebSocket and fetch through
 * `Deno.createHttpClient`): a bare domain discovered over HTTPS leads to a `wss:` endpoint;
 * the stream header then carries `from` (#18); `see-other-uri` from wss to wss is followed,
 * a downgrade to ws is refused (#33).
 */

import { assert, assertEquals, assertRejects } from "@std/assert";
import { NS } from "../../core/mod.ts";
import {
  type FetchLike,
  type WebSocketFactory,
  XmppClient,
  XmppClientError,
} from "../../deno/client.ts";
import { embeddedServer, loadAccounts } from "../../deno/embedded.ts";
import { serveXmpp } from "../../deno/serve.ts";
import { makeCertificates, type TestCertificates } from "./_tls.ts";

const F = NS.FRAMING;
let certificates: TestCertificates | undefined;

interface Tls {
  readonly certs: TestCertificates;
  readonly fetch: (port: number) => FetchLike;
  readonly webSocket: (log: string[]) => WebSocketFactory;
  close(): void;
}

async function tls(): Promise<Tls> {
  const certs = certificates ??= await makeCertificates();
  const client = Deno.createHttpClient({ caCerts: [certs.ca] });
  return {
    certs,
    fetch: (port) => (url, init) =>
      fetch(url.replace("https://localhost/", `https://localhost:${port}/`), {
        ...init,
        client,
      } as RequestInit),
    webSocket: (log) => (url, protocols) => {
      log.push(url);
      const socket = new WebSocket(url, { protocols, client } as unknown as string[]);
      const send = socket.send.bind(socket);
      socket.send = (data: string | ArrayBufferLike | Blob | ArrayBufferView) => {
        log.push(`> ${data}`);
        send(data);
      };
      return socket;
    },
    close: () => client.close(),
  };
}

Deno.test("wss: discovery over HTTPS, then a wss endpoint; from in the header (#18); close", async () => {
  const t = await tls();
  const { accounts } = await loadAccounts({ users: ["bob:bob-pw"] });
  const app = embeddedServer({ accounts });
  let port = 0;
  const xmpp = serveXmpp({
    hostname: "127.0.0.1",
    port: 0,
    cert: t.certs.cert,
    key: t.certs.key,
    session: { domains: ["localhost"] },
    application: app,
    handler: (request) =>
      new URL(request.url).pathname === "/.well-known/host-meta.json"
        ? Response.json({
          links: [{
            rel: "urn:xmpp:alt-connections:websocket",
            href: `wss://localhost:${port}/xmpp-websocket`,
          }],
        })
        : new Response("not found", { status: 404 }),
  });
  port = xmpp.addr.port;
  const log: string[] = [];
  try {
    const bob = await XmppClient.connect({
      service: "localhost",
      fetch: t.fetch(port),
      webSocket: t.webSocket(log),
      username: "bob",
      password: "bob-pw",
      resource: "secure",
    });
    assertEquals(bob.jid, "bob@localhost/secure");
    assertEquals(log[0], `wss://localhost:${port}/xmpp-websocket`);
    assertEquals(
      log[1],
      `> <open xmlns='${F}' from='bob@localhost' to='localhost' version='1.0'/>`,
    );
    assert(log.some((l) => l.includes("mechanism='SCRAM-SHA-256'")));
    await bob.close();
  } finally {
    await xmpp.shutdown();
    app.stop();
    t.close();
  }
});

Deno.test("wss: see-other-uri to wss is followed, a downgrade to ws is refused (#33)", async () => {
  const t = await tls();
  const { accounts } = await loadAccounts({ users: ["bob:bob-pw"] });
  const app = embeddedServer({ accounts });
  const target = serveXmpp({
    hostname: "127.0.0.1",
    port: 0,
    cert: t.certs.cert,
    key: t.certs.key,
    session: { domains: ["localhost"] },
    application: app,
  });
  const targetUrl = `wss://localhost:${target.addr.port}/xmpp-websocket`;
  const redirector = serveXmpp({
    hostname: "127.0.0.1",
    port: 0,
    cert: t.certs.cert,
    key: t.certs.key,
    session: { domains: ["localhost"] },
    application: { onOpenRequested: (conn) => conn.close({ seeOtherUri: targetUrl }) },
  });
  // A hostile server: answers <open/> with a redirect to plain ws.
  const hostile = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: t.certs.cert,
    key: t.certs.key,
    onListen() {},
  }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request, { protocol: "xmpp" });
    socket.onmessage = (event) => {
      if (String(event.data).startsWith("<open")) {
        socket.send(
          `<close xmlns='${F}' see-other-uri='ws://localhost:${target.addr.port}/xmpp-websocket'/>`,
        );
      }
    };
    return response;
  });
  try {
    const followed: string[] = [];
    const bob = await XmppClient.connect({
      service: `wss://localhost:${redirector.addr.port}/xmpp-websocket`,
      webSocket: t.webSocket(followed),
      username: "bob",
      password: "bob-pw",
    });
    assertEquals(followed.filter((l) => !l.startsWith(">")), [
      `wss://localhost:${redirector.addr.port}/xmpp-websocket`,
      targetUrl,
    ]);
    await bob.close();

    const refused: string[] = [];
    const error = await assertRejects(
      () =>
        XmppClient.connect({
          service: `wss://localhost:${hostile.addr.port}/`,
          webSocket: t.webSocket(refused),
          username: "bob",
          password: "bob-pw",
          allowInsecure: true, // even so: never from wss down to ws
          closeTimeoutMs: 300, // the hostile server never closes the WebSocket
        }),
      XmppClientError,
    );
    assertEquals([error.error.kind, error.error.reconnect], ["redirect", "never"]);
    assertEquals(refused.filter((l) => !l.startsWith(">")).length, 1);
  } finally {
    await redirector.shutdown();
    await target.shutdown();
    await hostile.shutdown();
    app.stop();
    t.close();
  }
});
