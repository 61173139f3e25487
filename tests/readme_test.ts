/**
 * The README's commands, run as printed: every line of a `sh` block that starts (after optional
 * `NAME=value` environment assignments) with `npx -y deno@2.9.6 task` is run with `bash -c`,
 * the only change being `npx -y deno@2.9.6` replaced by the running Deno (`Deno.execPath()`),
 * from the repository root.
 *
 * - `task start` lines run in the background on the port they print (default 5280) until the
 *   next `task start` of the same block or the end of the block; the test waits for the
 *   "listening" log line, then logs in with an account the command names or the demo accounts
 *   it prints, and at the end stops it with SIGTERM and checks that the port is free again.
 * - `task cli` lines must exit 0, or as {@link EXPECTED} says (with any setup it names).
 * - `task test` (this suite itself) and the lines of {@link EXCLUDED} are not run, each for the
 *   reason given. Any other `task` line fails the test until it is run here or excluded with a
 *   reason; so does an entry of either table that the README no longer prints.
 *
 * The README's port is fixed (5280): if something else listens there, the test fails saying so.
 */

import { assert, assertEquals, assertMatch } from "@std/assert";
import { childElement, element, NS, textOf } from "../core/mod.ts";
import { probe } from "../deno/cli/probe.ts";
import { WsTestClient } from "./_support/ws_client.ts";

const REPO = new URL("../", import.meta.url).pathname;
const PREFIX = "npx -y deno@2.9.6";
const COMMAND = /^(?:[A-Z_][A-Z0-9_]*=\S*\s+)*npx -y deno@2\.9\.6 task\s+(\S+)/;
const START_TIMEOUT_MS = 60_000;

/** README lines that are not run, and why. The key is the line without its trailing comment. */
const EXCLUDED: Readonly<Record<string, string>> = {
  "npx -y deno@2.9.6 task test": "the test suite itself (this file is part of it)",
  "npx -y deno@2.9.6 task start --accounts-file accounts.json":
    "reads an accounts file the reader writes first (the file format is tested in tests/deno/)",
  "npx -y deno@2.9.6 task start --domain example.com --upstream 127.0.0.1:5222":
    "needs an XMPP server on port 5222 (the gateway tests start a private Prosody on free ports)",
  "npx -y deno@2.9.6 task start --domain example.com --upstream srv --upstream-tls required":
    "needs DNS SRV records and a real XMPP server for example.com on the Internet",
  "npx -y deno@2.9.6 task cli probe example.com":
    "XEP-0156 discovery from example.com over the Internet (tests/cli covers it on loopback)",
  "npx -y deno@2.9.6 task cli conformance wss://example.com/xmpp-websocket --domain example.com --user alice --password secret --json":
    "a server on the Internet (tests/cli runs conformance against local servers)",
};

/** What a `task cli` line must do, when not simply exit 0. */
interface Expectation {
  readonly exit: number;
  /** Must match stdout + stderr. */
  readonly output?: RegExp;
  /** Log this account of the running server in (available) first; it must receive `body`. */
  readonly online?: { readonly user: string; readonly body: string };
}

