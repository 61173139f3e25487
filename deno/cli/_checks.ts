/**
 * The RFC 7395 server checks run by `conformance`, each citing the rule numbers of §1 of the
 * requirements digest (`rfc7395-digest.md`). Every check opens its own connection, bounds every
 * wait by the context's timeout, and closes what it opened.
 *
 * @module
 */

import {
  childElement,
  childElements,
  DocumentParser,
  escapeAttribute,
  NS,
  readStreamError,
} from "../../core/mod.ts";
import {
  type Check,
  type CheckContext,
  type CheckOutcome,
  closedAfterError,
  collect,
  collectUntil,
  connectXmpp,
  elements,
  fail,
  featureNames,
  type InboundRecord,
  isError,
  isFraming,
  pass,
  protocolHeaders,
  skip,
  summary,
  withStream,
} from "./_check_kit.ts";
import { discover, type HostMetaDocument } from "./_discovery.ts";
import type { RawWebSocket } from "./_ws.ts";

export type { Check, CheckContext, CheckOutcome, InboundRecord } from "./_check_kit.ts";

// ---- the checks --------------------------------------------------------------------------

const subprotocolSelected: Check = {
  id: "subprotocol-selected",
  rules: [2, 51],
  title: "Offered 'chat, xmpp', the 101 carries one Sec-WebSocket-Protocol: xmpp",
  async run(ctx) {
    const result = await ctx.connect(["chat", "xmpp"]);
    await result.socket?.shutdown(Math.min(ctx.timeoutMs, 1_000));
    if (result.status !== 101) return fail(`HTTP ${result.status}, not 101`);
    if (result.problem) return fail(result.problem);
    const values = protocolHeaders(result);
    if (values.length === 1 && values[0] === "xmpp") {
      return pass("101 with one Sec-WebSocket-Protocol: xmpp");
    }
    return fail(
      `101 with ${values.length} Sec-WebSocket-Protocol header(s)${
        values.length ? `: ${values.join(" | ")}` : ""
      }`,
    );
  },
};

const subprotocolRequired: Check = {
  id: "subprotocol-required",
  rules: [3],
  title: "No subprotocol offered: no 101 naming xmpp (an HTTP error is recommended)",
  async run(ctx) {
    const result = await ctx.connect([]);
    await result.socket?.shutdown(Math.min(ctx.timeoutMs, 1_000));
    const values = protocolHeaders(result);
    if (result.status !== 101) {
      return pass(`refused with ${result.statusLine.replace(/^HTTP\/\S+ /, "HTTP ")}`);
    }
    if (values.length > 0) {
      return fail(`101 with Sec-WebSocket-Protocol: ${values.join(" | ")} though none was offered`);
    }
    return pass(
      "accepted with a 101 without Sec-WebSocket-Protocol (allowed; a refusal is recommended)",
    );
  },
};

const serverSilentFirst: Check = {
  id: "server-silent-first",
  rules: [17],
  title: "The server sends nothing before the client's <open/>",
  async run(ctx) {
    const ws = await connectXmpp(ctx);
    const started = performance.now();
    try {
      const event = await ws.next(ctx.silenceMs);
      const after = Math.round(performance.now() - started);
      if (event.type === "timeout") return pass(`silent for ${ctx.silenceMs} ms`);
      if (event.type === "text" || event.type === "binary") {
        return fail(`the server spoke first after ${after} ms`);
      }
      return fail(`the server closed the connection after ${after} ms without a client message`);
    } finally {
      await ws.shutdown(Math.min(ctx.timeoutMs, 1_000));
    }
  },
};

const openAttributes: Check = {
  id: "open-attributes",
  rules: [8, 10, 19],
  title: "The response <open/>: framing namespace, from, id, xml:lang, version 1.0, no to",
  run: (ctx) =>
    withStream(ctx, (_ws, { open }) => {
      const a = open.attrs;
      const problems = [
        a.from !== ctx.domain &&
        `from is ${JSON.stringify(a.from ?? null)}, expected '${ctx.domain}'`,
        !a.id && "no id",
        !a["xml:lang"] && "no xml:lang",
        a.version !== "1.0" && `version is ${JSON.stringify(a.version ?? null)}`,
        a.to !== undefined && `to='${a.to}' though the client sent no from`,
      ].filter((p): p is string => typeof p === "string");
      const shown = ["from", "id", "xml:lang", "version", "to"]
        .filter((k) => a[k] !== undefined).map((k) => `${k}='${a[k]}'`).join(" ");
      return Promise.resolve(
        problems.length ? fail(`${problems.join("; ")} (${shown})`) : pass(shown),
      );
    }),
};

