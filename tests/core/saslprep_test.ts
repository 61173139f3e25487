/**
 * SASLprep (RFC 4013) with the stringprep tables of RFC 3454: the examples of RFC 4013 §3, the
 * bidirectional rule of §2.4 (RFC 3454 §6), every prohibited table, mapping, normalisation as
 * of Unicode 3.2, unassigned code points in queries and stored strings, and the tables
 * themselves (size and checksum as computed from Python's `stringprep` module, and agreement of
 * the matcher with the ranges at every range boundary).
 */

import { assertEquals } from "@std/assert";
import {
  inStringprepTable,
  saslprep,
  saslprepResult,
  stringprepRanges,
  type StringprepTable,
} from "../../core/sasl/saslprep.ts";

const hex = (s: string | undefined) =>
  s === undefined ? undefined : [...s].map((c) => c.codePointAt(0)!.toString(16).toUpperCase());

Deno.test("RFC 4013 §3: the seven examples", () => {
  const examples: [string, string | undefined, string][] = [
    ["I\u00ADX", "IX", "SOFT HYPHEN mapped to nothing"],
    ["user", "user", "no transformation"],
    ["USER", "USER", "case preserved, will not match #2"],
    ["\u00AA", "a", "output is NFKC, input in ISO 8859-1"],
    ["\u2168", "IX", "output is NFKC, will match #1"],
    ["\u0007", undefined, "Error - prohibited character"],
    ["\u0627\u0031", undefined, "Error - bidirectional check"],
  ];
  for (const [input, output, comment] of examples) {
    assertEquals(saslprep(input), output, comment);
  }
  assertEquals(saslprepResult("\u0007"), { ok: false, reason: "prohibited", codePoint: 7 });
  assertEquals(saslprepResult("\u0627\u0031"), { ok: false, reason: "bidi", codePoint: 0x31 });
});

Deno.test("RFC 3454 §6: the bidirectional rule", () => {
  const cases: [string, string | undefined, string][] = [
    ["\u0627", "\u0627", "one RandALCat character"],
    ["\u0627\u0031\u0628", "\u0627\u0031\u0628", "a European digit inside RandALCat ends"],
    ["\u0627\u0661\u0628", "\u0627\u0661\u0628", "an Arabic-Indic digit (AN) inside"],
    ["\u0627 \u0628", "\u0627 \u0628", "a space (WS) inside"],
    ["\u0627\u00A0\u0628", "\u0627 \u0628", "a no-break space is mapped to a space first"],
    ["\u05D0\u05B4\u05D1", "\u05D0\u05B4\u05D1", "a non-spacing mark inside"],
    ["\u05BE", "\u05BE", "Hebrew punctuation is RandALCat (D.1)"],
    ["\uFB50", "\u0671", "a presentation form normalised to a RandALCat letter"],
    ["\u0627\u00AD", "\u0627", "mapped to nothing before the check"],
    [
      "\u0627\u{1D7CE}\u0628",
      "\u0627\u0030\u0628",
      "a mathematical digit becomes a European digit",
    ],
    ["1\u0627", undefined, "a RandALCat string must start with RandALCat"],
    ["\u0627\u0031", undefined, "... and end with one"],
    ["\u0627a\u0628", undefined, "RandALCat and LCat mixed"],
    ["\u05D0a", undefined, "Hebrew and Latin mixed"],
    ["\u0627\u2167\u0628", undefined, "ROMAN NUMERAL EIGHT normalises to LCat letters"],
    ["\u0627\u{10400}\u0628", undefined, "an LCat character beyond the BMP"],
    ["\uFB1D", undefined, "normalised to YOD + HIRIQ: ends with a non-spacing mark"],
    ["\u05D0\u05B4", undefined, "ends with a non-spacing mark"],
    ["\uFE70\u0627", undefined, "normalised to a space first"],
  ];
  for (const [input, output, comment] of cases) {
    assertEquals(hex(saslprep(input)), hex(output), comment);
  }
  // RLM and LRM are refused before the bidi rule is applied (table C.8).
  assertEquals(saslprepResult("\u0627\u200F\u0628").ok, false);
  assertEquals(saslprepResult("\u0627\u200F\u0628"), {
    ok: false,
    reason: "prohibited",
    codePoint: 0x200f,
  });
  assertEquals(saslprepResult("a\u0627b"), { ok: false, reason: "bidi", codePoint: 0x61 });
  assertEquals(saslprepResult("\u0627\u{10400}"), {
    ok: false,
    reason: "bidi",
    codePoint: 0x10400,
  });
  assertEquals(saslprepResult("\u0627\u0031"), { ok: false, reason: "bidi", codePoint: 0x31 });
  // Left-to-right scripts alone are untouched by the rule.
  assertEquals(saslprep("\u00C5ngstr\u00F6m \u65E5\u672C"), "\u00C5ngstr\u00F6m \u65E5\u672C");
});

