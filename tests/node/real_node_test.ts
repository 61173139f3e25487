/**
 * The Node adapter under real Node (not Deno's Node compatibility): `_node_entry.ts` is bundled
 * with esbuild from npm (`ws` kept external and resolved from tests/interop/node_clients, which
 * holds ws 8.23.0), run with `node`, and reached from here with Deno's WebSocket client. These
 * tests fail, never skip, when `node`, `npx`/esbuild or the npm clients are missing (install
 * them with `scripts/install_test_deps.sh`).
 */

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { element, NS, serialize } from "../../core/mod.ts";
import { startProsody } from "../_support/prosody.ts";
import { WsTestClient } from "../_support/ws_client.ts";
import { Client, CLOSE, deadline, parse, RawClient, upgradeRequest } from "../_support/endpoint.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const NODE_MODULES = `${ROOT}tests/interop/node_clients/node_modules`;
const ESBUILD = "esbuild@0.28.2";
const BUILD_MS = 120_000;

/** Bundles `_node_entry.ts` for Node into a fresh temporary folder; returns the folder. */
async function bundle(): Promise<string> {
  const version = await run("node", ["--version"]);
  assert(/^v(2\d|[3-9]\d)\./.test(version), `Node 20 or later is required, found ${version}`);
  await Deno.stat(`${NODE_MODULES}/ws/package.json`).catch(() => {
    throw new Error(`ws is missing in ${NODE_MODULES}: run scripts/install_test_deps.sh`);
  });
  const dir = await Deno.makeTempDir({ prefix: "xmpp-websocket-node-" });
  try {
    await Deno.symlink(NODE_MODULES, `${dir}/node_modules`); // where node finds `ws`
    await run("npx", [
      "-y",
      ESBUILD,
      `${ROOT}tests/node/_node_entry.ts`,
      "--bundle",
      "--platform=node",
      "--format=esm",
      "--target=node20",
      "--log-level=warning",
      `--outfile=${dir}/entry.mjs`,
      "--external:ws",
      ...(await importMapAliases()),
    ]);
    return dir;
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
}

/** esbuild aliases for the `npm:` entries of deno.json, pointing into Deno's npm cache. */
async function importMapAliases(): Promise<string[]> {
  const { npmCache } = JSON.parse(await run(Deno.execPath(), ["info", "--json"]));
  const { imports } = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)) as {
    imports: Record<string, string>;
  };
  const aliases: string[] = [];
  for (const [name, target] of Object.entries(imports)) {
    const match = /^npm:(@?[^@/]+(?:\/[^@/]+)?)@([^/]+)(\/.*)?$/.exec(target);
    if (!match || name === "ws" || name.startsWith("@types/")) continue;
    const [, pkg, version, subpath = ""] = match;
    const path = `${npmCache}/registry.npmjs.org/${pkg}/${version}${subpath}`;
    if (await Deno.stat(path).then(() => true, () => false)) {
      aliases.push(`--alias:${name}=${path}`);
    }
  }
  return aliases;
}

/** Runs a command to completion; returns its stdout, or throws with its stderr. */
async function run(command: string, args: string[]): Promise<string> {
  const output = await new Deno.Command(command, {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(BUILD_MS),
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes).trim();
  if (!output.success) {
    throw new Error(
      `${command} ${args.join(" ")} failed (${output.code}): ${decode(output.stderr)}`,
    );
  }
  return decode(output.stdout);
}

/** `node entry.mjs ...args` in a bundle folder, until its first stdout line (JSON) arrives. */
class NodeProcess {
  readonly #child: Deno.ChildProcess;
  readonly #output: Promise<string>;
  readonly #stderr: Promise<string>;
  readonly ready: Promise<{ port: number; node: string }>;

  constructor(dir: string, args: string[]) {
    const child = new Deno.Command("node", {
      args: [`${dir}/entry.mjs`, ...args],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    this.#stderr = new Response(child.stderr).text();
    let announce: (line: string) => void = () => {};
    const firstLine = new Promise<string>((resolve) => announce = resolve);
    this.#output = (async () => {
      let text = "";
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        text += chunk;
        if (text.includes("\n")) announce(text.slice(0, text.indexOf("\n")));
      }
      announce(text);
      return text;
    })();
    this.ready = deadline(firstLine, "node to listen", 15_000).then(async (line) => {
      try {
        return JSON.parse(line);
      } catch {
        throw new Error(`node printed '${line}'; stderr: ${(await this.stop()).stderr}`);
      }
    });
  }

  /** Sends SIGTERM (graceful shutdown), waits for the exit; returns the exit code and stderr. */
  async stop(): Promise<{ code: number; stderr: string }> {
    try {
      this.#child.kill("SIGTERM");
    } catch { /* already exited */ }
    const killer = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch { /* exited meanwhile */ }
    }, 5_000);
    const { code } = await this.#child.status;
    clearTimeout(killer);
    await this.#output;
    return { code, stderr: await this.#stderr };
  }
}

