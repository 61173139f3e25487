// The packed npm package under plain Node (no flags, no bundler), with node:test. Run by
// tests/node/npm_package_test.ts as `node --test` in an empty folder where the tarball was
// installed with `npm install <tgz>`: imports resolve through node_modules as for any npm user.
//
// Environment (set by the Deno test; a missing variable fails the test, never skips it):
//   XMPP_WS_TEST_NODE_CLIENTS  tests/interop/node_clients (holds @xmpp/client and ws)
//   XMPP_WS_TEST_UPSTREAM      host:port of a private Prosody (c2s, STARTTLS required)
//   XMPP_WS_TEST_UPSTREAM_CA   PEM file of the CA that signed Prosody's certificate
//   XMPP_WS_TEST_ACCOUNTS      user:password,user:password: two accounts on that Prosody
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import process from "node:process";

const DOMAIN = "localhost";

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (this file is run by npm_package_test.ts)`);
  return value;
}

/** Imports a package installed in the interop clients folder (not a dependency of ours). */
async function importFrom(dir, name) {
  const path = createRequire(join(dir, "package.json")).resolve(name);
  return await import(pathToFileURL(path).href);
}

function within(ms, what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * `npx xmpp-websocket ...args` in this folder (the installed bin), until it logs the URL it
 * listens on. `stop()` sends SIGTERM to the process group (npx itself dies of SIGTERM without
 * passing it on) and resolves with the output once every process of the group has closed it.
 */
async function startCommand(args, extraEnv = {}) {
  const child = spawn("npx", ["xmpp-websocket", ...args], {
    cwd: process.cwd(),
    env: { ...process.env, ...extraEnv },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group: npx, and the node process running the bin
  });
  const signalGroup = (signal) => {
    try {
      process.kill(-child.pid, signal);
    } catch { /* every process of the group has exited */ }
  };
  let stdout = "";
  let stderr = "";
  const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  const closed = new Promise((resolve) => child.once("close", () => resolve())); // stdio EOF
  const url = new Promise((resolve, reject) => {
    child.stdout.setEncoding("utf8").on("data", (chunk) => stdout += chunk);
    child.stderr.setEncoding("utf8").on("data", (chunk) => {
      stderr += chunk;
      const match = / listening url=(\S+)/.exec(stderr);
      if (match) resolve(match[1]);
    });
    exited.then((code) =>
      reject(new Error(`xmpp-websocket exited (${code}) before listening:\n${stderr}`))
    );
  });
  const output = () => ({ stdout, stderr });
  try {
    return {
      url: await within(30_000, "xmpp-websocket to listen", url),
      output,
      async stop() {
        signalGroup("SIGTERM");
        await within(20_000, "xmpp-websocket to exit", closed).catch((error) => {
          signalGroup("SIGKILL");
          throw error;
        });
        return output();
      },
    };
  } catch (error) {
    signalGroup("SIGKILL");
    throw error;
  }
}

/** @xmpp/client (xmpp.js 0.14), a client library no one here wrote, logged in with XEP-0198 on. */
async function xmppjsLogin(url, username, password) {
  const clients = env("XMPP_WS_TEST_NODE_CLIENTS");
  const { client } = await importFrom(clients, "@xmpp/client");
  globalThis.WebSocket ??= (await importFrom(clients, "ws")).default; // Node 20 has none
  const xmpp = client({ service: url, domain: DOMAIN, username, password });
  const errors = [];
  xmpp.on("error", (error) => errors.push(error));
  xmpp.reconnect.stop();
  await within(30_000, `${username}'s login with @xmpp/client`, xmpp.start());
  // Nothing is sent to it before <enabled/> (xmpp.js counts stanzas from before it otherwise).
  for (let i = 0; i < 100 && !xmpp.streamManagement.enabled; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.ok(xmpp.streamManagement.enabled, "XEP-0198 enabled for @xmpp/client");
  return { xmpp, errors };
}

/** This package's own client (`xmpp-websocket/client`) over the `ws` package. */
async function ownLogin(url, username, password) {
  const { XmppClient } = await import("xmpp-websocket/client");
  const { default: WebSocket } = await importFrom(env("XMPP_WS_TEST_NODE_CLIENTS"), "ws");
  return await within(
    30_000,
    `${username}'s login with xmpp-websocket/client`,
    XmppClient.connect({
      service: url,
      domain: DOMAIN,
      username,
      password,
      webSocket: (u, protocols) => new WebSocket(u, protocols),
    }),
  );
}

