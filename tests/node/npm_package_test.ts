/**
 * The npm package as a Node user gets it: `scripts/build_npm.sh` builds it (tools cached in
 * tests/node/.cache, git-ignored), `npm pack` packs it, `npm install <tgz>` installs it into an
 * empty folder (its dependencies come from the npm registry), and the machine's `node` (v20, no
 * flags, no bundler) runs it. The suite under Node is `npm_fixture/package_suite.mjs`, run with
 * `node --test` in that folder: the entry points load and export the API; `npx xmpp-websocket`
 * runs the embedded server and, with `--upstream`, the gateway in front of a private Prosody
 * (STARTTLS required, private CA); in both, `@xmpp/client` (from tests/interop/node_clients) and
 * the package's own client log in and exchange messages. This file also checks the tarball's
 * contents, that `--help` is `deno task start`'s, and that the declarations type-check for a
 * strict TypeScript consumer without `skipLibCheck`. It fails, never skips, when `node`, `npm`,
 * Prosody or the interop clients are missing (`scripts/install_test_deps.sh` installs them).
 */

import { assert, assertEquals, assertMatch } from "@std/assert";
import { helpText } from "../../deno/options.ts";
import { startProsody } from "../_support/prosody.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const CACHE = `${ROOT}tests/node/.cache/build_npm`;
const NODE_CLIENTS = `${ROOT}tests/interop/node_clients`;
const FIXTURE = `${ROOT}tests/node/npm_fixture/package_suite.mjs`;
const STEP_MS = 120_000;