const openEchoesFrom: Check = {
  id: "open-to-echoes-from",
  rules: [19],
  title: "With from='probe@<domain>' on <open/>, the response <open/> has that to",
  async run(ctx) {
    const ws = await connectXmpp(ctx);
    try {
      const from = `probe@${ctx.domain}`;
      await ws.sendText(
        `<open xmlns='${NS.FRAMING}' to='${escapeAttribute(ctx.domain)}' from='${
          escapeAttribute(from)
        }' version='1.0'/>`,
      );
      const seen = await collectUntil(ws, ctx.timeoutMs, (s) => s.kind === "element");
      const open = elements(seen)[0];
      if (!isFraming(open, "open")) return fail(`expected <open/>, got ${summary(seen)}`);
      const to = open!.attrs.to;
      return to === from
        ? pass(`to='${to}'`)
        : fail(`to is ${JSON.stringify(to ?? null)}, expected '${from}'`);
    } finally {
      await ws.shutdown(Math.min(ctx.timeoutMs, 1_000));
    }
  },
};

const featuresAfterOpen: Check = {
  id: "features-after-open",
  rules: [16, 20],
  title: "Stream features follow <open/> in their own message, in the streams namespace",
  run: (ctx) =>
    withStream(ctx, (_ws, { features }) => Promise.resolve(pass(featureNames(features)))),
};

const noStarttls: Check = {
  id: "no-starttls",
  rules: [42, 43],
  title: "No STARTTLS feature (before, and with credentials after, authentication)",
  run: (ctx) =>
    withStream(ctx, async (_ws, { features, wire }) => {
      if (childElements(features).some((el) => el.ns === NS.TLS)) {
        return fail("<starttls/> offered before authentication");
      }
      if (!ctx.credentials) {
        return pass("none before authentication (no credentials to look after)");
      }
      const login = await wire.login(features, ctx.credentials);
      if (childElements(login.features).some((el) => el.ns === NS.TLS)) {
        return fail("<starttls/> offered after authentication");
      }
      return pass("none before or after authentication");
    }),
};

const wrongFramingNamespace: Check = {
  id: "wrong-framing-namespace",
  rules: [11, 24, 25],
  title: "<open/> in the streams namespace: <open/>, <invalid-namespace/>, <close/>, Close",
  run: (ctx) =>
    expectOpenError(
      ctx,
      `<open xmlns='${NS.STREAMS}' to='${escapeAttribute(ctx.domain)}' version='1.0'/>`,
      "invalid-namespace",
    ),
};

const unknownHost: Check = {
  id: "unknown-host",
  rules: [24, 25],
  title: "<open to='nope.invalid'/>: <open/>, <host-unknown/>, <close/> as three messages, Close",
  run: (ctx) =>
    expectOpenError(
      ctx,
      `<open xmlns='${NS.FRAMING}' to='nope.invalid' version='1.0'/>`,
      "host-unknown",
    ),
};

async function expectOpenError(
  ctx: CheckContext,
  open: string,
  condition: string,
): Promise<CheckOutcome> {
  const ws = await connectXmpp(ctx);
  try {
    await ws.sendText(open);
    const seen = await collect(ws, ctx.timeoutMs);
    const messages = seen.filter((s) =>
      s.kind === "element" || s.kind === "unparsed" || s.kind === "binary"
    );
    const [first, second, third] = messages.map((s) => (s.kind === "element" ? s.el : undefined));
    const got = summary(seen);
    if (messages.length !== 3) return fail(`expected 3 messages, got: ${got}`);
    if (!isFraming(first, "open")) return fail(`message 1 is not <open/> (#24): ${got}`);
    if (!isError(second) || readStreamError(second!).condition !== condition) {
      return fail(`message 2 is not <${condition}/>: ${got}`);
    }
    if (!isFraming(third, "close")) return fail(`message 3 is not <close/> (#25): ${got}`);
    const closing = closedAfterError(seen);
    if (closing) return fail(`${closing}: ${got}`);
    const from = first!.attrs.from;
    const note = from === undefined || from === "" || from === ctx.domain
      ? ""
      : ` (open from='${from}': RFC 6120 §4.9.1.3 says an authoritative domain or empty)`;
    return pass(got + note);
  } finally {
    await ws.shutdown(Math.min(ctx.timeoutMs, 1_000));
  }
}

