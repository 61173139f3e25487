// stanza 12 in the pattern of its README: on "session:started", send presence (and here a message
// to itself); disconnect() once the message comes back. Issue 12: the session must end with the
// close handshake (stanza waits up to 1 s for the server's <close/>), with no stream error.
// Usage: node stanza_clean_stop.mjs <ws-url> <domain> <username> <password>
import * as XMPP from "stanza";
import * as s from "./_clean_stop.mjs";

const { report } = s;
const BODY = "hello me, from stanza";

await s.run("stanza", async () => {
  const client = XMPP.createClient({
    jid: `${s.user}@${s.domain}`,
    password: s.pass,
    transports: { websocket: s.url, bosh: false },
  });
  client.on("raw:incoming", (data) => s.wire("<<", data));
  client.on("raw:outgoing", (data) => s.wire(">>", data));
  client.on("stream:error", (error) => s.wire("!!", JSON.stringify(error)));
  const disconnected = new Promise((resolve) => client.once("disconnected", resolve));
  const echoed = new Promise((resolve) => {
    client.on("message", (msg) => msg.body === BODY && resolve(msg));
  });

  // The pattern of stanza's README, plus the message to self.
  client.on("session:started", () => {
    report.jid = client.jid;
    client.sendPresence();
    client.sendMessage({ to: client.jid, type: "chat", body: BODY });
  });
  client.connect();
  // stanza sends its <enable/> after "session:started": <enabled/> may come after the echo.
  const enabled = new Promise((resolve) => {
    client.on("sm", (sm) => sm.type === "enabled" && resolve());
  });
  await s.within(15_000, "the message to self", echoed);
  await s.within(5_000, "<enabled/>", enabled);
  s.step("echoed");
  report.smEnabled = client.sm.started;
  // disconnect(): <close/>, then the socket once the server's <close/> came (or after 1 s).
  client.disconnect();
  await s.within(5_000, "the disconnect", disconnected);
  s.step("stopped");
});
