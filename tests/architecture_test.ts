/**
 * Architecture test (testing pyramid item 6): `core/` stays synchronous, deterministic and
 * I/O-free, and `sax-ts` stays behind one file.
 *
 * How it checks: each core file is parsed into a syntax tree (with Deno's lint plugin API, so
 * no extra dependency), and only code is inspected. Comments and string contents are not code:
 * "WebSocket" in a comment or an error message is fine, `new WebSocket(...)` or a type
 * annotation `: WebSocket` is not. Import specifiers are checked separately: only relative
 * paths that stay inside `core/`, and the one XML parser package.
 *
 * Needs `--allow-read` (as `deno task test` gives).
 */

import { assert, assertEquals } from "@std/assert";

const CORE = new URL("../core/", import.meta.url);
const XML_PARSER = "sax-ts";

/** Globals that reach a runtime, a clock, timers, randomness or the network. */
const FORBIDDEN_GLOBALS: ReadonlySet<string> = new Set([
  "Deno",
  "process",
  "require",
  "Bun",
  "globalThis",
  "window",
  "self",
  "setTimeout",
  "setInterval",
  "setImmediate",
  "clearTimeout",
  "clearInterval",
  "queueMicrotask",
  "requestAnimationFrame",
  "performance",
  "crypto",
  "fetch",
  "WebSocket",
  "WebSocketStream",
  "XMLHttpRequest",
  "Date",
  "eval",
  "Function",
]);

/** Members that are forbidden even though their object is not (`Math.random`). */
const FORBIDDEN_MEMBERS: ReadonlySet<string> = new Set(["Math.random", "Date.now"]);

interface Violation {
  readonly file: string;
  readonly offset: number;
  readonly message: string;
}

interface Node {
  readonly type: string;
  readonly parent?: Node;
  readonly range: [number, number];
}
type Identifier = Node & { readonly name: string };
type Member = Node & { readonly object: Node; readonly property: Node; readonly computed: boolean };
type Keyed = Node & { readonly key?: Node; readonly computed?: boolean };
type Sourced = Node & {
  readonly source?: (Node & { readonly value?: unknown }) | null | undefined;
};

/** Whether an identifier is a name in a declaration or a property, not a reference. */
function isPropertyName(node: Identifier): boolean {
  const parent = node.parent;
  if (parent === undefined) return false;
  switch (parent.type) {
    case "MemberExpression": {
      const member = parent as Member;
      return member.property === node && !member.computed;
    }
    case "Property":
    case "MethodDefinition":
    case "PropertyDefinition":
    case "TSPropertySignature":
    case "TSMethodSignature": {
      const keyed = parent as Keyed;
      return keyed.key === node && !keyed.computed;
    }
    case "TSQualifiedName":
      return (parent as Node & { right: Node }).right === node;
    default:
      return false;
  }
}

function memberName(node: Member): string | undefined {
  const object = node.object as Partial<Identifier>;
  const property = node.property as Partial<Identifier>;
  if (node.computed || object.type !== "Identifier" || property.type !== "Identifier") {
    return undefined;
  }
  return `${object.name}.${property.name}`;
}

/** Whether an identifier declares a name (a variable, parameter, function, class or import). */
function isBinding(node: Identifier): boolean {
  const parent = node.parent as (Node & Record<string, unknown>) | undefined;
  if (parent === undefined) return false;
  switch (parent.type) {
    case "VariableDeclarator":
    case "FunctionDeclaration":
    case "FunctionExpression":
    case "ClassDeclaration":
    case "ClassExpression":
    case "TSTypeAliasDeclaration":
    case "TSInterfaceDeclaration":
      return parent.id === node || (Array.isArray(parent.params) && parent.params.includes(node));
    case "ArrowFunctionExpression":
    case "TSMethodSignature":
    case "TSFunctionType":
      return Array.isArray(parent.params) && parent.params.includes(node);
    case "ImportSpecifier":
    case "ImportDefaultSpecifier":
    case "ImportNamespaceSpecifier":
      return parent.local === node;
    case "CatchClause":
      return parent.param === node;
    case "ArrayPattern":
    case "RestElement":
      return true;
    case "AssignmentPattern":
      return parent.left === node;
    case "Property":
      return parent.value === node && parent.parent?.type === "ObjectPattern";
    default:
      return false;
  }
}

