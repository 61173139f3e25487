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
 * `--remote-debugging-port=0`), so no npm driver and no downloaded browser. The page is served
 * from a second origin, and the endpoint only admits that origin (and refuses requests without
 * `Origin`), so the successful logins show the browser's cross-origin handshake is accepted.
 *
 * Fails (never skips) when /usr/bin/chromium is missing. Every wait is bounded; Chromium is
 * closed (killed if it does not exit) and the temporary directories removed in `finally`.
 * Needs --allow-run --allow-read --allow-write --allow-net --allow-env (as `deno task test`).
 */

import { assert, assertEquals, assertMatch } from "@std/assert";
import { embeddedServer, loadAccounts } from "../../deno/embedded.ts";
import type { HubLogEvent } from "../../core/server/mod.ts";
import { serveXmpp } from "../../deno/serve.ts";

const CHROMIUM = "/usr/bin/chromium";
const ROOT = new URL("../../", import.meta.url);
const CLIENT_ENTRY = new URL("deno/client.ts", ROOT);
/** The whole run of the page (both logins, chat, iqs, closes), in ms. */
const PAGE_MS = 20_000;
/** One DevTools command, Chromium's start, the bundle: bounded separately. */
const COMMAND_MS = 5_000;
const START_MS = 10_000;
const BUNDLE_MS = 30_000;

/** Rejects with `what` after `ms` unless `promise` settles first; the timer is always cleared. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// --- The page ---------------------------------------------------------------------------------

const PAGE_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>xmpp-websocket browser test</title>
<script type="module" src="/test.js"></script></head><body></body></html>
`;

/**
 * The page's module: plain JavaScript, as an application would write it against the bundle.
 * deno/client.ts exports no element builder, so the iq payloads are `XmlElement` literals.
 */
