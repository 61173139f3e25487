/**
 * The command-line tools (`deno/cli/main.ts`): `conformance` against our embedded-server endpoint,
 * against Prosody's own WebSocket endpoint and against our gateway in front of Prosody, with
 * the expected result of every check asserted for each; `probe` with a login (redacted SASL,
 * messages in order) and through XEP-0156 discovery; `send`; exit codes, in process and as a
 * subprocess. Needs Prosody (`scripts/install_test_deps.sh`, run by `deno task test`).
 * Sanitizers on; every wait is bounded by the tools' own timeouts.
 */

import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { childElement, element, NS, textOf } from "../../core/mod.ts";
import { cli, type CliIo } from "../../deno/cli/main.ts";
import {
  type CheckResult,
  CHECKS,
  conformance,
  type ConformanceReport,
  formatTable,
} from "../../deno/cli/conformance.ts";
import { decodeFrames, encodeFrame, OPCODE } from "../../deno/cli/frames.ts";
import { probe } from "../../deno/cli/probe.ts";
import { formatEntry, redactSasl, type TranscriptEntry } from "../../deno/cli/transcript.ts";
import { serveGateway } from "../../deno/gateway.ts";
import { PASSWORD, withEmbedded } from "./_embedded.ts";
import { WsTestClient } from "../_support/ws_client.ts";
import { startProsody } from "../_support/prosody.ts";

const CLI_PATH = new URL("../../deno/cli/main.ts", import.meta.url).pathname;
const REPO = new URL("../../", import.meta.url).pathname;

type Status = CheckResult["status"];

function capture(env: Record<string, string> = {}): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t), env };
}

async function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-read", "--allow-env", CLI_PATH, ...args],
    cwd: REPO,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

/**
 * The conformance checks, written out here rather than read from the code under test: the
 * README promises "19 RFC 7395 server checks", and this list is what pins that promise.
 */
const CHECK_IDS = [
  "subprotocol-selected",
  "subprotocol-required",
  "server-silent-first",
  "open-attributes",
  "open-to-echoes-from",
  "features-after-open",
  "no-starttls",
  "wrong-framing-namespace",
  "unknown-host",
  "two-elements-one-message",
  "whitespace-message",
  "xml-declaration-tolerated",
  "no-whitespace-keepalive",
  "binary-message",
  "invalid-utf8",
  "close-handshake",
  "restart-after-login",
  "host-meta",
  "framing-every-message",
] as const;
/** The count the README states (`conformance` runs 19 RFC 7395 server checks). */
const README_CHECK_COUNT = 19;

Deno.test("conformance: the checks are the README's 19, in this order", async () => {
  assertEquals(CHECK_IDS.length, README_CHECK_COUNT);
  assertEquals(CHECKS.map((c) => c.id), [...CHECK_IDS]);
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  assertStringIncludes(readme, `\`conformance\` runs ${README_CHECK_COUNT} RFC 7395 server checks`);
});

/** Asserts the status of every check (all of CHECK_IDS, no more) and returns the results by id. */
function assertStatuses(
  report: ConformanceReport,
  expected: Readonly<Record<string, Status>>,
): Record<string, CheckResult> {
  assertEquals(report.error, undefined);
  assertEquals(Object.keys(expected).sort(), [...CHECK_IDS].sort());
  const byId = Object.fromEntries(report.results.map((r) => [r.id, r]));
  const actual = Object.fromEntries(report.results.map((r) => [r.id, r.status]));
  assertEquals(
    actual,
    expected,
    report.results.map((r) => `${r.status} ${r.id}: ${r.detail}`).join("\n"),
  );
  return byId;
}

/** Rejects when `promise` has not settled within `ms` (a bound for "never", not a timing). */
async function bounded<T>(promise: Promise<T>, what: string, ms = 30_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const never = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, never]);
  } finally {
    clearTimeout(timer);
  }
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

const ALL_PASS: Readonly<Record<string, Status>> = Object.fromEntries(
  CHECK_IDS.map((id) => [id, "pass" as Status]),
);

// ---- conformance ----------------------------------------------------------------------------

