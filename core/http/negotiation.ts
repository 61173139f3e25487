/**
 * HTTP content negotiation by `Accept` (RFC 9110 §12.5.1), as `@std/http`'s `accepts` does it
 * (itself from `negotiator`): each offered media type takes the quality of the most specific
 * matching range; the best quality wins, then specificity, then the order of the `Accept` list,
 * then the order offered. Without an `Accept` header (or with an empty one) the first offered type wins.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { preferredMediaType } from "./negotiation.ts";
 * const offered = ["application/xrd+xml", "application/json"];
 * assertEquals(preferredMediaType("application/json", offered), "application/json");
 * assertEquals(preferredMediaType(null, offered), "application/xrd+xml");
 * assertEquals(preferredMediaType("*\/*;q=0.5, application/json", offered), "application/json");
 * assertEquals(preferredMediaType("text/html", offered), undefined);
 * ```
 * @module
 */

interface Range {
  readonly type: string;
  readonly subtype: string;
  readonly params: Readonly<Record<string, string | undefined>>;
  readonly q: number;
  readonly i: number;
}

interface Priority {
  readonly q: number;
  readonly s: number;
  readonly o: number;
  readonly i: number;
}

const MEDIA_TYPE = /^\s*([^\s\/;]+)\/([^;\s]+)\s*(?:;(.*))?$/;

function parseRange(text: string, i: number): Range | undefined {
  const match = MEDIA_TYPE.exec(text);
  if (!match) return undefined;
  const [, type, subtype, parameters] = match;
  if (!type || !subtype) return undefined;
  const params: Record<string, string | undefined> = Object.create(null);
  let q = 1;
  for (const pair of parameters ? parameters.split(";").map((p) => p.trim()) : []) {
    const [rawKey = "", raw] = pair.split("=");
    const key = rawKey.toLowerCase();
    const value = raw && raw[0] === `"` && raw[raw.length - 1] === `"` ? raw.slice(1, -1) : raw;
    if (key === "q" && value) {
      q = parseFloat(value);
      break;
    }
    params[key] = value;
  }
  return { type, subtype, params, q, i };
}

function specify(offered: string, range: Range, index: number): Priority | undefined {
  const p = parseRange(offered, index);
  if (!p) return undefined;
  let s = 0;
  if (range.type.toLowerCase() === p.type.toLowerCase()) s |= 4;
  else if (range.type !== "*") return undefined;
  if (range.subtype.toLowerCase() === p.subtype.toLowerCase()) s |= 2;
  else if (range.subtype !== "*") return undefined;
  const keys = Object.keys(range.params);
  if (keys.length > 0) {
    const same = keys.every((key) =>
      (range.params[key] ?? "").toLowerCase() === (p.params[key] ?? "").toLowerCase()
    );
    if (!same) return undefined;
    s |= 1;
  }
  return { i: index, o: 0, q: range.q, s };
}

/**
 * The offered media type the `Accept` header prefers; `undefined` when it accepts none of them.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { preferredMediaType } from "./negotiation.ts";
 * assertEquals(preferredMediaType("application/json;q=0.5, application/*", ["application/json", "application/xml"]), "application/xml");
 * ```
 */
export function preferredMediaType(
  accept: string | null,
  offered: readonly string[],
): string | undefined {
  if (!accept) return offered[0];
  const ranges = accept.split(",").map((p) => p.trim())
    .map((text, index) => parseRange(text.trim(), index))
    .filter((range): range is Range => range !== undefined);
  const priorities = offered.map((type, index) => {
    let best: Priority = { o: -1, q: 0, s: 0, i: index };
    for (const range of ranges) {
      const spec = specify(type, range, index);
      if (spec && (best.s - spec.s || best.q - spec.q || best.o - spec.o) < 0) best = spec;
    }
    return best;
  });
  const ranked = priorities.filter((p) => p.q > 0).sort((a, b) =>
    b.q - a.q || b.s - a.s || a.o - b.o || a.i - b.i
  );
  const first = ranked[0];
  return first === undefined ? undefined : offered[priorities.indexOf(first)];
}
