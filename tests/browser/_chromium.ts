/**
 * Test support for the browser tests: headless Chromium (Debian's `chromium`, installed by
 * scripts/install_test_deps.sh) driven directly over the DevTools protocol (a WebSocket to
 * `--remote-debugging-port=0`, so no npm driver and no downloaded browser), the browser bundle of
 * deno/client.ts, and a page server on loopback.
 *
 * A page reports its JSON result through the `xmppReport` binding; it can also ask the test to
 * act (cut a connection, ...) through the `xmppControl` binding and wait for the answer, which
 * the test delivers by calling the page's `xmppControlReply(id, answer)`.
 *
 * Every wait is bounded.
 *
 * @module
 */

import { assert } from "@std/assert";

export const CHROMIUM = "/usr/bin/chromium";
const ROOT = new URL("../../", import.meta.url);
const CLIENT_ENTRY = new URL("deno/client.ts", ROOT);
/** One DevTools command, Chromium's start, the bundle: bounded separately. */
const COMMAND_MS = 5_000;
const START_MS = 10_000;
const BUNDLE_MS = 30_000;

/** Rejects with `what` after `ms` unless `promise` settles first; the timer is always cleared. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
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

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// deno-lint-ignore no-explicit-any
export type Json = any;

/** A minimal DevTools protocol client over one WebSocket (flat sessions). */
export class Cdp {
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

  /** Listens to events; returns a function that removes the listener. */
  on(listener: (message: Json) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
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
export interface Browser {
  readonly process: Deno.ChildProcess;
  readonly devtools: string;
  /** Everything Chromium wrote to stderr so far (for failure messages). */
  stderr(): string;
  /** Closes Chromium (Browser.close, then SIGKILL) and waits for it and its stderr. */
  stop(cdp: Cdp | undefined): Promise<void>;
}

/** Starts headless Chromium with the profile folder `profile`. */
export async function launchChromium(profile: string): Promise<Browser> {
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
      // Pages in tabs that are not in front keep full-speed timers (the client's backoff).
      "--disable-background-timer-throttling",
      "--disable-renderer-backgrounding",
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

/** Options of {@link runPage}. */
export interface RunPageOptions {
  /** Bound of the whole run, up to the report (ms). */
  readonly timeoutMs: number;
  /** Console and log lines of the page are appended here. */
  readonly consoleLog: string[];
  /** Answers the page's `xmppControl` requests (an error is passed back as `{ error }`). */
  readonly onControl?: (request: Json) => Json | Promise<Json>;
  /**
   * Error log entries the page is expected to produce (e.g. a refused WebSocket); any other
   * error entry fails the run at once, as the page would never report.
   */
  readonly expectedError?: (text: string, url: string) => boolean;
}

/**
 * Opens `url` in a new tab and resolves with the JSON the page passes to `xmppReport`. The
 * bindings and the console/exception listeners are set up before navigating; the tab is closed
 * before returning.
 */
export async function runPage(cdp: Cdp, url: string, options: RunPageOptions): Promise<Json> {
  const { consoleLog } = options;
  const { targetId } = await cdp.send("Target.createTarget", { url: "about:blank" });
  let off: (() => void) | undefined;
  try {
    const { sessionId } = await cdp.send("Target.attachToTarget", { targetId, flatten: true });
    let done!: (json: string) => void;
    let fail!: (error: Error) => void;
    const reported = new Promise<string>((resolve, reject) => {
      done = resolve;
      fail = reject;
    });
    reported.catch(() => {}); // a failure before the wait below is still reported by it
    const control = async (payload: string) => {
      const { id, ...request } = JSON.parse(payload);
      let answer: Json;
      try {
        answer = await options.onControl!(request);
      } catch (error) {
        answer = { error: String(error) };
      }
      const expression = `globalThis.xmppControlReply(${JSON.stringify(id)}, ${
        JSON.stringify(answer ?? null)
      })`;
      await cdp.send("Runtime.evaluate", { expression }, sessionId).catch((error) =>
        fail(new Error(`cannot answer the page's control request: ${error}`))
      );
    };
    off = cdp.on((message) => {
      if (message.sessionId !== sessionId) return;
      const p = message.params;
      switch (message.method) {
        case "Runtime.bindingCalled":
          if (p.name === "xmppReport") done(p.payload);
          if (p.name === "xmppControl") {
            consoleLog.push(`control: ${p.payload}`);
            if (options.onControl) control(p.payload);
            else fail(new Error(`unexpected control request: ${p.payload}`));
          }
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
          if (
            level === "error" && !url.endsWith("/favicon.ico") &&
            !options.expectedError?.(text, url)
          ) {
            fail(new Error(`error in the page: ${text} ${url}`));
          }
          return;
        }
      }
    });
    await cdp.send("Runtime.enable", {}, sessionId);
    await cdp.send("Log.enable", {}, sessionId);
    await cdp.send("Runtime.addBinding", { name: "xmppReport" }, sessionId);
    await cdp.send("Runtime.addBinding", { name: "xmppControl" }, sessionId);
    await cdp.send("Page.enable", {}, sessionId);
    const nav = await cdp.send("Page.navigate", { url }, sessionId);
    if (nav.errorText) throw new Error(`navigation to ${url} failed: ${nav.errorText}`);
    return JSON.parse(await within(reported, options.timeoutMs, "the page's report"));
  } finally {
    off?.();
    await cdp.send("Target.closeTarget", { targetId }).catch(() => {});
  }
}

/** The error entries of a console log (uncaught exceptions, error-level log entries). */
export function errorEntries(consoleLog: readonly string[]): string[] {
  return consoleLog.filter((l) =>
    l.startsWith("exception:") || (l.startsWith("log.error") && !l.includes("favicon.ico"))
  );
}

/** Bundles deno/client.ts for browsers into `out`; returns the bundle's text. */
export async function bundleClient(out: string): Promise<string> {
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

/** A request the page server answered. */
export interface PageRequest {
  readonly path: string;
  readonly status: number;
  readonly userAgent: string;
}

/**
 * Serves `files` (path → [content type, body]) on 127.0.0.1 with `no-store`, 404 otherwise,
 * and records every request in `requests`.
 */
export function servePages(
  files: Readonly<Record<string, readonly [string, string]>>,
  requests: PageRequest[],
): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const path = new URL(request.url).pathname;
    const [type, body] = files[path] ?? ["text/plain", undefined];
    const status = body === undefined ? 404 : 200;
    requests.push({ path, status, userAgent: request.headers.get("user-agent") ?? "" });
    return new Response(body ?? "Not Found\n", {
      status,
      headers: { "content-type": type, "cache-control": "no-store" },
    });
  });
}

/** Removes Chromium's profile folder (its helper processes may still write it for a moment). */
export async function removeProfile(profile: string): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await Deno.remove(profile, { recursive: true }).then(() => true, () => false)) return;
    await sleep(100);
  }
}

/** The tail of Chromium's stderr without the D-Bus noise, for failure messages. */
export function stderrTail(browser: Browser): string {
  return browser.stderr().split("\n").filter((l) => !/dbus/i.test(l)).join("\n").slice(-3000);
}
