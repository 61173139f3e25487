/**
 * SIGHUP (deno/main.ts): the certificate (`--cert`, `--key`) and the embedded server's accounts
 * file are read again without ending any session.
 *
 * - Strict WebSocket layer: a session logged in over wss before SIGHUP goes on working (same TLS
 *   connection, same XMPP session); after it, a new wss connection is served the new certificate
 *   (its TLS handshake succeeds trusting only the new one and fails trusting only the old one),
 *   the new password from the file works and the old one is refused.
 * - Native layer (`Deno.serve`): the accounts are reloaded the same way, but `Deno.serve` cannot
 *   change its certificate and closing its listener closes every upgraded WebSocket, so the
 *   certificate is kept, a warning says so (restart, or use the strict layer), and the open
 *   session goes on.
 * - The gateway reloads its certificate the same way (strict layer).
 *
 * Each run is a real `deno/main.ts` subprocess on loopback; certificates are made with openssl in
 * a temporary folder. Every wait is bounded.
 */

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { RawClient, upgradeRequest } from "../_support/raw_ws.ts";
import { MainProcess } from "../_support/main_process.ts";

const OPEN = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>";
const PING = "<iq xmlns='jabber:client' type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>";
const BIND =
  "<iq xmlns='jabber:client' type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>";

/** A self-signed certificate for 127.0.0.1 and localhost: [cert, key] as PEM. */
async function certificate(dir: string, name: string): Promise<[string, string]> {
  const cert = `${dir}/${name}.pem`;
  const key = `${dir}/${name}.key`;
  const result = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "2",
      "-subj",
      `/CN=${name}`,
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      // Self-signed, yet an end entity: rustls refuses a CA certificate as a server's.
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-addext",
      "extendedKeyUsage=serverAuth",
    ],
    stdout: "null",
    stderr: "piped",
    signal: AbortSignal.timeout(20_000),
  }).output();
  assert(result.success, new TextDecoder().decode(result.stderr));
  return [await Deno.readTextFile(cert), await Deno.readTextFile(key)];
}

/** Reads messages until one contains `marker`; returns it. */
async function until(raw: RawClient, marker: string): Promise<string> {
  for (let i = 0; i < 20; i++) {
    const text = await raw.readText();
    if (text.includes(marker)) return text;
  }
  throw new Error(`no message with ${marker} in 20`);
}

/** Opens a wss session trusting only `ca` and logs in with PLAIN; resolves with the outcome. */
async function login(
  port: number,
  ca: string,
  password: string,
): Promise<{ raw: RawClient; ok: boolean }> {
  const raw = await RawClient.connectTls(port, ca);
  await raw.write(upgradeRequest(port, ["Sec-WebSocket-Protocol: xmpp"]));
  assertEquals((await raw.readResponse()).status, 101);
  await raw.writeFrame(0x1, OPEN);
  await until(raw, "features");
  await raw.writeFrame(
    0x1,
    `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${
      btoa(`\0alice\0${password}`)
    }</auth>`,
  );
  const answer = await until(raw, "xmpp-sasl");
  if (!answer.startsWith("<success")) return { raw, ok: false };
  await raw.writeFrame(0x1, OPEN);
  await until(raw, "features");
  await raw.writeFrame(0x1, BIND);
  assertStringIncludes(await until(raw, "id='b1'"), "alice@localhost/");
  return { raw, ok: true };
}

/** The session answers an XEP-0199 ping. */
async function pings(raw: RawClient): Promise<void> {
  await raw.writeFrame(0x1, PING);
  assertStringIncludes(await until(raw, "id='p1'"), "type='result'");
}

/** Whether a TLS handshake trusting only `ca` succeeds. */
async function trusts(port: number, ca: string): Promise<boolean> {
  let conn: Deno.TlsConn | undefined;
  try {
    conn = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [ca] });
    await conn.handshake();
    return true;
  } catch {
    return false;
  } finally {
    conn?.close();
  }
}