interface Output {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion (bounded); throws with its output unless `allowFailure`. */
async function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string>; allowFailure?: boolean } = {},
): Promise<Output> {
  const output = await new Deno.Command(command, {
    args: [...args],
    cwd: options.cwd ?? ROOT,
    ...(options.env ? { env: options.env } : {}),
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(STEP_MS),
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  const result = {
    code: output.code,
    stdout: decode(output.stdout),
    stderr: decode(output.stderr),
  };
  if (!output.success && !options.allowFailure) {
    throw new Error(
      `${command} ${args.join(" ")} failed (${output.code}):\n${result.stderr}\n${result.stdout}`,
    );
  }
  return result;
}

interface DenoJson {
  readonly version: string;
  readonly imports: Record<string, string>;
}

Deno.test("npm package: built, packed, installed with npm and run by plain node", async (t) => {
  const version = (await run("node", ["--version"])).stdout.trim();
  assertMatch(version, /^v(2\d|[3-9]\d)\./, `Node 20 or later is required, found ${version}`);
  await Deno.stat(`${NODE_CLIENTS}/node_modules/@xmpp/client/package.json`).catch(() => {
    throw new Error(`@xmpp/client is missing in ${NODE_CLIENTS}: run scripts/install_test_deps.sh`);
  });
  const denoJson: DenoJson = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const pin = (name: string) => /^npm:[^@]+@([^/]+)/.exec(denoJson.imports[name]!)![1]!;
  const dir = await Deno.makeTempDir({ prefix: "xmpp-websocket-npm-" });
  const project = `${dir}/project`;
  try {
    let tarball = "";
    // The later steps need the earlier ones (a failed step already fails the test).
    const built = await t.step("scripts/build_npm.sh builds it and npm pack packs it", async () => {
      await run("bash", ["scripts/build_npm.sh", "--out", `${dir}/package`, "--cache", CACHE]);
      const packed = await run("npm", ["pack", "--json", "--pack-destination", dir], {
        cwd: `${dir}/package`,
      });
      const [info] = JSON.parse(packed.stdout) as {
        filename: string;
        files: { path: string }[];
      }[];
      tarball = `${dir}/${info!.filename}`;
      assertEquals(info!.filename, `xmpp-websocket-${denoJson.version}.tgz`);
      const files = info!.files.map((f) => f.path);
      for (
        const expected of [
          "package.json",
          "README.md",
          "LICENSE",
          "bin/xmpp-websocket.js",
          "lib/core/mod.js",
          "lib/core/mod.d.ts",
          "lib/node_adapter/mod.js",
          "lib/node_adapter/mod.d.ts",
          "lib/node_adapter/main.js",
          "lib/deno/client.js",
          "lib/deno/client.d.ts",
        ]
      ) assert(files.includes(expected), `the tarball holds ${expected}`);
      const sources = files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"));
      assertEquals(sources, [], "no TypeScript sources: Node 20 cannot run them");
    });

    const installed = built && await t.step(
      "npm install <tgz> into an empty folder: only sax-ts and ws come along",
      async () => {
        await Deno.mkdir(project);
        await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball], {
          cwd: project,
        });
        const manifest = JSON.parse(
          await Deno.readTextFile(`${project}/node_modules/xmpp-websocket/package.json`),
        );
        assertEquals(manifest.version, denoJson.version);
        assertEquals(manifest.type, "module");
        assertEquals(manifest.dependencies, { "sax-ts": pin("sax-ts"), ws: pin("ws") });
        assertEquals(Object.keys(manifest.exports).sort(), [
          ".",
          "./client",
          "./node",
          "./package.json",
        ]);
        const modules = [];
        for await (const entry of Deno.readDir(`${project}/node_modules`)) {
          if (!entry.name.startsWith(".")) modules.push(entry.name);
        }
        assertEquals(modules.sort(), ["sax-ts", "ws", "xmpp-websocket"]);
      },
    );

    if (!installed) return;
    await t.step("npx xmpp-websocket --help prints the options of deno task start", async () => {
      const help = await run("npx", ["xmpp-websocket", "--help"], { cwd: project });
      assertEquals(
        help.stdout.trimEnd(),
        helpText().replace("Usage: deno task start", "Usage: xmpp-websocket"),
      );
      const bad = await run("npx", ["xmpp-websocket", "--port", "http"], {
        cwd: project,
        allowFailure: true,
      });
      assertEquals(bad.code, 2);
      assertMatch(bad.stderr, /--port: expected an integer, got 'http'/);
    });

    await t.step(
      "node --test: exports, the embedded server and the gateway with real clients",
      async () => {
        await Deno.copyFile(FIXTURE, `${project}/package_suite.mjs`);
        await using prosody = await startProsody({
          accounts: [
            { username: "carol", password: "carol-secret" },
            { username: "dave", password: "dave-secret" },
          ],
          starttls: "required",
        });
        const result = await run(
          "node",
          ["--test", "--test-reporter=tap", "package_suite.mjs"],
          {
            cwd: project,
            allowFailure: true,
            env: {
              XMPP_WS_TEST_NODE_CLIENTS: NODE_CLIENTS,
              XMPP_WS_TEST_UPSTREAM: `127.0.0.1:${prosody.c2sPort}`,
              XMPP_WS_TEST_UPSTREAM_CA: prosody.caCertPath!,
              XMPP_WS_TEST_ACCOUNTS: "carol:carol-secret,dave:dave-secret",
            },
          },
        );
        const report = `${result.stdout}\n${result.stderr}`;
        assertEquals(result.code, 0, report);
        for (const [name, count] of [["pass", 4], ["fail", 0], ["skipped", 0], ["todo", 0]]) {
          assertMatch(result.stdout, new RegExp(`^# ${name} ${count}$`, "m"), report);
        }
      },
    );

    await t.step(
      "the declarations type-check for a strict consumer (no skipLibCheck)",
      async () => {
        await Deno.writeTextFile(
          `${project}/consumer.mts`,
          [
            `import { element, serialize, type XmlElement } from "xmpp-websocket";`,
            `import { serveXmppNode, type XmppApplication, type XmppNodeServer } from "xmpp-websocket/node";`,
            `import { XmppClient } from "xmpp-websocket/client";`,
            `const app: XmppApplication = { onOpenRequested: (conn) => conn.accept() };`,
            `const stanza: XmlElement = element("message", "jabber:client", { to: "a@b" });`,
            `const text: string = serialize(stanza);`,
            `const start: () => Promise<XmppNodeServer> = () => serveXmppNode({ application: app });`,
            `const connect: typeof XmppClient.connect = XmppClient.connect;`,
            `export { connect, start, text };`,
            // A misuse must be caught, or the check proves nothing:
            `// @ts-expect-error: the namespace argument is required`,
            `element("message");`,
            "",
          ].join("\n"),
        );
        await Deno.writeTextFile(
          `${project}/tsconfig.json`,
          JSON.stringify({
            compilerOptions: {
              strict: true,
              exactOptionalPropertyTypes: true,
              module: "nodenext",
              moduleResolution: "nodenext",
              target: "es2022",
              noEmit: true,
              skipLibCheck: false,
              types: ["node"],
              typeRoots: [`${CACHE}/node_modules/@types`],
            },
            files: ["consumer.mts"],
          }),
        );
        const tsc = `${CACHE}/node_modules/typescript/bin/tsc`;
        const checked = await run("node", [tsc, "-p", "tsconfig.json"], {
          cwd: project,
          allowFailure: true,
        });
        assertEquals(checked.code, 0, checked.stdout + checked.stderr);
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