Deno.test("RFC 4013 §2.3: one character of every prohibited table is refused", () => {
  const samples: [StringprepTable, number][] = [
    ["C.1.2", 0x3000], // mapped to a space before the check: see below
    ["C.2.1", 0x7f],
    ["C.2.2", 0x2028],
    ["C.2.2", 0x1d173],
    ["C.3", 0xe000],
    ["C.3", 0x10fffd],
    ["C.4", 0xfdd0],
    ["C.4", 0x3ffff],
    ["C.5", 0xd800],
    ["C.6", 0xfffd],
    ["C.7", 0x2ff0],
    ["C.8", 0x200e],
    ["C.8", 0x202e],
    ["C.9", 0xe0001],
    ["C.9", 0xe007f],
  ];
  for (const [table, codePoint] of samples) {
    assertEquals(inStringprepTable(table, codePoint), true, `${table} ${codePoint.toString(16)}`);
    const result = saslprepResult(`a${String.fromCodePoint(codePoint)}b`);
    if (table === "C.1.2") {
      // RFC 4013 §2.1 maps the non-ASCII spaces to U+0020 before the prohibition applies.
      assertEquals(result, { ok: true, value: "a b" });
    } else {
      assertEquals(result, { ok: false, reason: "prohibited", codePoint }, table);
    }
  }
  // Output is checked, not input: U+0340 normalises to U+0300 before the check of table C.8.
  assertEquals(inStringprepTable("C.8", 0x0340), true);
  assertEquals(saslprep("a\u0340"), "\u00E0");
  // A lone low surrogate at the end, and a valid pair that is fine.
  assertEquals(saslprepResult("ab\uDC00"), { ok: false, reason: "prohibited", codePoint: 0xdc00 });
  assertEquals(saslprep("a\u{1F600}"), "a\u{1F600}");
  // Every ASCII control character, and DEL.
  for (let c = 0; c < 0x20; c++) assertEquals(saslprep(`x${String.fromCharCode(c)}`), undefined);
});

Deno.test("RFC 4013 §2.1-2.2: mapping and NFKC as of Unicode 3.2", () => {
  // B.1: every character commonly mapped to nothing disappears.
  for (const [first, last] of stringprepRanges("B.1")) {
    for (let c = first; c <= last; c++) {
      assertEquals(saslprep(`a${String.fromCodePoint(c)}b`), "ab");
    }
  }
  // C.1.2: every non-ASCII space becomes U+0020.
  for (const [first, last] of stringprepRanges("C.1.2")) {
    for (let c = first; c <= last; c++) {
      // U+200B is in both B.1 and C.1.2; B.1 (mapped to nothing) applies.
      assertEquals(saslprep(`a${String.fromCodePoint(c)}b`), c === 0x200b ? "ab" : "a b");
    }
  }
  assertEquals(saslprep("\uFB01x"), "fix");
  assertEquals(saslprep("\u212B\u00C5A\u030A"), "\u00C5\u00C5\u00C5");
  assertEquals(saslprep("\u{1D400}b"), "Ab");
  // The Unicode normalisation corrections after 3.2: 3.2's mapping is kept.
  assertEquals(hex(saslprep("\u{2F868}")), ["2136A"]);
  assertEquals(hex(saslprep("\u{2F874}")), ["5F33"]);
  assertEquals(hex(saslprep("\u{2F91F}")), ["43AB"]);
  assertEquals(hex(saslprep("\u{2F95F}")), ["7AAE"]);
  assertEquals(hex(saslprep("\u{2F9BF}")), ["4D57"]);
  assertEquals(hex(saslprep("\uF951")), ["964B"], "corrected in 3.2 itself");
  // Code points unassigned in 3.2 have no decomposition and combining class 0 there.
  assertEquals(hex(saslprep("\u{1F101}")), ["1F101"], "newer compatibility character kept");
  assertEquals(hex(saslprep("\u0304\u0359")), ["304", "359"], "newer combining mark not reordered");
  assertEquals(hex(saslprep("\u2168\u0221\u00AA")), ["49", "58", "221", "61"]);
});

