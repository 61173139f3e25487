/**
 * The demo page's script: a plain JavaScript module for browsers, built on the bundled client
 * library (`./xmpp-client.js`, i.e. deno/client.ts). It logs in, lists the roster with each
 * contact's presence, sends and shows messages, shows the connection state, and has a "drop
 * connection" button that closes the WebSocket without `<close/>` so that the client resumes
 * the session (XEP-0198).
 *
 * Everything shown comes from `textContent` and element properties: no text from the server or
 * a peer ever reaches `innerHTML`. The state the browser test reads is in `data-*` attributes
 * (`#status[data-status]`, `#roster li[data-jid][data-presence]`, `#log li[data-kind] .text`).
 *
 * @example
 * ```ts
 * import { APP_SCRIPT } from "./_app.ts";
 * console.log(APP_SCRIPT.includes("innerHTML")); // false
 * ```
 * @module
 */

/** The script, served as `/demo/app.js`. */
export const APP_SCRIPT =
  `// xmpp-websocket demo page: deno/client.ts bundled for the browser, and this file.
import { XmppClient } from "./xmpp-client.js";

const $ = (id) => document.getElementById(id);
const meta = (name) => document.querySelector('meta[name="' + name + '"]')?.content ?? "";
const ROSTER = "jabber:iq:roster";
const CLIENT = "jabber:client";

let client;
let socket; // the current WebSocket, for the "drop connection" button
const contacts = new Map(); // bare JID -> { li, resources: Map(resource -> show) }

$("service").value = meta("xmpp-websocket-url");
$("domain").value = meta("xmpp-domain");
const demoUsers = meta("xmpp-demo-accounts").split(",").filter((u) => u !== "");
for (const user of demoUsers) {
  const option = document.createElement("option");
  option.value = user;
  $("usernames").append(option);
}
if (demoUsers.length > 0) $("username").value = demoUsers[0];

const bare = (jid) => (jid ?? "").split("/")[0];
const child = (el, name, ns) =>
  el.children.find((c) => typeof c !== "string" && c.name === name && (ns === undefined || c.ns === ns));
const why = (error) => error.reason ?? error.condition ?? error.kind;
const text = (el) => (el ? el.children.filter((c) => typeof c === "string").join("") : "");

function log(kind, line) {
  const li = document.createElement("li");
  li.dataset.kind = kind;
  const time = document.createElement("time");
  time.textContent = new Date().toLocaleTimeString();
  const span = document.createElement("span");
  span.className = "text";
  span.textContent = line;
  li.append(time, " ", span);
  $("log").append(li);
  li.scrollIntoView({ block: "nearest" });
}

function setStatus(status, detail = "") {
  $("status").dataset.status = status;
  $("status").textContent = detail ? status + " (" + detail + ")" : status;
  const online = status === "online";
  $("send").disabled = !online;
  $("drop").disabled = !online;
  $("logout").disabled = status === "closed" || status === "idle";
}

function contact(jid) {
  let entry = contacts.get(jid);
  if (entry) return entry;
  const li = document.createElement("li");
  li.dataset.jid = jid;
  li.dataset.presence = "offline";
  const name = document.createElement("button");
  name.type = "button";
  name.textContent = jid;
  name.addEventListener("click", () => {
    $("to").value = jid;
    $("body").focus();
  });
  const state = document.createElement("span");
  state.className = "presence";
  state.textContent = "offline";
  li.append(name, " ", state);
  $("roster").append(li);
  entry = { li, state, resources: new Map() };
  contacts.set(jid, entry);
  return entry;
}

function showPresence(entry) {
  const shows = [...entry.resources.values()];
  const presence = shows.length === 0 ? "offline" : shows.includes("available") ? "online" : shows[0];
  entry.li.dataset.presence = presence === "available" ? "online" : presence;
  entry.state.textContent = entry.li.dataset.presence;
}

function rosterItem(item) {
  const jid = item.attrs.jid;
  if (!jid) return;
  if (item.attrs.subscription === "remove") {
    contacts.get(jid)?.li.remove();
    contacts.delete(jid);
    return;
  }
  contact(jid);
}

function onPresence(presence) {
  const from = presence.attrs.from ?? "";
  const jid = bare(from);
  if (jid === bare(client?.jid) || !presence.attrs.type && !from.includes("/")) return;
  const type = presence.attrs.type;
  if (type !== undefined && type !== "unavailable") return; // subscriptions, errors
  const entry = contact(jid);
  const resource = from.slice(jid.length + 1);
  if (type === "unavailable") entry.resources.delete(resource);
  else entry.resources.set(resource, text(child(presence, "show", CLIENT)) || "available");
  showPresence(entry);
}

function onMessage(message) {
  const body = child(message, "body", CLIENT);
  if (message.attrs.type === "error") {
    const error = child(message, "error");
    const condition = error?.children.find((c) => typeof c !== "string")?.name ?? "error";
    log("error", "not delivered to " + (message.attrs.from ?? "?") + ": " + condition);
    return;
  }
  if (!body) return;
  log("in", bare(message.attrs.from) + ": " + text(body));
}

async function login(event) {
  event.preventDefault();
  if (client) return;
  const username = $("username").value.trim();
  setStatus("connecting");
  $("login").disabled = true;
  try {
    client = await XmppClient.connect({
      service: $("service").value.trim(),
      domain: $("domain").value.trim(),
      username,
      password: $("password").value,
      resource: "demo-" + Math.random().toString(36).slice(2, 8),
      backoff: { baseMs: 500, maxMs: 10000 },
      webSocket: (url, protocols) => (socket = new WebSocket(url, protocols)),
      onIq: (iq) => {
        const query = child(iq, "query", ROSTER);
        if (iq.attrs.type !== "set" || !query) return undefined;
        if (iq.attrs.from && iq.attrs.from !== bare(client.jid)) return undefined; // RFC 6121 §2.1.6
        for (const item of query.children) if (typeof item !== "string") rosterItem(item);
        return { name: "iq", ns: CLIENT, attrs: { type: "result", id: iq.attrs.id }, children: [] };
      },
    });
  } catch (error) {
    client = undefined;
    $("login").disabled = false;
    setStatus("idle", error.message);
    log("error", "login failed: " + error.message);
    return;
  }
  $("password").value = "";
  $("me").textContent = client.jid;
  setStatus("online");
  log("event", "logged in as " + client.jid);
  client.on("status", (status) => setStatus(status));
  client.on("online", (online) => {
    setStatus("online");
    log("event", online.resumed ? "session resumed (XEP-0198)" : "logged in again as " + online.jid);
    if (!online.resumed) sendInitial();
  });
  client.on("disconnected", ({ error }) =>
    log("event", "connection lost (" + why(error) + "), reconnecting")
  );
  client.on("stanzas-failed", ({ elements, reason }) =>
    log("error", elements.length + " stanza(s) probably not delivered (" + reason + ")")
  );
  client.on("message", onMessage);
  client.on("presence", onPresence);
  client.on("closed", (error) => {
    setStatus("closed", error ? why(error) : "");
    log("event", error ? "stopped: " + (error.text ?? why(error)) : "logged out");
    client = undefined;
    for (const entry of contacts.values()) entry.li.remove();
    contacts.clear();
    $("me").textContent = "";
    $("login").disabled = false;
  });
  await sendInitial();
}

/** The roster first (RFC 6121 §2.2), then initial presence (its contacts' presence follows). */
async function sendInitial() {
  try {
    const result = await client.iq("get", { name: "query", ns: ROSTER, attrs: {}, children: [] });
    const query = child(result, "query", ROSTER);
    for (const item of query?.children ?? []) if (typeof item !== "string") rosterItem(item);
  } catch (error) {
    log("error", "roster: " + error.message);
  }
  client?.presence();
}

function send(event) {
  event.preventDefault();
  const to = $("to").value.trim();
  const body = $("body").value;
  if (!client || to === "" || body === "") return;
  client.message(to, body);
  log("out", "to " + to + ": " + body);
  $("body").value = "";
}

$("login-form").addEventListener("submit", login);
$("message-form").addEventListener("submit", send);
$("drop").addEventListener("click", () => {
  // No <close/>: to the server, a lost connection; the client reconnects and resumes.
  log("event", "connection dropped (WebSocket closed without <close/>)");
  socket?.close();
});
$("logout").addEventListener("click", () => client?.close());
setStatus("idle");
`;
