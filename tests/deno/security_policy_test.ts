/**
 * Issue 9, "Security as tests": the policies a public endpoint relies on, each on real loopback
 * sockets. Covered elsewhere, and not repeated here:
 *
 * - the Origin allowlist of `serveXmpp` (tests/deno/serve_test.ts, §5.1) and of Node's endpoint
 *   (tests/node/serve_node_test.ts); here, the gateway's;
 * - `wss` with a real certificate chain (a throwaway CA and a leaf it signed, verified by the
 *   client): tests/client/wss_test.ts and tests/deno/serve_test.ts ("cert and key serve wss");
 * - proxy headers ignored from untrusted peers, and only the chosen one believed from trusted
 *   proxies: tests/deno/trust_test.ts (and tests/deno/gateway_ops_test.ts for the PROXY header);
 * - no open relay in the pure bridge: tests/core/gateway_test.ts (§5.5); here, on the sockets.
 */

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { DocumentParser, NS, textOf } from "../../core/mod.ts";
import { serveGateway } from "../../deno/gateway.ts";
import { serveXmpp } from "../../deno/serve.ts";
import { embeddedServer, loadAccounts } from "../../deno/embedded.ts";
import { createLogger } from "../../deno/mod.ts";
import { RawClient, upgradeRequest } from "../_support/raw_ws.ts";
import { WsTestClient } from "../_support/ws_client.ts";

const MAIN = new URL("../../deno/main.ts", import.meta.url).pathname;
const OPEN = (to: string) => `<open xmlns='${NS.FRAMING}' to='${to}' version='1.0'/>`;
const WAIT_MS = 5_000;
const quiet = createLogger("error", "text");

async function within<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Timed out waiting for ${what}`)), WAIT_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A WebSocket with extra handshake headers, its messages, and a way to wait for one. */
function socket(port: number, headers: Record<string, string> = {}) {
  // deno-lint-ignore no-explicit-any
  const options: any = { protocols: ["xmpp"], headers };
  const ws = new WebSocket(`ws://127.0.0.1:${port}/xmpp-websocket`, options);
  const messages: string[] = [];
  let wake = () => {};
  ws.onmessage = (event) => {
    messages.push(String(event.data));
    wake();
  };
  const closed = new Promise<CloseEvent>((resolve) => ws.onclose = resolve);
  return {
    ws,
    messages,
    closed,
    opened: within("the WebSocket", new Promise((resolve) => ws.onopen = resolve)),
    async until(test: (message: string) => boolean): Promise<string> {
      for (;;) {
        const found = messages.find(test);
        if (found !== undefined) return found;
        await within("a message", new Promise<void>((resolve) => wake = resolve));
      }
    },
  };
}

/** A gateway in front of a bare TCP listener standing for the XMPP server. */
async function withUpstream(
  options: Partial<Parameters<typeof serveGateway>[0]>,
  run: (gatewayPort: number, upstream: Deno.Listener) => Promise<void>,
): Promise<void> {
  const upstream = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const gateway = serveGateway({
    hostname: "127.0.0.1",
    port: 0,
    domains: ["localhost"],
    upstream: { hostname: "127.0.0.1", port: (upstream.addr as Deno.NetAddr).port },
    upstreamTls: "off",
    log: quiet,
    ...options,
  });
  try {
    await run(gateway.addr.port, upstream);
  } finally {
    upstream.close();
    await gateway.shutdown();
  }
}

/** The text an upstream connection receives up to and including the stream header. */
async function streamHeader(conn: Deno.Conn): Promise<string> {
  let text = "";
  const buffer = new Uint8Array(4096);
  for (let i = 0; i < 100 && !/<stream:stream[^>]*>/.test(text); i++) {
    const n = await within("upstream bytes", conn.read(buffer));
    if (n === null) break;
    text += new TextDecoder().decode(buffer.subarray(0, n));
  }
  return text;
}

Deno.test("gateway Origin allowlist (RFC 6455 §10.2): another origin or none gets 403, a listed one 101", async () => {
  await withUpstream(
    { allowedOrigins: ["https://chat.example.org"], allowMissingOrigin: false },
    async (port) => {
      const cases: [string[], number][] = [
        [["Origin: https://evil.example"], 403],
        [["Origin: https://chat.example.org.evil.example"], 403],
        [[], 403],
        [["Origin: https://chat.example.org"], 101],
      ];
      for (const [origin, status] of cases) {
        const raw = await RawClient.connect(port);
        try {
          await raw.write(upgradeRequest(port, [...origin, "Sec-WebSocket-Protocol: xmpp"]));
          assertEquals((await raw.readResponse()).status, status, origin.join());
        } finally {
          raw.close();
        }
      }
    },
  );
});

