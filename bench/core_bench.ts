/**
 * `deno bench` of the two hot paths, each beside raw sax-ts tokenisation of the same bytes in
 * the same run (the `baseline` of its group): (a) validating and parsing one RFC 7395 message,
 * (b) splitting an RFC 6120 stream into first-level elements.
 *
 * Run: `deno task bench`.
 *
 * @module
 */

import { StreamParser, WebSocketFraming } from "../core/mod.ts";
import { MESSAGE, STREAM_HEADER, streamChunks } from "./_samples.ts";
import { rawSax } from "./_raw_sax.ts";

const STANZAS = 1_000;
const decoder = new TextDecoder();
const chunks = streamChunks(STANZAS, 16_384);
const textChunks = chunks.map((c) => decoder.decode(c));

const rawMessages = rawSax(false);
rawMessages.write("<wrapper>");
const framing = new WebSocketFraming();

Deno.bench({
  name: "raw sax-ts: tokenise one message",
  group: "rfc7395-message",
  baseline: true,
  fn: () => rawMessages.write(MESSAGE),
});

Deno.bench({
  name: "core: validate + parse one RFC 7395 message",
  group: "rfc7395-message",
  fn: () => {
    const frames = framing.decode(MESSAGE);
    if (frames[0]?.kind !== "element") throw new Error("benchmark input rejected");
  },
});

Deno.bench({
  name: `raw sax-ts: tokenise a stream of ${STANZAS} stanzas`,
  group: "rfc6120-stream",
  baseline: true,
  fn: () => {
    const sax = rawSax(false);
    sax.write(STREAM_HEADER);
    for (const chunk of textChunks) sax.write(chunk);
  },
});

Deno.bench({
  name: `core: split a stream of ${STANZAS} stanzas (bytes in, elements out)`,
  group: "rfc6120-stream",
  fn: () => {
    const parser = new StreamParser();
    let elements = parser.push(STREAM_HEADER).length - 1;
    for (const chunk of chunks) elements += parser.push(chunk).length;
    if (elements !== STANZAS) throw new Error(`expected ${STANZAS} elements, got ${elements}`);
  },
});
