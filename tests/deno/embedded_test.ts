/**
 * The embedded server on real sockets: `serveXmpp` with `embeddedServer`, Deno's own WebSocket
 * as the client, SCRAM computed with the client side of `core/sasl`; sanitizers on.
 */

import { assert, assertEquals, assertRejects } from "@std/assert";
import { childElement, DocumentParser, NS, textOf, type XmlElement } from "../../core/mod.ts";
import { scramClientContinue, scramClientFinish, scramClientStart } from "../../core/sasl/mod.ts";
import { embeddedServer, loadAccounts } from "../../deno/embedded.ts";
import { serveXmpp } from "../../deno/serve.ts";

const OPEN = `<open xmlns='${NS.FRAMING}' to='localhost' version='1.0'/>`;
const WAIT_MS = 5_000;

function parse(text: string): XmlElement {
  const result = new DocumentParser().parse(text);
  if (!result.ok) throw new Error(`Not one element: ${text}`);
  return result.element;
}

/** A minimal XMPP-over-WebSocket client: one element per message, waited for by predicate. */
class Client {
  readonly socket: WebSocket;
  readonly closed: Promise<CloseEvent>;
  readonly #inbox: XmlElement[] = [];
  #wake: (() => void) | undefined;
  jid = "";

  constructor(url: string) {
    this.socket = new WebSocket(url, "xmpp");
    this.closed = new Promise((resolve) => this.socket.onclose = resolve);
    this.socket.onmessage = (event) => {
      this.#inbox.push(parse(String(event.data)));
      this.#wake?.();
    };
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.onopen = () => resolve();
      this.socket.onerror = () => reject(new Error("WebSocket failed"));
    });
  }

  send(text: string): void {
    this.socket.send(text);
  }

  /** The next element matching `test` (others before it are skipped). */
  async next(what: string, test: (el: XmlElement) => boolean = () => true): Promise<XmlElement> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Timed out waiting for ${what}`)), WAIT_MS);
    });
    try {
      for (;;) {
        const index = this.#inbox.findIndex(test);
        if (index >= 0) return this.#inbox.splice(index, 1)[0]!;
        this.#inbox.length = 0;
        await Promise.race([new Promise<void>((resolve) => this.#wake = resolve), timeout]);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Opens the stream, logs in with SCRAM-SHA-256, binds, and optionally resumes instead. */
  async login(username: string, password: string, resource: string): Promise<void> {
    await this.opened();
    this.send(OPEN);
    await this.next("open", (el) => el.name === "open");
    const features = await this.next("features", (el) => el.name === "features");
    assert(childElement(features, "mechanisms", NS.SASL));
    await this.authenticate(username, password);
    this.send(
      `<iq xmlns='jabber:client' type='set' id='bind'><bind xmlns='${NS.BIND}'><resource>${resource}</resource></bind></iq>`,
    );
    const bound = await this.next("bind result", (el) => el.attrs.id === "bind");
    this.jid = textOf(childElement(childElement(bound, "bind", NS.BIND)!, "jid", NS.BIND)!);
  }

  async authenticate(username: string, password: string): Promise<void> {
    const first = scramClientStart("SCRAM-SHA-256", username, password, crypto.randomUUID());
    this.send(`<auth xmlns='${NS.SASL}' mechanism='SCRAM-SHA-256'>${first.data}</auth>`);
    const challenge = await this.next("challenge");
    assertEquals(challenge.name, "challenge");
    const response = scramClientContinue(first.state, textOf(challenge));
    if (response.type !== "response") throw new Error(response.text);
    this.send(`<response xmlns='${NS.SASL}'>${response.data}</response>`);
    const success = await this.next("success");
    assertEquals(success.name, "success");
    assertEquals(scramClientFinish(response.state, textOf(success)).type, "verified");
    this.send(OPEN); // the restart
    await this.next("open after restart", (el) => el.name === "open");
    const features = await this.next("features after restart", (el) => el.name === "features");
    assert(childElement(features, "bind", NS.BIND) && childElement(features, "sm", NS.SM));
  }
}

Deno.test("embedded server: two SCRAM logins, a message, a ping, resumption after a cut, clean close", async () => {
  const { accounts, demo } = await loadAccounts({ demoUsers: ["alice", "bob"] });
  const password = (user: string) => demo.find((d) => d.username === user)!.password;
  const events: string[] = [];
  const app = embeddedServer({ accounts, log: (e) => events.push(e.event) });
  const xmpp = serveXmpp({
    hostname: "127.0.0.1",
    port: 0,
    session: { domains: ["localhost"] },
    application: app,
  });
  const url = `ws://127.0.0.1:${xmpp.addr.port}/xmpp-websocket`;
  try {
    const alice = new Client(url);
    const bob = new Client(url);
    await Promise.all([
      alice.login("alice", password("alice"), "web"),
      bob.login("bob", password("bob"), "desk"),
    ]);
    assertEquals([alice.jid, bob.jid], ["alice@localhost/web", "bob@localhost/desk"]);
    for (const client of [alice, bob]) {
      client.send("<presence xmlns='jabber:client'/>");
      await client.next(
        "own presence",
        (el) => el.name === "presence" && el.attrs.from === client.jid,
      );
    }

    alice.send(
      `<message xmlns='jabber:client' to='${bob.jid}' type='chat' id='m1'><body>hello bob</body></message>`,
    );
    const got = await bob.next("message", (el) => el.name === "message");
    assertEquals([got.attrs.from, textOf(childElement(got, "body", NS.CLIENT)!)], [
      alice.jid,
      "hello bob",
    ]);

    alice.send(
      "<iq xmlns='jabber:client' type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>",
    );
    const pong = await alice.next("pong", (el) => el.attrs.id === "p1");
    assertEquals(pong.attrs.type, "result");

    // Bob enables resumption, then his WebSocket is cut without <close/>.
    bob.send(`<enable xmlns='${NS.SM}' resume='true'/>`);
    const enabled = await bob.next("enabled", (el) => el.name === "enabled");
    bob.socket.close(); // a Close frame, but no XMPP <close/>: a dropped connection
    await bob.closed;
    alice.send(
      `<message xmlns='jabber:client' to='bob@localhost' type='chat' id='m2'><body>are you there?</body></message>`,
    );
    const bob2 = new Client(url);
    await bob2.opened();
    bob2.send(OPEN);
    await bob2.next("open", (el) => el.name === "open");
    await bob2.next("features", (el) => el.name === "features");
    await bob2.authenticate("bob", password("bob"));
    bob2.send(`<resume xmlns='${NS.SM}' previd='${enabled.attrs.id}' h='0'/>`);
    const resumed = await bob2.next(
      "resumed",
      (el) => el.name === "resumed" || el.name === "failed",
    );
    assertEquals(resumed.name, "resumed");
    const resent = await bob2.next("resent message", (el) => el.name === "message");
    assertEquals([resent.attrs.id, resent.attrs.from], ["m2", alice.jid]);

    // Clean closes.
    for (const client of [alice, bob2]) {
      client.send(`<close xmlns='${NS.FRAMING}'/>`);
      await client.next("close", (el) => el.name === "close");
      client.socket.close(1000); // RFC 7395 §3.6: the initiator closes the WebSocket
      assertEquals((await client.closed).code, 1000);
    }
    assert(
      events.includes("authenticated") && events.includes("hibernated") &&
        events.includes("resumed"),
      events.join(),
    );
  } finally {
    await xmpp.shutdown();
    app.stop();
  }
  assertEquals(app.hub.sessions.size, 0);
  assertEquals(app.hub.connections.size, 0);
});

Deno.test("loadAccounts: pairs and a JSON file; passwords become SCRAM credentials; errors name the source", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const stored = (await loadAccounts({ users: ["carol:c4r0l:with:colons"] })).accounts[0]!;
    const file = `${dir}/accounts.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({ accounts: [{ username: "dave", password: "pw" }, stored] }),
    );
    const { accounts, demo } = await loadAccounts({ users: ["erin:secret"], file });
    assertEquals(accounts.map((a) => a.username), ["erin", "dave", "carol"]);
    assertEquals(demo, []);
    assert(!JSON.stringify(accounts).includes("secret"), "no password kept");
    await assertRejects(
      () => loadAccounts({ users: ["erin:a", "Erin:b"] }),
      Error,
      "duplicate username",
    );
    await assertRejects(
      () => loadAccounts({ users: ["nopassword"] }),
      Error,
      "expected user:password",
    );
    await Deno.writeTextFile(file, JSON.stringify({ accounts: [{ username: "x", scram: {} }] }));
    await assertRejects(() => loadAccounts({ file }), Error, "accounts[0]");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
