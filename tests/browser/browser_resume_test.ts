/**
 * The client library in a real browser survives a cut connection: deno/client.ts bundled with
 * `deno bundle --platform browser` and run by a page in headless Chromium (`_page.ts`'s
 * `RESUME_SCRIPT`, driven over the DevTools protocol by `_chromium.ts`), against each target:
 *
 * 1. our embedded server (`serveXmpp` + `embeddedServer`, SCRAM-SHA-256);
 * 2. Prosody's own RFC 7395 endpoint (`mod_websocket`, SCRAM-SHA-1 with hashed accounts);
 * 3. our gateway in front of Prosody's c2s port.
 *
 * For each, two clients log in and chat both ways. alice's WebSocket goes through a TCP proxy
 * (`tests/_support/proxy.ts`): on the page's request the test drops that TCP connection (no close
 * frame, no `<close/>`) and refuses new ones; bob sends alice a message during the cut (and alice
 * queues one for bob); once at least one of alice's reconnections has been refused, the proxy
 * lets connections through again, alice resumes the XEP-0198 session (SASL again, as XEP-0198
 * requires, but no new binding), each client receives every message exactly once, no stanza is
 * reported failed, and both close with the RFC 7395 close handshake once they have acknowledged
 * all they received. The page's JSON report is asserted field by field, along with what the
 * proxy, the server and the browser's console saw.
 *
 * A second test (`CLOSE_ACK_SCRIPT`) closes a client from its message listener, right after it
 * received a message, and checks that the message is acknowledged first (XEP-0198 §4 recommends
 * a final `<a/>` before closing): nothing bounced to the sender, nothing delivered again at the
 * next login.
 *
 * Each test: one Chromium for the three targets (one step each), one Prosody for the last two;
 * one bundle for the file. Fails (never skips) when Chromium or Prosody is missing. Every wait is bounded; servers,
 * proxies, Chromium and temporary folders are released in `finally`. Needs --allow-run
 * --allow-read --allow-write --allow-net --allow-env (as `deno task test`).
 */

import { assert, assertEquals, assertMatch } from "@std/assert";
import { embeddedServer, loadAccounts } from "../../deno/embedded.ts";
import type { Notice } from "../../core/server/mod.ts";
import { serveXmpp } from "../../deno/serve.ts";
import { serveGateway } from "../../deno/gateway.ts";
import { createLogger } from "../../deno/mod.ts";
import { type ProsodyServer, startProsody } from "../_support/prosody.ts";
import { CutProxy } from "../_support/proxy.ts";
import {
  type Browser,
  bundleClient,
  Cdp,
  errorEntries,
  type Json,
  launchChromium,
  type PageRequest,
  removeProfile,
  runPage,
  servePages,
  sleep,
  stderrTail,
} from "./_chromium.ts";
import { CLOSE_ACK_SCRIPT, pageHtml, RESUME_SCRIPT, SUPPORT_SCRIPT } from "./_page.ts";

/** The whole run of one page (logins, chat, cut, resumption, closes), in ms. */
const PAGE_MS = 30_000;
const USERS = ["alice:alice-pw", "bob:bob-pw"];
const ALICE = "alice@localhost/browser";
const BOB = "bob@localhost/browser";
const CLOSE = "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>";

/** What the test shares between targets. */
interface Shared {
  readonly cdp: Cdp;
  readonly browser: Browser;
  readonly pageOrigin: string;
}

/** A server to run the page against. */
interface Target {
  readonly name: string;
  /** The WebSocket endpoint's port (the proxy forwards to it). */
  readonly port: number;
  /** The SASL mechanism both clients should use. */
  readonly mechanism: string;
}

const wsUrl = (port: number) => `ws://127.0.0.1:${port}/xmpp-websocket`;

/**
 * Runs the page against `target` with alice behind a fresh proxy, asserts the report and
 * returns it (with the proxy's counters) for target-specific checks.
 */
