/**
 * Fault (issue 9): the embedded server restarts. `deno run deno/main.ts --accounts-file ...` (a
 * subprocess, on a fixed port) is killed with SIGKILL (a crash), started again, then stopped
 * with SIGTERM (a graceful restart: live sessions end with `system-shutdown`) and started
 * again. The accounts come back from the file each time; the clients (the project's
 * `XmppClient`, XEP-0198 on) notice the loss, retry with capped exponential backoff while the
 * server is away (each failed attempt waits a delay within the backoff ceiling), and log in
 * again: the server kept sessions in memory only, so resumption is refused and a new session is
 * bound, which the client reports as `online` with `resumed: false`. Chat works again after
 * each restart.
 */

import { assert, assertEquals, assertMatch } from "@std/assert";
import { childElement, NS, textOf, type XmlElement } from "../../core/mod.ts";
import { XmppClient } from "../../deno/client.ts";
import type { ClientError } from "../../core/client/mod.ts";
import { waitFor } from "../_support/client.ts";
import { freePort, limitFlags, ServerProcess } from "../_support/processes.ts";

const BACKOFF = { baseMs: 200, maxMs: 800 };
const body = (el: XmlElement) => textOf(childElement(el, "body", NS.CLIENT)!);

interface Lost {
  readonly error: ClientError;
  /** Delay until the next attempt, ms (the client's clock is `performance.now()`). */
  readonly delayMs: number;
}

Deno.test("fault: the embedded server restarted (crash, then graceful): accounts intact, clients reconnect with backoff and log in again", async () => {
  const dir = await Deno.makeTempDir({ prefix: "xmpp-fault-embedded-" });
  const accountsFile = `${dir}/accounts.json`;
  await Deno.writeTextFile(
    accountsFile,
    JSON.stringify({
      accounts: [
        { username: "alice", password: "alice-pw" },
        { username: "bob", password: "bob-pw" },
      ],
    }),
  );
  const port = freePort();
  const args = ["--accounts-file", accountsFile, ...limitFlags()];
  let server = await ServerProcess.start(args, { port });
  const clients: XmppClient[] = [];
  try {
    const connect = async (username: string) => {
      const client = await XmppClient.connect({
        service: server.url,
        domain: "localhost",
        username,
        password: `${username}-pw`,
        resource: "desk",
        backoff: BACKOFF,
      });
      clients.push(client);
      return client;
    };
    const alice = await connect("alice");
    const bob = await connect("bob");
    const losses = new Map<XmppClient, Lost[]>([[alice, []], [bob, []]]);
    for (const [client, list] of losses) {
      client.on(
        "disconnected",
        (d) => list.push({ error: d.error, delayMs: d.retryAt - performance.now() }),
      );
    }
    await chat(alice, bob, "before any restart");

    for (const [how, signal] of [["crash", "SIGKILL"], ["graceful restart", "SIGTERM"]] as const) {
      for (const list of losses.values()) list.length = 0;
      const lost = [alice, bob].map((c) => waitFor(c, "disconnected"));
      const back = [alice, bob].map((c) => waitFor(c, "online", () => true, 20_000));
      const status = await server.kill(signal);
      assertEquals(
        signal === "SIGKILL" ? status.signal : status.code,
        signal === "SIGKILL" ? "SIGKILL" : 0,
        how,
      );
      const first = await Promise.all(lost);
      for (const { error } of first) {
        if (signal === "SIGTERM") {
          assertEquals([error.kind, error.kind === "stream-error" && error.condition], [
            "stream-error",
            "system-shutdown",
          ], how);
        } else {
          assertEquals(error.kind, "connection", how);
        }
        assertEquals(error.reconnect, "backoff", how);
      }

      server = await ServerProcess.start(args, { port }); // same port, accounts from the file
      const online = await Promise.all(back);
      assertEquals(online.map((o) => o.resumed), [false, false], `${how}: a new session each`);
      assertEquals([alice.jid, bob.jid], ["alice@localhost/desk", "bob@localhost/desk"], how);
      // Backoff: every failed attempt waited within its ceiling (capped at maxMs), none in a
      // tight loop; attempts while the server was away are few.
      for (const [client, list] of losses) {
        assert(list.length >= 1, `${how}: ${client.jid} saw the loss`);
        assert(list.length <= 30, `${how}: ${list.length} attempts is no backoff`);
        for (const { delayMs } of list) {
          assert(delayMs <= BACKOFF.maxMs + 50, `${how}: a delay of ${delayMs} ms`);
        }
      }
      console.log(
        `${how}: attempts until back ${
          [...losses.values()].map((l) => l.length).join(" and ")
        }; delays ${
          [...losses.values()].map((l) => l.map((d) => Math.round(d.delayMs)).join("/")).join(
            ", ",
          )
        } ms`,
      );
      await chat(alice, bob, `after the ${how}`);
    }
  } finally {
    for (const client of clients) await client.close();
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

/** alice and bob announce presence and exchange one message each way. */
async function chat(alice: XmppClient, bob: XmppClient, text: string): Promise<void> {
  const ready = [
    waitFor(alice, "presence", (p) => p.attrs.from === alice.jid),
    waitFor(bob, "presence", (p) => p.attrs.from === bob.jid),
  ];
  alice.presence();
  bob.presence();
  await Promise.all(ready);
  const toBob = waitFor(bob, "message", (m) => body(m) === `${text} (to bob)`);
  const toAlice = waitFor(alice, "message", (m) => body(m) === `${text} (to alice)`);
  alice.message(bob.jid!, `${text} (to bob)`);
  bob.message(alice.jid!, `${text} (to alice)`);
  assertMatch((await toBob).attrs.from!, /^alice@localhost\/desk$/);
  assertMatch((await toAlice).attrs.from!, /^bob@localhost\/desk$/);
}