/**
 * Checks one source text; `file` is its path relative to the repository root. A forbidden name
 * that the file itself declares (a parameter called `self`, a method called `fetch`) is local,
 * not the global, and is allowed.
 */
export function checkCoreSource(
  file: string,
  source: string,
): { violations: Violation[]; imports: string[] } {
  const violations: Violation[] = [];
  const imports: string[] = [];
  const declared = new Set<string>();
  const suspects: Identifier[] = [];
  const report = (node: Node, message: string) =>
    violations.push({ file, offset: node.range[0], message });
  const checkSpecifier = (node: Sourced) => {
    const source = node.source;
    if (source === undefined || source === null) return;
    if (typeof source.value !== "string") {
      report(node, "a computed import specifier");
      return;
    }
    const specifier = source.value;
    imports.push(specifier);
    if (specifier === XML_PARSER) return;
    if (!specifier.startsWith("./") && !specifier.startsWith("../")) {
      report(
        node,
        `imports '${specifier}' (only relative core files and '${XML_PARSER}' are allowed)`,
      );
      return;
    }
    const target = new URL(specifier, new URL(file, "file:///repo/"));
    if (!target.pathname.startsWith("/repo/core/") || !target.pathname.endsWith(".ts")) {
      report(node, `imports '${specifier}', which is not a TypeScript file under core/`);
    }
  };
  const plugin: Deno.lint.Plugin = {
    name: "architecture",
    rules: {
      core: {
        create() {
          return {
            Identifier(node) {
              const id = node as unknown as Identifier;
              if (!FORBIDDEN_GLOBALS.has(id.name) || isPropertyName(id)) return;
              if (isBinding(id)) declared.add(id.name);
              else suspects.push(id);
            },
            MemberExpression(node) {
              const name = memberName(node as unknown as Member);
              if (name !== undefined && FORBIDDEN_MEMBERS.has(name)) {
                report(node as unknown as Node, `uses '${name}'`);
              }
            },
            ImportDeclaration(node) {
              checkSpecifier(node as unknown as Sourced);
            },
            ExportAllDeclaration(node) {
              checkSpecifier(node as unknown as Sourced);
            },
            ExportNamedDeclaration(node) {
              checkSpecifier(node as unknown as Sourced);
            },
            ImportExpression(node) {
              checkSpecifier(node as unknown as Sourced);
            },
            TSImportType(node) {
              const argument =
                (node as unknown as { argument?: Node & { literal?: Node } }).argument;
              const literal = argument?.literal ?? argument;
              checkSpecifier({
                ...(node as unknown as Node),
                source: literal as Sourced["source"],
              });
            },
            CallExpression(node) {
              const callee = (node as unknown as { callee: Partial<Identifier> }).callee;
              if (callee.type === "Identifier" && callee.name === "require") {
                report(node as unknown as Node, "calls require()");
              }
            },
          };
        },
      },
    },
  };
  Deno.lint.runPlugin(plugin, file, source);
  for (const id of suspects) {
    if (!declared.has(id.name)) report(id, `uses '${id.name}'`);
  }
  violations.sort((a, b) =>
    a.offset - b.offset || (a.message < b.message ? -1 : a.message > b.message ? 1 : 0)
  );
  return { violations, imports };
}

async function coreFiles(dir: URL = CORE, prefix = "core/"): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory) {
      files.push(...await coreFiles(new URL(entry.name + "/", dir), prefix + entry.name + "/"));
    } else if (/\.(ts|tsx|js|mjs|mts|jsx)$/.test(entry.name)) {
      files.push(prefix + entry.name);
    }
  }
  return files.sort();
}

function lineOf(source: string, offset: number): number {
  return source.slice(0, offset).split("\n").length;
}

Deno.test("architecture: core/ touches no runtime, clock, timer, randomness or network", async () => {
  const files = await coreFiles();
  assert(files.length > 10, `found only ${files.length} core files`);
  const problems: string[] = [];
  const saxImporters: string[] = [];
  for (const file of files) {
    const source = await Deno.readTextFile(new URL("../" + file, import.meta.url));
    const { violations, imports } = checkCoreSource(file, source);
    for (const v of violations) problems.push(`${v.file}:${lineOf(source, v.offset)} ${v.message}`);
    if (imports.includes(XML_PARSER)) saxImporters.push(file);
  }
  assertEquals(problems, []);
  // Only one file may import the XML parser (design: "the only importer of sax-ts").
  assert(
    saxImporters.length <= 1,
    `more than one core file imports ${XML_PARSER}: ${saxImporters.join(", ")}`,
  );
  assertEquals(saxImporters, ["core/xml/_sax.ts"]);
});

