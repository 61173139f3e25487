/**
 * Operations: `/healthz` readiness, the embedded server's `/metrics`, the hub's limits as
 * options, and `--demo-page`.
 *
 * - `/healthz` answers JSON: 200 `ok`; 503 `draining` once SIGTERM started the drain (while
 *   sessions are still being ended); for the gateway, 503 `upstream-unreachable` when a TCP
 *   connect to the upstream fails, and at once when a client's session could not reach it (the
 *   last real connection counts before a cached check).
 * - `/metrics` (embedded server): connections, sessions (and hibernating ones), logins ok and
 *   failed, stanzas received and delivered, stanza and stream errors, XEP-0198 queued stanzas,
 *   limits hit (the stanza rate limit, hit on purpose with `--stanza-rate 1 --stanza-burst 3`).
 * - Every hub setting has an option whose default is the hub's own default; a flag and its
 *   environment variable reach the hub (`--max-sessions-per-account 1` refuses a second bind);
 *   an invalid value is refused at start-up naming the flag.
 * - `--demo-page off` serves no page at `/`; the default on loopback serves it.
 *
 * Real `deno/main.ts` subprocesses (and an in-process gateway) on loopback; every wait bounded.
 */

import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { element, NS, serialize } from "../../core/mod.ts";
import { HUB_DEFAULTS } from "../../core/server/mod.ts";
import { LOGIN_LIMIT_DEFAULTS } from "../../core/server/login_limits.ts";
import { parseOptions } from "../../deno/options.ts";
import { hubSettings } from "../../deno/embedded.ts";
import { serveGateway } from "../../deno/gateway.ts";
import { WsTestClient } from "../_support/ws_client.ts";
import { MainProcess } from "../_support/main_process.ts";

const MAIN = new URL("../../deno/main.ts", import.meta.url).pathname;
const quiet = () => {};

async function health(base: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${base}/healthz`);
  assertEquals(response.headers.get("content-type"), "application/json");
  return { status: response.status, body: await response.json() };
}

/** One sample of the Prometheus text (`name{labels}` exactly), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

Deno.test("/healthz: 200 while serving, 503 'draining' once SIGTERM started the drain", async () => {
  // Two open sessions and a 2 s drain: the second one ends about 1 s after the first.
  const server = await MainProcess.start(["--account", "alice:pw", "--drain", "2000"]);
  const base = `http://127.0.0.1:${server.port}`;
  const clients: WsTestClient[] = [];
  try {
    assertEquals(await health(base), {
      status: 200,
      body: { ready: true, status: "ok", draining: false },
    });
    for (let i = 0; i < 2; i++) clients.push(await WsTestClient.connect(server.url));
    server.signal("SIGTERM");
    await server.waitForLog((l) => l.message === "shutting down", "the drain");
    const draining = await health(base);
    assertEquals(draining, {
      status: 503,
      body: { ready: false, status: "draining", draining: true },
    });
    // New WebSocket connections are refused meanwhile (503, as before).
    const refused = await fetch(`${base}/xmpp-websocket`, {
      headers: {
        upgrade: "websocket",
        connection: "Upgrade",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        "sec-websocket-version": "13",
        "sec-websocket-protocol": "xmpp",
      },
    });
    await refused.body?.cancel();
    assertEquals(refused.status, 503);
  } finally {
    for (const client of clients) await client.cut().catch(() => {});
    assertEquals((await server.stop()).code, 0);
  }
});

Deno.test("/healthz on the gateway: the upstream reachable or not (TCP check, and the last session's connect)", async () => {
  const upstream = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (upstream.addr as Deno.NetAddr).port;
  // Accept and close at once: a TCP connect is all the check does.
  const accepting = (async () => {
    for await (const conn of upstream) conn.close();
  })().catch(() => {});
  const gateway = serveGateway({
    hostname: "127.0.0.1",
    port: 0,
    domains: ["localhost"],
    upstream: { hostname: "127.0.0.1", port },
    upstreamTls: "off",
    connectTimeoutMs: 2_000,
    log: quiet,
  });
  const base = `http://127.0.0.1:${gateway.addr.port}`;
  try {
    assertEquals(await health(base), {
      status: 200,
      body: { ready: true, status: "ok", draining: false, upstream: "reachable" },
    });
    // The upstream goes away: the next client's session cannot connect, and /healthz says so
    // at once (the newest fact wins over the check cached a moment ago).
    upstream.close();
    await accepting;
    const client = await WsTestClient.connect(`ws://127.0.0.1:${gateway.addr.port}/xmpp-websocket`)
      .catch((error) => error);
    if (client instanceof WsTestClient) await client.close().catch(() => {});
    assertEquals(gateway.metrics.lastUpstream?.ok, false);
    assertEquals(await health(base), {
      status: 503,
      body: {
        ready: false,
        status: "upstream-unreachable",
        draining: false,
        upstream: "unreachable",
      },
    });
  } finally {
    await gateway.shutdown();
  }
});