Deno.test("RFC 3454 §7: unassigned code points pass in queries, not in stored strings", () => {
  for (const c of [0x0221, 0x0870, 0x1f600, 0x9fff, 0xe0000]) {
    const text = `a${String.fromCodePoint(c)}`;
    assertEquals(inStringprepTable("A.1", c), true);
    assertEquals(saslprep(text), text);
    assertEquals(saslprepResult(text, { stored: true }), {
      ok: false,
      reason: "unassigned",
      codePoint: c,
    });
  }
  assertEquals(saslprep("p\u00E4ss w\u00F6rd", { stored: true }), "p\u00E4ss w\u00F6rd");
  // Non-characters are prohibited (C.4), not unassigned (A.1 leaves them out).
  assertEquals(inStringprepTable("A.1", 0xfffe), false);
  assertEquals(saslprepResult("\uFFFE", { stored: true }).ok, false);
});

Deno.test("printable ASCII is returned as is", () => {
  let all = "";
  for (let c = 0x20; c < 0x7f; c++) all += String.fromCharCode(c);
  assertEquals(saslprep(all), all);
  assertEquals(saslprep(""), "");
  assertEquals(saslprep("pencil"), "pencil");
});

/**
 * Size and checksum of every table: [ranges, code points, sum of code points], as computed by
 * Python 3's `stringprep` module (RFC 3454's tables, Unicode 3.2) with
 * `sum(1 for c in range(0x110000) if stringprep.in_table_X(chr(c)))` and the like.
 */
const FINGERPRINTS: Readonly<Record<StringprepTable, readonly [number, number, number]>> = {
  "A.1": [396, 879309, 474270927861],
  "B.1": [8, 27, 1164321],
  "C.1.2": [6, 17, 133104],
  "C.2.1": [2, 33, 623],
  "C.2.2": [11, 62, 1410818],
  "C.3": [3, 137468, 137822040966],
  "C.4": [18, 66, 22133693],
  "C.5": [1, 2048, 115342336],
  "C.6": [1, 5, 327655],
  "C.7": [1, 12, 147330],
  "C.8": [4, 15, 109061],
  "C.9": [2, 97, 89005521],
  "D.1": [34, 1044, 50704970],
  "D.2": [360, 229973, 146139639271],
};

Deno.test("the tables: sizes and checksums, and the matcher agrees at every range boundary", () => {
  for (const table of Object.keys(FINGERPRINTS) as StringprepTable[]) {
    const ranges = stringprepRanges(table);
    let count = 0;
    let sum = 0;
    let previous = -2;
    for (const [first, last] of ranges) {
      assertEquals(first > previous + 1 && last >= first, true, `${table}: sorted, disjoint`);
      previous = last;
      count += last - first + 1;
      sum += ((first + last) * (last - first + 1)) / 2;
      const probes: [number, boolean][] = [
        [first, true],
        [last, true],
        [first - 1, false],
        [last + 1, false],
      ];
      for (const [c, inside] of probes) {
        if (c < 0 || c > 0x10ffff) continue;
        assertEquals(inStringprepTable(table, c), inside, `${table} ${c.toString(16)}`);
      }
    }
    assertEquals([ranges.length, count, sum], [...FINGERPRINTS[table]], table);
  }
  // Spot checks from the RFC's text.
  assertEquals(stringprepRanges("D.1")[0], [0x05be, 0x05be]);
  assertEquals(stringprepRanges("D.1").at(-1), [0xfe76, 0xfefc]);
  assertEquals(stringprepRanges("D.2")[0], [0x0041, 0x005a]);
  assertEquals(stringprepRanges("D.2").at(-1), [0x100000, 0x10fffd]);
  assertEquals(stringprepRanges("A.1").at(-1), [0xe0080, 0xefffd]);
});