Deno.test("architecture: the checker itself catches what it must and ignores comments and strings", () => {
  const bad = (source: string, file = "core/x.ts") =>
    checkCoreSource(file, source).violations.map((v) => v.message);
  // Caught in code:
  assertEquals(bad("const t = Date.now();"), ["uses 'Date'", "uses 'Date.now'"]);
  assertEquals(bad("const d = new Date();"), ["uses 'Date'"]);
  assertEquals(bad("performance.now();"), ["uses 'performance'"]);
  assertEquals(bad("setTimeout(() => {}, 1);"), ["uses 'setTimeout'"]);
  assertEquals(bad("const id = setInterval(f, 1);"), ["uses 'setInterval'"]);
  assertEquals(bad("crypto.getRandomValues(b);"), ["uses 'crypto'"]);
  assertEquals(bad("await fetch('https://x');"), ["uses 'fetch'"]);
  assertEquals(bad("const s = new WebSocket('wss://x');"), ["uses 'WebSocket'"]);
  assertEquals(bad("let s: WebSocket | undefined;"), ["uses 'WebSocket'"]);
  assertEquals(bad("Deno.exit(1);"), ["uses 'Deno'"]);
  assertEquals(bad("const t = `${Deno.pid}`;"), ["uses 'Deno'"]);
  assertEquals(bad("globalThis.setTimeout(f);"), ["uses 'globalThis'"]);
  assertEquals(bad("const r = Math.random();"), ["uses 'Math.random'"]);
  assertEquals(bad("import * as fs from 'node:fs';"), [
    "imports 'node:fs' (only relative core files and 'sax-ts' are allowed)",
  ]);
  assertEquals(bad("export * from 'npm:ws';"), [
    "imports 'npm:ws' (only relative core files and 'sax-ts' are allowed)",
  ]);
  assertEquals(bad("const m = await import('node:net');"), [
    "imports 'node:net' (only relative core files and 'sax-ts' are allowed)",
  ]);
  assertEquals(bad("import { x } from '../deno/serve.ts';"), [
    "imports '../deno/serve.ts', which is not a TypeScript file under core/",
  ]);
  assertEquals(bad("import { x } from '../../deno/serve.ts';", "core/xml/x.ts"), [
    "imports '../../deno/serve.ts', which is not a TypeScript file under core/",
  ]);
  assertEquals(bad("import type { X } from 'https://deno.land/x/y.ts';"), [
    "imports 'https://deno.land/x/y.ts' (only relative core files and 'sax-ts' are allowed)",
  ]);
  // Not code, or not the global:
  assertEquals(
    bad(
      [
        "// Deno.exit, setTimeout, Date.now(), WebSocket, fetch(), node:fs",
        "/** `crypto.getRandomValues` and `performance.now()` are never used. */",
        "const text = 'RFC 7395: a WebSocket message; Deno.serve; setTimeout';",
        "const t = `node:fs ${1 + 2} Date.now()`;",
        "class WebSocketFraming { setTimeout(): void {} fetch = 1; }",
        "const o = { crypto: 1, performance: 2 }; o.crypto; o.fetch;",
        "function f(self: boolean, { process }: { process: number }) { return self && process; }",
        "const [window] = [1]; try { f(window); } catch (fetch) { void fetch; }",
        "import { x } from './a.ts'; import { y } from '../core/b.ts'; import { SAXParser } from 'sax-ts';",
      ].join("\n"),
      "core/session/x.ts",
    ),
    [],
  );
});

// ---------------------------------------------------------------------------------------------
// The layout's dependency rules (design card, "Dependency rules"), over the import graph of every
// TypeScript file of the repository (code only: an import in a doc example is not an edge).

/** Folders whose files are part of the graph (the repository's own code). */
const GRAPH_ROOTS = ["core", "deno", "node_adapter", "tests", "bench", "scripts"] as const;
/** Paths left out: installed packages, caches, build output. */
const GRAPH_SKIP = /(^|\/)(node_modules|\.cache|dist|npm_fixture|node_clients)(\/|$)/;
/** The two runtime bindings: neither imports the other. */
const RUNTIME_FOLDERS = ["deno/", "node_adapter/"] as const;
/** The command-line tools: they use the library as a user would. */
const CLI_FOLDER = "deno/cli/";

