/**
 * The client library in a real browser: deno/client.ts bundled with `deno bundle --platform
 * browser`, loaded as a module by a page in headless Chromium (Debian's `chromium`, installed by
 * scripts/install_test_deps.sh), against our embedded server on loopback. Two clients log in
 * with SCRAM-SHA-256 over `ws://127.0.0.1` (loopback, so no TLS), exchange messages, ping the
 * server, get an iq error from each other and close with the RFC 7395 close handshake. The page
 * reports a JSON result through a DevTools binding; the test asserts it field by field, along
 * with what the server saw (logins, bound resources, sessions ended, the Origin policy).
 *
 * Chromium is driven directly over the DevTools protocol (a WebSocket to
 * `--remote-debugging-port=0`, see `_chromium.ts`), so no npm driver and no downloaded browser;
 * the page is `_page.ts`'s `CHAT_SCRIPT`. The page is served
 * from a second origin, and the endpoint only admits that origin (and refuses requests without
 * `Origin`), so the successful logins show the browser's cross-origin handshake is accepted.
 *
 * Fails (never skips) when /usr/bin/chromium is missing. Every wait is bounded; Chromium is
 * closed (killed if it does not exit) and the temporary directories removed in `finally`.
 * Needs --allow-run --allow-read --allow-write --allow-net --allow-env (as `deno task test`).
 *
 * The cut connection and XEP-0198 resumption in the browser, against our server, Prosody and our
 * gateway, are in `browser_resume_test.ts`.
 */

import { assert, assertEquals, assertMatch } from "@std/assert";
import { embeddedServer, loadAccounts } from "../../deno/embedded.ts";
import type { Notice } from "../../core/server/mod.ts";
import { serveXmpp } from "../../deno/serve.ts";
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
  within,
} from "./_chromium.ts";
import { CHAT_SCRIPT, pageHtml, SUPPORT_SCRIPT } from "./_page.ts";

/** The whole run of the page (both logins, chat, iqs, closes), in ms. */
const PAGE_MS = 20_000;
const COMMAND_MS = 5_000;

/** Whether a WebSocket handshake from Deno (no `Origin` header) is refused. */
async function refusedWithoutOrigin(url: string): Promise<boolean> {
  const ws = new WebSocket(url, "xmpp");
  const outcome = await within(
    new Promise<boolean>((resolve) => {
      ws.addEventListener("open", () => resolve(false));
      ws.addEventListener("error", () => resolve(true));
    }),
    COMMAND_MS,
    "handshake without Origin",
  );
  if (ws.readyState !== WebSocket.CLOSED) {
    const closed = new Promise((resolve) => ws.addEventListener("close", resolve));
    ws.close();
    await within(closed, COMMAND_MS, "close of the probe socket");
  }
  return outcome;
}

