/**
 * The pages of the browser tests: plain JavaScript modules, as an application would write them
 * against the bundle (`/client.js`), served with a shared support module (`/support.js`).
 *
 * - `/chat.html` (`CHAT_SCRIPT`): two clients log in, chat, ping the server, get an iq error
 *   from each other and close.
 * - `/resume.html` (`RESUME_SCRIPT`): two clients log in and chat; then the test cuts the first
 *   one's connection (it goes through a cuttable TCP proxy) and refuses its reconnections for a
 *   while; the second one sends it a message during the cut; once the proxy lets connections
 *   through again the first one resumes (XEP-0198), and both report what they received.
 * - `/close.html` (`CLOSE_ACK_SCRIPT`): a client closes right after receiving a message; was
 *   the message acknowledged first (XEP-0198 §4), or bounced / delivered again?
 *
 * Each page reports one JSON object through the `xmppReport` binding (see `_chromium.ts`):
 * `{ ok: true, ... }`, or `{ ok: false, error, ... }` with what was gathered so far; every
 * report carries the WebSocket transcripts of both clients.
 *
 * deno/client.ts exports no element builder the pages need beyond `XmlElement` literals, so iq
 * payloads are literals.
 *
 * @module
 */

/** The HTML of a page that loads the module `script`. */
export function pageHtml(script: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>xmpp-websocket browser test</title>
<script type="module" src="/${script}"></script></head><body></body></html>
`;
}

/** Helpers shared by the pages. */
export const SUPPORT_SCRIPT = `
export const WAIT_MS = 8000;
export const CLIENT = "jabber:client";
export const FRAMING_CLOSE = "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>";

export function report(result) {
  const json = JSON.stringify(result);
  if (typeof globalThis.xmppReport === "function") globalThis.xmppReport(json);
  else console.log("xmpp-result " + json);
}

export function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error("timed out: " + what)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The next \`type\` event of \`client\` matching \`test\`, within WAIT_MS. */
export function next(client, type, test = () => true) {
  let off;
  return within(new Promise((resolve) => {
    off = client.on(type, (detail) => {
      if (!test(detail)) return;
      off();
      resolve(detail);
    });
  }), WAIT_MS, type).finally(() => off());
}

/** Resolves once \`condition()\` holds (polled every 10 ms), within \`ms\`. */
export function until(condition, ms, what) {
  return within(new Promise((resolve) => {
    const poll = () => condition() ? resolve() : setTimeout(poll, 10);
    poll();
  }), ms, what);
}

export const child = (el, name, ns) =>
  el.children.find((c) => typeof c !== "string" && c.name === name && c.ns === ns);
export const text = (el) =>
  el ? el.children.filter((c) => typeof c === "string").join("") : null;

/** A WebSocket factory that records the messages and the close of every socket it makes. */
export function recorder() {
  const log = [];
  const sockets = [];
  const closes = [];
  const factory = (url, protocols) => {
    const socket = new WebSocket(url, protocols);
    const index = sockets.length;
    sockets.push(socket);
    log.push("# socket " + index + " " + url);
    const send = socket.send.bind(socket);
    socket.send = (data) => {
      log.push("> " + data);
      send(data);
    };
    socket.addEventListener("message", (event) => log.push("< " + event.data));
    socket.addEventListener("close", (event) => {
      log.push("# socket " + index + " closed " + event.code + (event.wasClean ? " clean" : ""));
      closes.push({ socket: index, code: event.code, wasClean: event.wasClean });
    });
    return socket;
  };
  const sent = (prefix) => log.filter((l) => l.startsWith("> " + prefix));
  const received = (prefix) => log.filter((l) => l.startsWith("< " + prefix));
  const facts = () => {
    const messages = log.filter((l) => !l.startsWith("#"));
    return {
      sockets: sockets.map((s) => ({ url: s.url, protocol: s.protocol, readyState: s.readyState })),
      closes,
      first: messages[0] ?? null,
      auth: sent("<auth ").map((l) => /mechanism='([^']*)'/.exec(l)?.[1]),
      binds: sent("<iq ").filter((l) => l.includes("urn:ietf:params:xml:ns:xmpp-bind")).length,
      smEnabled: sent("<enable xmlns='urn:xmpp:sm:3'").length,
      resumes: sent("<resume xmlns='urn:xmpp:sm:3'").length,
      resumed: received("<resumed ").length,
      smFailed: received("<failed ").length,
      // From our <close/> on: the server may still send what it sent before reading it.
      afterClose: messages.slice(messages.indexOf("> " + FRAMING_CLOSE)),
    };
  };
  return { factory, facts, log, sockets, closes };
}

export const PING = { name: "ping", ns: "urn:xmpp:ping", attrs: {}, children: [] };

/**
 * XEP-0198 bookkeeping read from a transcript: the stanzas received since \`<enabled/>\` (what
 * the client should count) and the \`h\` of the last \`<a/>\` it sent.
 */
export function smCounts(log) {
  const start = log.findIndex((l) => l.startsWith("< <enabled "));
  const inbound = start < 0 ? 0 : log.slice(start).filter((l) =>
    /^< <(message|presence|iq)[ />]/.test(l)
  ).length;
  const acks = log.filter((l) => l.startsWith("> <a xmlns='urn:xmpp:sm:3'"));
  const h = acks.length === 0 ? null : Number(/h='(\\d+)'/.exec(acks.at(-1))?.[1]);
  return { inbound, acked: h };
}

/**
 * Waits until the client has acknowledged every stanza it received, pinging the server (whose
 * answers come with its \`<r/>\`) until it has, at most 5 times. Closing right after receiving a
 * stanza would otherwise leave it unacknowledged, as the client sends no \`<a/>\` of its own
 * before \`<close/>\` (see browser_resume_test.ts). Returns the pings it took.
 */
export async function settle(client, rec) {
  const done = () => {
    const { inbound, acked } = smCounts(rec.log);
    return acked === inbound;
  };
  for (let pings = 0; pings <= 5; pings++) {
    if (done()) return pings;
    if (pings === 5) break;
    await within(client.iq("get", PING, "localhost"), WAIT_MS, "settling ping");
    await until(done, 500, "acks").catch(() => {});
  }
  throw new Error("stanzas still unacknowledged: " + JSON.stringify(smCounts(rec.log)));
}

let controls = 0;
const answers = new Map();
globalThis.xmppControlReply = (id, answer) => {
  answers.get(id)?.(answer);
  answers.delete(id);
};

/** Asks the test to do \`op\`; resolves with its answer, within WAIT_MS. */
export async function control(op) {
  const id = ++controls;
  const answer = new Promise((resolve) => answers.set(id, resolve));
  globalThis.xmppControl(JSON.stringify({ id, op }));
  const result = await within(answer, WAIT_MS, "the test's answer to " + op);
  if (result && result.error) throw new Error("control " + op + " failed: " + result.error);
  return result;
}
`;

/** Login, chat, ping, iq error and close against the page's `service`. */
export const CHAT_SCRIPT = `
import { IqError, XmppClient } from "./client.js";
import { child, next, recorder, report, text, WAIT_MS, within } from "./support.js";

const service = new URL(location.href).searchParams.get("service");

async function run() {
  const result = {
    userAgent: navigator.userAgent,
    secureContext: globalThis.isSecureContext,
    origin: location.origin,
  };
  const recA = recorder();
  const recB = recorder();
  const login = (username, webSocket) =>
    within(
      XmppClient.connect({
        service,
        domain: "localhost",
        username,
        password: username + "-pw",
        resource: "browser",
        webSocket,
      }),
      WAIT_MS,
      "login of " + username,
    );
  const alice = await login("alice", recA.factory);
  const bob = await login("bob", recB.factory);
  const failed = [];
  for (const client of [alice, bob]) {
    client.on("stanzas-failed", (f) => failed.push({ jid: client.jid, reason: f.reason }));
  }
  try {
    result.online = { jids: [alice.jid, bob.jid], status: [alice.status, bob.status] };

    const ready = [
      next(alice, "presence", (p) => p.attrs.from === alice.jid),
      next(bob, "presence", (p) => p.attrs.from === bob.jid),
    ];
    alice.presence();
    bob.presence();
    await Promise.all(ready);

    const toBob = next(bob, "message");
    alice.message("bob@localhost", "hello from the browser <&> \\u00e9\\u{1F600}");
    const m = await toBob;
    result.toBob = {
      from: m.attrs.from,
      type: m.attrs.type,
      body: text(child(m, "body", "jabber:client")),
    };
    const toAlice = next(alice, "message");
    bob.message(m.attrs.from, "hi alice");
    const r = await toAlice;
    result.toAlice = { from: r.attrs.from, body: text(child(r, "body", "jabber:client")) };

    const ping = { name: "ping", ns: "urn:xmpp:ping", attrs: {}, children: [] };
    const pong = await within(alice.iq("get", ping, "localhost"), WAIT_MS, "ping");
    result.ping = { type: pong.attrs.type, from: pong.attrs.from };

    const unknown = { name: "query", ns: "urn:example:unknown", attrs: {}, children: [] };
    try {
      await within(bob.iq("get", unknown, alice.jid), WAIT_MS, "iq to alice");
      result.iqError = { rejected: false };
    } catch (error) {
      result.iqError = {
        rejected: true,
        isIqError: error instanceof IqError,
        condition: error.condition ?? String(error),
        from: error.response?.attrs.from ?? null,
      };
    }
  } finally {
    await within(Promise.all([alice.close(), bob.close()]), WAIT_MS, "close");
  }
  const ended = await within(Promise.all([alice.closed, bob.closed]), WAIT_MS, "closed");
  result.closed = {
    status: [alice.status, bob.status],
    errors: ended.map((e) => e === undefined ? "none" : JSON.stringify(e)),
    stanzasFailed: failed,
  };
  // Let the sockets' close events fire if close() resolved first.
  await new Promise((resolve) => setTimeout(resolve, 100));
  result.transport = { alice: recA.facts(), bob: recB.facts() };
  return result;
}

run().then(
  (result) => report({ ok: true, ...result }),
  (error) => report({ ok: false, error: String(error && error.stack || error) }),
);
`;

/**
 * The cut and the resumption. Query parameters: \`cut\`, the URL for alice (through the proxy);
 * \`direct\`, the URL for bob. Control requests: \`cut\` (drop alice's connection and refuse new
 * ones), \`restore\` (accept connections again).
 */
export const RESUME_SCRIPT = `
import { XmppClient } from "./client.js";
import {
  child, control, next, PING, recorder, report, settle, smCounts, text, until, WAIT_MS, within,
} from "./support.js";

const params = new URL(location.href).searchParams;
const result = { origin: location.origin };
const recorders = { alice: recorder(), bob: recorder() };
const clients = {};
const received = { alice: [], bob: [] };
const events = { alice: [], bob: [] };
const failed = [];

function login(name, service, extra = {}) {
  return within(
    XmppClient.connect({
      service,
      domain: "localhost",
      username: name,
      password: name + "-pw",
      resource: "browser",
      webSocket: recorders[name].factory,
      ...extra,
    }),
    WAIT_MS,
    "login of " + name,
  );
}

function watch(name) {
  const client = clients[name];
  client.on("message", (m) =>
    received[name].push({ from: m.attrs.from, body: text(child(m, "body", "jabber:client")) }));
  client.on("disconnected", (d) => events[name].push({ event: "disconnected", ...d.error }));
  client.on("online", (o) =>
    events[name].push({ event: "online", resumed: o.resumed, streamManagement: o.streamManagement }));
  client.on("stanzas-failed", (f) => failed.push({
    client: name,
    reason: f.reason,
    stanzas: f.elements.map((e) => e.name + " " + (text(child(e, "body", "jabber:client")) ?? "")),
  }));
}

const has = (name, body) => received[name].some((m) => m.body === body);

async function scenario() {
  // alice goes through the proxy; quick retries so that the test stays short.
  clients.alice = await login("alice", params.get("cut"), { backoff: { baseMs: 100, maxMs: 400 } });
  watch("alice");
  clients.bob = await login("bob", params.get("direct"));
  watch("bob");
  const { alice, bob } = clients;
  result.online = { jids: [alice.jid, bob.jid], status: [alice.status, bob.status] };

  const ready = [
    next(alice, "presence", (p) => p.attrs.from === alice.jid),
    next(bob, "presence", (p) => p.attrs.from === bob.jid),
  ];
  alice.presence();
  bob.presence();
  await Promise.all(ready);

  // Chat both ways.
  alice.message(bob.jid, "before the cut, to bob");
  await until(() => has("bob", "before the cut, to bob"), WAIT_MS, "bob's first message");
  bob.message(alice.jid, "before the cut, to alice");
  await until(() => has("alice", "before the cut, to alice"), WAIT_MS, "alice's first message");

  // The cut: the TCP connection under alice's WebSocket drops, with no close frame and no
  // <close/>; the proxy then refuses new connections until told otherwise.
  const lost = next(alice, "disconnected");
  result.cut = await control("cut");
  const cut = await lost;
  result.disconnected = { ...cut.error, status: alice.status };

  // During the cut: bob writes to alice's full JID (the server keeps it for the hibernating
  // session), alice writes to bob (her client queues it). bob's ping makes sure the server has
  // handled his message before alice can come back.
  bob.message(alice.jid, "during the cut, to alice");
  alice.message(bob.jid, "during the cut, to bob");
  const pong = await within(bob.iq("get", PING, "localhost"), WAIT_MS, "bob's ping during the cut");
  // At least one reconnection attempt of alice's is refused before the proxy lets her through.
  await until(() => recorders.alice.closes.length >= 2, WAIT_MS, "a refused reconnection");
  result.duringCut = {
    ping: pong.attrs.type,
    aliceStatus: alice.status,
    received: { alice: received.alice.length, bob: received.bob.length },
  };

  const back = next(alice, "online", (o) => o.resumed);
  result.restore = await control("restore");
  const online = await back;
  result.resumed = {
    jid: online.jid,
    resumed: online.resumed,
    streamManagement: online.streamManagement,
    status: alice.status,
    jidAfter: alice.jid,
  };

  // One more message each way. A stream delivers in order, so once these have arrived, any
  // duplicate of an earlier stanza resent on resumption would have arrived before them.
  bob.message(alice.jid, "after the resumption, to alice");
  alice.message(bob.jid, "after the resumption, to bob");
  await until(
    () => has("alice", "after the resumption, to alice") && has("bob", "after the resumption, to bob"),
    WAIT_MS,
    "the messages after the resumption",
  );
  const pongA = await within(alice.iq("get", PING, "localhost"), WAIT_MS, "alice's ping");
  result.pingAfter = pongA.attrs.type;
  // Close only once each client has acknowledged all it received (the client does not send a
  // final <a/> before <close/>; browser_resume_test.ts tests that separately).
  await settle(alice, recorders.alice);
  await settle(bob, recorders.bob);
  result.settled = { alice: smCounts(recorders.alice.log), bob: smCounts(recorders.bob.log) };
}

async function closeAll() {
  const open = Object.values(clients);
  await within(Promise.all(open.map((c) => c.close())), WAIT_MS, "close");
  const ended = await within(Promise.all(open.map((c) => c.closed)), WAIT_MS, "closed");
  result.closed = {
    status: open.map((c) => c.status),
    errors: ended.map((e) => e === undefined ? "none" : JSON.stringify(e)),
  };
  // Let the sockets' close events fire if close() resolved first.
  await new Promise((resolve) => setTimeout(resolve, 100));
}

async function run() {
  let error;
  try {
    await scenario();
  } catch (e) {
    error = e;
  }
  try {
    await closeAll();
  } catch (e) {
    error ??= e;
  }
  result.received = received;
  result.events = events;
  result.stanzasFailed = failed;
  result.transport = { alice: recorders.alice.facts(), bob: recorders.bob.facts() };
  result.transcript = { alice: recorders.alice.log, bob: recorders.bob.log };
  return error
    ? { ok: false, error: String(error && error.stack || error), ...result }
    : { ok: true, ...result };
}

run().then(report, (error) => report({ ok: false, error: String(error), ...result }));
`;

/**
 * Closing right after receiving a message, against the page's `service`: alice sends bob a
 * message and bob closes from his message listener, before the server's `<r/>` can be
 * answered. XEP-0198 §4 recommends a final `<a/>` before closing, so that the server knows
 * the message was received: otherwise it treats it as undelivered (our server bounces it to
 * alice, Prosody stores it offline for bob's next session). The page reports what bob sent
 * last, what alice got, and what bob gets when he logs in again.
 */
export const CLOSE_ACK_SCRIPT = `
import { XmppClient } from "./client.js";
import { child, next, PING, recorder, report, smCounts, text, WAIT_MS, within } from "./support.js";

const service = new URL(location.href).searchParams.get("service");
const result = {};
const recorders = { alice: recorder(), bob: recorder(), bobAgain: recorder() };
const received = { alice: [], bob: [], bobAgain: [] };
const open = [];

async function login(name, user) {
  const client = await within(
    XmppClient.connect({
      service,
      domain: "localhost",
      username: user,
      password: user + "-pw",
      resource: "browser",
      webSocket: recorders[name].factory,
    }),
    WAIT_MS,
    "login of " + name,
  );
  open.push(client);
  client.on("message", (m) => received[name].push({
    type: m.attrs.type ?? null,
    from: m.attrs.from ?? null,
    body: text(child(m, "body", "jabber:client")),
    delayed: m.children.some((c) => typeof c !== "string" && c.name === "delay"),
  }));
  const own = next(client, "presence", (p) => p.attrs.from === client.jid);
  client.presence();
  await own;
  return client;
}

async function scenario() {
  const alice = await login("alice", "alice");
  const bob = await login("bob", "bob");
  let closing;
  const got = new Promise((resolve) => {
    const off = bob.on("message", () => {
      off();
      closing = bob.close();
      resolve();
    });
  });
  alice.message(bob.jid, "read and leave");
  await within(got, WAIT_MS, "bob's message");
  await within(closing, WAIT_MS, "bob's close");
  const log = recorders.bob.log.filter((l) => !l.startsWith("#"));
  const close = log.indexOf("> <close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>");
  result.bob = {
    status: bob.status,
    closed: (await bob.closed) === undefined ? "none" : "error",
    sentBeforeClose: log.slice(0, close).filter((l) => l.startsWith(">")).at(-1) ?? null,
    counts: smCounts(log.slice(0, close)),
  };
  // Whatever the server tells alice about bob's message arrives before the answer to her ping.
  await within(alice.iq("get", PING, "localhost"), WAIT_MS, "alice's ping");
  result.aliceReceived = received.alice.slice();
  // bob again: a message his first session left unacknowledged would come again now (offline
  // messages are sent on initial presence, before the answer to his ping).
  const again = await login("bobAgain", "bob");
  await within(again.iq("get", PING, "localhost"), WAIT_MS, "bob's second ping");
  result.bobReceived = received.bob;
  result.bobAgainReceived = received.bobAgain;
}

async function run() {
  let error;
  try {
    await scenario();
  } catch (e) {
    error = e;
  }
  try {
    await within(Promise.all(open.map((c) => c.close())), WAIT_MS, "close");
  } catch (e) {
    error ??= e;
  }
  result.transcript = {
    alice: recorders.alice.log,
    bob: recorders.bob.log,
    bobAgain: recorders.bobAgain.log,
  };
  return error
    ? { ok: false, error: String(error && error.stack || error), ...result }
    : { ok: true, ...result };
}

run().then(report, (error) => report({ ok: false, error: String(error), ...result }));
`;