Deno.test("conformance: our embedded-server endpoint passes every check", async () => {
  await withEmbedded(async (url) => {
    const report = await conformance({
      url,
      domain: "localhost",
      user: "alice",
      password: PASSWORD,
    });
    const r = assertStatuses(report, ALL_PASS);
    assertEquals(report.exitCode, 0);
    assertEquals(report.counts, { pass: 19, fail: 0, skip: 0 });
    // #3: a missing subprotocol is refused with 400 and an explanation (never a 101).
    assertMatch(r["subprotocol-required"]!.detail, /HTTP 400/);
    // #11 #24 #25: open, error, close as three messages; the Close frame follows.
    assertMatch(
      r["wrong-framing-namespace"]!.detail,
      /^<open\/>, stream error <invalid-namespace\/>, <close\/>, Close 1000 .*TCP closed$/,
    );
    assertMatch(
      r["unknown-host"]!.detail,
      /^<open\/>, stream error <host-unknown\/>, <close\/>, Close 1000 .*TCP closed$/,
    );
    // #15: two roots in one message are not-well-formed.
    assertMatch(
      r["two-elements-one-message"]!.detail,
      /^stream error <not-well-formed\/>, <close\/>/,
    );
    // #14 #39: our core answers a whitespace-only message with <bad-format/> and closes with 1000.
    assertMatch(
      r["whitespace-message"]!.detail,
      /^stream error <bad-format\/>, <close\/>, Close 1000/,
    );
    // #6: a binary message closes the WebSocket with 1003, as recommended.
    assertMatch(r["binary-message"]!.detail, /^Close 1003 /);
    // #7: Deno's WebSocket server validates UTF-8 itself and drops the TCP connection at once,
    // without the Close 1007 that RFC 6455 §7.1.7 recommends (a SHOULD): the adapter never
    // sees the message, so the core's 1007 cannot be sent.
    assertEquals(r["invalid-utf8"]!.detail, "TCP closed (1007 is recommended)");
    assertMatch(r["xml-declaration-tolerated"]!.detail, /<failure\/> <invalid-mechanism\/>$/);
    // #28: the client closed the stream, so it starts the WebSocket close; we echo it.
    assertMatch(r["close-handshake"]!.detail, /the server answered our Close frame/);
    assertMatch(r["restart-after-login"]!.detail, /^SCRAM-SHA-256; new id; features: bind/);
    // #46 #47: host-meta in both formats, with CORS, naming this endpoint.
    assertStringIncludes(
      r["host-meta"]!.detail,
      `host-meta.json: 200 application/json, CORS *, ${url}`,
    );
    assertMatch(r["framing-every-message"]!.detail, /^\d+ messages from \d+ checks$/);
  });
});

/**
 * Prosody 0.12's own endpoint differs from ours in four places, each asserted below:
 * - #3: it answers an upgrade without a subprotocol with HTTP 501 (still a refusal: pass);
 * - #15: it parses a message as part of one stream, so two presences in one message are both
 *   processed (answered with two unauthenticated presence errors) and no stream error comes:
 *   FAIL, a real deviation from RFC 7395 §3.3.3;
 * - #13: a message starting with an XML declaration ends the stream with <not-well-formed/>
 *   (its parser sees a declaration in the middle of one long stream): FAIL, the declaration is
 *   legal XML, only discouraged;
 * - host-meta: not served (mod_http_host_meta is not part of Prosody): skip;
 * and it also rejects a whitespace-only message by failing the WebSocket (Close 1007, no stream
 * error: still a rejection), answers invalid UTF-8 with <not-well-formed/> and Close 1000, sends its Close frame right after <close/> (usually before ours:
 * a race, so the order is not asserted), and
 * echoes an unknown `to` in the `from` of its <open/> (RFC 6120 §4.9.1.3 only says SHOULD).
 */
const PROSODY_EXPECTED: Readonly<Record<string, Status>> = {
  ...ALL_PASS,
  "two-elements-one-message": "fail",
  "xml-declaration-tolerated": "fail",
  "host-meta": "skip",
};

