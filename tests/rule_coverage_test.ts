/**
 * Fails when a rule of §1 of the RFC 7395 digest that binds a client (C), a server (S) or both
 * (B) has neither a transcript vector (`tests/vectors/<rule>-*.json`) nor an entry in
 * `tests/vectors/ELSEWHERE.json` naming tests, by file and exact name, that the file registers
 * (`Deno.test` / `t.step` with that literal name). A rule binding both sides that is covered by
 * vectors needs vectors for both roles. A rule the digest defines as the conjunction of others
 * (#5: rules 6 to 51) is covered when each of them is; no rule is waived.
 *
 * Needs `--allow-read` for `tests/vectors/` and the digest (as `deno task test` grants).
 *
 * @module
 */

import { assert, assertEquals } from "@std/assert";

/**
 * The requirements digest the rule numbers come from, kept in the repository
 * (`tests/vectors/rfc7395-digest.md`, a copy of the team's shared spec) so that a clean clone
 * tests against it.
 */
export const DIGEST_URL: URL = new URL("./vectors/rfc7395-digest.md", import.meta.url);
const VECTOR_DIR = new URL("./vectors/", import.meta.url);

/** One row of the digest's §1 checklist. */
export interface DigestRule {
  readonly rule: number;
  /** The Binds column as written (`C`, `S`, `B (sender)`, `B / deploy`, `S / C`, ...). */
  readonly binds: string;
}

/**
 * Parses the §1 table ("RFC 7395 normative checklist") of the digest. Throws an `Error`
 * naming what it could not find when the table's layout has changed.
 *
 * @example
 * ```ts
 * const rules = parseDigestRules("## 1. X\n\n| # | § | Key | Binds |\n|---|---|---|---|\n| 1 | 7395 §3.1 | MUST | C |\n");
 * console.log(rules); // [{ rule: 1, binds: "C" }]
 * ```
 */
export function parseDigestRules(markdown: string): DigestRule[] {
  const lines = markdown.split(/\r?\n/);
  const start = lines.findIndex((line) => /^##\s+1\.\s/.test(line));
  if (start < 0) throw new Error("The digest has no '## 1.' section");
  const rules: DigestRule[] = [];
  let bindsColumn = -1;
  for (const line of lines.slice(start + 1)) {
    if (/^##\s/.test(line)) break;
    if (!line.startsWith("|")) continue;
    const cells = line.split("|").map((cell) => cell.trim());
    if (cells[1] === "#") {
      bindsColumn = cells.indexOf("Binds");
      continue;
    }
    const number = /^(\d+)$/.exec(cells[1] ?? "");
    if (number === null) continue;
    if (bindsColumn < 0) throw new Error("The §1 table has no 'Binds' column in its header row");
    rules.push({ rule: Number(number[1]), binds: cells[bindsColumn] ?? "" });
  }
  if (rules.length === 0) throw new Error("The digest's §1 section holds no numbered table rows");
  return rules;
}

/**
 * Whether a Binds cell names a client, a server or both (a `C`, `S` or `B` token).
 *
 * @example
 * ```ts
 * console.log(bindsAnEndpoint("B / deploy"), bindsAnEndpoint("deploy")); // true false
 * ```
 */
export function bindsAnEndpoint(binds: string): boolean {
  return /(^|[^A-Za-z])[CSB]([^A-Za-z]|$)/.test(binds);
}

/**
 * Whether a Binds cell binds both sides (a `B` token).
 *
 * @example
 * ```ts
 * console.log(bindsBoth("B (receiver)"), bindsBoth("S / C")); // true false
 * ```
 */
export function bindsBoth(binds: string): boolean {
  return /(^|[^A-Za-z])B([^A-Za-z]|$)/.test(binds);
}

function readDigest(): string {
  try {
    return Deno.readTextFileSync(DIGEST_URL);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        `The RFC 7395 digest is missing at ${DIGEST_URL.pathname}: rule coverage cannot be checked ` +
          "(nothing is skipped; restore the digest or fix DIGEST_URL)",
      );
    }
    throw error;
  }
}

