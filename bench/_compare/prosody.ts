/**
 * A private Prosody (Debian package, 0.12) for the comparison bench: its own folder (config,
 * pidfile, data, log), loopback only, no s2s, plain c2s with PLAIN allowed, its WebSocket
 * endpoint on, no mod_smacks; started under the raised file-descriptor limit. The system
 * service and `/etc/prosody` are never touched.
 *
 * Accounts are written directly in `internal_hashed` format (SCRAM-SHA-1 keys), all with the
 * same password and salt: one PBKDF2 for any number of accounts.
 *
 * @example
 * ```ts ignore
 * import { startProsody } from "./prosody.ts";
 * const prosody = await startProsody(["u0", "u1"], "secret");
 * console.log(prosody.c2sPort, prosody.websocketUrl);
 * await prosody.stop();
 * ```
 * @module
 */

import { freePorts, type Spawned, spawnLimited, waitForPort } from "./proc.ts";
import { scramKeys } from "./accounts.ts";

/** A running private Prosody. */
export interface BenchProsody {
  readonly process: Spawned;
  readonly c2sPort: number;
  readonly websocketUrl: string;
  stop(): Promise<void>;
}

/** Writes the accounts (once per folder) and starts Prosody on fresh ports. */
export async function startProsody(
  dir: string,
  users: readonly string[],
  password: string,
): Promise<BenchProsody> {
  const dataDir = `${dir}/data`;
  const accounts = `${dataDir}/localhost/accounts`;
  if (!(await Deno.stat(accounts).catch(() => undefined))) {
    await Deno.mkdir(accounts, { recursive: true });
    const salt = "bench-salt-0123456789";
    const keys = await scramKeys(password, new TextEncoder().encode(salt), 4096, "SHA-1");
    const text = `return {\n\t["iteration_count"] = 4096;\n\t["server_key"] = "${
      hex(keys.serverKey)
    }";\n\t["stored_key"] = "${hex(keys.storedKey)}";\n\t["salt"] = "${salt}";\n};\n`;
    for (const user of users) await Deno.writeTextFile(`${accounts}/${user}.dat`, text);
  }
  const [c2sPort, httpPort] = freePorts(2) as [number, number];
  const configPath = `${dir}/prosody.cfg.lua`;
  await Deno.writeTextFile(
    configPath,
    [
      `pidfile = "${dir}/prosody.pid"`,
      `data_path = "${dataDir}"`,
      `log = { warn = "${dir}/prosody.log" }`,
      `run_as_root = true`,
      `daemonize = false`,
      `interfaces = { "127.0.0.1" }`,
      `local_interfaces = { "127.0.0.1" }`,
      `http_interfaces = { "127.0.0.1" }`,
      `https_interfaces = { }`,
      `s2s_ports = { }`,
      `c2s_ports = { ${c2sPort} }`,
      `c2s_direct_tls_ports = { }`,
      `legacy_ssl_ports = { }`,
      `http_ports = { ${httpPort} }`,
      `https_ports = { }`,
      `storage = "internal"`,
      `authentication = "internal_hashed"`,
      `allow_registration = false`,
      `c2s_require_encryption = false`,
      `s2s_require_encryption = false`,
      `allow_unencrypted_plain_auth = true`,
      `consider_websocket_secure = true`,
      `modules_enabled = { "roster", "saslauth", "disco", "ping", "http", "websocket" }`,
      `VirtualHost "localhost"`,
      "",
    ].join("\n"),
  );
  const process = spawnLimited("prosody", "prosody", ["--config", configPath, "-F"], { cwd: dir });
  try {
    await waitForPort(c2sPort, 20_000, process);
    await waitForPort(httpPort, 5_000, process);
  } catch (error) {
    await process.stop(200);
    const log = await Deno.readTextFile(`${dir}/prosody.log`).catch(() => "");
    throw new Error(`${(error as Error).message}\n${log}`);
  }
  return {
    process,
    c2sPort,
    websocketUrl: `ws://127.0.0.1:${httpPort}/xmpp-websocket`,
    stop: () => process.stop(1000),
  };
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}
