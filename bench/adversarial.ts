/**
 * Linear cost for every shape of input (issue 8): adversarial messages at the maximum message
 * size, each parsed the way peer input is (a WebSocket message through the document parser, and
 * the same bytes inside an RFC 6120 stream through the stream parser), compared per byte with
 * an ordinary stanza stream measured in the same process, rounds alternating. Target: every
 * shape within 3x the per-byte cost of the ordinary stream. Shapes over a limit are refused;
 * refusing must be cheap too, so they are measured the same way. The gateway's relay path
 * (issue 10: `ElementChecker` on a message, `RelayTcpFraming` on a stream) is measured too,
 * against the same ordinary stream through that path.
 *
 * Run: `deno run bench/adversarial.ts [rounds]` (default 7 rounds).
 *
 * @module
 */

import { DocumentParser, StreamParser } from "../core/mod.ts";
import { ElementChecker } from "../core/xml/mod.ts";
import { RelayTcpFraming } from "../core/framing/tcp_relay.ts";
import { MESSAGE, STREAM_HEADER } from "./_samples.ts";

const MAX = 262_144;
const ROUNDS = Number(Deno.args[0] ?? 7);

function fill(open: string, unit: (i: number) => string, close: string): string {
  let body = "";
  for (let i = 0;; i++) {
    const next = unit(i);
    if (open.length + body.length + next.length + close.length > MAX - 64) break;
    body += next;
  }
  return open + body + close;
}

const M = "<message xmlns='jabber:client' to='a@b'>";
const SHAPES: Readonly<Record<string, string>> = {
  "many attributes (refused at 64)": fill(
    "<message xmlns='jabber:client'",
    (i) => ` a${i}=''`,
    "/>",
  ),
  "many namespace declarations (refused at 32)": fill(
    "<message xmlns='jabber:client'",
    (i) => ` xmlns:p${i}='u'`,
    "/>",
  ),
  "long element name (refused at 256)": "<" + "a".repeat(MAX - 40) + " xmlns='jabber:client'/>",
  "long attribute value (refused at 32 KiB)": fill(
    "<message xmlns='jabber:client' a='",
    () => "x",
    "'/>",
  ),
  "many tiny elements (refused at 10 000)": fill(M, () => "<b/>", "</message>"),
  "many tiny elements with declarations": fill(M, (i) => `<b xmlns='u${i % 7}'/>`, "</message>"),
  "nesting to the allowed depth, repeated": fill(
    M,
    () => "<a>".repeat(62) + "</a>".repeat(62),
    "</message>",
  ),
  "many character references": fill(M + "<body>", () => "&#x41;&lt;", "</body></message>"),
  "many CDATA sections": fill(M + "<body>", () => "<![CDATA[x]]>", "</body></message>"),
  "long text": fill(M + "<body>", () => "x", "</body></message>"),
  "many ]] in text": fill(M + "<body>", () => "]]", "</body></message>"),
  "attribute values with many tabs": "<message xmlns='jabber:client'" +
    Array.from({ length: 60 }, (_, i) => ` a${i}='${"\t".repeat(4000)}'`).join("") + "/>",
};

/** Below the maximum size: the largest message of tiny elements that is still accepted. */
const ACCEPTED_TINY = M + "<b/>".repeat(9_998) + "</message>";

const stanzaBody = MESSAGE.replace(" xmlns='jabber:client'", "");
const ORDINARY_STREAM = stanzaBody.repeat(Math.floor(MAX / stanzaBody.length));

const documentParser = new DocumentParser({ maxBytes: MAX });

/** Nanoseconds per byte to parse `text` as a stream (header first), best of a few runs. */
function streamNsPerByte(text: string): number {
  const parser = new StreamParser({ limits: { maxBytes: MAX } });
  parser.push(STREAM_HEADER);
  const start = performance.now();
  parser.push(text);
  return ((performance.now() - start) * 1e6) / text.length;
}

function documentNsPerByte(text: string): number {
  const start = performance.now();
  documentParser.parse(text);
  return ((performance.now() - start) * 1e6) / text.length;
}

const checker = new ElementChecker({ maxBytes: MAX });

/** The relay path on a message: one validating pass, no tree. */
function checkNsPerByte(text: string): number {
  const start = performance.now();
  checker.check(text);
  return ((performance.now() - start) * 1e6) / text.length;
}