async function cutAndResume(shared: Shared, target: Target): Promise<void> {
  const { cdp, browser, pageOrigin } = shared;
  const proxy = new CutProxy({ hostname: "127.0.0.1", port: target.port });
  const consoleLog: string[] = [];
  const cutUrl = wsUrl(proxy.port);
  const directUrl = wsUrl(target.port);
  const controls: Json[] = [];
  let result: Json;
  try {
    const pageUrl = `${pageOrigin}/resume.html?cut=${encodeURIComponent(cutUrl)}&direct=${
      encodeURIComponent(directUrl)
    }`;
    // Chromium logs every refused WebSocket as an error; only alice's, through the proxy, are
    // expected.
    const refused = new RegExp(
      `^WebSocket connection to '${cutUrl.replaceAll(".", "\\.")}' failed: `,
    );
    try {
      result = await runPage(cdp, pageUrl, {
        timeoutMs: PAGE_MS,
        consoleLog,
        expectedError: (text) => refused.test(text),
        onControl: (request) => {
          controls.push(request.op);
          if (request.op === "cut") {
            const live = proxy.live;
            proxy.refuse = true;
            proxy.cut();
            return { live };
          }
          if (request.op === "restore") {
            proxy.refuse = false;
            return { accepted: proxy.accepted };
          }
          throw new Error(`unknown control ${request.op}`);
        },
      });
    } catch (error) {
      throw new Error(
        `[${target.name}] ${(error as Error).message}\n--- page console ---\n` +
          `${consoleLog.join("\n")}\n--- chromium stderr (tail) ---\n${stderrTail(browser)}`,
      );
    }
    const transcript = () =>
      `\n--- page console ---\n${consoleLog.join("\n")}\n--- alice's WebSocket ---\n${
        (result.transcript?.alice ?? []).join("\n")
      }\n--- bob's WebSocket ---\n${(result.transcript?.bob ?? []).join("\n")}`;
    try {
      assert(result.ok, `the page failed: ${result.error}`);
      assertReport(result, target, cutUrl, directUrl);
      // The proxy: alice's first connection, the refused attempts, the resumed one; all gone.
      assertEquals(controls, ["cut", "restore"]);
      assertEquals(proxy.accepted, result.transport.alice.sockets.length);
      assertEquals(result.restore, { accepted: proxy.accepted - 1 });
      const deadline = performance.now() + 10_000; // bounded wait, not a timing
      while (proxy.live > 0 && performance.now() < deadline) await sleep(20);
      assertEquals(proxy.live, 0);
      // The browser's console: one "WebSocket connection ... failed" per refused attempt, and
      // nothing else wrong.
      const refusals = result.transport.alice.sockets.length - 2;
      const errors = errorEntries(consoleLog);
      assertEquals(errors.length, refusals, errors.join("\n"));
      assert(errors.every((l) => l.startsWith("log.error: WebSocket connection to ")));
    } catch (error) {
      throw new Error(`[${target.name}] ${(error as Error).message}${transcript()}`);
    }
  } finally {
    await proxy.close();
  }
}

