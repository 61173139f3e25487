/**
 * The demo page (deno/demo/) in headless Chromium, served by `deno task start` as a user runs it
 * (a `deno/main.ts` subprocess with no option but a free port, so with its demo accounts alice
 * and bob and their printed random passwords). Two tabs, alice and bob, use the page as a person
 * would (typing into the fields, clicking the buttons): both log in, each sees the other online
 * in the contact list (the demo accounts have mutual subscriptions from the start), they chat
 * both ways, a message full of markup from a peer shows as text (no element created, no script
 * run), alice drops her connection (the WebSocket closed without `<close/>`) and the page shows
 * the XEP-0198 resumption while bob's message sent during the cut arrives, then alice logs out
 * and bob sees her offline. The page never contains a password.
 *
 * No wall-clock threshold: every wait polls the DOM (or the server's log) until a state holds,
 * within a bound. Chromium is driven over the DevTools protocol (`_chromium.ts`); it and the
 * server are stopped in `finally`.
 *
 * A second test checks that the committed browser bundle (deno/demo/bundle.ts) is what
 * `deno/demo/build.ts` makes from the client library as it is now.
 */

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import {
  type Browser,
  Cdp,
  errorEntries,
  type Json,
  launchChromium,
  removeProfile,
  sleep,
  stderrTail,
} from "./_chromium.ts";
import { MainProcess } from "../_support/main_process.ts";
import { bundleClient } from "../../deno/demo/build.ts";
import { CLIENT_BUNDLE } from "../../deno/demo/bundle.ts";

/** Bound of one wait for a DOM state. */
const STATE_MS = 15_000;

/** One tab, driven through a flat DevTools session. */
class Tab {
  readonly consoleLog: string[] = [];
  readonly #cdp: Cdp;
  readonly #session: string;
  readonly #name: string;

  private constructor(cdp: Cdp, session: string, name: string) {
    this.#cdp = cdp;
    this.#session = session;
    this.#name = name;
  }

  static async open(cdp: Cdp, url: string, name: string): Promise<Tab> {
    const { targetId } = await cdp.send("Target.createTarget", { url: "about:blank" });
    const { sessionId } = await cdp.send("Target.attachToTarget", { targetId, flatten: true });
    const tab = new Tab(cdp, sessionId, name);
    cdp.on((message) => {
      if (message.sessionId !== sessionId) return;
      const p = message.params;
      if (message.method === "Runtime.consoleAPICalled") {
        tab.consoleLog.push(`console.${p.type}: ${p.args.map((a: Json) => a.value).join(" ")}`);
      } else if (message.method === "Runtime.exceptionThrown") {
        tab.consoleLog.push(`exception: ${p.exceptionDetails.exception?.description}`);
      } else if (message.method === "Log.entryAdded") {
        tab.consoleLog.push(`log.${p.entry.level}: ${p.entry.text} ${p.entry.url ?? ""}`);
      }
    });
    await cdp.send("Runtime.enable", {}, sessionId);
    await cdp.send("Log.enable", {}, sessionId);
    await cdp.send("Page.enable", {}, sessionId);
    const nav = await cdp.send("Page.navigate", { url }, sessionId);
    if (nav.errorText) throw new Error(`navigation to ${url} failed: ${nav.errorText}`);
    await tab.until(`document.getElementById("status")?.dataset.status === "idle"`, "the page");
    return tab;
  }