/** Sends `send` on an open stream; passes when a stream error ends it. */
function expectStreamError(
  ctx: CheckContext,
  send: (ws: RawWebSocket) => Promise<void>,
  preferred: string,
): Promise<CheckOutcome> {
  return withStream(ctx, async (ws) => {
    await send(ws);
    const seen = await collect(ws, ctx.timeoutMs);
    const error = elements(seen).find(isError);
    if (!error) return fail(`no stream error: ${summary(seen)}`);
    const condition = readStreamError(error).condition;
    const note = condition === preferred ? "" : ` (<${preferred}/> is the usual condition)`;
    return pass(`${summary(seen)}${note}`);
  });
}

const twoElementsOneMessage: Check = {
  id: "two-elements-one-message",
  rules: [15, 23],
  title: "Two elements in one message: a stream error",
  run: (ctx) =>
    expectStreamError(
      ctx,
      (ws) => ws.sendText("<presence xmlns='jabber:client'/><presence xmlns='jabber:client'/>"),
      "not-well-formed",
    ),
};

const whitespaceMessage: Check = {
  id: "whitespace-message",
  rules: [14, 39],
  title: "A whitespace-only message (a keepalive) is rejected: a stream error, or a closed socket",
  run: (ctx) =>
    withStream(ctx, async (ws) => {
      await ws.sendText(" ");
      const seen = await collect(ws, ctx.timeoutMs);
      if (elements(seen).some(isError)) return pass(summary(seen));
      if (seen.some((s) => s.kind === "close" || s.kind === "end")) {
        return pass(`${summary(seen)} (rejected without a stream error)`);
      }
      return fail(`ignored: ${summary(seen)}`);
    }),
};

const invalidUtf8: Check = {
  id: "invalid-utf8",
  rules: [7],
  title: "A text message that is not UTF-8 fails the connection (1007 recommended)",
  run: (ctx) =>
    withStream(ctx, async (ws) => {
      // "<a>" + C3 28 (a lead byte followed by a non-continuation byte) + "</a>"
      await ws.sendRawText(new Uint8Array([0x3c, 0x61, 0x3e, 0xc3, 0x28, 0x3c, 0x2f, 0x61, 0x3e]));
      const seen = await collect(ws, ctx.timeoutMs);
      const close = seen.find((s) => s.kind === "close");
      if (!close && !seen.some((s) => s.kind === "end")) {
        return fail(`still open: ${summary(seen)}`);
      }
      const code = close?.kind === "close" ? close.code : undefined;
      return pass(`${summary(seen)}${code === 1007 ? "" : " (1007 is recommended)"}`);
    }),
};

const xmlDeclarationTolerated: Check = {
  id: "xml-declaration-tolerated",
  rules: [13],
  title: "A message starting with an XML declaration is processed (legal XML, only discouraged)",
  run: (ctx) =>
    withStream(ctx, async (ws) => {
      await ws.sendText(
        `<?xml version='1.0'?><auth xmlns='${NS.SASL}' mechanism='X-NO-SUCH-MECHANISM'/>`,
      );
      const seen = await collectUntil(
        ws,
        ctx.timeoutMs,
        (s) => s.kind === "element" && s.el.ns === NS.SASL,
      );
      const answer = elements(seen).find((el) => el.ns === NS.SASL);
      if (answer?.name === "failure") {
        return pass(`the <auth/> was answered: <failure/> <${childElements(answer)[0]?.name}/>`);
      }
      return fail(`not processed: ${summary(seen)}`);
    }),
};

