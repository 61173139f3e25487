// xmpp.js (@xmpp/client 0.14) in its documented pattern (its README): on "online", send
// <presence/> and a message to itself at once (no waiting for XEP-0198's <enabled/>); stop() once
// the message comes back. Issue 12 finding 2: xmpp.js sends <presence/> before <enable/>, so the
// presence echo and <enabled/> race; the session must still end with <close/>, no stream error.
// Usage: node xmppjs_clean_stop.mjs <ws-url> <domain> <username> <password>
import { client, xml } from "@xmpp/client";
import WebSocket from "ws";
import * as s from "./_clean_stop.mjs";

globalThis.WebSocket = WebSocket; // Node 20 has none (field notes)
const { report } = s;
const BODY = "hello me, from xmpp.js";

await s.run("@xmpp/client", async () => {
  const xmpp = client({ service: s.url, domain: s.domain, username: s.user, password: s.pass });
  xmpp.reconnect.stop(); // a stream error must end the run, not start a new session
  xmpp.on("element", (el) => s.wire("<<", el));
  xmpp.on("send", (el) => s.wire(">>", el));
  xmpp.on("status", (status) => s.wire("--", `status ${status}`));
  xmpp.on("error", (err) => s.wire("!!", err));
  // "disconnect" is emitted when the WebSocket has closed, with its close event.
  const ended = new Promise((resolve) => {
    xmpp.on("disconnect", ({ clean, reason }) => {
      report.socketClean = clean;
      report.closeCode = reason?.code ?? null;
      resolve();
    });
  });
  const echoed = new Promise((resolve) => {
    xmpp.on("stanza", (stanza) => {
      if (stanza.is("message") && stanza.getChildText("body") === BODY) resolve(stanza);
    });
  });

  // The pattern of @xmpp/client's README, word for word apart from the body.
  xmpp.on("online", async (address) => {
    report.jid = address.toString();
    await xmpp.send(xml("presence"));
    await xmpp.send(
      xml("message", { type: "chat", to: address }, xml("body", {}, BODY)),
    );
  });
  await s.within(15_000, "the login", xmpp.start());
  s.step("online");
  await s.within(5_000, "the message to self", echoed);
  s.step("echoed");
  report.smEnabled = xmpp.streamManagement.enabled;
  // stop(): <a h/>, <close/>, the server's <close/> (stop resolves with it), then the socket.
  // Its "element" event never shows the server's <close/> (its parser reports it as the end of
  // the stream): stop() resolves with it.
  const closed = await s.within(5_000, "stop()", xmpp.stop());
  report.closeReceived = closed?.name === "close";
  await s.within(5_000, "the end of the stream", ended);
  s.step("stopped");
});