Deno.test("browser: the bundled client logs in, chats, pings and closes in headless Chromium", async () => {
  // No bound on the whole run: each step has its own bounded wait (COMMAND_MS, the page's
  // report), so a step that never completes fails; a slow shared machine does not.
  const temp = await Deno.makeTempDir({ prefix: "xmpp-browser-" });
  const profile = await Deno.makeTempDir({ prefix: "xmpp-chromium-profile-" });
  const hubLog: Notice[] = [];
  const requests: PageRequest[] = [];
  const consoleLog: string[] = [];
  let browser: Browser | undefined;
  let cdp: Cdp | undefined;
  let pages: Deno.HttpServer<Deno.NetAddr> | undefined;
  let xmpp: ReturnType<typeof serveXmpp> | undefined;
  let app: ReturnType<typeof embeddedServer> | undefined;
  try {
    const bundle = await bundleClient(`${temp}/client.js`);
    assertMatch(bundle, /export\s*\{[^}]*\bXmppClient\b/);
    assert(!/\bDeno\./.test(bundle), "the browser bundle refers to Deno APIs");

    pages = servePages({
      "/chat.html": ["text/html; charset=utf-8", pageHtml("chat.js")],
      "/chat.js": ["text/javascript; charset=utf-8", CHAT_SCRIPT],
      "/support.js": ["text/javascript; charset=utf-8", SUPPORT_SCRIPT],
      "/client.js": ["text/javascript; charset=utf-8", bundle],
    }, requests);
    const pageOrigin = `http://127.0.0.1:${pages.addr.port}`;

    const { accounts } = await loadAccounts({ users: ["alice:alice-pw", "bob:bob-pw"] });
    app = embeddedServer({ accounts, log: (event) => hubLog.push(event) });
    xmpp = serveXmpp({
      hostname: "127.0.0.1",
      port: 0,
      session: { domains: ["localhost"] },
      application: app,
      allowedOrigins: [pageOrigin],
      allowMissingOrigin: false,
    });
    const service = `ws://127.0.0.1:${xmpp.addr.port}/xmpp-websocket`;
    // The endpoint admits browsers from the page's origin only: Deno's WebSocket sends no Origin.
    assert(await refusedWithoutOrigin(service), "a handshake without Origin was accepted");

    browser = await launchChromium(profile);
    cdp = await Cdp.connect(browser.devtools);
    const { product } = await cdp.send("Browser.getVersion");
    const pageUrl = `${pageOrigin}/chat.html?service=${encodeURIComponent(service)}`;
    let result: Json;
    try {
      result = await runPage(cdp, pageUrl, { timeoutMs: PAGE_MS, consoleLog });
    } catch (error) {
      throw new Error(
        `${(error as Error).message}\n--- page console ---\n${consoleLog.join("\n")}` +
          `\n--- chromium stderr (tail, without D-Bus noise) ---\n` +
          stderrTail(browser),
      );
    }
    assert(result.ok, `the page failed: ${result.error}\n${consoleLog.join("\n")}`);

    // The page ran in the Chromium we launched, in a secure context (loopback http).
    assertMatch(product, /^(Headless)?Chrome\/\d+\./);
    assertMatch(result.userAgent, /HeadlessChrome\/\d+\./);
    assertEquals(result.secureContext, true);
    assertEquals(result.origin, pageOrigin);

    // Logins.
    assertEquals(result.online, {
      jids: ["alice@localhost/browser", "bob@localhost/browser"],
      status: ["online", "online"],
    });
    // Chat both ways, with markup and non-ASCII text intact.
    assertEquals(result.toBob, {
      from: "alice@localhost/browser",
      type: "chat",
      body: "hello from the browser <&> \u00e9\u{1F600}",
    });
    assertEquals(result.toAlice, { from: "bob@localhost/browser", body: "hi alice" });
    // iq: the server answers the ping; the other client answers service-unavailable.
    assertEquals(result.ping, { type: "result", from: "localhost" });
    assertEquals(result.iqError, {
      rejected: true,
      isIqError: true,
      condition: "service-unavailable",
      from: "alice@localhost/browser",
    });
    // Closed by close(), without error.
    assertEquals(result.closed, {
      status: ["closed", "closed"],
      errors: ["none", "none"],
      stanzasFailed: [],
    });

    // The transport, as the browser's WebSocket saw it, for each client.
    for (const name of ["alice", "bob"] as const) {
      const t = result.transport[name];
      assertEquals(t.sockets, [{ url: service, protocol: "xmpp", readyState: 3 }], name);
      assertEquals(
        t.first,
        "> <open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>",
        name,
      );
      assertEquals(t.auth, ["SCRAM-SHA-256"], name);
      assertEquals(t.smEnabled, 1, name);
      // RFC 7395 close handshake: our <close/>, nothing more sent, the server's <close/> last
      // (after, possibly, what it sent before reading ours), then a clean 1000.
      const close = "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>";
      assertEquals(t.afterClose[0], `> ${close}`, name);
      assertEquals(t.afterClose.filter((l: string) => l.startsWith(">")).length, 1, name);
      assertEquals(t.afterClose.at(-1), `< ${close}`, name);
      assertEquals(t.closes, [{ socket: 0, code: 1000, wasClean: true }], name);
    }

    // What the server saw: two SCRAM-SHA-256 logins, the two resources bound, both ended.
    const events = (name: string) =>
      hubLog.filter((e) => e.event === name).map((e) => [e.jid, e.text ?? null]);
    assertEquals(events("authenticated").sort(), [
      ["alice@localhost", "SCRAM-SHA-256"],
      ["bob@localhost", "SCRAM-SHA-256"],
    ]);
    assertEquals(events("bound").map(([jid]) => jid).sort(), [
      "alice@localhost/browser",
      "bob@localhost/browser",
    ]);
    assertEquals(events("auth-failed"), []);
    const deadline = performance.now() + 3_000;
    while (app.hub.sessions.size > 0 && performance.now() < deadline) await sleep(20);
    assertEquals(app.hub.sessions.size, 0);
    assertEquals(events("session-ended").length, 2);

    // The page server: the page, its module and the bundle, all fetched by headless Chromium.
    const fetched = requests.filter((r) => r.path !== "/favicon.ico");
    // The page first, then its module, then the two modules it imports (fetched in parallel).
    assertEquals(fetched.slice(0, 2).map((r) => [r.path, r.status]), [
      ["/chat.html", 200],
      ["/chat.js", 200],
    ]);
    assertEquals(fetched.slice(2).map((r) => [r.path, r.status]).sort(), [
      ["/client.js", 200],
      ["/support.js", 200],
    ]);
    assert(fetched.every((r) => /HeadlessChrome\//.test(r.userAgent)));
    // No uncaught error or failed load in the page.
    assertEquals(errorEntries(consoleLog), []);
  } finally {
    await browser?.stop(cdp);
    await pages?.shutdown();
    await xmpp?.shutdown();
    app?.stop();
    await removeProfile(profile);
    await Deno.remove(temp, { recursive: true }).catch(() => {});
  }
});