/** The page's report, field by field. */
function assertReport(result: Json, target: Target, cutUrl: string, directUrl: string): void {
  assertEquals(result.online, { jids: [ALICE, BOB], status: ["online", "online"] });

  // The cut: alice's one connection through the proxy dropped; her client saw a transient
  // transport loss (close code 1006) and went to reconnect with backoff.
  assertEquals(result.cut, { live: 1 });
  const { status: statusAfterCut, ...lost } = result.disconnected;
  assertEquals(lost, {
    kind: "connection",
    reason: "transport-lost",
    code: 1006,
    reconnect: "backoff",
  });
  // Waiting for the next attempt, or already in it (full jitter may make the delay ~0).
  assert(["reconnecting", "connecting"].includes(statusAfterCut), statusAfterCut);
  // During the cut: bob's message reached the server (his ping was answered after it) but not
  // alice; alice's was queued and not sent.
  // (alice is waiting for her next attempt, or in the middle of one.)
  const { aliceStatus, ...during } = result.duringCut;
  assert(["reconnecting", "connecting"].includes(aliceStatus), aliceStatus);
  assertEquals(during, { ping: "result", received: { alice: 1, bob: 1 } });

  // The resumption: same full JID, XEP-0198 still on.
  assertEquals(result.resumed, {
    jid: ALICE,
    resumed: true,
    streamManagement: true,
    status: "online",
    jidAfter: ALICE,
  });
  assertEquals(result.pingAfter, "result");

  // Every message exactly once, in order; the one sent during the cut included.
  assertEquals(result.received.alice, [
    { from: BOB, body: "before the cut, to alice" },
    { from: BOB, body: "during the cut, to alice" },
    { from: BOB, body: "after the resumption, to alice" },
  ]);
  assertEquals(result.received.bob, [
    { from: ALICE, body: "before the cut, to bob" },
    { from: ALICE, body: "during the cut, to bob" },
    { from: ALICE, body: "after the resumption, to bob" },
  ]);
  assertEquals(result.stanzasFailed, []);

  // alice's events: lost, then refused attempt(s), then resumed once; bob's: nothing.
  const events = result.events.alice;
  assert(events.length >= 3, JSON.stringify(events));
  assertEquals(events.at(-1), { event: "online", resumed: true, streamManagement: true });
  for (const e of events.slice(0, -1)) {
    assertEquals([e.event, e.kind, e.reason, e.reconnect], [
      "disconnected",
      "connection",
      "transport-lost",
      "backoff",
    ], JSON.stringify(events));
  }
  assertEquals(result.events.bob, []);

  // Closed by close(), without error.
  assertEquals(result.closed, { status: ["closed", "closed"], errors: ["none", "none"] });

  // alice's transport: every socket through the proxy; the first cut (1006), the refused ones
  // (1006), the last closed cleanly. One login, one bind, one enable, one resume, answered.
  const a = result.transport.alice;
  assert(a.sockets.length >= 3, JSON.stringify(a.sockets));
  assertEquals(events.length, a.sockets.length, "one disconnected event per lost socket");
  for (const [i, s] of a.sockets.entries()) {
    assertEquals(s.url, cutUrl);
    assertEquals(s.readyState, 3);
    // Only sockets that opened carry the negotiated subprotocol.
    assertEquals(s.protocol, i === 0 || i === a.sockets.length - 1 ? "xmpp" : "", `socket ${i}`);
  }
  assertEquals(a.closes, [
    ...a.sockets.slice(0, -1).map((_: Json, i: number) => ({
      socket: i,
      code: 1006,
      wasClean: false,
    })),
    finalClose(target, a.sockets.length - 1, a.closes.at(-1)),
  ]);
  assertEquals(
    a.first,
    "> <open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>",
  );
  // Two SASL exchanges: the login, and the one XEP-0198 requires before <resume/>.
  assertEquals(a.auth, [target.mechanism, target.mechanism]);
  assertEquals([a.binds, a.smEnabled, a.resumes, a.resumed, a.smFailed], [1, 1, 1, 1, 0]);
  assertCloseHandshake(a.afterClose, "alice");
  // Before closing, each client had acknowledged everything it received.
  for (const name of ["alice", "bob"]) {
    const { inbound, acked } = result.settled[name];
    assertEquals(acked, inbound, name);
  }

  // bob's transport: one socket straight to the target, never lost.
  const b = result.transport.bob;
  assertEquals(b.sockets, [{ url: directUrl, protocol: "xmpp", readyState: 3 }]);
  assertEquals(b.closes, [finalClose(target, 0, b.closes[0])]);
  assertEquals(b.auth, [target.mechanism]);
  assertEquals([b.binds, b.smEnabled, b.resumes, b.resumed, b.smFailed], [1, 1, 0, 0, 0]);
  assertCloseHandshake(b.afterClose, "bob");
}