Deno.test({
  name: "conformance: Prosody's own endpoint, and our gateway in front of Prosody",
  async fn(t) {
    await using prosody = await startProsody({
      accounts: [{ username: "alice", password: PASSWORD }],
    });
    await t.step("Prosody's endpoint", async () => {
      const report = await conformance({
        url: prosody.websocketUrl,
        domain: "localhost",
        user: "alice",
        password: PASSWORD,
      });
      const r = assertStatuses(report, PROSODY_EXPECTED);
      assertEquals(report.exitCode, 1);
      assertEquals(report.counts, { pass: 16, fail: 2, skip: 1 });
      assertMatch(r["subprotocol-required"]!.detail, /HTTP 501/);
      assertMatch(
        r["two-elements-one-message"]!.detail,
        /^no stream error: <presence type='error'\/> \(jabber:client\), <presence type='error'\/>/,
      );
      assertMatch(r["whitespace-message"]!.detail, /^Close 1007 .*rejected without a stream error/);
      assertMatch(r["binary-message"]!.detail, /^Close 1003 /);
      assertMatch(
        r["xml-declaration-tolerated"]!.detail,
        /^not processed: stream error <not-well-formed\/>, <close\/>, Close 1000/,
      );
      assertMatch(
        r["invalid-utf8"]!.detail,
        /^stream error <not-well-formed\/>, <close\/>, Close 1000 .*\(1007 is recommended\)$/,
      );
      assertMatch(
        r["close-handshake"]!.detail,
        /^<close\/>, Close 1000 "Stream closed", TCP closed/,
      );
      assertMatch(r["unknown-host"]!.detail, /open from='nope\.invalid'/);
      assertMatch(r["restart-after-login"]!.detail, /^SCRAM-SHA-1; new id/);
      assertMatch(r["host-meta"]!.detail, /^not published on http:\/\/127\.0\.0\.1:\d+ /);
    });
    await t.step("our gateway in front of it", async () => {
      const gateway = serveGateway({
        hostname: "127.0.0.1",
        port: 0,
        domains: ["localhost"],
        upstream: { hostname: "127.0.0.1", port: prosody.c2sPort },
        log: () => {},
      });
      try {
        const report = await conformance({
          url: `ws://127.0.0.1:${gateway.addr.port}/xmpp-websocket`,
          domain: "localhost",
          user: "alice",
          password: PASSWORD,
        });
        // The gateway parses each message itself (and strips the XML declaration before
        // relaying), so Prosody's #13 and #15 deviations do not show through it.
        const r = assertStatuses(report, ALL_PASS);
        assertMatch(r["two-elements-one-message"]!.detail, /^stream error <not-well-formed\/>/);
        assertMatch(r["xml-declaration-tolerated"]!.detail, /<invalid-mechanism\/>$/);
        assertEquals(r["invalid-utf8"]!.detail, "TCP closed (1007 is recommended)");
        assertMatch(r["restart-after-login"]!.detail, /^SCRAM-SHA-1; new id/);
      } finally {
        await gateway.shutdown();
      }
    });
  },
});

Deno.test("conformance: an endpoint that does not serve the domain, or cannot be reached, gives 2", async () => {
  await withEmbedded(async (url) => {
    const report = await conformance({ url, domain: "example.org" });
    assertEquals(report.exitCode, 2);
    assertMatch(report.error ?? "", /does not serve the domain 'example\.org'.*--domain/);
    assertEquals(report.results, []);
  });
  const unreachable = await conformance({ url: `ws://127.0.0.1:${freePort()}/xmpp-websocket` });
  assertEquals(unreachable.exitCode, 2);
  assertMatch(unreachable.error ?? "", /^Cannot connect to 127\.0\.0\.1:\d+/);
  // A listener that accepts and never answers: the upgrade wait is bounded by the timeout.
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of silent) held.push(conn);
  })();
  try {
    // The error names the 300 ms given (not some longer default); the outer wait only turns
    // "never returns" into a failure.
    const mute = await bounded(
      conformance({ url: `ws://127.0.0.1:${(silent.addr as Deno.NetAddr).port}/`, timeoutMs: 300 }),
      "conformance to give up on a silent listener",
    );
    assertEquals(mute.exitCode, 2);
    assertMatch(mute.error ?? "", /no HTTP response within 300 ms$/);
  } finally {
    silent.close();
    await accepting.catch(() => {});
    for (const conn of held) conn.close();
  }
  assertEquals((await conformance({ url: "http://x/" })).exitCode, 2);
  assertEquals(
    (await conformance({ url: "ws://x/", only: ["nope"] })).error,
    "Unknown check: nope",
  );
});

