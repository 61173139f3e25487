/**
 * Test helper: runs a private Prosody (Debian package, 0.12) for interop tests. Everything lives
 * in a fresh temporary folder (config, pidfile, data, logs, certificates); the system service and
 * `/etc/prosody` are never touched. Install Prosody with `scripts/install_test_deps.sh`.
 *
 * Accounts are written directly in Prosody's `internal_hashed` format (SCRAM-SHA-1 keys in
 * `data/<host>/accounts/<user>.dat`, checked against what `prosodyctl register` writes), which is
 * far faster than `prosodyctl register`.
 *
 * @example
 * ```ts ignore
 * import { startProsody } from "./prosody.ts";
 * await using prosody = await startProsody({ accounts: [{ username: "alice", password: "pw" }] });
 * console.log(prosody.c2sPort, prosody.websocketUrl);
 * ```
 * @module
 */

/** An account to create before Prosody starts. */
export interface ProsodyAccount {
  readonly username: string;
  readonly password: string;
}

/** Options of {@link startProsody}. */
export interface ProsodyOptions {
  /** The VirtualHost (default `localhost`). */
  readonly domain?: string;
  readonly accounts?: readonly ProsodyAccount[];
  /** STARTTLS on the c2s port (default `off`: mod_tls not loaded). */
  readonly starttls?: "off" | "optional" | "required";
  /** Also listen for direct TLS (XEP-0368) on its own port (default false). */
  readonly directTls?: boolean;
  /** `c2s_require_encryption` (default: true only when `starttls` is `required`). */
  readonly requireEncryption?: boolean;
  /** `allow_unencrypted_plain_auth` (default true). */
  readonly allowUnencryptedPlain?: boolean;
  /** Load mod_smacks, XEP-0198 (default true). */
  readonly smacks?: boolean;
  /** More modules to enable. */
  readonly modules?: readonly string[];
  /** Raw Lua appended to the global section of the config. */
  readonly extraConfig?: string;
  /**
   * Prosody's auth backend (default `internal_hashed`: SCRAM-SHA-1 keys only, so Prosody 0.12
   * offers PLAIN and SCRAM-SHA-1; `internal_plain` lets it offer SCRAM-SHA-256 too).
   */
  readonly authentication?: "internal_hashed" | "internal_plain";
  /** SCRAM iteration count of the written accounts (default 4096). */
  readonly scramIterations?: number;
  /** Log level of `prosody.log` (default `info`). */
  readonly logLevel?: "debug" | "info" | "warn";
  /** How long to wait for the c2s port, in ms (default 10 000). */
  readonly startTimeoutMs?: number;
  /**
   * How long `stop()` lets Prosody shut down after SIGTERM before SIGKILL (default 200 ms).
   * Prosody 0.12 retries closing lingering connections only once a second, so a graceful stop
   * often takes about 1 s; raise this to observe its `system-shutdown` handling.
   */
  readonly stopGraceMs?: number;
}

/** A running Prosody. */
export interface ProsodyServer extends AsyncDisposable {
  readonly domain: string;
  readonly c2sPort: number;
  readonly httpPort: number;
  /** The direct TLS port, when `directTls` is on. */
  readonly directTlsPort: number | undefined;
  /** `ws://127.0.0.1:<httpPort>/xmpp-websocket`, Prosody's own RFC 7395 endpoint. */
  readonly websocketUrl: string;
  /** The temporary folder holding everything. */
  readonly dir: string;
  readonly dataDir: string;
  readonly configPath: string;
  readonly logPath: string;
  /** The test CA (PEM) that signed the server certificate, when TLS is on. */
  readonly caCert: string | undefined;
  readonly caCertPath: string | undefined;
  /** Milliseconds from spawn until the c2s port accepted a connection. */
  readonly startupMs: number;
  /** The log written so far. */
  readLog(): Promise<string>;
  /** Stops Prosody (SIGTERM, then SIGKILL after `stopGraceMs`), removes the folder. Idempotent. */
  stop(): Promise<void>;
}

const MAX_STDERR = 64 * 1024;

/** Starts Prosody; see the module documentation. Retries once with new ports on a bind clash. */
export async function startProsody(options: ProsodyOptions = {}): Promise<ProsodyServer> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      lastError = error;
      if (!(error instanceof PortClashError)) throw error;
    }
  }
  throw lastError;
}

class PortClashError extends Error {}