/** The role of every vector file, by rule number. */
function vectorRoles(): Map<number, Set<string>> {
  const roles = new Map<number, Set<string>>();
  for (const entry of Deno.readDirSync(VECTOR_DIR)) {
    if (!entry.isFile || !entry.name.endsWith(".json") || entry.name === "ELSEWHERE.json") continue;
    const match = /^(\d+)-/.exec(entry.name);
    if (match === null) throw new Error(`Vector file ${entry.name} does not start with '<rule>-'`);
    const data: unknown = JSON.parse(Deno.readTextFileSync(new URL(entry.name, VECTOR_DIR)));
    const role = typeof data === "object" && data !== null && "role" in data
      ? String(data.role)
      : "?";
    const rule = Number(match[1]);
    if (!roles.has(rule)) roles.set(rule, new Set());
    roles.get(rule)!.add(role);
  }
  return roles;
}

/** An entry of `tests/vectors/ELSEWHERE.json`: why the rule lives outside the vectors. */
export interface ElsewhereEntry {
  readonly why: string;
  /** Test file -> exact names of tests registered in it (`Deno.test` or `t.step`). */
  readonly tests?: Readonly<Record<string, readonly string[]>>;
  /** The rule is the conjunction of rules `[from, to]`: covered when each of them is. */
  readonly conjunctionOf?: readonly [number, number];
}

function readElsewhere(): Record<string, ElsewhereEntry> {
  const data: unknown = JSON.parse(Deno.readTextFileSync(new URL("ELSEWHERE.json", VECTOR_DIR)));
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new Error(
      'tests/vectors/ELSEWHERE.json must hold an object { "<rule>": { why, tests } }',
    );
  }
  return data as Record<string, ElsewhereEntry>;
}

/**
 * The names of the tests a file registers: the string literal (no substitution) given to
 * `Deno.test(`, `Deno.test({ name:` or `t.step(`. A name built at run time is not listed, so
 * an ELSEWHERE entry can only name a test that is written out in its file.
 *
 * @example
 * ```ts
 * const src = 'Deno.test("a", () => {});\nDeno.test({ name: "b", fn() {} });\nawait t.step("c", f);';
 * console.log(registeredTestNames(src)); // ["a", "b", "c"]
 * ```
 */