const PAGE_SCRIPT = `
import { IqError, XmppClient } from "./client.js";

const service = new URL(location.href).searchParams.get("service");
const WAIT_MS = 8000;
const CLIENT = "jabber:client";

function report(result) {
  const json = JSON.stringify(result);
  if (typeof globalThis.xmppReport === "function") globalThis.xmppReport(json);
  else console.log("xmpp-result " + json);
}

function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error("timed out: " + what)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function next(client, type, test = () => true) {
  return within(new Promise((resolve) => {
    const off = client.on(type, (detail) => {
      if (!test(detail)) return;
      off();
      resolve(detail);
    });
  }), WAIT_MS, type);
}

const child = (el, name, ns) =>
  el.children.find((c) => typeof c !== "string" && c.name === name && c.ns === ns);
const text = (el) => el ? el.children.filter((c) => typeof c === "string").join("") : null;

/** A WebSocket factory that records the messages and the close of every socket it makes. */
function recorder() {
  const log = [];
  const sockets = [];
  const closes = [];
  const factory = (url, protocols) => {
    const socket = new WebSocket(url, protocols);
    sockets.push(socket);
    const send = socket.send.bind(socket);
    socket.send = (data) => {
      log.push("> " + data);
      send(data);
    };
    socket.addEventListener("message", (event) => log.push("< " + event.data));
    socket.addEventListener("close", (event) =>
      closes.push({ code: event.code, wasClean: event.wasClean }));
    return socket;
  };
  const facts = () => ({
    sockets: sockets.map((s) => ({ url: s.url, protocol: s.protocol, readyState: s.readyState })),
    closes,
    first: log[0] ?? null,
    auth: log.filter((l) => l.startsWith("> <auth ")).map((l) => /mechanism='([^']*)'/.exec(l)?.[1]),
    smEnabled: log.some((l) => l.startsWith("> <enable xmlns='urn:xmpp:sm:3'")),
    // From our <close/> on: the server may still send what it sent before reading it.
    afterClose: log.slice(log.indexOf("> <close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>")),
  });
  return { factory, facts };
}

async function run() {
  const result = {
    userAgent: navigator.userAgent,
    secureContext: globalThis.isSecureContext,
    origin: location.origin,
  };
  const recA = recorder();
  const recB = recorder();
  const login = (username, webSocket) =>
    within(
      XmppClient.connect({
        service,
        domain: "localhost",
        username,
        password: username + "-pw",
        resource: "browser",
        webSocket,
      }),
      WAIT_MS,
      "login of " + username,
    );
  const alice = await login("alice", recA.factory);
  const bob = await login("bob", recB.factory);
  const failed = [];
  for (const client of [alice, bob]) {
    client.on("stanzas-failed", (f) => failed.push({ jid: client.jid, reason: f.reason }));
  }
  try {
    result.online = { jids: [alice.jid, bob.jid], status: [alice.status, bob.status] };

    const ready = [
      next(alice, "presence", (p) => p.attrs.from === alice.jid),
      next(bob, "presence", (p) => p.attrs.from === bob.jid),
    ];
    alice.presence();
    bob.presence();
    await Promise.all(ready);

    const toBob = next(bob, "message");
    alice.message("bob@localhost", "hello from the browser <&> \\u00e9\\u{1F600}");
    const m = await toBob;
    result.toBob = {
      from: m.attrs.from,
      type: m.attrs.type,
      body: text(child(m, "body", CLIENT)),
    };
    const toAlice = next(alice, "message");
    bob.message(m.attrs.from, "hi alice");
    const r = await toAlice;
    result.toAlice = { from: r.attrs.from, body: text(child(r, "body", CLIENT)) };

    const ping = { name: "ping", ns: "urn:xmpp:ping", attrs: {}, children: [] };
    const pong = await within(alice.iq("get", ping, "localhost"), WAIT_MS, "ping");
    result.ping = { type: pong.attrs.type, from: pong.attrs.from };

    const unknown = { name: "query", ns: "urn:example:unknown", attrs: {}, children: [] };
    try {
      await within(bob.iq("get", unknown, alice.jid), WAIT_MS, "iq to alice");
      result.iqError = { rejected: false };
    } catch (error) {
      result.iqError = {
        rejected: true,
        isIqError: error instanceof IqError,
        condition: error.condition ?? String(error),
        from: error.response?.attrs.from ?? null,
      };
    }
  } finally {
    await within(Promise.all([alice.close(), bob.close()]), WAIT_MS, "close");
  }
  const ended = await within(Promise.all([alice.closed, bob.closed]), WAIT_MS, "closed");
  result.closed = {
    status: [alice.status, bob.status],
    errors: ended.map((e) => e === undefined ? "none" : JSON.stringify(e)),
    stanzasFailed: failed,
  };
  // Let the sockets' close events fire if close() resolved first.
  await new Promise((resolve) => setTimeout(resolve, 100));
  result.transport = { alice: recA.facts(), bob: recB.facts() };
  return result;
}

run().then(
  (result) => report({ ok: true, ...result }),
  (error) => report({ ok: false, error: String(error && error.stack || error) }),
);
`;

// --- Chromium over the DevTools protocol ------------------------------------------------------

// deno-lint-ignore no-explicit-any
type Json = any;

/** A minimal DevTools protocol client over one WebSocket (flat sessions). */
class Cdp {
  readonly #ws: WebSocket;
  readonly #pending = new Map<number, { resolve(v: Json): void; reject(e: Error): void }>();
  readonly #listeners = new Set<(message: Json) => void>();
  readonly #closed: Promise<void>;
  #next = 1;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    this.#closed = new Promise((resolve) => ws.addEventListener("close", () => resolve()));
    ws.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (typeof message.id === "number") {
        const waiter = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        if (message.error) waiter?.reject(new Error(`CDP: ${JSON.stringify(message.error)}`));
        else waiter?.resolve(message.result);
      } else {
        for (const listener of this.#listeners) listener(message);
      }
    });
    ws.addEventListener("close", () => {
      for (const waiter of this.#pending.values()) waiter.reject(new Error("CDP socket closed"));
      this.#pending.clear();
    });
  }

  static async connect(url: string): Promise<Cdp> {
    const ws = new WebSocket(url);
    try {
      await within(
        new Promise<void>((resolve, reject) => {
          ws.addEventListener("open", () => resolve());
          ws.addEventListener("error", () => reject(new Error(`cannot connect to ${url}`)));
        }),
        COMMAND_MS,
        "DevTools connection",
      );
    } catch (error) {
      ws.close();
      throw error;
    }
    return new Cdp(ws);
  }

  send(method: string, params: Json = {}, sessionId?: string): Promise<Json> {
    if (this.#ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Error(`CDP socket not open (${method})`));
    }
    const id = this.#next++;
    const answer = new Promise<Json>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
    });
    this.#ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    return within(answer, COMMAND_MS, method).finally(() => this.#pending.delete(id));
  }

  on(listener: (message: Json) => void): void {
    this.#listeners.add(listener);
  }

  /** Closes the socket (if Chromium has not already) and waits for it to be closed. */
  async close(): Promise<void> {
    if (this.#ws.readyState === WebSocket.CONNECTING || this.#ws.readyState === WebSocket.OPEN) {
      this.#ws.close();
    }
    await within(this.#closed, COMMAND_MS, "DevTools socket close").catch(() => {});
  }
}

