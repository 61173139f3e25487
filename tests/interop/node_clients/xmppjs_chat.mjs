// A real third-party client (xmpp.js, @xmpp/client) logging in over WebSocket, sending a message
// to itself, receiving it, pinging the server and closing cleanly. Prints one JSON line.
// Usage: node xmppjs_chat.mjs <ws-url> <domain> <username> <password>
import { client, xml } from "@xmpp/client";
import WebSocket from "ws";

// Node 20 has none (see field notes). This one also records what goes out, so that the report
// states what happened on the wire rather than what the script assumed.
const sent = [];
globalThis.WebSocket = class RecordingWebSocket extends WebSocket {
  send(data, ...rest) {
    sent.push(String(data));
    return super.send(data, ...rest);
  }
};
const [url, domain, username, password] = process.argv.slice(2);
const report = { online: false, echoed: false, pong: false, closed: false, mechanism: null };
const timer = setTimeout(() => {
  console.log(JSON.stringify({ ...report, error: "timeout" }));
  process.exit(2);
}, 20000);

const xmpp = client({ service: url, domain, username, password, resource: "xmppjs" });
xmpp.on("error", (err) => {
  console.log(JSON.stringify({ ...report, error: String(err) }));
  process.exit(1);
});
xmpp.on("stanza", async (stanza) => {
  if (stanza.is("message") && stanza.getChildText("body") === "hello from xmpp.js") {
    report.echoed = true;
    const pong = await xmpp.iqCaller.request(
      xml("iq", { type: "get", to: domain }, xml("ping", "urn:xmpp:ping")),
    );
    report.pong = pong.attrs.type === "result";
    // stop() sends <close/> and resolves with the server's <close/> (or nothing without one).
    const close = await xmpp.stop();
    const framing = /^<close\b[^>]*urn:ietf:params:xml:ns:xmpp-framing/;
    const ours = sent.some((frame) => framing.test(frame));
    report.closed = ours && close?.name === "close" && xmpp.status === "offline";
    const auth = sent.map((f) => /<auth\b[^>]*\bmechanism=["']([^"']+)["']/.exec(f)).find(Boolean);
    report.mechanism = auth?.[1] ?? null;
    clearTimeout(timer);
    console.log(JSON.stringify(report));
    process.exit(0);
  }
});
xmpp.on("online", async (address) => {
  report.online = true;
  report.jid = address.toString();
  // xmpp.js resets its XEP-0198 counter when it processes <enabled/>, which may come after
  // stanzas it already counted; wait for it so its acks never go backwards (Prosody refuses that).
  for (let i = 0; i < 100 && !xmpp.streamManagement.enabled; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await xmpp.send(
    xml("message", { to: address.toString(), type: "chat" }, xml("body", {}, "hello from xmpp.js")),
  );
});
xmpp.start().catch((err) => {
  console.log(JSON.stringify({ ...report, error: String(err) }));
  process.exit(1);
});