/** The relative import specifiers of one source text (static, dynamic, re-exports, type imports). */
export function importSpecifiers(file: string, source: string): string[] {
  const found: string[] = [];
  const add = (node: Sourced) => {
    const value = node.source?.value;
    if (typeof value === "string") found.push(value);
  };
  const plugin: Deno.lint.Plugin = {
    name: "imports",
    rules: {
      imports: {
        create() {
          return {
            ImportDeclaration: (node) => add(node as unknown as Sourced),
            ExportAllDeclaration: (node) => add(node as unknown as Sourced),
            ExportNamedDeclaration: (node) => add(node as unknown as Sourced),
            ImportExpression: (node) => add(node as unknown as Sourced),
            TSImportType(node) {
              const argument =
                (node as unknown as { argument?: Node & { literal?: Node } }).argument;
              add({
                ...(node as unknown as Node),
                source: (argument?.literal ?? argument) as Sourced["source"],
              });
            },
          };
        },
      },
    },
  };
  Deno.lint.runPlugin(plugin, file, source);
  return found;
}

/** The repository-relative file an import names, or `undefined` for a package import. */
export function resolveImport(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith("./") && !specifier.startsWith("../")) return undefined;
  const url = new URL(specifier, new URL(from, "file:///repo/"));
  return url.pathname.startsWith("/repo/") ? url.pathname.slice("/repo/".length) : url.pathname;
}

/** The folder of a repository-relative path (`""` at the top). */
function folderOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash + 1);
}

/** The problems of one import edge under the layout rules (empty when it is allowed). */
export function edgeProblems(from: string, to: string, entryPoints: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const name = to.slice(to.lastIndexOf("/") + 1);
  if (name.startsWith("_") && folderOf(to) !== folderOf(from)) {
    problems.push(`${from} imports ${to}, a private file of another folder`);
  }
  for (const folder of RUNTIME_FOLDERS) {
    const other = RUNTIME_FOLDERS.find((f) => f !== folder)!;
    if (from.startsWith(folder) && to.startsWith(other)) {
      problems.push(`${from} imports ${to}: one runtime binding imports the other`);
    }
  }
  if (from.startsWith(CLI_FOLDER) && !to.startsWith(CLI_FOLDER) && !entryPoints.has(to)) {
    problems.push(`${from} imports ${to}: the CLI uses only the package's entry points`);
  }
  const runtimeOrCore = ["core/", ...RUNTIME_FOLDERS].some((f) => from.startsWith(f));
  if (runtimeOrCore && /^(tests|bench|scripts)\//.test(to)) {
    problems.push(`${from} imports ${to}: the library depends on no test, bench or script`);
  }
  return problems;
}

/** Every import cycle of a graph, each as the path that closes it (`a -> b -> a`). */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      const seen = state.get(next);
      if (seen === "open") cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (seen === undefined) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

async function repositoryFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(new URL(`../${dir}/`, import.meta.url))) {
    const path = `${dir}/${entry.name}`;
    if (GRAPH_SKIP.test(path)) continue;
    if (entry.isDirectory) files.push(...await repositoryFiles(path));
    else if (/\.(ts|tsx|mts)$/.test(entry.name)) files.push(path);
  }
  return files;
}