Deno.test("/healthz on a gateway whose upstream is down from the start: 503 from the TCP check", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close(); // a port nothing listens on
  const gateway = serveGateway({
    hostname: "127.0.0.1",
    port: 0,
    domains: ["localhost"],
    upstream: { hostname: "127.0.0.1", port },
    upstreamTls: "off",
    log: quiet,
  });
  try {
    const { status, body } = await health(`http://127.0.0.1:${gateway.addr.port}`);
    assertEquals(status, 503);
    assertEquals(body.status, "upstream-unreachable");
    assertEquals(gateway.metrics.lastUpstream, undefined); // no session tried: the check did
  } finally {
    await gateway.shutdown();
  }
});

Deno.test("embedded /metrics: connections, sessions, logins, stanzas, errors, XEP-0198 queues, limits hit", async () => {
  const server = await MainProcess.start([
    "--account",
    "alice:alice-pw",
    "--account",
    "bob:bob-pw",
    "--stanza-rate",
    "1",
    "--stanza-burst",
    "3",
    "--max-throttled",
    "1000",
  ]);
  const base = `http://127.0.0.1:${server.port}`;
  const clients: WsTestClient[] = [];
  try {
    // A failed login, then two good ones.
    const failed = await WsTestClient.connect(server.url);
    clients.push(failed);
    await failed.login("alice", "wrong", "PLAIN").catch(() => {});
    const alice = await WsTestClient.connect(server.url);
    const bob = await WsTestClient.connect(server.url);
    clients.push(alice, bob);
    await alice.login("alice", "alice-pw", "PLAIN");
    await bob.login("bob", "bob-pw", "PLAIN");
    const aliceJid = await alice.bind("a");
    await bob.bind("b");
    // bob enables XEP-0198 and never acknowledges: what alice sends him stays queued.
    bob.send(element("enable", "urn:xmpp:sm:3", { resume: "true" }));
    await bob.next((e) => e.name === "enabled");
    // alice sends 6 messages in a row: the burst of 3 passes (after the bind took a token or
    // two), the rest are refused with resource-constraint (rate limit hit, session kept).
    for (let i = 0; i < 6; i++) {
      alice.send(
        element("message", NS.CLIENT, { to: "bob@localhost/b", type: "chat", id: `m${i}` }, [
          element("body", NS.CLIENT, {}, [`hello ${i}`]),
        ]),
      );
    }
    const refused = await alice.next((e) => e.name === "message" && e.attrs.type === "error");
    assertEquals(refused.attrs.to, aliceJid);
    await bob.next((e) => e.name === "message" && e.attrs.type === "chat");

    const text = await (await fetch(`${base}/metrics`)).text();
    assertMatch(text, /^# TYPE xmpp_ws_logins_total counter$/m);
    assertEquals(sample(text, 'xmpp_ws_logins_total{result="ok"}'), 2);
    assertEquals(sample(text, 'xmpp_ws_logins_total{result="failed"}'), 1);
    assertEquals(sample(text, "xmpp_ws_connections_total"), 3);
    assertEquals(sample(text, "xmpp_ws_connections_open"), 3);
    assertEquals(sample(text, 'xmpp_ws_hub_connections{stage="bound"}'), 2);
    assertEquals(sample(text, "xmpp_ws_sessions"), 2);
    assertEquals(sample(text, "xmpp_ws_sessions_hibernating"), 0);
    // One run of refusals (the hub logs its first), each refused stanza a stanza error.
    assertEquals(sample(text, 'xmpp_ws_limits_hit_total{limit="rate"}'), 1, text);
    const throttled = sample(text, 'xmpp_ws_stanza_errors_total{condition="resource-constraint"}')!;
    assert(throttled >= 1, text);
    const sent = sample(text, 'xmpp_ws_stanzas_received_total{kind="message"}')!;
    assertEquals(sent, 6);
    // bob's queue: the messages delivered to him since <enabled/>, none acknowledged.
    const delivered = 6 - throttled;
    assert(delivered >= 1, text);
    assertEquals(sample(text, "xmpp_ws_sm_queued_stanzas"), delivered, text);
    assertEquals(sample(text, "xmpp_ws_sm_queue_longest"), delivered);
    assert(
      sample(text, 'xmpp_ws_stanzas_delivered_total{kind="message"}')! >= delivered + throttled,
    );
    // bob cuts: his session hibernates with its queue (XEP-0198), counted as such.
    await bob.cut();
    await server.waitForLog((l) => l.message === "hibernated", "bob's hibernation");
    const after = await (await fetch(`${base}/metrics`)).text();
    assertEquals(sample(after, "xmpp_ws_sessions_hibernating"), 1);
    assertEquals(sample(after, "xmpp_ws_sm_queued_stanzas"), delivered);
    // Every family is announced with HELP and TYPE.
    for (const name of text.matchAll(/^# TYPE (\S+) (counter|gauge|summary)$/gm)) {
      assertStringIncludes(text, `# HELP ${name[1]} `);
    }
  } finally {
    for (const client of clients) await client.cut().catch(() => {});
    await server.stop();
  }
});

Deno.test("every hub setting has an option whose default is the hub's default", () => {
  const parsed = parseOptions([], {});
  if (!parsed.ok) throw new Error("the defaults do not parse");
  const settings = hubSettings(parsed.options) as Record<string, unknown>;
  // Not limits: the server's name in disco, its SASL secret, where PLAIN's PBKDF2 runs.
  const { serverName: _n, saslSecret: _s, plainDerivation: _p, loginLimits, ...expected } =
    HUB_DEFAULTS;
  const covered = Object.fromEntries(Object.keys(expected).map((key) => [key, settings[key]]));
  assertEquals(covered, expected);
  // The login back-off: every setting given is the default (the others are left to it).
  const given = settings.loginLimits as Record<string, number>;
  assertEquals({ ...LOGIN_LIMIT_DEFAULTS, ...loginLimits, ...given }, LOGIN_LIMIT_DEFAULTS);
});

Deno.test("hub limits: a flag or its environment variable reaches the hub; a bad value names the flag", async () => {
  for (
    const [args, env] of [
      [["--max-sessions-per-account", "1"], {}],
      [[], { XMPP_WS_MAX_SESSIONS_PER_ACCOUNT: "1" }],
    ] as const
  ) {
    const server = await MainProcess.start(["--account", "alice:pw", ...args], { ...env });
    const clients: WsTestClient[] = [];
    try {
      for (const resource of ["one", "two"]) {
        const client = await WsTestClient.connect(server.url);
        clients.push(client);
        await client.login("alice", "pw", "PLAIN");
        if (resource === "one") {
          await client.bind(resource);
          continue;
        }
        // The second bind is refused (RFC 6120 §7.6.2.1), the stream stays up.
        const refused = await client.iq(
          "set",
          element("bind", NS.BIND, {}, [element("resource", NS.BIND, {}, [resource])]),
        );
        assertEquals(refused.attrs.type, "error");
        assertStringIncludes(serialize(refused), "<resource-constraint");
      }
    } finally {
      for (const client of clients) await client.cut().catch(() => {});
      await server.stop();
    }
  }
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "--port", "0", "--max-unacked", "0"],
    stdout: "null",
    stderr: "piped",
    signal: AbortSignal.timeout(20_000),
  }).output();
  assertEquals(code, 2);
  assertStringIncludes(
    new TextDecoder().decode(stderr),
    "--max-unacked: Invalid maxUnacked: expected a positive integer, got 0",
  );
});

Deno.test("--demo-page: served at / on loopback by default, not with off", async () => {
  for (const [args, expected] of [[[], 200], [["--demo-page", "off"], 404]] as const) {
    const server = await MainProcess.start([...args]);
    try {
      const response = await fetch(`http://127.0.0.1:${server.port}/`);
      const body = await response.text();
      assertEquals(response.status, expected, body);
      if (expected === 200) assertStringIncludes(body, `<script type="module" src="/demo/app.js">`);
      // JSON logs (as MainProcess starts it): the URL is a log record on stderr.
      assertEquals(server.stderr.includes('"message":"demo page"'), expected === 200);
    } finally {
      await server.stop();
    }
  }
});
