/**
 * `probe`, `send` and `conformance` find the XMPP domain (from `--domain`, a bare JID, or the
 * server's `host-unknown` answer: RFC 6120 §4.9.3.6, the `from` of its `<open/>`), and `send`
 * reports a bounced message (`<message type='error'>`, RFC 6120 §8.3) with exit code 1. Against
 * our embedded server and against Prosody 0.12's own WebSocket endpoint (which names no other
 * domain when it refuses one). Sanitizers on; every wait is bounded by the tools' timeouts.
 */

import { assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { childElement, element, NS, textOf } from "../../core/mod.ts";
import { cli, type CliIo } from "../../deno/cli/main.ts";
import { conformance } from "../../deno/cli/conformance.ts";
import { probe, type ProbeReport } from "../../deno/cli/probe.ts";
import { WsTestClient } from "../_support/ws_client.ts";
import { startProsody } from "../_support/prosody.ts";
import { PASSWORD, withEmbedded } from "./_embedded.ts";

const CLI_PATH = new URL("../../deno/cli/main.ts", import.meta.url).pathname;

function notes(report: ProbeReport): string[] {
  return report.transcript.filter((e) => e.dir === "*").map((e) => e.text);
}

function connections(report: ProbeReport): number {
  return notes(report).filter((text) => /^connecting to /.test(text)).length;
}

function capture(env: Record<string, string> = {}): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t), env };
}

Deno.test("domain: from the URL's host, then from the server's host-unknown answer", async () => {
  await withEmbedded(async (url) => {
    assertMatch(url, /^ws:\/\/127\.0\.0\.1:/);
    const report = await probe({ target: url, user: "alice", password: PASSWORD });
    assertEquals(report.exitCode, 0, report.error);
    assertEquals(report.domain, "localhost");
    assertMatch(report.jid ?? "", /^alice@localhost\//);
    assertEquals(connections(report), 2);
    assertStringIncludes(
      notes(report).join("\n"),
      "the server does not serve 127.0.0.1 and names itself localhost: retrying",
    );
    // The first <open/> named the URL's host; the second the domain the server gave.
    const opens = report.transcript.filter((e) => e.dir === ">" && /^<open /.test(e.text));
    assertEquals(opens.map((e) => /to='([^']*)'/.exec(e.text)?.[1]), [
      "127.0.0.1",
      "localhost",
      "localhost",
    ]);
  });
});

Deno.test("domain: a bare JID or --domain is used as given, with advice when refused", async () => {
  await withEmbedded(async (url) => {
    const byJid = await probe({ target: url, user: "alice@localhost", password: PASSWORD });
    assertEquals([byJid.exitCode, byJid.domain, connections(byJid)], [0, "localhost", 1]);

    const wrong = await probe({ target: url, domain: "example.org" });
    assertEquals([wrong.exitCode, connections(wrong)], [1, 1]);
    assertMatch(
      wrong.error ?? "",
      /stream error <host-unknown\/> .*; the server names itself localhost: try --domain localhost$/,
    );
    const wrongJid = await probe({ target: url, user: "alice@example.org", password: PASSWORD });
    assertEquals([wrongJid.exitCode, connections(wrongJid)], [1, 1]);
  });
});

Deno.test("domain: conformance takes the server's answer too", async () => {
  await withEmbedded(async (url) => {
    const report = await conformance({ url, only: ["open-attributes"], silenceMs: 100 });
    assertEquals(report.error, undefined);
    assertEquals([report.domain, report.results[0]?.status], ["localhost", "pass"]);
    const given = await conformance({ url, domain: "example.org", only: ["open-attributes"] });
    assertEquals(given.exitCode, 2);
    assertMatch(
      given.error ?? "",
      /give the right one with --domain \(the server names itself localhost\)$/,
    );
  });
});

Deno.test("send: a bounce arriving before <close/> gives exit 1 with its condition", async () => {
  await withEmbedded(async (url) => {
    // bob has no available resource: the embedded server bounces (no offline storage).
    for (const wait of ["1000", "0"]) {
      const io = capture({ XMPP_WS_PASSWORD: PASSWORD });
      const args = ["send", url, "--user", "alice", "--to", "bob@localhost", "--wait", wait, "hi"];
      assertEquals(await cli(args, io), 1, io.err.join("\n"));
      assertEquals(io.out, []);
      assertMatch(
        io.err.join("\n"),
        /^xmpp-ws: send failed: the message bounced: <service-unavailable\/> \(cancel\) .*from bob@localhost$/,
      );
    }
    const report = await probe({
      target: url,
      user: "alice@localhost",
      password: PASSWORD,
      message: { to: "nobody@localhost", body: "hi" },
    });
    assertEquals(report.exitCode, 1);
    assertEquals(report.bounce?.condition, "service-unavailable");
    assertEquals(
      report.transcript.filter((e) => e.kind === "close").length,
      2,
      "the stream is still closed politely",
    );
  });
});

Deno.test("send as a subprocess: the README's command line, bob online then offline", async () => {
  await withEmbedded(async (url) => {
    const run = async () => {
      const output = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-net",
          "--allow-read",
          "--allow-env",
          CLI_PATH,
          "send",
          url,
          "--user",
          "alice",
          "--to",
          "bob@localhost",
          "hello",
          "bob",
        ],
        env: { NO_COLOR: "1", XMPP_WS_PASSWORD: PASSWORD },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = (b: Uint8Array) => new TextDecoder().decode(b);
      return { code: output.code, stdout: text(output.stdout), stderr: text(output.stderr) };
    };
    const bob = await WsTestClient.connect(url);
    await bob.login("bob", PASSWORD);
    await bob.bind("desk");
    bob.send(element("presence", NS.CLIENT));
    const online = await run();
    assertEquals(online.code, 0, online.stderr);
    assertMatch(online.stdout, /^sent to bob@localhost as alice@localhost\/probe-[0-9a-f]{8}\n$/);
    const message = await bob.next((el) => el.name === "message", 5_000);
    assertEquals(textOf(childElement(message, "body", NS.CLIENT)!), "hello bob");
    await bob.close();

    const offline = await run();
    assertEquals(offline.code, 1);
    assertEquals(offline.stdout, "");
    assertStringIncludes(offline.stderr, "the message bounced: <service-unavailable/>");
  });
});

Deno.test({
  name: "Prosody's endpoint: no domain hint, clear advice; a bare JID works; its bounce is seen",
  fn: async () => {
    await using prosody = await startProsody({
      accounts: [{ username: "alice", password: PASSWORD }],
    });
    const url = prosody.websocketUrl;
    const bare = await probe({ target: url, user: "alice", password: PASSWORD });
    assertEquals([bare.exitCode, connections(bare)], [1, 1]);
    assertMatch(
      bare.error ?? "",
      /<host-unknown\/>.*; give the domain with --domain or a bare JID \(--user name@domain\)$/,
    );
    const jid = await probe({ target: url, user: "alice@localhost", password: PASSWORD });
    assertEquals(jid.exitCode, 0, jid.error);
    assertMatch(jid.jid ?? "", /^alice@localhost\//);

    const sent = await probe({
      target: url,
      user: "alice@localhost",
      password: PASSWORD,
      message: { to: "nobody@localhost", body: "hi" },
    });
    assertEquals(sent.exitCode, 1, sent.error);
    assertEquals(sent.bounce?.condition, "service-unavailable");
  },
});