const EXPECTED: Readonly<Record<string, Expectation>> = {
  "npx -y deno@2.9.6 task cli probe ws://127.0.0.1:5280/xmpp-websocket": {
    exit: 0,
    output: /probe succeeded \(domain localhost\)/,
  },
  "npx -y deno@2.9.6 task cli probe ws://127.0.0.1:5280/xmpp-websocket --user alice@localhost --password secret":
    { exit: 0, output: /probe succeeded \(domain localhost, bound alice@localhost\/probe-/ },
  "XMPP_WS_PASSWORD=secret npx -y deno@2.9.6 task cli send ws://127.0.0.1:5280/xmpp-websocket --user alice@localhost --to bob@localhost hello bob":
    {
      exit: 0,
      output: /^sent to bob@localhost as alice@localhost\/probe-[0-9a-f]{8}$/m,
      online: { user: "bob", body: "hello bob" },
    },
  "npx -y deno@2.9.6 task cli send ws://127.0.0.1:5280/xmpp-websocket --user alice --password secret --to carol@localhost hi":
    { exit: 1, output: /send failed: the message bounced: <service-unavailable\/>/ },
  "npx -y deno@2.9.6 task cli conformance ws://127.0.0.1:5280/xmpp-websocket --user alice --password secret":
    { exit: 0, output: /\n19 passed, 0 failed, 0 skipped\n/ },
};

/** One command line of a shell block. */
interface Line {
  /** As printed, trailing comment included. */
  readonly text: string;
  /** Without the trailing comment: the key of the tables above. */
  readonly key: string;
  readonly task: string;
  readonly block: number;
  readonly lineNumber: number;
}

/** The `npx -y deno@2.9.6 task` lines of the README's `sh` blocks, in order. */
function readmeCommands(markdown: string): Line[] {
  const lines: Line[] = [];
  let block = -1;
  let inShell = false;
  markdown.split("\n").forEach((raw, index) => {
    const fence = /^```(\S*)/.exec(raw);
    if (fence) {
      inShell = !inShell && ["sh", "bash", "shell"].includes(fence[1]!);
      if (inShell) block++;
      return;
    }
    if (!inShell) return;
    const key = raw.replace(/\s+#.*$/, "").trim();
    const match = COMMAND.exec(key);
    if (match) {
      lines.push({ text: raw, key, task: match[1]!, block, lineNumber: index + 1 });
    }
  });
  return lines;
}

/** What a `task start` line configures that the test can check. */
function startInfo(key: string): { port: number; domain: string; accounts: [string, string][] } {
  const flag = (name: string) =>
    [...key.matchAll(new RegExp(`--${name}[ =](\\S+)`, "g"))].map((m) => m[1]!);
  const env = /^(?:\S+=\S*\s+)*/.exec(key)![0];
  const envAccounts = /XMPP_WS_ACCOUNTS=(\S+)/.exec(env)?.[1]?.split(",") ?? [];
  const accounts = [...flag("account"), ...envAccounts].map((pair) => {
    const at = pair.indexOf(":");
    return [pair.slice(0, at), pair.slice(at + 1)] as [string, string];
  });
  return {
    port: Number(flag("port")[0] ?? 5280),
    domain: flag("domain")[0]?.split(",")[0] ?? "localhost",
    accounts,
  };
}

function shellLine(line: Line): string {
  const deno = `'${Deno.execPath().replaceAll("'", `'\\''`)}'`;
  assert(line.text.includes(PREFIX));
  return line.text.replace(PREFIX, deno);
}

/** A `task start` running in the background. */
class Server {
  readonly child: Deno.ChildProcess;
  readonly port: number;
  #text = "";
  #changed: () => void = () => {};
  readonly #done: Promise<void>;

  constructor(line: Line, port: number) {
    this.port = port;
    this.child = new Deno.Command("bash", {
      args: ["-c", shellLine(line)],
      cwd: REPO,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#done = Promise.all([this.#read(this.child.stdout), this.#read(this.child.stderr)])
      .then(() => {});
  }

  get output(): string {
    return this.#text;
  }

  async #read(stream: ReadableStream<Uint8Array>): Promise<void> {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      this.#text += chunk;
      this.#changed();
    }
    this.#changed();
  }

  /** Resolves once the output matches `pattern`; rejects when the output ends first. */
  async waitFor(pattern: RegExp, what: string): Promise<RegExpExecArray> {
    let ended = false;
    this.#done.then(() => {
      ended = true;
      this.#changed();
    });
    const timer = setTimeout(() => {
      ended = true;
      this.#changed();
    }, START_TIMEOUT_MS);
    try {
      for (;;) {
        const match = pattern.exec(this.#text);
        if (match) return match;
        if (ended) throw new Error(`No ${what}; output so far:\n${this.#text}`);
        await new Promise<void>((resolve) => this.#changed = resolve);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  async stop(): Promise<Deno.CommandStatus> {
    try {
      this.child.kill("SIGTERM");
    } catch {
      // already exited
    }
    const status = await this.child.status;
    await this.#done;
    return status;
  }
}

function must<T>(value: T | undefined, message: string): T {
  if (value === undefined) throw new Error(message);
  return value;
}

function portFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) return false;
    throw error;
  }
}

async function run(line: Line): Promise<{ code: number; output: string }> {
  const result = await new Deno.Command("bash", {
    args: ["-c", shellLine(line)],
    cwd: REPO,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: result.code, output: decode(result.stdout) + decode(result.stderr) };
}

const README = await Deno.readTextFile(new URL("../README.md", import.meta.url));
const COMMANDS = readmeCommands(README);

Deno.test("README: every task command is run here or excluded with a reason", () => {
  assert(COMMANDS.length > 0, "no command found: has the README's prefix changed?");
  const keys = new Set(COMMANDS.map((c) => c.key));
  for (const key of [...Object.keys(EXCLUDED), ...Object.keys(EXPECTED)]) {
    assert(keys.has(key), `listed in tests/readme_test.ts but not in the README: ${key}`);
  }
  const unknown = COMMANDS.filter((c) =>
    !(c.key in EXCLUDED) && c.task !== "start" && c.task !== "cli"
  );
  assertEquals(
    unknown.map((c) => `README.md:${c.lineNumber}: ${c.key}`),
    [],
    "run these in tests/readme_test.ts or add them to EXCLUDED with a reason",
  );
});

Deno.test("README: the task commands work as printed", async (t) => {
  const blocks = [...new Set(COMMANDS.map((c) => c.block))];
  for (const block of blocks) {
    let server: { proc: Server; info: ReturnType<typeof startInfo> } | undefined;
    const stopServer = async () => {
      if (!server) return;
      const { proc, info } = server;
      server = undefined;
      const status = await proc.stop();
      assert(status.code === 0 || status.signal === "SIGTERM", proc.output);
      assert(portFree(info.port), `port ${info.port} still in use after stopping the server`);
    };
    try {
      for (const line of COMMANDS.filter((c) => c.block === block)) {
        if (line.key in EXCLUDED) continue;
        await t.step(`README.md:${line.lineNumber}: ${line.text.trim()}`, async () => {
          if (line.task === "start") {
            await stopServer();
            const info = startInfo(line.key);
            assert(
              portFree(info.port),
              `port ${info.port} (printed in the README) is in use: stop what listens there`,
            );
            const proc = new Server(line, info.port);
            server = { proc, info };
            await proc.waitFor(
              new RegExp(`listening url=ws://127\\.0\\.0\\.1:${info.port}/`),
              `"listening" line for port ${info.port}`,
            );
            if (info.accounts.length === 0) {
              // With no account configured, the demo accounts are printed after that line.
              await proc.waitFor(
                /^demo account: \S+ +password: \S+\n/m,
                "demo accounts",
              );
            }
            const printed = [
              ...proc.output.matchAll(/^demo account: ([^@\s]+)@\S+ +password: (\S+)$/gm),
            ].map((m) => [m[1]!, m[2]!] as [string, string]);
            const [user, password] = must(
              info.accounts[0] ?? printed[0],
              `no account to log in with:\n${proc.output}`,
            );
            const login = await probe({
              target: `ws://127.0.0.1:${info.port}/xmpp-websocket`,
              user: `${user}@${info.domain}`,
              password,
            });
            assertEquals(login.exitCode, 0, login.error);
            return;
          }
          const expected = EXPECTED[line.key] ?? { exit: 0 };
          let online: WsTestClient | undefined;
          if (expected.online) {
            const { port, domain, accounts } = must(server, "no server started in this block").info;
            const [, password] = must(
              accounts.find(([name]) => name === expected.online!.user),
              `the server has no account ${expected.online.user}`,
            );
            online = await WsTestClient.connect(
              `ws://127.0.0.1:${port}/xmpp-websocket`,
              domain,
            );
            await online.login(expected.online.user, password);
            await online.bind("readme-test");
            online.send(element("presence", NS.CLIENT));
          }
          try {
            const result = await run(line);
            assertEquals(result.code, expected.exit, result.output);
            if (expected.output) assertMatch(result.output, expected.output);
            if (online && expected.online) {
              const message = await online.next((el) => el.name === "message", 10_000);
              const body = childElement(message, "body", NS.CLIENT);
              assertEquals(body && textOf(body), expected.online.body);
            }
          } finally {
            await online?.close();
          }
        });
      }
    } finally {
      await stopServer();
    }
  }
});
