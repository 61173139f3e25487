/**
 * A private ejabberd (Debian package, 23.01) for the comparison bench, without `ejabberdctl`,
 * epmd or the system service: the Erlang VM started directly (`erl -noinput -mnesia dir ...
 * -s ejabberd`, no distribution) with `ERL_LIBS` at the package's libraries and
 * `EJABBERD_CONFIG_PATH` at a YAML of its own (ejabberd.yml.ts), under the raised
 * file-descriptor limit. Accounts are written into Mnesia once per folder, at the first start
 * (`-eval`: one SCRAM derivation for all), checked through `mod_http_api`; the Mnesia folder
 * keeps them across restarts.
 *
 * @example
 * ```ts ignore
 * import { startEjabberd } from "./ejabberd.ts";
 * const ejabberd = await startEjabberd(await Deno.makeTempDir(), ["u0"], "secret");
 * console.log(ejabberd.c2sPort, ejabberd.websocketUrl);
 * await ejabberd.stop();
 * ```
 * @module
 */

import { freePorts, type Spawned, spawnLimited, waitForPort } from "./proc.ts";
import { ejabberdConfig } from "./ejabberd.yml.ts";

/** Where Debian puts ejabberd's Erlang applications (what ejabberdctl sets ERL_LIBS to). */
export const ERL_LIBS = "/usr/lib/x86_64-linux-gnu";

/** A running private ejabberd. */
export interface BenchEjabberd {
  readonly process: Spawned;
  readonly c2sPort: number;
  readonly websocketUrl: string;
  stop(): Promise<void>;
}

/** Starts ejabberd on fresh ports; registers `users` the first time this folder is used. */
export async function startEjabberd(
  dir: string,
  users: readonly string[],
  password: string,
): Promise<BenchEjabberd> {
  const [c2sPort, httpPort] = freePorts(2) as [number, number];
  const configPath = `${dir}/ejabberd.yml`;
  await Deno.mkdir(`${dir}/db`, { recursive: true });
  await Deno.mkdir(`${dir}/logs`, { recursive: true });
  await Deno.writeTextFile(configPath, ejabberdConfig(c2sPort, httpPort));
  const libs = await findErlLibs().catch(() => ERL_LIBS);
  const marker = `${dir}/registered`;
  const fresh = !(await Deno.stat(marker).catch(() => undefined));
  if (fresh) await Deno.writeTextFile(`${dir}/users.txt`, users.join("\n"));
  // Accounts go straight into Mnesia with one SCRAM derivation for all (the HTTP API's
  // `register` derives per account: about 10 ms of ejabberd CPU each).
  const seed = fresh
    ? [
      "-eval",
      `{ok, B} = file:read_file("${dir}/users.txt"), ` +
      `S = ejabberd_auth:password_to_scram(<<"localhost">>, <<"${password}">>), ` +
      `[{cache, {ok, _}} = ejabberd_auth_mnesia:try_register(U, <<"localhost">>, S) || ` +
      `U <- binary:split(B, <<"\\n">>, [global, trim_all])], ` +
      `ok = file:write_file("${marker}", <<"${users.length}">>).`,
    ]
    : [];
  const process = spawnLimited("ejabberd", "erl", [
    "+K",
    "true",
    "+P",
    "250000",
    "-noinput",
    "-mnesia",
    "dir",
    `"${dir}/db"`,
    "-ejabberd",
    "quiet",
    "true",
    "-s",
    "ejabberd",
    ...seed,
  ], {
    cwd: dir,
    env: {
      ERL_LIBS: libs,
      EJABBERD_CONFIG_PATH: configPath,
      EJABBERD_LOG_PATH: `${dir}/logs/ejabberd.log`,
      ERL_CRASH_DUMP: `${dir}/logs/erl_crash.dump`,
      ERL_MAX_PORTS: "65536",
      HOME: dir,
    },
  });
  const stop = () => process.stop(3000);
  try {
    await waitForPort(c2sPort, 60_000, process);
    await waitForPort(httpPort, 10_000, process);
    for (let i = 0; fresh && !(await Deno.stat(marker).catch(() => undefined)); i++) {
      if (i > 600 || process.exited()) throw new Error(`accounts not seeded:\n${process.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // The seeded accounts, checked through the HTTP API (mod_http_api).
    await checkAccounts(httpPort, users.length);
  } catch (error) {
    await stop();
    const log = await Deno.readTextFile(`${dir}/logs/ejabberd.log`).catch(() => "");
    throw new Error(`ejabberd: ${(error as Error).message}\n${log.slice(-4000)}`);
  }
  return { process, c2sPort, websocketUrl: `ws://127.0.0.1:${httpPort}/ws`, stop };
}

async function checkAccounts(httpPort: number, count: number): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${httpPort}/api/registered_users`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ host: "localhost" }),
  });
  const text = await response.text();
  const list = response.ok ? JSON.parse(text) as unknown : undefined;
  if (!Array.isArray(list) || list.length !== count) {
    throw new Error(`expected ${count} accounts: HTTP ${response.status} ${text.slice(0, 200)}`);
  }
}

async function findErlLibs(): Promise<string> {
  const out = await new Deno.Command("dpkg", { args: ["-L", "ejabberd"], stdout: "piped" })
    .output().catch(() => undefined);
  const app = new TextDecoder().decode(out?.stdout ?? new Uint8Array()).split("\n")
    .find((l) => l.endsWith("/ebin/ejabberd.app"));
  if (app === undefined) throw new Error("ejabberd's ebin/ejabberd.app not found (dpkg -L)");
  return app.replace(/\/[^/]+\/ebin\/ejabberd\.app$/, "");
}
