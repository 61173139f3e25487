/**
 * The hostile suite's messages (tests/security/_cases.ts) through both validators of the
 * gateway's relay path: {@link ElementChecker} and DocumentParser (sax-ts) must agree on each
 * (issue 10: relaying raw text never lets through what the tree path refuses).
 */

import { assert, assertEquals } from "@std/assert";
import { CASES, fill, SUITE_LIMITS } from "./_cases.ts";
import { compare, pair } from "../_support/element_diff.ts";

Deno.test("element check: the hostile suite's messages agree with DocumentParser", () => {
  const jids = { self: "alice@localhost/x", bystander: "bob@localhost/y" };
  const pairs = [pair(), pair(SUITE_LIMITS)];
  const known = new Map<string, number>();
  const failures: string[] = [];
  let texts = 0;
  for (const c of CASES) {
    for (const m of c.send) {
      if (typeof m !== "string") continue;
      const text = fill(m, jids);
      texts++;
      for (const p of pairs) {
        const problem = compare(p, text, known);
        if (problem !== undefined) {
          failures.push(`${c.name}: ${JSON.stringify(text.slice(0, 300))}: ${problem}`);
        }
      }
    }
  }
  console.log(
    `${texts} hostile texts; known differences: ${JSON.stringify(Object.fromEntries(known))}`,
  );
  assert(texts > 300);
  assertEquals(failures, []);
});
