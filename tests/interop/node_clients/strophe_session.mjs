// strophe.js 5 against a server: two accounts log in with SCRAM, the second sends the first a
// chat message, both ping the server; the first's XEP-0198 session (strophe's native engine) is cut
// (ws.terminate(): the TCP socket is destroyed, no close frame, no <close/>), the second sends it a
// message meanwhile, the first connects again on the same Connection, resumes and must receive it
// exactly once; both close (strophe sends <close/> and closes the socket without waiting).
// Usage: node strophe_session.mjs <ws-url> <domain> <user1> <pass1> <user2> <pass2>
import { $iq, $msg, $pres, Strophe } from "strophe.js"; // its Node entry installs ws and xmldom
import * as s from "./_session.mjs";

const { report } = s;
const { Status } = Strophe;
Strophe.setLogLevel(Strophe.LogLevel.ERROR);

function create(who) {
  const conn = new Strophe.Connection(s.url, {
    enableStreamManagement: true, // in-memory SM state, kept by this Connection across connects
    mechanisms: [Strophe.SASLSHA256, Strophe.SASLSHA1], // SCRAM only, SHA-256 first
  });
  conn.rawInput = (data) => s.wire(who, "<<", data);
  conn.rawOutput = (data) => s.wire(who, ">>", data);
  conn.statuses = []; // every status its connect callback saw
  return conn;
}

/** conn.connect(); resolves on CONNECTED, rejects on a failure status. */
function connect(who, conn, username, password) {
  return new Promise((resolve, reject) => {
    conn.connect(`${username}@${s.domain}`, password, (status, condition) => {
      s.wire(who, "--", `status ${status} ${condition ?? ""}`);
      conn.statuses.push(status);
      if (status === Status.CONNECTED) resolve();
      if ([Status.CONNFAIL, Status.AUTHFAIL, Status.ERROR].includes(status)) {
        reject(new Error(`strophe status ${status}: ${condition}`));
      }
    });
  });
}
function nextMessage(conn, body) {
  return new Promise((resolve) => {
    conn.addHandler((msg) => {
      if (msg.getElementsByTagName("body")[0]?.textContent !== body) return true;
      resolve(msg);
      return false;
    }, null, "message");
  });
}
const ping = (conn) =>
  new Promise((resolve, reject) => {
    const iq = $iq({ type: "get", to: s.domain }).c("ping", { xmlns: "urn:xmpp:ping" });
    conn.sendIQ(iq, () => resolve(true), (e) => reject(new Error(`ping: ${e}`)), 5000);
  });
const chat = (to, body) => $msg({ to, type: "chat" }).c("body").t(body);
// <enable/> goes out just before CONNECTED
const enabled = (conn) => s.until("<enabled/>", () => conn.sm.enabled);

await s.run("strophe.js", async () => {
  const a = create("1");
  const b = create("2");
  await s.within(15_000, "both logins", Promise.all([
    connect("1", a, s.user1, s.pass1).then(() => enabled(a)),
    connect("2", b, s.user2, s.pass2).then(() => enabled(b)),
  ]));
  s.step("login");
  report.mechanism1 = s.wireMechanism("1");
  report.mechanism2 = s.wireMechanism("2");
  report.libraryMechanism1 = a._sasl_mechanism?.mechname ?? null;
  report.jid1 = a.jid;
  report.jid2 = b.jid;
  report.smEnabled = a.sm.enabled && a.sm.state.resumeSupported && Boolean(a.sm.state.id);
  const enabledAt = s.transcript.length;
  s.step("sm-enabled");

  a.send($pres());
  b.send($pres());
  report.pong1 = await ping(a);
  report.pong2 = await ping(b);
  s.step("ping");
  const got = nextMessage(a, s.BODY_CHAT);
  b.send(chat(`${s.user1}@${s.domain}`, s.BODY_CHAT));
  const message = await s.within(5000, "the chat message", got);
  report.chat = true;
  report.chatFrom = message.getAttribute("from");
  s.step("chat");

  // The cut: the ws package's terminate() destroys the TCP socket; no close frame is sent.
  await s.quiet(); // not in the middle of an <r/> and <a/> exchange
  report.handledBeforeCut = s.stanzasReceived("1", enabledAt);
  const before = a.statuses.length;
  a._proto.socket.terminate();
  await s.until("the disconnect", () => a.statuses.slice(before).includes(Status.DISCONNECTED));
  s.step("cut");
  // The server's log says it noticed the loss (the harness relays "hibernated" on stdin): the
  // message below goes to a hibernated session, a fact rather than a 300 ms hope.
  await s.within(5000, "the server to hibernate the session", s.fromHarness("hibernated"));
  b.send(chat(`${s.user1}@${s.domain}`, s.BODY_MISSED));
  await ping(b); // the message is routed (to the hibernated session) before A comes back
  s.step("sent-while-cut");

  const missed = nextMessage(a, s.BODY_MISSED); // handlers were dropped with the old stream
  await s.within(10_000, "the reconnection", connect("1", a, s.user1, s.pass1));
  report.resumed = a.hasResumed();
  report.resumedJid = a.jid;
  report.resumeH = s.wireAttr("1", "resume", "h");
  s.step("resumed");
  await s.within(5000, "the message sent while cut", missed);
  report.missedDelivered = true;
  report.pongAfterResume = await ping(a);
  // No sleep for "any duplicate would have arrived by now": the pong above was answered after
  // everything the server sent again on resumption and everything it routed to A before, and
  // B's ping answered after its message showed the server had routed it (duplicates included).
  report.chatCount = s.received("1", s.BODY_CHAT);
  report.missedCount = s.received("1", s.BODY_MISSED);
  report.errors2 = s.errorsReceived("2");
  s.step("no-loss");

  // disconnect(): <a/>, unavailable presence, <close/>, then the socket, without waiting.
  for (const [n, conn] of [[1, a], [2, b]]) {
    const gone = new Promise((resolve) => {
      conn.connect_callback = (status) => status === Status.DISCONNECTED && resolve();
    });
    conn.disconnect();
    await s.within(5000, `close of account ${n}`, gone);
    const last = s.transcript.findLast((line) => line.startsWith(`${n} >> `));
    report[`closed${n}`] = last.startsWith(`${n} >> <close xmlns=`);
  }
  s.step("closed");
});