Deno.test("no open relay on the sockets: <open to> another domain gets host-unknown and opens no upstream connection", async () => {
  await withUpstream({}, async (port, upstream) => {
    const relay = socket(port);
    await relay.opened;
    relay.ws.send(OPEN("victim.example"));
    const error = await relay.until((m) => m.includes("stream:error") || m.includes("error"));
    assertStringIncludes(error, "host-unknown");
    await within("the close", relay.closed);
    // The next connection the upstream sees is the legitimate one: the refused open made none.
    const legit = socket(port);
    await legit.opened;
    legit.ws.send(OPEN("localhost"));
    const conn = await within("the upstream connection", upstream.accept());
    const header = await streamHeader(conn);
    assertStringIncludes(header, "to='localhost'");
    assert(!header.includes("victim.example"), header);
    conn.close();
    await within("the close", legit.closed);
  });
});

Deno.test("PROXY header upstream only when configured: none by default, even behind a trusted proxy", async () => {
  await withUpstream({ trustedProxies: ["127.0.0.1"] }, async (port, upstream) => {
    const client = socket(port, { "x-forwarded-for": "203.0.113.9" });
    await client.opened;
    client.ws.send(OPEN("localhost"));
    const conn = await within("the upstream connection", upstream.accept());
    const header = await streamHeader(conn);
    assert(header.startsWith("<?xml"), header.slice(0, 60));
    assert(!header.includes("PROXY") && !header.includes("203.0.113.9"), header.slice(0, 60));
    conn.close();
    await within("the close", client.closed);
  });
});

Deno.test("embedded server: PLAIN is refused on an unencrypted non-loopback connection, offered when secure", async () => {
  const { accounts } = await loadAccounts({ users: ["alice:wonderland"] });
  for (const secure of [false, true]) {
    const app = embeddedServer({ accounts });
    const xmpp = serveXmpp({
      hostname: "127.0.0.1",
      port: 0,
      secure,
      trustedProxies: ["127.0.0.1"], // the client is 203.0.113.9, behind a trusted proxy
      session: { domains: ["localhost"] },
      application: app,
    });
    try {
      const client = socket(xmpp.addr.port, { "x-forwarded-for": "203.0.113.9" });
      await client.opened;
      client.ws.send(OPEN("localhost"));
      const features = await client.until((m) => m.includes("mechanisms"));
      assertEquals(features.includes(">PLAIN<"), secure, features);
      client.ws.send(
        `<auth xmlns='${NS.SASL}' mechanism='PLAIN'>${btoa("\0alice\0wonderland")}</auth>`,
      );
      const answer = await client.until((m) => m.includes("<success") || m.includes("<failure"));
      if (secure) assertStringIncludes(answer, "<success");
      else assertStringIncludes(answer, "encryption-required");
      client.ws.close();
      await within("the close", client.closed);
    } finally {
      await xmpp.shutdown();
      app.stop();
    }
  }
});

Deno.test("no SASL payload or password in any log: the JSON logs of PLAIN and SCRAM logins, good and bad", async () => {
  const password = "Pa55-" + crypto.randomUUID();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "--port",
      "0",
      "--log-format",
      "json",
      "--log-level",
      "debug",
      "--account",
      `alice:${password}`,
      "--drain",
      "100",
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  let err = "";
  let wake = () => {};
  const pumps = [
    child.stdout.pipeThrough(new TextDecoderStream()).pipeTo(
      new WritableStream({ write: (t) => void (out += t, wake()) }),
    ),
    child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
      new WritableStream({ write: (t) => void (err += t, wake()) }),
    ),
  ];
  const sent: string[] = [];
  try {
    while (!/ws:\/\/127\.0\.0\.1:\d+/.test(err)) {
      await within("the listening log line", new Promise<void>((resolve) => wake = resolve));
    }
    const url = /ws:\/\/127\.0\.0\.1:\d+\/xmpp-websocket/.exec(err)![0];
    for (const mechanism of ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-1"] as const) {
      for (const secret of [password, password + "-wrong"]) {
        const client = await WsTestClient.connect(url);
        try {
          await client.login("alice", secret, mechanism);
          await client.bind();
        } catch { /* the wrong password */ }
        await client.cut();
        sent.push(...client.transcript.filter((line) => line.includes(NS.SASL)));
      }
    }
    child.kill("SIGTERM");
    assertEquals((await child.status).code, 0);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
    await Promise.all(pumps);
  }
  const logs = out + err;
  const lines = logs.split("\n").filter((line) => line.trim() !== "");
  assert(lines.length > 0);
  for (const line of lines) JSON.parse(line); // every line is a JSON log record
  assertStringIncludes(logs, '"authenticated"'); // the logins were logged...
  assertStringIncludes(logs, "auth-failed"); // ...and so were the failures
  // ...but never a password, nor any SASL payload the client sent or the server answered.
  const payloads = sent.map((line) => {
    const parsed = new DocumentParser().parse(line.slice(2));
    return parsed.ok ? textOf(parsed.element).trim() : "";
  }).filter((payload) => payload.length >= 8);
  assert(payloads.length >= 6, sent.join("\n"));
  for (const secret of [password, btoa(password), `\0alice\0${password}`]) {
    assert(!logs.includes(secret), `a secret in the logs: ${secret}`);
  }
  for (const payload of payloads) {
    assert(!logs.includes(payload), `a SASL payload in the logs: ${payload}`);
  }
});