  /** Evaluates `expression` in the page (awaiting a promise); returns its JSON value. */
  async eval(expression: string): Promise<Json> {
    const { result, exceptionDetails } = await this.#cdp.send("Runtime.evaluate", {
      expression,
      returnByValue: true,
      awaitPromise: true,
    }, this.#session);
    if (exceptionDetails) {
      throw new Error(
        `${this.#name}: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`,
      );
    }
    return result.value;
  }

  /** Polls `expression` every 50 ms until it is truthy, within STATE_MS. */
  async until(expression: string, what: string): Promise<void> {
    const deadline = performance.now() + STATE_MS;
    for (;;) {
      if (await this.eval(`Boolean(${expression})`)) return;
      if (performance.now() > deadline) {
        const log = await this.eval(
          `[...document.querySelectorAll("#log li")].map((li) => li.textContent).join("\\n")`,
        ).catch(() => "?");
        throw new Error(
          `${this.#name}: timed out waiting for ${what}\n--- page log ---\n${log}\n--- console ---\n${
            this.consoleLog.join("\n")
          }`,
        );
      }
      await sleep(50);
    }
  }

  /** Types `value` into the input `id` (as a user would: the value, then an input event). */
  type(id: string, value: string): Promise<Json> {
    return this.eval(`(() => {
      const input = document.getElementById(${JSON.stringify(id)});
      input.focus();
      input.value = ${JSON.stringify(value)};
      input.dispatchEvent(new Event("input", { bubbles: true }));
    })()`);
  }

  click(id: string): Promise<Json> {
    return this.eval(`document.getElementById(${JSON.stringify(id)}).click()`);
  }

  async login(username: string, password: string): Promise<void> {
    await this.type("username", username);
    await this.type("password", password);
    await this.click("login");
    await this.until(`document.getElementById("status").dataset.status === "online"`, "online");
  }

  async send(to: string, body: string): Promise<void> {
    await this.type("to", to);
    await this.type("body", body);
    await this.click("send");
  }

  /** The texts of the message log's entries of one kind (`in`, `out`, `event`, `error`). */
  entries(kind: string): Promise<string[]> {
    return this.eval(
      `[...document.querySelectorAll('#log li[data-kind="${kind}"]')]
        .map((li) => li.querySelector(".text").textContent)`,
    );
  }

  presence(jid: string): Promise<string | null> {
    return this.eval(
      `document.querySelector('#roster li[data-jid="${jid}"]')?.dataset.presence ?? null`,
    );
  }
}

