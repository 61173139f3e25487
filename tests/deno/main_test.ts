/**
 * The command line (deno/main.ts) as an operator uses it: --help, bad options, the embedded
 * default with printed demo accounts, and the SIGTERM drain. Each run is a real subprocess.
 */

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { OPTION_SPECS } from "../../deno/options.ts";
import { WsTestClient } from "../_support/ws_client.ts";

const MAIN = new URL("../../deno/main.ts", import.meta.url).pathname;

async function run(args: string[], env: Record<string, string> = {}) {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(20_000),
  }).output();
  return {
    code,
    stdout: new TextDecoder().decode(stdout),
    stderr: new TextDecoder().decode(stderr),
  };
}

Deno.test("--help prints every option with its environment variable and default, and exits 0", async () => {
  const { code, stdout } = await run(["--help"]);
  assertEquals(code, 0);
  for (const spec of OPTION_SPECS) {
    assertStringIncludes(stdout, `--${spec.flag}`);
    assertStringIncludes(
      stdout,
      `env ${spec.env}, default: ${spec.default === "" ? "(none)" : spec.default}`,
    );
  }
});

Deno.test("bad options and files get a clear message and exit code 2, never a stack trace", async () => {
  for (
    const [args, env, message] of [
      [["--port", "http"], {}, "--port: expected an integer, got 'http'"],
      [["--frobnicate"], {}, "--frobnicate: unknown option (see --help)"],
      [
        [],
        { XMPP_WS_UPSTREAM_TLS: "maybe" },
        "--upstream-tls: expected one of optional, required, direct, off, got 'maybe'",
      ],
      [
        ["--upstream", "127.0.0.1:5222", "--cert", "/nonexistent.pem", "--key", "/nonexistent.key"],
        {},
        "--cert: cannot read /nonexistent.pem",
      ],
      [["--upstream", "a:b:c"], {}, "--upstream: expected host:port or 'srv', got 'a:b:c'"],
    ] as const
  ) {
    const { code, stderr } = await run([...args], { ...env });
    assertEquals(code, 2, stderr);
    assertStringIncludes(stderr, message);
    assert(!stderr.includes("    at "), `no stack trace: ${stderr}`);
  }
});

Deno.test("the embedded default: demo accounts are printed, a client logs in, SIGTERM drains with system-shutdown", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "--port", "0", "--drain", "200"],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  let err = "";
  const pumps = [
    child.stdout.pipeThrough(new TextDecoderStream()).pipeTo(
      new WritableStream({ write: (t) => void (out += t) }),
    ),
    child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
      new WritableStream({ write: (t) => void (err += t) }),
    ),
  ];
  const deadline = Date.now() + 15_000;
  while (
    !(/url=ws:\/\/127\.0\.0\.1:(\d+)/.test(err) && /bob@localhost/.test(out)) &&
    Date.now() < deadline
  ) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const port = /url=ws:\/\/127\.0\.0\.1:(\d+)/.exec(err)?.[1];
  const password = /alice@localhost\s+password: (\S+)/.exec(out)?.[1];
  try {
    if (!port || !password) throw new Error(`start-up output:\n${out}\n${err}`);
    const client = await WsTestClient.connect(`ws://127.0.0.1:${port}/xmpp-websocket`);
    await client.login("alice", password, "SCRAM-SHA-256");
    assertEquals(await client.bind("cli"), "alice@localhost/cli");
    child.kill("SIGTERM");
    await client.closed;
    assert(
      client.transcript.some((l) => l.includes("<system-shutdown")),
      client.transcript.join("\n"),
    );
    assertEquals((await child.status).code, 0);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
    await Promise.all(pumps);
  }
});