const noWhitespaceKeepalive: Check = {
  id: "no-whitespace-keepalive",
  rules: [39],
  title: "An idle stream gets no whitespace keepalives",
  run: (ctx) =>
    withStream(ctx, async (ws) => {
      const seen = await collect(ws, ctx.idleMs);
      const blank = seen.filter((s) => s.kind === "unparsed" && s.raw.trim() === "");
      if (blank.length > 0) {
        return fail(`${blank.length} whitespace-only message(s) in ${ctx.idleMs} ms`);
      }
      const ended = seen.find((s) => s.kind === "close" || s.kind === "end");
      if (ended) {
        return fail(`the idle stream was closed within ${ctx.idleMs} ms: ${summary(seen)}`);
      }
      const count = seen.length - 1;
      return pass(
        count === 0
          ? `no message in ${ctx.idleMs} ms`
          : `${count} message(s) in ${ctx.idleMs} ms, none whitespace`,
      );
    }),
};

const binaryMessage: Check = {
  id: "binary-message",
  rules: [6],
  title: "A binary message: the connection is closed (1003 recommended)",
  run: (ctx) =>
    withStream(ctx, async (ws) => {
      await ws.sendBinary(new TextEncoder().encode("<presence xmlns='jabber:client'/>"));
      const seen = await collect(ws, ctx.timeoutMs);
      const close = seen.find((s) => s.kind === "close");
      if (!close && !seen.some((s) => s.kind === "end")) {
        return fail(`still open: ${summary(seen)}`);
      }
      const code = close?.kind === "close" ? close.code : undefined;
      return pass(`${summary(seen)}${code === 1003 ? "" : " (1003 is recommended)"}`);
    }),
};

const closeHandshake: Check = {
  id: "close-handshake",
  rules: [27, 28],
  title: "<close/> is answered by <close/>, then the WebSocket closing handshake completes",
  run: (ctx) =>
    withStream(ctx, async (ws) => {
      await ws.sendText(`<close xmlns='${NS.FRAMING}'/>`);
      const first = await collectUntil(ws, ctx.timeoutMs, (s) =>
        s.kind === "element" && isFraming(s.el, "close"));
      if (
        !first.some((s) =>
          s.kind === "element" && isFraming(s.el, "close")
        )
      ) {
        return fail(`<close/> not answered by <close/>: ${summary(first)}`);
      }
      const serverFirst = ws.closeReceived;
      await ws.sendClose(1000);
      const rest = await collect(ws, ctx.timeoutMs);
      const seen = [...first, ...rest];
      if (!seen.some((s) => s.kind === "close")) {
        return fail(`no Close frame from the server: ${summary(seen)}`);
      }
      if (!seen.some((s) => s.kind === "end")) {
        return fail(`the server did not close TCP: ${summary(seen)}`);
      }
      const who = serverFirst
        ? "the server sent its Close frame before ours"
        : "the server answered our Close frame";
      return pass(`${summary(seen)} (${who})`);
    }),
};

const restartAfterLogin: Check = {
  id: "restart-after-login",
  rules: [20, 35, 38],
  title: "After SASL success: a new <open/> with a new id, then new features with <bind/>",
  async run(ctx) {
    if (!ctx.credentials) return skip("needs --user and --password");
    const credentials = ctx.credentials;
    return await withStream(ctx, async (_ws, { open, features, wire }) => {
      const login = await wire.login(features, credentials);
      const before = open.attrs.id;
      const after = login.open.attrs.id;
      if (!after || after === before) {
        return fail(`the stream id did not change ('${before}' → '${after}')`);
      }
      if (!childElement(login.features, "bind", NS.BIND)) {
        return fail(`no <bind/> after the restart: ${featureNames(login.features)}`);
      }
      return pass(`${login.mechanism}; new id; features: ${featureNames(login.features)}`);
    });
  },
};