/**
 * The expected close event of a socket ended by `close()`: code 1000 after the closing
 * handshake (`wasClean`). Prosody 0.12's mod_websocket writes its own Close frame right after
 * its `<close/>` and closes TCP without waiting for the client's Close frame (`session_close` in
 * mod_websocket.lua), so the client's Close frame, sent on receiving `<close/>` as RFC 7395
 * §3.6 asks, may meet a reset connection: Chromium then reports 1000 with `wasClean: false`.
 * That race is Prosody's; against it `wasClean` is taken as reported.
 */
function finalClose(target: Target, socket: number, actual: Json): Json {
  const wasClean = target.name === "prosody" && typeof actual?.wasClean === "boolean"
    ? actual.wasClean
    : true;
  return { socket, code: 1000, wasClean };
}

/**
 * RFC 7395 close handshake: our `<close/>`, nothing more sent, the server's `<close/>` last
 * (after, possibly, what it sent before reading ours, such as Prosody's last XEP-0198 `<a/>`).
 */
function assertCloseHandshake(afterClose: string[], name: string): void {
  assertEquals(afterClose[0], `> ${CLOSE}`, name);
  assertEquals(afterClose.filter((l) => l.startsWith(">")).length, 1, name);
  assertEquals(afterClose.at(-1), `< ${CLOSE}`, name);
}

/** Prosody's log shows no XEP-0198 accounting error and no session destroyed with stanzas. */
async function assertProsodyLog(prosody: ProsodyServer): Promise<void> {
  const log = await prosody.readLog();
  assert(!/The client says it handled/.test(log), log);
  assert(!/Destroying session with \d+ unacked stanzas/.test(log), log);
  assert(!/Tried to resume after resource binding/.test(log), log);
}

/** What a test shares between its targets. */
interface Fixture extends Shared {
  readonly prosody: ProsodyServer;
  /** What the page server answered so far. */
  readonly requests: PageRequest[];
}

let bundled: Promise<string> | undefined;

/** The browser bundle of deno/client.ts, built once for the file's tests. */
function clientBundle(): Promise<string> {
  return bundled ??= (async () => {
    const temp = await Deno.makeTempDir({ prefix: "xmpp-browser-" });
    try {
      const bundle = await bundleClient(`${temp}/client.js`);
      assertMatch(bundle, /export\s*\{[^}]*\bXmppClient\b/);
      return bundle;
    } finally {
      await Deno.remove(temp, { recursive: true }).catch(() => {});
    }
  })();
}

/**
 * Runs `body` with the bundle, a page server for `pages` (name → module source, each served as
 * `/<name>.html` loading `/<name>.js`), one Prosody and one Chromium, released in `finally`.
 * No bound on the whole: every step has its own bounded wait (a step that never completes
 * fails), and how long the whole took on a shared machine is information (printed with
 * XMPP_BROWSER_TIMINGS set), not a verdict.
 */
async function withFixture(
  pages: Readonly<Record<string, string>>,
  body: (fixture: Fixture, timings: string[]) => Promise<void>,
): Promise<void> {
  const started = performance.now();
  const profile = await Deno.makeTempDir({ prefix: "xmpp-chromium-profile-" });
  const requests: PageRequest[] = [];
  const timings: string[] = [];
  let browser: Browser | undefined;
  let cdp: Cdp | undefined;
  let server: Deno.HttpServer<Deno.NetAddr> | undefined;
  let prosody: ProsodyServer | undefined;
  try {
    const [bundle, prosodyStarted] = await Promise.all([
      clientBundle(),
      startProsody({
        accounts: USERS.map((u) => {
          const [username, password] = u.split(":") as [string, string];
          return { username, password };
        }),
      }),
    ]);
    prosody = prosodyStarted;
    const files: Record<string, readonly [string, string]> = {
      "/support.js": ["text/javascript; charset=utf-8", SUPPORT_SCRIPT],
      "/client.js": ["text/javascript; charset=utf-8", bundle],
    };
    for (const [name, script] of Object.entries(pages)) {
      files[`/${name}.html`] = ["text/html; charset=utf-8", pageHtml(`${name}.js`)];
      files[`/${name}.js`] = ["text/javascript; charset=utf-8", script];
    }
    server = servePages(files, requests);
    const pageOrigin = `http://127.0.0.1:${server.addr.port}`;
    browser = await launchChromium(profile);
    cdp = await Cdp.connect(browser.devtools);
    timings.push(`setup ${Math.round(performance.now() - started)} ms`);
    await body({ cdp, browser, pageOrigin, prosody, requests }, timings);
    timings.push(`total ${Math.round(performance.now() - started)} ms`);
  } finally {
    await browser?.stop(cdp);
    await server?.shutdown();
    await prosody?.stop();
    await removeProfile(profile);
    if (Deno.env.get("XMPP_BROWSER_TIMINGS")) console.log(timings.join("\n"));
  }
}