/** A message each way between an @xmpp/client session and one of our client, by full JID. */
async function exchange(url, [user1, pass1], [user2, pass2]) {
  const { xml } = await importFrom(env("XMPP_WS_TEST_NODE_CLIENTS"), "@xmpp/client");
  const { xmpp, errors } = await xmppjsLogin(url, user1, pass1);
  const own = await ownLogin(url, user2, pass2);
  const jid1 = xmpp.jid.toString();
  assert.match(jid1, new RegExp(`^${user1}@${DOMAIN}/.+`));
  assert.match(own.jid, new RegExp(`^${user2}@${DOMAIN}/.+`));

  const toXmppjs = new Promise((resolve) =>
    xmpp.on("stanza", (s) => s.is("message") && resolve(s))
  );
  own.message(jid1, "hello from xmpp-websocket/client");
  const got1 = await within(10_000, "the message to @xmpp/client", toXmppjs);
  assert.equal(got1.getChildText("body"), "hello from xmpp-websocket/client");
  assert.equal(got1.attrs.from, own.jid);

  const toOwn = new Promise((resolve) => own.on("message", resolve));
  await xmpp.send(xml("message", { to: own.jid, type: "chat" }, xml("body", {}, "hello back")));
  const got2 = await within(10_000, "the message to xmpp-websocket/client", toOwn);
  const body = got2.children.find((c) => typeof c !== "string" && c.name === "body");
  assert.deepEqual(body?.children, ["hello back"]);

  await within(10_000, "our client to close", own.close());
  const closed = await within(10_000, "@xmpp/client to close", xmpp.stop());
  assert.equal(closed?.name, "close", "the server answered <close/> with <close/>");
  assert.deepEqual(errors.map(String), []);
}

function accounts() {
  return env("XMPP_WS_TEST_ACCOUNTS").split(",").map((pair) => {
    const colon = pair.indexOf(":");
    return [pair.slice(0, colon), pair.slice(colon + 1)];
  });
}

test("the entry points load under plain node and export the API", async () => {
  const core = await import("xmpp-websocket");
  for (const name of ["element", "serialize", "createSession", "step", "createHub", "hubStep"]) {
    assert.equal(typeof core[name], "function", `xmpp-websocket exports ${name}`);
  }
  const text = core.serialize(core.element("message", "jabber:client", { to: "a@b" }, ["<&>"]));
  assert.equal(text, "<message xmlns='jabber:client' to='a@b'>&lt;&amp;&gt;</message>");
  const node = await import("xmpp-websocket/node");
  for (const name of ["serveXmppNode", "serveGatewayNode", "connectTcpNode"]) {
    assert.equal(typeof node[name], "function", `xmpp-websocket/node exports ${name}`);
  }
  const client = await import("xmpp-websocket/client");
  assert.equal(typeof client.XmppClient?.connect, "function");
  // Only the declared entry points are public.
  await assert.rejects(import("xmpp-websocket/lib/core/mod.js"), {
    code: "ERR_PACKAGE_PATH_NOT_EXPORTED",
  });
});

test("serveXmppNode from the package serves an RFC 7395 endpoint in process", async () => {
  const { serveXmppNode } = await import("xmpp-websocket/node");
  const { default: WebSocket } = await importFrom(env("XMPP_WS_TEST_NODE_CLIENTS"), "ws");
  const server = await serveXmppNode({ hostname: "127.0.0.1", port: 0 });
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${server.addr.port}/xmpp-websocket`, ["xmpp"]);
    const first = new Promise((resolve, reject) => {
      ws.once("message", (data) => resolve(String(data)));
      ws.once("error", reject);
    });
    ws.once(
      "open",
      () =>
        ws.send(`<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="localhost" version="1.0"/>`),
    );
    const open = await within(5_000, "the server's <open/>", first);
    assert.match(open, /^<open [^>]*xmlns='urn:ietf:params:xml:ns:xmpp-framing'/);
    assert.equal(ws.protocol, "xmpp");
    ws.terminate();
  } finally {
    await server.shutdown();
  }
});

test("npx xmpp-websocket: the embedded server, accounts from the environment and a file", async () => {
  const [alice, bob] = [["alice", "wonder-land"], ["bob", "hunter2"]];
  const dir = await mkdtemp(join(tmpdir(), "xmpp-websocket-accounts-"));
  const file = join(dir, "accounts.json");
  await writeFile(file, JSON.stringify({ accounts: [{ username: bob[0], password: bob[1] }] }));
  const command = await startCommand(["--port", "0", "--drain", "200", "--accounts-file", file], {
    XMPP_WS_ACCOUNTS: alice.join(":"),
  }).finally(() => rm(dir, { recursive: true }));
  try {
    assert.match(command.url, /^ws:\/\/127\.0\.0\.1:\d+\/xmpp-websocket$/);
    await exchange(command.url, alice, bob);
  } finally {
    const { stdout, stderr } = await command.stop();
    assert.match(stderr, /INFO {2}shutting down drainMs=200 /, stderr);
    assert.match(stderr, /INFO {2}stopped\n$/, stderr); // logged right before main() returns 0
    assert.doesNotMatch(stdout, /demo account/, "configured accounts: no demo accounts");
  }
});

test("npx xmpp-websocket --upstream: the gateway in front of Prosody, STARTTLS verified", async () => {
  const [first, second] = accounts();
  const command = await startCommand([
    "--port=0",
    "--domain",
    DOMAIN,
    "--upstream",
    env("XMPP_WS_TEST_UPSTREAM"),
    "--upstream-tls",
    "required",
    "--upstream-ca-file",
    env("XMPP_WS_TEST_UPSTREAM_CA"),
    "--drain",
    "200",
  ]);
  try {
    assert.match(command.output().stderr, /gateway listening .*upstream=127\.0\.0\.1:\d+/);
    await exchange(command.url, first, second);
  } finally {
    const { stderr } = await command.stop();
    assert.match(stderr, /INFO {2}stopped\n$/, stderr);
  }
});