/** A headless Chromium with a fresh profile, its DevTools endpoint and its stderr. */
interface Browser {
  readonly process: Deno.ChildProcess;
  readonly devtools: string;
  /** Everything Chromium wrote to stderr so far (for failure messages). */
  stderr(): string;
  /** Closes Chromium (Browser.close, then SIGKILL) and waits for it and its stderr. */
  stop(cdp: Cdp | undefined): Promise<void>;
}

async function launchChromium(profile: string): Promise<Browser> {
  try {
    await Deno.stat(CHROMIUM);
  } catch {
    throw new Error(
      `${CHROMIUM} is missing: run 'bash scripts/install_test_deps.sh' (installs Debian chromium)`,
    );
  }
  const process = new Deno.Command(CHROMIUM, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-extensions",
      `--user-data-dir=${profile}`,
      "--remote-debugging-port=0",
      "about:blank",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let text = "";
  let found!: (url: string) => void;
  const listening = new Promise<string>((resolve) => found = resolve);
  const drained = (async () => {
    for await (const chunk of process.stderr.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(text);
      if (match) found(match[1]!);
    }
  })().catch(() => {});
  let exited = false;
  const status = process.status.then((s) => {
    exited = true;
    return s;
  });
  const stop = async (cdp: Cdp | undefined) => {
    if (!exited && cdp) await cdp.send("Browser.close").catch(() => {});
    await cdp?.close();
    try {
      await within(status, 3_000, "Chromium exit");
    } catch {
      try {
        process.kill("SIGKILL");
      } catch { /* already gone */ }
      await status;
    }
    await within(drained, 3_000, "Chromium stderr").catch(() => {});
  };
  try {
    const devtools = await within(
      Promise.race([
        listening,
        status.then((s) => {
          throw new Error(`Chromium exited with ${s.code} before DevTools listened`);
        }),
      ]),
      START_MS,
      "Chromium's DevTools endpoint",
    );
    return { process, devtools, stderr: () => text, stop };
  } catch (error) {
    await stop(undefined);
    throw new Error(`${(error as Error).message}\n--- chromium stderr ---\n${text.slice(-4000)}`);
  }
}

/**
 * Opens `url` in a new tab and resolves with the JSON the page passes to `xmppReport`. The
 * binding and the console/exception listeners are set up before navigating.
 */
async function runPage(cdp: Cdp, url: string, consoleLog: string[]): Promise<Json> {
  const { targetId } = await cdp.send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await cdp.send("Target.attachToTarget", { targetId, flatten: true });
  let done!: (json: string) => void;
  let fail!: (error: Error) => void;
  const reported = new Promise<string>((resolve, reject) => {
    done = resolve;
    fail = reject;
  });
  reported.catch(() => {}); // a failure before the wait below is still reported by it
  cdp.on((message) => {
    if (message.sessionId !== sessionId) return;
    const p = message.params;
    switch (message.method) {
      case "Runtime.bindingCalled":
        if (p.name === "xmppReport") done(p.payload);
        return;
      case "Runtime.consoleAPICalled":
        consoleLog.push(
          `console.${p.type}: ${
            p.args.map((a: Json) => a.value ?? a.description ?? a.type).join(" ")
          }`,
        );
        return;
      case "Runtime.exceptionThrown": {
        const text = p.exceptionDetails.exception?.description ?? p.exceptionDetails.text;
        consoleLog.push(`exception: ${text}`);
        return fail(new Error(`uncaught exception in the page: ${text}`));
      }
      case "Log.entryAdded": {
        const { level, text, url = "" } = p.entry;
        consoleLog.push(`log.${level}: ${text} ${url}`);
        // A failed load (the module or the bundle) means the page will never report.
        if (level === "error" && !url.endsWith("/favicon.ico")) {
          fail(new Error(`error in the page: ${text} ${url}`));
        }
        return;
      }
    }
  });
  await cdp.send("Runtime.enable", {}, sessionId);
  await cdp.send("Log.enable", {}, sessionId);
  await cdp.send("Runtime.addBinding", { name: "xmppReport" }, sessionId);
  await cdp.send("Page.enable", {}, sessionId);
  const nav = await cdp.send("Page.navigate", { url }, sessionId);
  if (nav.errorText) throw new Error(`navigation to ${url} failed: ${nav.errorText}`);
  return JSON.parse(await within(reported, PAGE_MS, "the page's report"));
}

// --- The test ---------------------------------------------------------------------------------

/** Bundles deno/client.ts for browsers into `out`; returns the bundle's text. */
async function bundleClient(out: string): Promise<string> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--platform", "browser", "--format", "esm", "-o", out, CLIENT_ENTRY.pathname],
    cwd: ROOT.pathname,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(BUNDLE_MS),
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  assert(
    result.success,
    `deno bundle failed (${result.code}):\n${decode(result.stdout)}\n${decode(result.stderr)}`,
  );
  return await Deno.readTextFile(out);
}

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
  const started = performance.now();
  const temp = await Deno.makeTempDir({ prefix: "xmpp-browser-" });
  const profile = await Deno.makeTempDir({ prefix: "xmpp-chromium-profile-" });
  const hubLog: HubLogEvent[] = [];
  const requests: { path: string; status: number; userAgent: string }[] = [];
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

    pages = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
      const path = new URL(request.url).pathname;
      const [status, type, body] = path === "/"
        ? [200, "text/html; charset=utf-8", PAGE_HTML]
        : path === "/test.js"
        ? [200, "text/javascript; charset=utf-8", PAGE_SCRIPT]
        : path === "/client.js"
        ? [200, "text/javascript; charset=utf-8", bundle]
        : [404, "text/plain", "Not Found\n"];
      requests.push({ path, status, userAgent: request.headers.get("user-agent") ?? "" });
      return new Response(body, {
        status,
        headers: { "content-type": type, "cache-control": "no-store" },
      });
    });
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
    const pageUrl = `${pageOrigin}/?service=${encodeURIComponent(service)}`;
    let result: Json;
    try {
      result = await runPage(cdp, pageUrl, consoleLog);
    } catch (error) {
      throw new Error(
        `${(error as Error).message}\n--- page console ---\n${consoleLog.join("\n")}` +
          `\n--- chromium stderr (tail, without D-Bus noise) ---\n` +
          browser.stderr().split("\n").filter((l) => !/dbus/i.test(l)).join("\n").slice(-3000),
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
      assertEquals(t.smEnabled, true, name);
      // RFC 7395 close handshake: our <close/>, nothing more sent, the server's <close/> last
      // (after, possibly, what it sent before reading ours), then a clean 1000.
      const close = "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>";
      assertEquals(t.afterClose[0], `> ${close}`, name);
      assertEquals(t.afterClose.filter((l: string) => l.startsWith(">")).length, 1, name);
      assertEquals(t.afterClose.at(-1), `< ${close}`, name);
      assertEquals(t.closes, [{ code: 1000, wasClean: true }], name);
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
    assertEquals(fetched.map((r) => [r.path, r.status]), [
      ["/", 200],
      ["/test.js", 200],
      ["/client.js", 200],
    ]);
    assert(fetched.every((r) => /HeadlessChrome\//.test(r.userAgent)));
    // No uncaught error or failed load in the page.
    assertEquals(
      consoleLog.filter((l) =>
        l.startsWith("exception:") || (l.startsWith("log.error") && !l.includes("favicon.ico"))
      ),
      [],
    );
    assert(performance.now() - started < 30_000, "the browser test took over 30 s");
  } finally {
    await browser?.stop(cdp);
    await pages?.shutdown();
    await xmpp?.shutdown();
    app?.stop();
    // Chromium's helper processes may still be writing the profile for a moment.
    for (let attempt = 0; attempt < 5; attempt++) {
      if (await Deno.remove(profile, { recursive: true }).then(() => true, () => false)) break;
      await sleep(100);
    }
    await Deno.remove(temp, { recursive: true }).catch(() => {});
  }
});