const hostMeta: Check = {
  id: "host-meta",
  rules: [46, 47, 49],
  title: "host-meta (XRD and JRD) on the endpoint's origin, with CORS and a websocket link",
  async run(ctx) {
    const origin = `${ctx.url.protocol === "wss:" ? "https:" : "http:"}//${ctx.url.host}`;
    const { xrd, jrd } = await discover(origin, ctx.timeoutMs, ctx.caCerts);
    const found = (doc: HostMetaDocument) => doc.status === 200;
    const show = (doc: HostMetaDocument) => {
      const name = doc.url.endsWith(".json") ? "host-meta.json" : "host-meta";
      if (doc.status === undefined) return `${name}: ${doc.error}`;
      if (doc.status !== 200) return `${name}: HTTP ${doc.status}`;
      return `${name}: 200 ${doc.contentType ?? "no content-type"}, CORS ${
        doc.cors ?? "missing"
      }, ${doc.websocketLinks.join(" ") || "no websocket link"}`;
    };
    const detail = `${show(xrd)}; ${show(jrd)}`;
    if (!found(xrd) && !found(jrd)) {
      return skip(`not published on ${origin} (optional, #47): ${detail}`);
    }
    const problems: string[] = [];
    if (!found(xrd)) problems.push("no XRD (XEP-0156: the XRD MUST be offered)");
    for (const doc of [xrd, jrd].filter(found)) {
      if (doc.problem) problems.push(doc.problem);
      if (!doc.cors) problems.push(`${doc.url}: no Access-Control-Allow-Origin`);
      if (doc.websocketLinks.length === 0) problems.push(`${doc.url}: no websocket link`);
    }
    if (found(jrd) && !/^application\/json\b/.test(jrd.contentType ?? "")) {
      problems.push("the JRD is not served as application/json (RFC 6415 App. A)");
    }
    const insecure = origin.startsWith("http:")
      ? " (over http: XEP-0156 clients fetch https only, #49)"
      : "";
    return problems.length
      ? fail(`${problems.join("; ")}: ${detail}`)
      : pass(`${detail}${insecure}`);
  },
};

const framingEveryMessage: Check = {
  id: "framing-every-message",
  rules: [6, 10, 12, 13, 14, 16],
  title: "Every server message of every check: one standalone, namespace-complete element",
  run(ctx) {
    const problems: string[] = [];
    for (const record of ctx.inbound) {
      const problem = framingProblem(record);
      if (problem) problems.push(`${record.check}: ${problem}`);
    }
    if (problems.length === 0) {
      const checks = new Set(ctx.inbound.map((r) => r.check)).size;
      return Promise.resolve(pass(`${ctx.inbound.length} messages from ${checks} checks`));
    }
    const more = problems.length > 3 ? ` (and ${problems.length - 3} more)` : "";
    return Promise.resolve(fail(problems.slice(0, 3).join("; ") + more));
  },
};

/** What is wrong with one server message (each parsed by a fresh parser), if anything. */
function framingProblem(record: InboundRecord): string | undefined {
  if (record.data === undefined) return `#6 binary message of ${record.binaryBytes} bytes`;
  const data = record.data;
  if (data.startsWith("<?xml")) return "#13 XML declaration";
  if (!data.startsWith("<")) return `#14 starts with ${JSON.stringify(data.slice(0, 10))}`;
  const parsed = new DocumentParser().parse(data);
  if (!parsed.ok) return `#12 #16 not a standalone document: ${parsed.error.text}`;
  const el = parsed.element;
  if ((el.name === "open" || el.name === "close") && el.ns !== NS.FRAMING) {
    return `#10 <${el.name}/> in ${el.ns || "no namespace"}`;
  }
  if (["message", "presence", "iq"].includes(el.name) && el.ns !== NS.CLIENT) {
    return `#12 <${el.name}/> in ${el.ns || "no namespace"}`;
  }
  if ((el.name === "features" || el.name === "error") && el.ns !== NS.STREAMS) {
    return `#16 <${el.name}/> in ${el.ns || "no namespace"}`;
  }
  return undefined;
}

/** Every check, in the order they run (the framing check last: it reads what the others saw). */
export const CHECKS: readonly Check[] = [
  subprotocolSelected,
  subprotocolRequired,
  serverSilentFirst,
  openAttributes,
  openEchoesFrom,
  featuresAfterOpen,
  noStarttls,
  wrongFramingNamespace,
  unknownHost,
  twoElementsOneMessage,
  whitespaceMessage,
  xmlDeclarationTolerated,
  noWhitespaceKeepalive,
  binaryMessage,
  invalidUtf8,
  closeHandshake,
  restartAfterLogin,
  hostMeta,
  framingEveryMessage,
];