async function withNode(
  args: string[],
  body: (port: number, node: string) => Promise<void>,
): Promise<void> {
  const dir = await bundle();
  try {
    const node = new NodeProcess(dir, args);
    try {
      const { port, node: version } = await node.ready;
      await body(port, version);
    } finally {
      const { code, stderr } = await node.stop();
      assert(!/Error/.test(stderr), `node wrote errors:\n${stderr}`);
      assertEquals(code, 0, `node did not shut down gracefully:\n${stderr}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("real Node: serveXmppNode: open and features, an echoed element, the close handshake", async () => {
  await withNode(["serve"], async (port, version) => {
    assert(version.startsWith("v"), version);
    const url = `ws://127.0.0.1:${port}/xmpp-websocket`;
    const client = await Client.open(url);
    assertEquals(client.ws.protocol, "xmpp");
    const { open, features } = await client.openStream();
    assertEquals([open.name, open.ns, open.attrs.from], ["open", NS.FRAMING, "localhost"]);
    assertEquals([features.name, features.ns], ["features", NS.STREAMS]);
    const message = serialize(
      element("message", NS.CLIENT, { to: "a@localhost" }, [
        element("body", NS.CLIENT, {}, ["h\u00e9 & <co>"]),
      ]),
    );
    client.ws.send(message);
    assertEquals(serialize(parse(await client.next("the echo"))), message);
    client.ws.send(CLOSE);
    assertEquals(await client.next("<close/>"), CLOSE);
    client.ws.close(1000);
    assertEquals((await client.closeEvent()).code, 1000);
  });
});

Deno.test("real Node: #3 no xmpp subprotocol: 400; #6 binary: 1003; GET: the page; oversized: 1009", async () => {
  await withNode(["serve"], async (port) => {
    const raw = await RawClient.connect(port);
    try {
      await raw.write(upgradeRequest(port, ["Sec-WebSocket-Protocol: chat"]));
      const response = await raw.readResponse();
      assertEquals(response.status, 400);
      assertStringIncludes(response.body, "offered: 'chat'");
    } finally {
      raw.close();
    }
    const client = await Client.open(`ws://127.0.0.1:${port}/xmpp-websocket`);
    await client.openStream();
    client.ws.send(new Uint8Array([60, 47, 62]));
    assertEquals((await client.closeEvent()).code, 1003);
    const page = await fetch(`http://127.0.0.1:${port}/xmpp-websocket`);
    assertStringIncludes(await page.text(), "RFC 7395");
    // Over maxPayload (twice the default maxBytes of 256 KiB): ws refuses it with 1009.
    const big = await Client.open(`ws://127.0.0.1:${port}/xmpp-websocket`);
    await big.openStream();
    big.ws.send(`<message xmlns='${NS.CLIENT}'><body>${"x".repeat(600_000)}</body></message>`);
    assertEquals((await big.closeEvent()).code, 1009);
  });
});

Deno.test("real Node: the gateway logs in to Prosody over STARTTLS (node:tls) and chats", async () => {
  const prosody = await startProsody({
    accounts: [{ username: "alice", password: "alice-secret" }],
    starttls: "required",
  });
  try {
    await withNode(["gateway", String(prosody.c2sPort), prosody.caCertPath!], async (port) => {
      const client = await WsTestClient.connect(`ws://127.0.0.1:${port}/xmpp-websocket`);
      await client.login("alice", "alice-secret", "SCRAM-SHA-1");
      const jid = await client.bind("real-node");
      assertEquals(jid, "alice@localhost/real-node");
      const pong = await client.iq("get", element("ping", "urn:xmpp:ping"), "localhost");
      assertEquals(pong.attrs.type, "result");
      await client.close();
      assertEquals(client.closeCode, 1000);
    });
  } finally {
    await prosody.stop();
  }
});