/** What `eachTarget` gives a target's run. */
interface TargetRun {
  readonly target: Target;
  /** The embedded server's log (empty for the others). */
  readonly hubLog: readonly Notice[];
  /** Checks the target's own records after the run (server log, sessions). */
  check(
    expect: { readonly hibernated: readonly string[]; readonly resumed: readonly string[] },
  ): Promise<void>;
}

/**
 * One test step per target: our embedded server (started for the step, admitting only the
 * page's origin), Prosody's WebSocket endpoint, and our gateway in front of Prosody (started
 * for the step, same Origin policy).
 */
async function eachTarget(
  t: Deno.TestContext,
  fixture: Fixture,
  timings: string[],
  run: (target: TargetRun) => Promise<void>,
): Promise<void> {
  const { pageOrigin, prosody } = fixture;
  const step = async (name: string, body: () => Promise<void>) => {
    const at = performance.now();
    const ok = await t.step(name, body);
    timings.push(`${name} ${ok ? "ok" : "FAILED"} ${Math.round(performance.now() - at)} ms`);
  };
  const prosodyCheck = () => assertProsodyLog(prosody);

  await step("our embedded server", async () => {
    const hubLog: Notice[] = [];
    const { accounts } = await loadAccounts({ users: USERS });
    const app = embeddedServer({ accounts, log: (event) => hubLog.push(event) });
    const xmpp = serveXmpp({
      hostname: "127.0.0.1",
      port: 0,
      session: { domains: ["localhost"] },
      application: app,
      allowedOrigins: [pageOrigin],
      allowMissingOrigin: false,
    });
    try {
      await run({
        target: { name: "embedded", port: xmpp.addr.port, mechanism: "SCRAM-SHA-256" },
        hubLog,
        check: async ({ hibernated, resumed }) => {
          const jids = (event: string) =>
            hubLog.filter((e) => e.event === event).map((e) => e.jid).sort();
          assertEquals(jids("hibernated"), [...hibernated].sort());
          assertEquals(jids("resumed"), [...resumed].sort());
          assertEquals(jids("auth-failed"), []);
          // Every session ended once its client closed.
          const deadline = performance.now() + 10_000; // bounded wait, not a timing
          while (app.hub.sessions.size > 0 && performance.now() < deadline) await sleep(20);
          assertEquals(app.hub.sessions.size, 0);
          assertEquals(jids("session-ended").length, jids("bound").length);
        },
      });
    } finally {
      await xmpp.shutdown();
      app.stop();
    }
  });

  await step("Prosody's WebSocket endpoint", async () => {
    await run({
      target: { name: "prosody", port: prosody.httpPort, mechanism: "SCRAM-SHA-1" },
      hubLog: [],
      check: prosodyCheck,
    });
  });

  await step("our gateway in front of Prosody", async () => {
    const gateway = serveGateway({
      hostname: "127.0.0.1",
      port: 0,
      domains: ["localhost"],
      upstream: { hostname: "127.0.0.1", port: prosody.c2sPort },
      upstreamTls: "off",
      allowedOrigins: [pageOrigin],
      allowMissingOrigin: false,
      log: createLogger("error", "text"),
    });
    try {
      await run({
        target: { name: "gateway", port: gateway.addr.port, mechanism: "SCRAM-SHA-1" },
        hubLog: [],
        check: prosodyCheck,
      });
    } finally {
      await gateway.shutdown();
    }
  });
}