async function startOnce(options: ProsodyOptions): Promise<ProsodyServer> {
  const domain = (options.domain ?? "localhost").toLowerCase();
  const starttls = options.starttls ?? "off";
  const directTls = options.directTls ?? false;
  const tls = starttls !== "off" || directTls;
  const dir = await Deno.makeTempDir({ prefix: "xmpp-prosody-" });
  try {
    const dataDir = `${dir}/data`;
    const configPath = `${dir}/prosody.cfg.lua`;
    const logPath = `${dir}/prosody.log`;
    const [c2sPort, httpPort, tlsPort] = freePorts(3) as [number, number, number];
    const directTlsPort = directTls ? tlsPort : undefined;
    await Deno.mkdir(`${dir}/certs`);
    const certs = tls ? await makeCertificates(`${dir}/certs`, domain) : undefined;
    await writeAccounts(
      dataDir,
      domain,
      options.accounts ?? [],
      options.scramIterations ?? 4096,
      options.authentication ?? "internal_hashed",
    );
    const modules = [
      "roster",
      "saslauth",
      "disco",
      "ping",
      "http",
      "websocket",
      ...(options.smacks ?? true ? ["smacks"] : []),
      ...(starttls !== "off" ? ["tls"] : []),
      ...(options.modules ?? []),
    ];
    const sslLine = certs
      ? `ssl = { certificate = ${lua(certs.cert)}; key = ${lua(certs.key)} }`
      : "";
    const config = [
      `pidfile = ${lua(`${dir}/prosody.pid`)}`,
      `data_path = ${lua(dataDir)}`,
      `certificates = ${lua(`${dir}/certs`)}`,
      `log = { ${options.logLevel ?? "info"} = ${lua(logPath)} }`,
      `run_as_root = true`,
      `daemonize = false`,
      `interfaces = { "127.0.0.1" }`,
      `local_interfaces = { "127.0.0.1" }`,
      `http_interfaces = { "127.0.0.1" }`,
      `https_interfaces = { "127.0.0.1" }`,
      `s2s_ports = { }`,
      `c2s_ports = { ${c2sPort} }`,
      `c2s_direct_tls_ports = { ${directTlsPort ?? ""} }`,
      `legacy_ssl_ports = { }`,
      `http_ports = { ${httpPort} }`,
      `https_ports = { }`,
      `storage = "internal"`,
      `authentication = "${options.authentication ?? "internal_hashed"}"`,
      `allow_registration = false`,
      `c2s_require_encryption = ${options.requireEncryption ?? starttls === "required"}`,
      `s2s_require_encryption = false`,
      `allow_unencrypted_plain_auth = ${options.allowUnencryptedPlain ?? true}`,
      `consider_websocket_secure = true`,
      `modules_enabled = { ${modules.map(lua).join(", ")} }`,
      sslLine,
      options.extraConfig ?? "",
      `VirtualHost ${lua(domain)}`,
      certs ? `  ${sslLine}` : "",
      "",
    ].join("\n");
    await Deno.writeTextFile(configPath, config);

    const started = performance.now();
    const child = new Deno.Command("prosody", {
      args: ["--config", configPath, "-F"],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      cwd: dir,
    }).spawn();
    const stderr = collect(child.stderr);
    let exited = false;
    const status = child.status.then((s) => {
      exited = true;
      return s;
    });
    let stopped: Promise<void> | undefined;
    const stop = (): Promise<void> =>
      stopped ??= (async () => {
        if (!exited) {
          try {
            child.kill("SIGTERM");
          } catch { /* already gone */ }
          const timer = setTimeout(() => {
            try {
              child.kill("SIGKILL");
            } catch { /* already gone */ }
          }, options.stopGraceMs ?? 200);
          await status;
          clearTimeout(timer);
        }
        await status;
        await stderr;
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      })();
    const readLog = () => Deno.readTextFile(logPath).catch(() => "");

    try {
      await waitForPort(c2sPort, options.startTimeoutMs ?? 10_000, () => exited);
      const startupMs = performance.now() - started;
      await waitForPort(httpPort, 2_000, () => exited);
      if (directTlsPort !== undefined) await waitForPort(directTlsPort, 2_000, () => exited);
      const log = await readLog();
      if (/Failed to open server port|address already in use/i.test(log)) {
        throw new PortClashError(`Prosody could not bind its ports:\n${log}`);
      }
      return {
        domain,
        c2sPort,
        httpPort,
        directTlsPort,
        websocketUrl: `ws://127.0.0.1:${httpPort}/xmpp-websocket`,
        dir,
        dataDir,
        configPath,
        logPath,
        caCert: certs ? await Deno.readTextFile(certs.ca) : undefined,
        caCertPath: certs?.ca,
        startupMs,
        readLog,
        stop,
        [Symbol.asyncDispose]: stop,
      };
    } catch (error) {
      const log = await readLog();
      await stop();
      const err = await stderr;
      if (error instanceof PortClashError) throw error;
      throw new Error(
        `Prosody did not start: ${
          (error as Error).message
        }\n--- stderr ---\n${err}\n--- log ---\n${log}`,
      );
    }
  } catch (error) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw error;
  }
}