export function registeredTestNames(source: string): string[] {
  const names: string[] = [];
  const call =
    /(?:\bDeno\.test\(\s*(?:\{\s*name:\s*)?|\bt\.step\(\s*)(["'`])((?:\\.|(?!\1)[^\\])*)\1/g;
  for (const match of source.matchAll(call)) {
    const [, quote, raw] = match as unknown as [string, string, string];
    if (quote === "`" && raw.includes("${")) continue;
    names.push(raw.replace(/\\(.)/g, "$1"));
  }
  return names;
}

/** Problems with the tests an entry names: missing files, names no file registers. */
function unregistered(rule: string, entry: ElsewhereEntry): string[] {
  const problems: string[] = [];
  for (const [file, names] of Object.entries(entry.tests ?? {})) {
    if (!/^tests\/[\w/.-]+_test\.ts$/.test(file)) {
      problems.push(`ELSEWHERE '${rule}' names ${file}, which is not a test file`);
      continue;
    }
    let source: string;
    try {
      source = Deno.readTextFileSync(new URL(`../${file}`, import.meta.url));
    } catch {
      problems.push(`ELSEWHERE '${rule}' names ${file}, which does not exist`);
      continue;
    }
    const registered = new Set(registeredTestNames(source));
    for (const name of names) {
      if (!registered.has(name)) {
        problems.push(`ELSEWHERE '${rule}' names "${name}", which ${file} does not register`);
      }
    }
  }
  return problems;
}

/** Whether an ELSEWHERE entry names at least one test. */
function namesATest(entry: ElsewhereEntry | undefined): boolean {
  return Object.values(entry?.tests ?? {}).some((names) => names.length > 0);
}

Deno.test("rule coverage: every C/S/B rule of the digest has a vector or a named registered test", () => {
  const rules = parseDigestRules(readDigest());
  const roles = vectorRoles();
  const elsewhere = readElsewhere();
  const covered = new Map<number, boolean>();
  const missing: string[] = [];
  for (const { rule, binds } of rules) {
    const entry = elsewhere[String(rule)];
    const vectorRolesOfRule = roles.get(rule);
    const reasons: string[] = [];
    if (entry?.conjunctionOf !== undefined) {
      covered.set(rule, true); // settled below, once every rule is known
      continue;
    }
    if (namesATest(entry)) {
      reasons.push(...unregistered(String(rule), entry!));
    } else if (vectorRolesOfRule === undefined) {
      reasons.push(`no tests/vectors/${rule}-*.json and no ELSEWHERE entry naming a test`);
    } else if (bindsBoth(binds)) {
      for (const role of ["client", "server"]) {
        if (!vectorRolesOfRule.has(role)) reasons.push(`no ${role} vector`);
      }
    }
    covered.set(rule, reasons.length === 0);
    if (bindsAnEndpoint(binds)) {
      for (const reason of reasons) missing.push(`#${rule} (binds ${binds}): ${reason}`);
    }
  }
  for (const { rule, binds } of rules) {
    const range = elsewhere[String(rule)]?.conjunctionOf;
    if (range === undefined) continue;
    const [from, to] = range;
    for (let part = from; part <= to; part++) {
      if (part === rule || !covered.has(part)) {
        missing.push(`#${rule} (binds ${binds}): conjunction names #${part}, not a rule`);
      } else if (!covered.get(part)) {
        const partBinds = rules.find((r) => r.rule === part)!.binds;
        if (bindsAnEndpoint(partBinds)) missing.push(`#${rule}: its part #${part} is not covered`);
      }
    }
  }
  assertEquals(missing, [], `Uncovered rules:\n  ${missing.join("\n  ")}`);
});

Deno.test("rule coverage: ELSEWHERE entries and vector names refer to rules of the digest", () => {
  const rules = new Set(parseDigestRules(readDigest()).map((r) => r.rule));
  const problems: string[] = [];
  for (const [key, entry] of Object.entries(readElsewhere())) {
    if (!/^\d+$/.test(key) || !rules.has(Number(key))) {
      problems.push(`ELSEWHERE key '${key}' is not a rule of §1`);
    }
    if (typeof entry?.why !== "string" || entry.why.trim() === "") {
      problems.push(`ELSEWHERE '${key}' gives no reason ('why')`);
      continue;
    }
    if (/planned|umbrella/i.test(entry.why)) {
      problems.push(`ELSEWHERE '${key}' points to planned work or waives the rule`);
    }
    problems.push(...unregistered(key, entry));
  }
  for (const rule of vectorRoles().keys()) {
    if (!rules.has(rule)) problems.push(`vectors exist for #${rule}, which is not a rule of §1`);
  }
  assertEquals(problems, []);
});

Deno.test("rule coverage: registered test names are read from the source as the runner sees them", () => {
  const source = [
    'Deno.test("plain", () => {});',
    "Deno.test('single \\'quoted\\'', () => {});",
    'Deno.test({ name: "object form", fn() {} });',
    'await t.step("a step", async () => {});',
    "Deno.test(`${label}: built at run time`, () => {});",
    '// Deno.tests("not a call")',
  ].join("\n");
  assertEquals(registeredTestNames(source), [
    "plain",
    "single 'quoted'",
    "object form",
    "a step",
  ]);
  // A name that is only mentioned, not registered, does not count.
  assertEquals(registeredTestNames('const x = "#41 keepalive";'), []);
});

Deno.test("rule coverage: the digest table parses as rules 1..N", () => {
  const numbers = parseDigestRules(readDigest()).map((r) => r.rule);
  assert(numbers.length >= 50, `expected about 51 rules, parsed ${numbers.length}`);
  assertEquals(numbers, numbers.map((_, i) => i + 1), "rule numbers are not consecutive from 1");
});
