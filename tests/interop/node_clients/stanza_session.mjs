// stanza 12 against a server: two accounts log in with SCRAM, the second sends the first a chat
// message, both ping the server; the first's XEP-0198 session is cut (ws.terminate(): the TCP
// socket is destroyed, no close frame, no <close/>), the second sends it a message meanwhile, the
// first reconnects, resumes and must receive it exactly once; both close cleanly.
// Usage: node stanza_session.mjs <ws-url> <domain> <user1> <pass1> <user2> <pass2>
import * as XMPP from "stanza";
import * as s from "./_session.mjs";

const { report } = s;

function connect(who, username, password) {
  const client = XMPP.createClient({
    jid: `${username}@${s.domain}`,
    password,
    transports: { websocket: s.url, bosh: false },
  });
  client.on("raw:incoming", (data) => s.wire(who, "<<", data));
  client.on("raw:outgoing", (data) => s.wire(who, ">>", data));
  for (const event of ["session:started", "stream:management:resumed", "stream:end", "disconnected"]) {
    client.on(event, () => s.wire(who, "--", event));
  }
  return client;
}

const once = (client, event) => new Promise((resolve) => client.once(event, resolve));
function nextMessage(client, body) {
  return new Promise((resolve) => {
    const listener = (msg) => {
      if (msg.body !== body) return;
      client.off("message", listener);
      resolve(msg);
    };
    client.on("message", listener);
  });
}
async function pong(client) {
  await client.ping(s.domain); // rejects on an error or a timeout
  return true;
}
async function started(client) {
  const ready = once(client, "session:started");
  client.connect();
  await ready;
  await s.until("<enabled/>", () => client.sm.started); // <enable/> goes out after binding
}

await s.run("stanza", async () => {
  const a = connect("1", s.user1, s.pass1);
  const b = connect("2", s.user2, s.pass2);
  await s.within(15_000, "both logins", Promise.all([started(a), started(b)]));
  s.step("login");
  report.mechanism1 = s.wireMechanism("1");
  report.mechanism2 = s.wireMechanism("2");
  report.jid1 = a.jid;
  report.jid2 = b.jid;
  report.smEnabled = a.sm.started && a.sm.resumable && Boolean(a.sm.id);
  const enabledAt = s.transcript.length;
  s.step("sm-enabled");

  a.sendPresence();
  b.sendPresence();
  report.pong1 = await s.within(5000, "ping 1", pong(a));
  report.pong2 = await s.within(5000, "ping 2", pong(b));
  s.step("ping");
  const got = nextMessage(a, s.BODY_CHAT);
  b.sendMessage({ to: `${s.user1}@${s.domain}`, type: "chat", body: s.BODY_CHAT });
  const message = await s.within(5000, "the chat message", got);
  report.chat = true;
  report.chatFrom = message.from;
  s.step("chat");

  // The cut: the ws package's terminate() destroys the TCP socket; no close frame is sent.
  await s.quiet(); // not in the middle of an <r/> and <a/> exchange
  const down = once(a, "disconnected");
  report.handledBeforeCut = s.stanzasReceived("1", enabledAt);
  a.transport.socket.terminate();
  await s.within(5000, "the disconnect", down);
  s.step("cut");
  // The server's log says it noticed the loss (the harness relays "hibernated" on stdin): the
  // message below goes to a hibernated session, a fact rather than a 300 ms hope.
  await s.within(5000, "the server to hibernate the session", s.fromHarness("hibernated"));
  b.sendMessage({ to: `${s.user1}@${s.domain}`, type: "chat", body: s.BODY_MISSED });
  await pong(b); // the message is routed (to the hibernated session) before A comes back
  s.step("sent-while-cut");

  const resumed = once(a, "stream:management:resumed");
  const missed = nextMessage(a, s.BODY_MISSED);
  a.connect(); // the same client: its SM state (id, h, unacked queue) survived the cut
  await s.within(10_000, "<resumed/>", resumed);
  report.resumed = true;
  report.resumedJid = a.jid;
  report.resumeH = s.wireAttr("1", "resume", "h");
  s.step("resumed");
  await s.within(5000, "the message sent while cut", missed);
  report.missedDelivered = true;
  report.pongAfterResume = await s.within(5000, "ping after resume", pong(a));
  // No sleep for "any duplicate would have arrived by now": the pong above was answered after
  // everything the server sent again on resumption and everything it routed to A before, and
  // B's ping answered after its message showed the server had routed it (duplicates included).
  report.chatCount = s.received("1", s.BODY_CHAT);
  report.missedCount = s.received("1", s.BODY_MISSED);
  report.errors2 = s.errorsReceived("2");
  s.step("no-loss");

  // disconnect(): <close/>, then the socket once the server's <close/> came (or after 1 s).
  for (const [n, client] of [[1, a], [2, b]]) {
    const end = once(client, "stream:end");
    const gone = once(client, "disconnected");
    client.disconnect();
    await s.within(5000, `close of account ${n}`, gone);
    report[`closed${n}`] = await Promise.race([end.then(() => true), s.sleep(0).then(() => false)]);
  }
  s.step("closed");
});
