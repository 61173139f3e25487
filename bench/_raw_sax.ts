/**
 * The baseline of the benchmarks: raw `sax-ts` tokenisation with no-op handlers and the same
 * parser options as the core (strict, namespaces on, predefined entities only).
 *
 * @example
 * ```ts
 * import { rawSax } from "./_raw_sax.ts";
 * const sax = rawSax(false);
 * sax.write("<a>");
 * ```
 * @module
 */

import { SAXParser } from "sax-ts";

/** A raw sax-ts parser; `trackPosition` as the core's stream parser uses it. */
export function rawSax(trackPosition: boolean): { write(text: string): void } {
  const parser = new SAXParser(true, {
    xmlns: true,
    strictEntities: true,
    position: trackPosition,
  });
  return { write: (text: string) => void parser.write(text) };
}