async function importGraph(): Promise<Map<string, string[]>> {
  const files = ["mod.ts"];
  for (const root of GRAPH_ROOTS) files.push(...await repositoryFiles(root));
  const graph = new Map<string, string[]>();
  for (const file of files.sort()) {
    const source = await Deno.readTextFile(new URL(`../${file}`, import.meta.url));
    const targets = importSpecifiers(file, source)
      .map((specifier) => resolveImport(file, specifier))
      .filter((target): target is string => target !== undefined);
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

async function entryPoints(): Promise<Set<string>> {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  return new Set(
    Object.values(config.exports as Record<string, string>).map((p) => p.replace(/^\.\//, "")),
  );
}

Deno.test("architecture: no runtime binding imports the other, no file imports another folder's _ file, the CLI uses entry points only", async () => {
  const graph = await importGraph();
  assert(graph.size > 100, `found only ${graph.size} files`);
  assert(graph.has("deno/serve.ts") && graph.has("node_adapter/serve.ts"));
  const entries = await entryPoints();
  const problems: string[] = [];
  for (const [from, targets] of graph) {
    for (const to of targets) problems.push(...edgeProblems(from, to, entries));
  }
  assertEquals(problems, []);
});

/**
 * Cycles that exist today and are owned elsewhere: type-only (`import type { Stepper }`), in the
 * client reducer being reworked (issue 11, one reducer contract). The test fails on any other
 * cycle, and on an entry here that no longer exists (so that the list only shrinks).
 */
const KNOWN_CYCLES: readonly string[] = [
  "core/client/_stepper.ts -> core/client/_stream.ts -> core/client/_stepper.ts",
  "core/client/_stepper.ts -> core/client/_endings.ts -> core/client/_stepper.ts",
];

Deno.test("architecture: no import cycle among the repository's TypeScript files", async () => {
  const graph = await importGraph();
  const cycles = findCycles(graph).map((cycle) => cycle.join(" -> "));
  assertEquals(cycles.filter((cycle) => !KNOWN_CYCLES.includes(cycle)), []);
  assertEquals(KNOWN_CYCLES.filter((cycle) => !cycles.includes(cycle)), [], "stale KNOWN_CYCLES");
});

Deno.test("architecture: the layout checks catch what they must", () => {
  const entries = new Set(["core/mod.ts", "deno/mod.ts"]);
  assertEquals(edgeProblems("node_adapter/serve.ts", "deno/serve.ts", entries), [
    "node_adapter/serve.ts imports deno/serve.ts: one runtime binding imports the other",
  ]);
  assertEquals(edgeProblems("deno/x.ts", "node_adapter/_types.ts", entries), [
    "deno/x.ts imports node_adapter/_types.ts, a private file of another folder",
    "deno/x.ts imports node_adapter/_types.ts: one runtime binding imports the other",
  ]);
  assertEquals(edgeProblems("deno/strict/listener.ts", "deno/_types.ts", entries), [
    "deno/strict/listener.ts imports deno/_types.ts, a private file of another folder",
  ]);
  assertEquals(edgeProblems("tests/browser/a_test.ts", "tests/deno/_helper.ts", entries), [
    "tests/browser/a_test.ts imports tests/deno/_helper.ts, a private file of another folder",
  ]);
  assertEquals(edgeProblems("deno/cli/main.ts", "deno/serve.ts", entries), [
    "deno/cli/main.ts imports deno/serve.ts: the CLI uses only the package's entry points",
  ]);
  assertEquals(edgeProblems("core/x.ts", "tests/_support/y.ts", entries), [
    "core/x.ts imports tests/_support/y.ts: the library depends on no test, bench or script",
  ]);
  // Allowed: a private file of the same folder, a public file of another, an entry point.
  assertEquals(edgeProblems("deno/serve.ts", "deno/_runtime.ts", entries), []);
  assertEquals(edgeProblems("deno/cli/probe.ts", "deno/cli/_ws.ts", entries), []);
  assertEquals(edgeProblems("deno/cli/probe.ts", "core/mod.ts", entries), []);
  assertEquals(edgeProblems("node_adapter/serve.ts", "core/endpoint/settings.ts", entries), []);
  // Cycles, with the path that closes each; none in a tree.
  const graph = new Map([
    ["deno/gateway.ts", ["deno/_gateway_setup.ts"]],
    ["deno/_gateway_setup.ts", ["deno/gateway.ts", "core/mod.ts"]],
    ["core/mod.ts", []],
    ["a.ts", ["b.ts"]],
    ["b.ts", ["c.ts"]],
    ["c.ts", ["a.ts"]],
  ]);
  assertEquals(findCycles(graph), [
    ["a.ts", "b.ts", "c.ts", "a.ts"],
    ["deno/_gateway_setup.ts", "deno/gateway.ts", "deno/_gateway_setup.ts"],
  ]);
  assertEquals(findCycles(new Map([["x.ts", ["y.ts"]], ["y.ts", []]])), []);
  // Only code counts: an import in a comment or a string is not an edge.
  assertEquals(
    importSpecifiers(
      "deno/x.ts",
      [
        "/** import { a } from '../node_adapter/_a.ts'; */",
        "const s = \"import('../node_adapter/b.ts')\";",
        "import { c } from './c.ts';",
        "export { d } from '../core/d.ts';",
        "const e = await import('./e.ts');",
        "type F = import('./f.ts').F;",
      ].join("\n"),
    ),
    ["./c.ts", "../core/d.ts", "./e.ts", "./f.ts"],
  );
});