/** The relay path on a stream: cut by position, each element validated whole. */
function relayNsPerByte(text: string): number {
  const codec = new RelayTcpFraming({ limits: { maxBytes: MAX }, relay: () => true });
  codec.decode(STREAM_HEADER);
  const start = performance.now();
  codec.decode(text);
  return ((performance.now() - start) * 1e6) / text.length;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

// Warm up every path.
for (let i = 0; i < 3; i++) {
  streamNsPerByte(ORDINARY_STREAM);
  relayNsPerByte(ORDINARY_STREAM);
  for (const text of Object.values(SHAPES)) {
    streamNsPerByte(text);
    documentNsPerByte(text);
    relayNsPerByte(text);
    checkNsPerByte(text);
  }
}

const baseline: number[] = [];
const relayBaseline: number[] = [];
const results = new Map<
  string,
  { doc: number[]; stream: number[]; check: number[]; relay: number[] }
>();
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, text] of Object.entries(SHAPES)) {
    baseline.push(streamNsPerByte(ORDINARY_STREAM));
    relayBaseline.push(relayNsPerByte(ORDINARY_STREAM));
    const entry = results.get(name) ?? { doc: [], stream: [], check: [], relay: [] };
    entry.doc.push(documentNsPerByte(text));
    entry.stream.push(streamNsPerByte(text));
    entry.check.push(checkNsPerByte(text));
    entry.relay.push(relayNsPerByte(text));
    results.set(name, entry);
  }
}

const base = median(baseline);
console.log(
  `ordinary stanza stream: ${base.toFixed(1)} ns/byte (${ORDINARY_STREAM.length} bytes, ` +
    `median of ${baseline.length})`,
);
console.log("shape | bytes | message ns/byte | ratio | in a stream ns/byte | ratio");
let worst = 0;
for (const [name, text] of Object.entries(SHAPES)) {
  const { doc, stream } = results.get(name)!;
  const d = median(doc);
  const s = median(stream);
  worst = Math.max(worst, d / base, s / base);
  console.log(
    `${name} | ${text.length} | ${d.toFixed(1)} | ${(d / base).toFixed(2)} | ` +
      `${s.toFixed(1)} | ${(s / base).toFixed(2)}`,
  );
}
console.log(`worst ratio at the maximum size: ${worst.toFixed(2)} (target: at most 3)`);
const relayBase = median(relayBaseline);
console.log(
  `\nthe gateway's relay path: ordinary stanza stream ${relayBase.toFixed(1)} ns/byte ` +
    `(${(base / relayBase).toFixed(1)}x cheaper than the tree path)`,
);
console.log("shape | message check ns/byte | ratio | relay stream ns/byte | ratio");
let relayWorst = 0;
for (const name of Object.keys(SHAPES)) {
  const { check, relay } = results.get(name)!;
  const c = median(check);
  const r = median(relay);
  relayWorst = Math.max(relayWorst, c / relayBase, r / relayBase);
  console.log(
    `${name} | ${c.toFixed(1)} | ${(c / relayBase).toFixed(2)} | ${r.toFixed(1)} | ` +
      `${(r / relayBase).toFixed(2)}`,
  );
}
console.log(
  `worst relay-path ratio at the maximum size: ${relayWorst.toFixed(2)} (target: at most 3)`,
);
const tinyDoc: number[] = [];
const tinyStream: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  tinyDoc.push(documentNsPerByte(ACCEPTED_TINY));
  tinyStream.push(streamNsPerByte(ACCEPTED_TINY));
}
const tinyCheck: number[] = [];
const tinyRelay: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  tinyCheck.push(checkNsPerByte(ACCEPTED_TINY));
  tinyRelay.push(relayNsPerByte(ACCEPTED_TINY));
}
console.log(
  `largest accepted message of tiny elements (${ACCEPTED_TINY.length} bytes, 10 000 elements): ` +
    `${(median(tinyDoc) / base).toFixed(2)}x as a message, ` +
    `${(median(tinyStream) / base).toFixed(2)}x in a stream, per byte`,
);
console.log(
  `the same on the relay path: ${(median(tinyCheck) / relayBase).toFixed(2)}x as a message, ` +
    `${(median(tinyRelay) / relayBase).toFixed(2)}x in a stream, per byte (of its own baseline)`,
);

// An element trickling in: the largest long-text message in 64-character chunks through the relay
// codec, against the same bytes in one chunk (the unfinished element is set aside as pieces, never
// copied again per chunk: before that, 1 MB in 64-byte chunks took seconds).
const LONG = SHAPES["long text"]!;
function trickledNsPerByte(chunk: number): number {
  const codec = new RelayTcpFraming({ limits: { maxBytes: MAX }, relay: () => true });
  codec.decode(STREAM_HEADER);
  const start = performance.now();
  for (let i = 0; i < LONG.length; i += chunk) codec.decode(LONG.slice(i, i + chunk));
  return ((performance.now() - start) * 1e6) / LONG.length;
}
const whole: number[] = [];
const trickled: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  whole.push(trickledNsPerByte(LONG.length));
  trickled.push(trickledNsPerByte(64));
}
console.log(
  `relay path, a ${LONG.length}-byte element in 64-character chunks: ` +
    `${(median(trickled) / median(whole)).toFixed(2)}x its cost in one chunk, per byte`,
);
