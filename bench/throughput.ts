/**
 * Prints stanzas per second for the core's two hot paths beside raw sax-ts tokenisation of the
 * same bytes, measured in this one process, and the ratio core / raw (target: at least 0.75).
 * Rounds alternate between the contenders so machine noise hits both alike.
 *
 * Run: `deno run --allow-read bench/throughput.ts` (or `deno task bench`).
 *
 * @module
 */

import { StreamParser, WebSocketFraming } from "../core/mod.ts";
import { MESSAGE, STREAM_HEADER, streamChunks } from "./_samples.ts";
import { rawSax } from "./_raw_sax.ts";

const STANZAS = 2_000;
const ROUNDS = 15;
const chunks = streamChunks(STANZAS, 16_384);
const textChunks = chunks.map((c) => new TextDecoder().decode(c));

function rate(run: () => void): number {
  const start = performance.now();
  run();
  return STANZAS / ((performance.now() - start) / 1000);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function compare(name: string, raw: () => void, core: () => void): void {
  const raws: number[] = [];
  const cores: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    raws.push(rate(raw));
    cores.push(rate(core));
  }
  const r = median(raws);
  const c = median(cores);
  console.log(
    `${name.padEnd(44)} raw sax-ts ${r.toFixed(0).padStart(7)}/s   core ${
      c.toFixed(0).padStart(7)
    }/s   ratio ${(c / r).toFixed(2)}`,
  );
}

const framing = new WebSocketFraming();
const rawMessages = rawSax(false);
rawMessages.write("<wrapper>");
compare("(a) RFC 7395 message: validate + parse", () => {
  for (let i = 0; i < STANZAS; i++) rawMessages.write(MESSAGE);
}, () => {
  for (let i = 0; i < STANZAS; i++) {
    if (framing.decode(MESSAGE)[0]?.kind !== "element") throw new Error("rejected");
  }
});

compare("(b) RFC 6120 stream: split into elements", () => {
  const sax = rawSax(false);
  sax.write(STREAM_HEADER);
  for (const chunk of textChunks) sax.write(chunk);
}, () => {
  const parser = new StreamParser();
  parser.push(STREAM_HEADER);
  let count = 0;
  for (const chunk of chunks) count += parser.push(chunk).length;
  if (count !== STANZAS) throw new Error(`expected ${STANZAS} elements, got ${count}`);
});