/** Distinct free TCP ports on 127.0.0.1 (bound to port 0, then released). */
function freePorts(count: number): number[] {
  const listeners = Array.from(
    { length: count },
    () => Deno.listen({ hostname: "127.0.0.1", port: 0 }),
  );
  const ports = listeners.map((l) => (l.addr as Deno.NetAddr).port);
  for (const l of listeners) l.close();
  return ports;
}

async function waitForPort(port: number, timeoutMs: number, exited: () => boolean): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (true) {
    if (exited()) throw new Error("the prosody process exited");
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return;
    } catch {
      if (performance.now() > deadline) {
        throw new Error(`port ${port} not open after ${timeoutMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of stream) {
    if (text.length < MAX_STDERR) text += decoder.decode(chunk, { stream: true });
  }
  return text;
}

/** A Lua string literal. */
function lua(value: string): string {
  return JSON.stringify(value);
}

/** Prosody's datamanager encoding of a path component (every non-alphanumeric as %xx). */
function encodePathPart(part: string): string {
  return part.replace(
    /[^A-Za-z0-9]/g,
    (c) =>
      [...new TextEncoder().encode(c)].map((b) => "%" + b.toString(16).padStart(2, "0")).join(""),
  );
}

async function writeAccounts(
  dataDir: string,
  domain: string,
  accounts: readonly ProsodyAccount[],
  iterations: number,
  authentication: "internal_hashed" | "internal_plain",
): Promise<void> {
  const folder = `${dataDir}/${encodePathPart(domain)}/accounts`;
  await Deno.mkdir(folder, { recursive: true });
  for (const { username, password } of accounts) {
    if (authentication === "internal_plain") {
      await Deno.writeTextFile(
        `${folder}/${encodePathPart(username.toLowerCase())}.dat`,
        `return {\n\t["password"] = ${lua(password)};\n};\n`,
      );
      continue;
    }
    const salt = crypto.randomUUID();
    const keys = await scramSha1Keys(password, salt, iterations);
    await Deno.writeTextFile(
      `${folder}/${encodePathPart(username.toLowerCase())}.dat`,
      `return {\n\t["iteration_count"] = ${iterations};\n\t["server_key"] = ${
        lua(keys.serverKey)
      };\n` +
        `\t["stored_key"] = ${lua(keys.storedKey)};\n\t["salt"] = ${lua(salt)};\n};\n`,
    );
  }
}

/** RFC 5802 StoredKey and ServerKey (hex), as Prosody's `internal_hashed` stores them. */
async function scramSha1Keys(password: string, salt: string, iterations: number) {
  const utf8 = new TextEncoder();
  const base = await crypto.subtle.importKey("raw", utf8.encode(password), "PBKDF2", false, [
    "deriveBits",
  ]);
  const salted = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-1", salt: utf8.encode(salt), iterations },
    base,
    160,
  );
  const hmacKey = await crypto.subtle.importKey(
    "raw",
    salted,
    { name: "HMAC", hash: "SHA-1" },
    false,
    ["sign"],
  );
  const clientKey = await crypto.subtle.sign("HMAC", hmacKey, utf8.encode("Client Key"));
  const serverKey = await crypto.subtle.sign("HMAC", hmacKey, utf8.encode("Server Key"));
  const storedKey = await crypto.subtle.digest("SHA-1", clientKey);
  return { storedKey: hex(storedKey), serverKey: hex(serverKey) };
}

function hex(buffer: ArrayBuffer): string {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A test CA and a leaf certificate for `domain` (and 127.0.0.1) signed by it (EC P-256). */
async function makeCertificates(certs: string, domain: string) {
  const p = (name: string) => `${certs}/${name}`;
  const san = `subjectAltName=DNS:${domain},DNS:localhost,IP:127.0.0.1`;
  await Deno.writeTextFile(
    p("leaf.ext"),
    `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n` +
      `extendedKeyUsage=serverAuth\n${san}\n`,
  );
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  // deno-fmt-ignore
  await openssl([
    "req", "-x509", ...ec, "-keyout", p("ca.key"), "-out", p("ca.pem"), "-days", "2",
    "-subj", "/CN=xmpp-websocket test CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  await openssl([
    "req",
    ...ec,
    "-keyout",
    p("server.key"),
    "-out",
    p("server.csr"),
    "-subj",
    `/CN=${domain}`,
  ]);
  // deno-fmt-ignore
  await openssl([
    "x509", "-req", "-in", p("server.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
    "-CAcreateserial", "-days", "2", "-extfile", p("leaf.ext"), "-out", p("server.pem"),
  ]);
  return { ca: p("ca.pem"), cert: p("server.pem"), key: p("server.key") };
}

async function openssl(args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (!out.success) {
    throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}