Deno.test("conformance as a subprocess: the table on stdout and exit codes 0, 1 and 2", async () => {
  await withEmbedded(async (url) => {
    const all = await runCli(["conformance", url, "--domain", "localhost"]);
    assertEquals(all.code, 0, all.stderr);
    const lines = all.stdout.trimEnd().split("\n");
    assertEquals(lines[0], `RFC 7395 conformance of ${url} (domain localhost)`);
    assertMatch(lines[2]!, /^RESULT {2}CHECK +RULES +DETAIL$/);
    assertMatch(all.stdout, /\npass {4}subprotocol-selected +#2 #51 +101 with one/);
    // Without credentials the check after login is not applicable.
    assertMatch(
      all.stdout,
      /\nskip {4}restart-after-login +#20 #35 #38 +needs --user and --password\n/,
    );
    assertEquals(lines.at(-1), "18 passed, 0 failed, 1 skipped");

    const json = await runCli([
      "conformance",
      url,
      "--domain=localhost",
      "--json",
      "--check",
      "server-silent-first",
      "--check",
      "binary-message",
      "--silence",
      "200",
    ]);
    assertEquals(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as ConformanceReport;
    assertEquals(report.results.map((r) => [r.id, r.status]), [
      ["server-silent-first", "pass"],
      ["binary-message", "pass"],
    ]);
    assertEquals(report.results[0]!.detail, "silent for 200 ms");
  });
  {
    // Prosody is installed by the test command (scripts/install_test_deps.sh); never skipped.
    await using prosody = await startProsody();
    const failed = await runCli([
      "conformance",
      prosody.websocketUrl,
      "--domain",
      "localhost",
      "--check",
      "two-elements-one-message",
      "--timeout",
      "1000",
    ]);
    assertEquals(failed.code, 1, failed.stderr);
    assertMatch(failed.stdout, /\nfail {4}two-elements-one-message /);
    assertMatch(failed.stdout, /0 passed, 1 failed, 0 skipped\n$/);
  }
  const unreachable = await runCli(["conformance", `ws://127.0.0.1:${freePort()}/xmpp-websocket`]);
  assertEquals(unreachable.code, 2);
  assertMatch(unreachable.stderr, /error: Cannot connect to 127\.0\.0\.1:\d+/);
  const usage = await runCli(["conformance", "ws://127.0.0.1:1/", "--bogus"]);
  assertEquals(usage.code, 2);
  assertMatch(usage.stderr, /unknown option --bogus/);
});

// ---- probe ------------------------------------------------------------------------------------

Deno.test("probe with a login: the handshake, then every message in order, SASL redacted", async () => {
  await withEmbedded(async (url) => {
    const live: TranscriptEntry[] = [];
    const report = await probe({
      target: url,
      domain: "localhost",
      user: "alice",
      password: PASSWORD,
      resource: "cli",
      onEntry: (entry) => live.push(entry),
    });
    assertEquals(report.exitCode, 0, report.error);
    assertEquals(report.jid, "alice@localhost/cli");
    assertEquals(report.mechanism, "SCRAM-SHA-256");
    assertEquals(report.subprotocol, "xmpp");
    assertEquals(live, [...report.transcript]);
    const entries = report.transcript;
    const at = entries.map((e) => e.at);
    assertEquals(at, [...at].sort((a, b) => a - b), "offsets never go back");

    const [request, response] = entries.filter((e) => e.kind === "http");
    assertEquals(request!.dir, ">");
    assertMatch(request!.text, /^GET \/xmpp-websocket HTTP\/1\.1\n/);
    assertStringIncludes(request!.text, "\nSec-WebSocket-Protocol: xmpp");
    assertEquals(response!.dir, "<");
    assertMatch(response!.text, /^HTTP\/1\.1 101 Switching Protocols\n/);
    assertStringIncludes(response!.text, "\nsec-websocket-protocol: xmpp");

    const messages = entries.filter((e) => e.kind === "text" || e.kind === "close")
      .map((e) => `${e.dir} ${e.text.replace(/ (id|xmlns:stream)='[^']*'/g, "")}`);
    const F = "xmlns='urn:ietf:params:xml:ns:xmpp-framing'";
    const SASL = "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'";
    const redacted = (dir: string, name: string, attrs = "") =>
      new RegExp(`^${dir} <${name} ${SASL}${attrs}>\\[redacted \\d+ bytes\\]</${name}>$`);
    const expected: (string | RegExp)[] = [
      `> <open ${F} to='localhost' version='1.0' xml:lang='en'/>`,
      `< <open ${F} from='localhost' version='1.0' xml:lang='en'/>`,
      /^< <stream:features><mechanisms /,
      redacted(">", "auth", " mechanism='SCRAM-SHA-256'"),
      redacted("<", "challenge"),
      redacted(">", "response"),
      redacted("<", "success"),
      `> <open ${F} to='localhost' version='1.0' xml:lang='en'/>`,
      `< <open ${F} from='localhost' version='1.0' xml:lang='en'/>`,
      /^< <stream:features><bind /,
      /^> <iq xmlns='jabber:client' type='set'><bind .*<resource>cli<\/resource>/,
      /^< <iq xmlns='jabber:client' type='result'><bind .*<jid>alice@localhost\/cli<\/jid>/,
      `> <close ${F}/>`,
      `< <close ${F}/>`,
      "> [Close 1000]",
      "< [Close 1000]",
    ];
    assertEquals(messages.length, expected.length, messages.join("\n"));
    expected.forEach((want, i) => {
      if (typeof want === "string") assertEquals(messages[i], want);
      else assertMatch(messages[i]!, want);
    });
    const all = JSON.stringify(entries);
    assert(!all.includes(PASSWORD), "the password never appears");
    assert(!/[A-Za-z0-9+/]{20,}={0,2}</.test(all.replace(/sec-websocket-(key|accept): \S+/gi, "")));
    assertEquals(entries.at(-1)!.text, "closed (WebSocket close code 1000)");
  });
});

Deno.test("probe as a subprocess: curl -v style lines on stdout, the password from the environment", async () => {
  await withEmbedded(async (url) => {
    const result = await runCli(
      ["probe", url, "--domain", "localhost", "--user", "alice@localhost"],
      { XMPP_WS_PASSWORD: PASSWORD },
    );
    assertEquals(result.code, 0, result.stderr);
    assertMatch(result.stdout, /^\* +\d+\.\d ms {2}connecting to 127\.0\.0\.1:\d+\n/);
    assertMatch(result.stdout, /\n> +\d+\.\d ms {2}GET \/xmpp-websocket HTTP\/1\.1\n> {14}Host: /);
    assertMatch(result.stdout, /\n> +\d+\.\d ms {2}<auth [^\n]*>\[redacted \d+ bytes\]<\/auth>\n/);
    assert(!result.stdout.includes(PASSWORD));
    assertMatch(
      result.stderr,
      /probe succeeded \(domain localhost, bound alice@localhost\/probe-[0-9a-f]{8}\)/,
    );
  });
});

Deno.test("probe: failures give 1 (XMPP) or 2 (unreachable), discovery finds the endpoint", async () => {
  await withEmbedded(async (url) => {
    const wrong = await probe({
      target: url,
      domain: "localhost",
      user: "alice",
      password: "nope",
    });
    assertEquals(wrong.exitCode, 1);
    assertMatch(wrong.error ?? "", /^Authentication failed: <not-authorized\/>/);
    assertEquals(wrong.transcript.filter((e) => e.kind === "close").length, 2, "closed politely");

    const unknownDomain = await probe({ target: url, domain: "example.org" });
    assertEquals(unknownDomain.exitCode, 1);
    assertMatch(unknownDomain.error ?? "", /stream error <host-unknown\/>/);

    // XEP-0156 over http (allowed only with allowInsecure) from the server's own host-meta.
    const origin = new URL(url.replace(/^ws:/, "http:")).origin;
    const refused = await probe({ target: origin });
    assertEquals(refused.exitCode, 2);
    assertMatch(refused.error ?? "", /Discovery over http: is refused/);
    const found = await probe({ target: origin, domain: "localhost", allowInsecure: true });
    assertEquals(found.exitCode, 0, found.error);
    assertEquals(found.url, url);
    const notes = found.transcript.filter((e) => e.dir === "*").map((e) => e.text);
    assertStringIncludes(
      notes.join("\n"),
      `GET ${origin}/.well-known/host-meta.json: HTTP 200; websocket: ${url}`,
    );
  });
  const port = freePort();
  const unreachable = await probe({ target: `ws://127.0.0.1:${port}/xmpp-websocket` });
  assertEquals(unreachable.exitCode, 2);
  assertMatch(unreachable.error ?? "", new RegExp(`^Cannot connect to 127\\.0\\.0\\.1:${port}`));
  const result = await runCli(["probe", `ws://127.0.0.1:${port}/`, "--json"]);
  assertEquals(result.code, 2);
  assertEquals(JSON.parse(result.stdout).exitCode, 2);
});

/** A throwaway self-signed certificate for localhost and 127.0.0.1 (openssl). */
async function selfSigned(dir: string): Promise<{ cert: string; key: string; certPath: string }> {
  await Deno.writeTextFile(
    `${dir}/leaf.cnf`,
    "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = localhost\n[leaf]\n" +
      "basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n" +
      "extendedKeyUsage = serverAuth\nsubjectAltName = DNS:localhost,IP:127.0.0.1\n",
  );
  // deno-fmt-ignore
  const out = await new Deno.Command("openssl", {
    args: [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", `${dir}/key.pem`, "-out", `${dir}/cert.pem`, "-days", "2",
      "-config", `${dir}/leaf.cnf`, "-extensions", "leaf",
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return {
    cert: await Deno.readTextFile(`${dir}/cert.pem`),
    key: await Deno.readTextFile(`${dir}/key.pem`),
    certPath: `${dir}/cert.pem`,
  };
}

Deno.test("wss: probe and conformance trust a private CA given with --ca-file, and only then", async () => {
  const dir = await Deno.makeTempDir({ prefix: "xmpp-cli-" });
  try {
    const { cert, key, certPath } = await selfSigned(dir);
    await withEmbedded(async (url) => {
      assertMatch(url, /^wss:/);
      const untrusted = await probe({ target: url, domain: "localhost" });
      assertEquals(untrusted.exitCode, 2);
      assertMatch(untrusted.error ?? "", /^Cannot connect to 127\.0\.0\.1:\d+ \(TLS\)/);

      const result = await runCli(
        ["probe", url, "--ca-file", certPath, "--domain", "localhost", "--user", "alice"],
        { XMPP_WS_PASSWORD: PASSWORD },
      );
      assertEquals(result.code, 0, result.stderr);
      assertMatch(result.stdout, /connecting to 127\.0\.0\.1:\d+ \(TLS\)\n/);

      const report = await conformance({
        url,
        domain: "localhost",
        caCerts: [cert],
        only: ["open-attributes", "host-meta"],
      });
      assertEquals(report.results.map((r) => r.status), ["pass", "pass"], formatTable(report));
      // host-meta over https, naming the wss endpoint: no http note this time.
      assertEquals(
        report.results[1]!.detail,
        `host-meta: 200 application/xrd+xml; charset=utf-8, CORS *, ${url}; ` +
          `host-meta.json: 200 application/json, CORS *, ${url}`,
      );
      // Discovery from the https origin finds the wss endpoint.
      const found = await probe({
        target: new URL(url.replace(/^wss:/, "https:")).origin,
        domain: "localhost",
        caCerts: [cert],
      });
      assertEquals([found.exitCode, found.url], [0, url]);
    }, { cert, key });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---- send and usage -----------------------------------------------------------------------------

Deno.test("send: logs in, sends one message that arrives, closes", async () => {
  await withEmbedded(async (url) => {
    const bob = await WsTestClient.connect(url);
    await bob.login("bob", PASSWORD);
    await bob.bind("desk");
    bob.send(element("presence", NS.CLIENT));
    const io = capture({ XMPP_WS_PASSWORD: PASSWORD });
    const code = await cli(
      [
        "send",
        url,
        "--domain",
        "localhost",
        "--user",
        "alice",
        "--to",
        "bob@localhost",
        "hello",
        "bob",
      ],
      io,
    );
    assertEquals(code, 0, io.err.join("\n"));
    assertEquals(io.out.length, 1);
    assertMatch(io.out[0]!, /^sent to bob@localhost as alice@localhost\/probe-[0-9a-f]{8}$/);
    const message = await bob.next((el) => el.name === "message", 5_000);
    assertEquals(message.attrs.from, io.out[0]!.split(" as ")[1]);
    assertEquals(message.attrs.type, "chat");
    assertEquals(textOf(childElement(message, "body", NS.CLIENT)!), "hello bob");
    await bob.close();
  });
});

Deno.test("usage errors give 2 with a hint, --help gives 0", async () => {
  const cases: [string[], RegExp][] = [
    [[], /^Usage: xmpp-ws <command>/],
    [["nope"], /unknown command 'nope'/],
    [["probe"], /the endpoint is missing/],
    [["probe", "ws://h/", "extra"], /unexpected argument 'extra'/],
    [["probe", "ws://h/", "--timeout", "soon"], /--timeout: expected a positive number/],
    [
      ["probe", "ws://h/", "--user", "alice"],
      /--user alice needs a password: give --password or set XMPP_WS_PASSWORD \(the tools never prompt\)/,
    ],
    [
      ["send", "ws://h/", "--user", "a", "--to", "b@h", "--wait", "soon", "x"],
      /--wait: expected a number/,
    ],
    [["conformance", "ws://h/", "--domain", "a", "--domain", "b"], /--domain given twice/],
    [["send", "ws://h/", "--user", "a", "--password", "p", "--to", "b@h"], /send needs --body/],
    [["probe", "ws://h/", "--ca-file", "/nonexistent/ca.pem"], /--ca-file: /],
  ];
  for (const [args, message] of cases) {
    const io = capture();
    assertEquals(await cli(args, io), 2, args.join(" "));
    assertMatch(io.err.join("\n"), message);
  }
  for (const args of [["--help"], ["help", "send"], ["probe", "--help"], ["conformance", "-h"]]) {
    const io = capture();
    assertEquals(await cli(args, io), 0);
    assertMatch(io.out[0]!, /^Usage: xmpp-ws /);
  }
  const io = capture();
  await cli(["conformance", "--help"], io);
  for (const id of CHECK_IDS) assertStringIncludes(io.out[0]!, `  ${id} `);
});

// ---- pieces -------------------------------------------------------------------------------------

Deno.test("redaction covers PLAIN, SCRAM and prefixed SASL elements, and nothing else", () => {
  const SASL = "urn:ietf:params:xml:ns:xmpp-sasl";
  const plain = btoa(`\0alice\0${PASSWORD}`);
  assertEquals(
    redactSasl(`<auth xmlns='${SASL}' mechanism='PLAIN'>${plain}</auth>`),
    `<auth xmlns='${SASL}' mechanism='PLAIN'>[redacted ${plain.length} bytes]</auth>`,
  );
  assertEquals(
    redactSasl(`<s:response xmlns:s='${SASL}'>abc=</s:response>`),
    `<s:response xmlns:s='${SASL}'>[redacted 4 bytes]</s:response>`,
  );
  assertEquals(redactSasl(`<success xmlns='${SASL}'/>`), `<success xmlns='${SASL}'/>`);
  const failure = `<failure xmlns='${SASL}'><not-authorized/></failure>`;
  assertEquals(redactSasl(failure), failure);
  assertEquals(
    redactSasl("<message><body>hi</body></message>"),
    "<message><body>hi</body></message>",
  );
  // An odd shape naming the SASL namespace is redacted whole.
  assertMatch(
    redactSasl(`<auth xmlns='${SASL}'>x</auth><extra/>`),
    /^\[SASL message redacted, \d+ bytes\]$/,
  );
  assertEquals(
    formatEntry({ at: 1234.5, dir: "<", kind: "close", text: "[Close 1000]" }),
    "<   1234.5 ms  [Close 1000]",
  );
});

Deno.test("frames: client frames are masked, server frames of every length decode", () => {
  for (const size of [0, 125, 126, 65_535, 65_536]) {
    const payload = new Uint8Array(size).map((_, i) => i & 0xff);
    const frame = encodeFrame(OPCODE.BINARY, payload);
    assertEquals(frame[1]! & 0x80, 0x80);
    const { frames, rest } = decodeFrames(frame);
    assertEquals(rest.length, 0);
    assertEquals(frames[0]!.payload, payload);
    assertEquals(frames[0]!.masked, true);
    const partial = decodeFrames(frame.subarray(0, frame.length - 1));
    assertEquals(partial.frames.length, 0);
  }
  const server = new Uint8Array([0x01, 0x02, 0x3c, 0x61, 0x80, 0x02, 0x2f, 0x3e]);
  const { frames } = decodeFrames(server);
  assertEquals(frames.map((f) => [f.fin, f.opcode, f.masked]), [[false, 1, false], [
    true,
    0,
    false,
  ]]);
  assertEquals(
    decodeFrames(new Uint8Array([0x81, 0x7f, 0xff, 0, 0, 0, 0, 0, 0, 0])).error,
    "frame of 18374686479671623680 bytes",
  );
});