async function withFiles(
  run: (dir: string, certs: { a: [string, string]; b: [string, string] }) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "xmpp-reload-" });
  try {
    const a = await certificate(dir, "a");
    const b = await certificate(dir, "b");
    await Deno.writeTextFile(`${dir}/cert.pem`, a[0]);
    await Deno.writeTextFile(`${dir}/key.pem`, a[1]);
    await writeAccounts(dir, "old-password");
    await run(dir, { a, b });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function writeAccounts(dir: string, password: string): Promise<void> {
  return Deno.writeTextFile(
    `${dir}/accounts.json`,
    JSON.stringify({ accounts: [{ username: "alice", password }] }),
  );
}

/** Sends SIGHUP and waits for one more log line whose message passes `done`. */
async function hangUp(server: MainProcess, done: (message: string) => boolean): Promise<void> {
  const before = server.logs().filter((l) => done(l.message)).length;
  server.signal("SIGHUP");
  await server.waitFor(
    () => server.logs().filter((l) => done(l.message)).length > before,
    "the reload",
    20_000,
  );
}

for (const layer of ["strict", "native"] as const) {
  Deno.test(`SIGHUP (${layer} layer): accounts reloaded, open sessions kept, ${layer === "strict" ? "new certificate served" : "certificate kept with a warning"}`, async () => {
    await withFiles(async (dir, { a, b }) => {
      const server = await MainProcess.start([
        "--cert",
        `${dir}/cert.pem`,
        "--key",
        `${dir}/key.pem`,
        "--accounts-file",
        `${dir}/accounts.json`,
        "--websocket-layer",
        layer,
      ]);
      const open: RawClient[] = [];
      try {
        const port = server.port;
        assert(server.url.startsWith("wss://"), server.url);
        const before = await login(port, a[0], "old-password");
        open.push(before.raw);
        assert(before.ok, "login before the reload");
        await pings(before.raw);

        // New files, then SIGHUP.
        await Deno.writeTextFile(`${dir}/cert.pem`, b[0]);
        await Deno.writeTextFile(`${dir}/key.pem`, b[1]);
        await writeAccounts(dir, "new-password");
        await hangUp(server, (m) => m === "accounts reloaded");
        await server.waitFor(
          () => server.logs().some((l) => /^certificate (not )?reloaded/.test(l.message)),
          "the certificate's reload",
        );

        // The session opened before goes on, on its TLS connection.
        await pings(before.raw);
        await pings(before.raw);

        const served = layer === "strict" ? b[0] : a[0];
        const other = layer === "strict" ? a[0] : b[0];
        assert(await trusts(port, served), "a new connection gets the certificate expected");
        assert(!(await trusts(port, other)), "a new connection still gets the other certificate");
        if (layer === "strict") {
          assert(server.logs().some((l) => l.message === "certificate reloaded"));
        } else {
          const warning = server.logs().find((l) => l.message.startsWith("certificate not"));
          assertEquals(warning?.level, "warn");
          assertStringIncludes(warning!.message, "--websocket-layer strict");
        }

        // The new password works; the old one no longer does.
        const fresh = await login(port, served, "new-password");
        open.push(fresh.raw);
        assert(fresh.ok, "the new password after the reload");
        await pings(fresh.raw);
        const stale = await login(port, served, "old-password");
        open.push(stale.raw);
        assert(!stale.ok, "the old password after the reload");
        await pings(before.raw);

        // Nothing ended: the first session was never hibernated or ended.
        assertEquals(server.logs().filter((l) => l.message === "session-ended"), []);
        assertEquals(server.logs().filter((l) => l.message === "hibernated"), []);
      } finally {
        for (const raw of open) raw.close();
        const status = await server.stop();
        assertEquals(status.code, 0, server.stderr.slice(-2000));
      }
    });
  });
}

Deno.test("SIGHUP: a bad new certificate is refused and the old one stays served", async () => {
  await withFiles(async (dir, { a }) => {
    const server = await MainProcess.start([
      "--cert",
      `${dir}/cert.pem`,
      "--key",
      `${dir}/key.pem`,
      "--accounts-file",
      `${dir}/accounts.json`,
      "--websocket-layer",
      "strict",
    ]);
    try {
      await Deno.writeTextFile(`${dir}/cert.pem`, "-----BEGIN CERTIFICATE-----\nnope\n");
      await hangUp(server, (m) => m === "certificate not reloaded");
      assert(await trusts(server.port, a[0]), "the old certificate is still served");
      const session = await login(server.port, a[0], "old-password");
      session.raw.close();
      assert(session.ok);
    } finally {
      await server.stop();
    }
  });
});

Deno.test("SIGHUP: the gateway reloads its certificate (strict layer)", async () => {
  await withFiles(async (dir, { a, b }) => {
    const server = await MainProcess.start([
      "--upstream",
      "127.0.0.1:9",
      "--cert",
      `${dir}/cert.pem`,
      "--key",
      `${dir}/key.pem`,
      "--websocket-layer",
      "strict",
    ]);
    try {
      assert(await trusts(server.port, a[0]));
      await Deno.writeTextFile(`${dir}/cert.pem`, b[0]);
      await Deno.writeTextFile(`${dir}/key.pem`, b[1]);
      await hangUp(server, (m) => m === "certificate reloaded");
      assert(await trusts(server.port, b[0]), "the new certificate");
      assert(!(await trusts(server.port, a[0])), "not the old one");
    } finally {
      await server.stop();
    }
  });
});
