// xmpp.js (@xmpp/client 0.14) against a server: two accounts log in with SCRAM, the second sends
// the first a chat message, both ping the server; the first enables XEP-0198, its WebSocket is cut
// (ws.terminate(): the TCP socket is destroyed, no close frame, no <close/>), the second sends it a
// message meanwhile, the first resumes and must receive it exactly once; both close cleanly.
// Usage: node xmppjs_session.mjs <ws-url> <domain> <user1> <pass1> <user2> <pass2>
import { client, xml } from "@xmpp/client";
import WebSocket from "ws";
import * as s from "./_session.mjs";

globalThis.WebSocket = WebSocket; // Node 20 has none (field notes)
const { report } = s;

function connect(who, username, password) {
  const xmpp = client({ service: s.url, domain: s.domain, username, password });
  xmpp.on("element", (el) => s.wire(who, "<<", el));
  xmpp.on("send", (el) => s.wire(who, ">>", el));
  xmpp.on("status", (status) => s.wire(who, "--", `status ${status}`));
  xmpp.on("error", (err) => s.wire(who, "!!", err));
  xmpp.reconnect.stop(); // the script decides when to reconnect (reconnect.reconnect() below)
  return xmpp;
}

const bodyOf = (stanza) => stanza.is("message") ? stanza.getChildText("body") : null;
function nextMessage(xmpp, body) {
  return new Promise((resolve) => {
    const listener = (stanza) => {
      if (bodyOf(stanza) !== body) return;
      xmpp.removeListener("stanza", listener);
      resolve(stanza);
    };
    xmpp.on("stanza", listener);
  });
}
const ping = async (xmpp) =>
  (await xmpp.iqCaller.request(
    xml("iq", { type: "get", to: s.domain }, xml("ping", "urn:xmpp:ping")),
    5000,
  )).attrs.type === "result";
const chat = (to, body) => xml("message", { to, type: "chat" }, xml("body", {}, body));

await s.run("@xmpp/client", async () => {
  const a = connect("1", s.user1, s.pass1);
  const b = connect("2", s.user2, s.pass2);
  await s.within(20_000, "both logins", Promise.all([a.start(), b.start()]));
  s.step("login");
  report.mechanism1 = s.wireMechanism("1");
  report.mechanism2 = s.wireMechanism("2");
  report.jid1 = a.jid.toString();
  report.jid2 = b.jid.toString();
  const bare1 = a.jid.bare().toString();

  // xmpp.js sends <enable resume='true'/> once "online" has fired, and resets its inbound count
  // when it processes <enabled/>, possibly after stanzas that came later (its h then goes back):
  // nothing is sent before both sessions have it.
  await s.until("<enabled/>", () => a.streamManagement.enabled && b.streamManagement.enabled);
  report.smEnabled = a.streamManagement.enabled && a.streamManagement.id !== "";
  const enabledAt = s.transcript.length;
  s.step("sm-enabled");

  await Promise.all([a.send(xml("presence")), b.send(xml("presence"))]);
  report.pong1 = await ping(a); // the presence is through before the message is sent
  report.pong2 = await ping(b);
  s.step("ping");
  const got = nextMessage(a, s.BODY_CHAT);
  await b.send(chat(bare1, s.BODY_CHAT));
  const message = await s.within(5000, "the chat message", got);
  report.chat = true;
  report.chatFrom = message.attrs.from;
  s.step("chat");

  // The cut: the ws package's terminate() destroys the TCP socket; no close frame is sent.
  await s.quiet(); // not in the middle of an <r/> and <a/> exchange
  const down = new Promise((resolve) => a.once("disconnect", resolve));
  report.handledBeforeCut = s.stanzasReceived("1", enabledAt);
  a.socket.socket.terminate();
  const { clean } = await s.within(5000, "the disconnect", down);
  report.cutClean = clean;
  s.step("cut");
  // The server's log says it noticed the loss (the harness relays "hibernated" on stdin): the
  // message below goes to a hibernated session, a fact rather than a 300 ms hope.
  await s.within(5000, "the server to hibernate the session", s.fromHarness("hibernated"));
  await b.send(chat(bare1, s.BODY_MISSED));
  await ping(b); // the message is routed (to the hibernated session) before A comes back
  s.step("sent-while-cut");

  const resumed = new Promise((resolve) => a.streamManagement.once("resumed", resolve));
  const missed = nextMessage(a, s.BODY_MISSED);
  await s.within(15_000, "the reconnection", a.reconnect.reconnect());
  await s.within(5000, "<resumed/>", resumed);
  report.resumed = true;
  report.resumedJid = a.jid.toString();
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

  // stop(): <a/>, <close/>, wait for the server's <close/> (resolves with it), then the socket.
  const close1 = await s.within(5000, "close of account 1", a.stop());
  const close2 = await s.within(5000, "close of account 2", b.stop());
  report.closed1 = close1?.name === "close";
  report.closed2 = close2?.name === "close";
  s.step("closed");
});
