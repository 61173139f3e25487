// strophe.js 5 in the pattern of its examples: on Status.CONNECTED, send presence (and here a
// message to itself) from the connect callback; disconnect() once the message comes back.
// Issue 12: the session must end without a stream error. strophe.js sends <close/> and closes
// the socket without waiting for the server's <close/> (field notes), so the report says whether
// it went out (closeSent) rather than whether the answer came back.
// Usage: node strophe_clean_stop.mjs <ws-url> <domain> <username> <password>
import { $msg, $pres, Strophe } from "strophe.js"; // its Node entry installs ws and xmldom
import * as s from "./_clean_stop.mjs";

const { report } = s;
const { Status } = Strophe;
Strophe.setLogLevel(Strophe.LogLevel.ERROR);
const BODY = "hello me, from strophe.js";

await s.run("strophe.js", async () => {
  const conn = new Strophe.Connection(s.url, {
    enableStreamManagement: true,
    mechanisms: [Strophe.SASLSHA256, Strophe.SASLSHA1],
  });
  conn.rawInput = (data) => s.wire("<<", data);
  conn.rawOutput = (data) => s.wire(">>", data);
  const echoed = new Promise((resolve) => {
    conn.addHandler((msg) => {
      if (msg.getElementsByTagName("body")[0]?.textContent !== BODY) return true;
      resolve(msg);
      return false;
    }, null, "message");
  });
  let disconnected;
  const gone = new Promise((resolve) => disconnected = resolve);
  const failed = new Promise((_, reject) => {
    conn.connect(`${s.user}@${s.domain}`, s.pass, (status, condition) => {
      s.wire("--", `status ${status} ${condition ?? ""}`);
      if (status === Status.CONNECTED) {
        report.jid = conn.jid;
        conn.send($pres());
        conn.send($msg({ to: conn.jid, type: "chat" }).c("body").t(BODY));
      }
      if ([Status.CONNFAIL, Status.AUTHFAIL, Status.ERROR].includes(status)) {
        reject(new Error(`strophe status ${status}: ${condition}`));
      }
      if (status === Status.DISCONNECTED) disconnected();
    });
  });
  failed.catch(() => {}); // raced below
  await s.within(15_000, "the message to self", Promise.race([echoed, failed]));
  s.step("echoed");
  report.smEnabled = conn.sm.enabled;
  // disconnect(): <a/>, unavailable presence, <close/>, then the socket, without waiting.
  conn.disconnect();
  await s.within(5_000, "the disconnect", Promise.race([gone, failed]));
  const last = s.transcript.findLast((line) => line.startsWith(">> "));
  report.closeSent = last.startsWith(">> <close xmlns=");
  s.step("stopped");
});