Deno.test("browser: after a cut the bundled client resumes (XEP-0198) and loses nothing, against our server, Prosody and our gateway", async (t) => {
  await withFixture({ resume: RESUME_SCRIPT }, async (fixture, timings) => {
    await eachTarget(t, fixture, timings, async ({ target, hubLog, check }) => {
      await cutAndResume(fixture, target);
      if (target.name === "embedded") {
        // One login each (alice's second SASL exchange is the one XEP-0198 requires before
        // <resume/>), alice's session hibernated and resumed.
        const jids = (event: string) =>
          hubLog.filter((e) => e.event === event).map((e) => e.jid).sort();
        assertEquals(jids("authenticated"), [
          "alice@localhost",
          "alice@localhost",
          "bob@localhost",
        ]);
        assertEquals(jids("bound"), [ALICE, BOB]);
      }
      await check({ hibernated: [ALICE], resumed: [ALICE] });
    });
    // Every page load fetched the page, its module and the two modules it imports.
    const fetched = fixture.requests.filter((r) => r.path !== "/favicon.ico");
    assert(fetched.every((r) => r.status === 200), JSON.stringify(fetched));
    assertEquals(
      fetched.map((r) => r.path).sort(),
      ["/client.js", "/resume.html", "/resume.js", "/support.js"].flatMap((p) => [p, p, p]),
    );
  });
});

/** Runs the close page against `target` and asserts its report. */
async function closeRightAfterMessage(fixture: Fixture, target: Target): Promise<void> {
  const consoleLog: string[] = [];
  const service = wsUrl(target.port);
  const result = await runPage(
    fixture.cdp,
    `${fixture.pageOrigin}/close.html?service=${encodeURIComponent(service)}`,
    { timeoutMs: PAGE_MS, consoleLog },
  );
  const transcript = () =>
    Object.entries(result.transcript ?? {}).map(([name, log]) =>
      `\n--- ${name}'s WebSocket ---\n${(log as string[]).join("\n")}`
    ).join("") + `\n--- page console ---\n${consoleLog.join("\n")}`;
  try {
    assert(result.ok, `the page failed: ${result.error}`);
    assertEquals(result.bobReceived, [
      { type: "chat", from: ALICE, body: "read and leave", delayed: false },
    ]);
    // XEP-0198 §4: "It is RECOMMENDED that initiating entities (usually clients) send an <a/>
    // element right before they gracefully close the stream, in order to inform the peer
    // about received stanzas. Otherwise it can happen that stanzas are re-sent (usually by the
    // server) although they were actually received." bob received 2 stanzas (his own
    // presence, alice's message).
    // Then nothing is bounced to alice and nothing is delivered again to bob.
    assertEquals({
      bob: result.bob,
      aliceReceived: result.aliceReceived,
      bobAgainReceived: result.bobAgainReceived,
    }, {
      bob: {
        status: "closed",
        closed: "none",
        sentBeforeClose: "> <a xmlns='urn:xmpp:sm:3' h='2'/>",
        counts: { inbound: 2, acked: 2 },
      },
      aliceReceived: [],
      bobAgainReceived: [],
    });
    assertEquals(errorEntries(consoleLog), []);
  } catch (error) {
    throw new Error(`[${target.name}] ${(error as Error).message}${transcript()}`);
  }
}

Deno.test("browser: a client closing right after receiving a message acknowledges it first (XEP-0198 §4), against our server, Prosody and our gateway", async (t) => {
  await withFixture({ close: CLOSE_ACK_SCRIPT }, async (fixture, timings) => {
    await eachTarget(t, fixture, timings, async ({ target, check }) => {
      await closeRightAfterMessage(fixture, target);
      await check({ hibernated: [], resumed: [] });
    });
  });
});