Deno.test("demo page: alice and bob log in, see each other online, chat, and alice's dropped connection resumes", async () => {
  const profile = await Deno.makeTempDir({ prefix: "xmpp-chromium-profile-" });
  let server: MainProcess | undefined;
  let browser: Browser | undefined;
  let cdp: Cdp | undefined;
  const tabs: Tab[] = [];
  try {
    server = await MainProcess.start([]);
    const passwords = await server.demoAccounts();
    assertEquals([...passwords.keys()], ["alice", "bob"]);
    // MainProcess runs with JSON logs: the page's URL is a log record on stderr.
    const DEMO_PAGE = /"message":"demo page","url":"(http:\/\/127\.0\.0\.1:\d+\/)"/;
    await server.waitFor(() => DEMO_PAGE.test(server!.stderr), "the demo page's URL");
    const pageUrl = DEMO_PAGE.exec(server.stderr)![1]!;
    assertEquals(pageUrl, `http://127.0.0.1:${server.port}/`);

    // The page and its script: no password anywhere, a strict Content-Security-Policy.
    const page = await fetch(pageUrl);
    const html = await page.text();
    const script = await (await fetch(new URL("/demo/app.js", pageUrl))).text();
    for (const password of passwords.values()) {
      assert(!html.includes(password) && !script.includes(password), "a password in the page");
    }
    assertStringIncludes(html, `<meta name="xmpp-websocket-url" content="${server.url}">`);
    assertStringIncludes(html, `<meta name="xmpp-demo-accounts" content="alice,bob">`);
    assertStringIncludes(page.headers.get("content-security-policy")!, "script-src 'self'");
    assert(!script.includes("innerHTML"), "the page script uses innerHTML");

    browser = await launchChromium(profile);
    cdp = await Cdp.connect(browser.devtools);
    const alice = await Tab.open(cdp, pageUrl, "alice");
    const bob = await Tab.open(cdp, pageUrl, "bob");
    tabs.push(alice, bob);
    // Prefilled from the server: the WebSocket URL and the domain.
    assertEquals(await alice.eval(`document.getElementById("service").value`), server.url);
    assertEquals(await alice.eval(`document.getElementById("domain").value`), "localhost");

    // A wrong password: the page says so and stays usable.
    await alice.type("username", "alice");
    await alice.type("password", "not-the-password");
    await alice.click("login");
    await alice.until(
      `[...document.querySelectorAll('#log li[data-kind="error"]')].some((li) => li.textContent.includes("login failed"))`,
      "the failed login",
    );
    assertEquals(await alice.eval(`document.getElementById("login").disabled`), false);

    await alice.login("alice", passwords.get("alice")!);
    await bob.login("bob", passwords.get("bob")!);
    assertStringIncludes(
      await alice.eval(`document.getElementById("me").textContent`),
      "alice@localhost/",
    );

    // Each sees the other online (mutual subscriptions: the presence reaches both ways).
    await alice.until(
      `document.querySelector('#roster li[data-jid="bob@localhost"]')?.dataset.presence === "online"`,
      "bob online",
    );
    await bob.until(
      `document.querySelector('#roster li[data-jid="alice@localhost"]')?.dataset.presence === "online"`,
      "alice online",
    );

    // Messages both ways, with markup and non-ASCII text shown as text.
    await alice.send("bob@localhost", "hello bob <b>&</b> \u00e9\u{1F600}");
    await bob.until(
      `document.querySelectorAll('#log li[data-kind="in"]').length === 1`,
      "alice's message",
    );
    assertEquals(await bob.entries("in"), ["alice@localhost: hello bob <b>&</b> \u00e9\u{1F600}"]);
    assertEquals(await alice.entries("out"), [
      "to bob@localhost: hello bob <b>&</b> \u00e9\u{1F600}",
    ]);
    const hostile = `<img src=x onerror="globalThis.pwned=1"><script>globalThis.pwned=2</script>`;
    await bob.send("alice@localhost", hostile);
    await alice.until(
      `document.querySelectorAll('#log li[data-kind="in"]').length === 1`,
      "bob's message",
    );
    assertEquals(await alice.entries("in"), [`bob@localhost: ${hostile}`]);
    assertEquals(
      await alice.eval(`document.querySelectorAll("#log img, #log script, #log b").length`),
      0,
    );
    assertEquals(await alice.eval(`globalThis.pwned ?? null`), null);

    // Drop: the WebSocket closes without <close/>; the client reconnects and resumes (XEP-0198).
    await alice.click("drop");
    await bob.send("alice@localhost", "sent while you were away");
    await alice.until(
      `[...document.querySelectorAll('#log li[data-kind="event"]')].some((li) => li.textContent.includes("session resumed (XEP-0198)"))`,
      "the resumption",
    );
    await alice.until(
      `document.querySelectorAll('#log li[data-kind="in"]').length === 2`,
      "the message sent during the cut",
    );
    assertEquals((await alice.entries("in"))[1], "bob@localhost: sent while you were away");
    assertEquals(await alice.eval(`document.getElementById("status").dataset.status`), "online");
    const events = await alice.entries("event");
    assert(events.some((e) => e.startsWith("connection dropped")), events.join("\n"));
    assert(events.some((e) => e.startsWith("connection lost")), events.join("\n"));
    // The server saw the same: alice's session hibernated and was resumed, not replaced.
    const hibernated = await server.waitForLog((l) => l.message === "hibernated", "hibernated");
    assertStringIncludes(hibernated.jid, "alice@localhost/");
    const resumed = await server.waitForLog((l) => l.message === "resumed", "resumed");
    assertEquals(resumed.jid, hibernated.jid);
    assertEquals(server.logs().filter((l) => l.message === "bound").length, 2);
    // Still chatting after the resumption; bob never saw alice go offline.
    assertEquals(await bob.presence("alice@localhost"), "online");
    await alice.send("bob@localhost", "back");
    await bob.until(
      `document.querySelectorAll('#log li[data-kind="in"]').length === 2`,
      "alice's message after the resumption",
    );
    assertEquals((await bob.entries("in"))[1], "alice@localhost: back");

    // Log out: bob sees alice offline; alice's page is back to its login form.
    await alice.click("logout");
    await alice.until(`document.getElementById("status").dataset.status === "closed"`, "closed");
    await bob.until(
      `document.querySelector('#roster li[data-jid="alice@localhost"]')?.dataset.presence === "offline"`,
      "alice offline",
    );
    assertEquals(await alice.eval(`document.getElementById("login").disabled`), false);
    assertEquals(await alice.eval(`document.querySelectorAll("#roster li").length`), 0);

    for (const tab of tabs) {
      // The failed login's 401-like SASL failure is not a page error; nothing else may be.
      assertEquals(errorEntries(tab.consoleLog), [], tab.consoleLog.join("\n"));
    }
  } catch (error) {
    const tail = browser ? `\n--- chromium stderr ---\n${stderrTail(browser)}` : "";
    throw new Error(`${(error as Error).message}${tail}`, { cause: error });
  } finally {
    await browser?.stop(cdp);
    await server?.stop();
    await removeProfile(profile);
  }
});

Deno.test("demo page: the committed client bundle is deno/client.ts as it is now (else run deno/demo/build.ts)", async () => {
  const fresh = await bundleClient();
  assert(
    fresh === CLIENT_BUNDLE,
    "deno/demo/bundle.ts is stale: run `npx -y deno@2.9.6 run --allow-read --allow-write --allow-run --allow-env deno/demo/build.ts`",
  );
});
