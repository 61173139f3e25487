// Builds the npm package `xmpp-websocket` from this repository (run by scripts/build_npm.sh).
//
// Usage: node scripts/build_npm.mjs [--out <dir>] [--cache <dir>]
//   --out    the package folder to (re)create (default: dist/npm; git-ignored)
//   --cache  where the build tools are installed with npm (default: $XMPP_WS_BUILD_CACHE, else
//            .cache/build_npm; git-ignored). Reinstalled only when the pinned versions change.
//
// How: esbuild (pinned below) transpiles every TypeScript file reachable from the package's entry
// points into one ESM .js file each (same tree under lib/, relative imports rewritten from .ts to
// .js, `sax-ts` and `ws` left as dependencies, the few `@std/*` helpers of deno.json inlined from
// the `deno-std` package so that nothing but `sax-ts` and `ws` is needed at run time); tsc
// (TypeScript, pinned below) writes the .d.ts declarations beside them; package.json gets the
// version of deno.json and the dependency versions of its import map. bin/xmpp-websocket.js runs
// node_adapter/main.ts: the gateway or the embedded server, with the options of `deno task start`.

import { execFileSync } from "node:child_process";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import process from "node:process";

const TOOLS = { esbuild: "0.28.2", typescript: "5.9.3", "@types/node": "20.19.43" };
const NAME = "xmpp-websocket";
const COMMAND = "xmpp-websocket";
/** Export key -> source file. `.` is the pure core (runs anywhere, browsers included). */
const ENTRIES = {
  ".": "core/mod.ts",
  "./node": "node_adapter/mod.ts",
  "./client": "deno/client.ts",
};
const BIN_SOURCE = "node_adapter/main.ts";
/** Packages of deno.json's import map needed by the JavaScript at run time. */
const RUNTIME_DEPENDENCIES = ["sax-ts", "ws"];

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function parseArgs(argv) {
  const options = {
    out: join(ROOT, "dist", "npm"),
    cache: process.env.XMPP_WS_BUILD_CACHE || join(ROOT, ".cache", "build_npm"),
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if ((flag === "--out" || flag === "--cache") && value) {
      options[flag.slice(2)] = resolve(value);
      i++;
    } else {
      throw new Error(
        `unknown argument '${flag}' (usage: build_npm [--out <dir>] [--cache <dir>])`,
      );
    }
  }
  return options;
}

/** deno.json's `npm:` imports as { specifier: { pkg, version, subpath } }. */
function npmImports(denoJson) {
  const result = {};
  for (const [name, target] of Object.entries(denoJson.imports ?? {})) {
    const match = /^npm:(@?[^@/]+(?:\/[^@/]+)?)@([^/]+)(\/.*)?$/.exec(target);
    if (match) result[name] = { pkg: match[1], version: match[2], subpath: match[3] ?? "" };
  }
  return result;
}

function pinOf(imports, pkg) {
  const found = Object.values(imports).find((i) => i.pkg === pkg);
  if (!found) throw new Error(`deno.json maps no import to npm:${pkg}@<version>`);
  return found.version;
}

/** Installs the tools (and the packages' types and sources) into `cache` unless already there. */
function installTools(cache, imports) {
  const dependencies = { ...TOOLS };
  for (const pkg of [...RUNTIME_DEPENDENCIES, "@types/ws", "deno-std"]) {
    dependencies[pkg] = pinOf(imports, pkg);
  }
  const manifest = { name: "xmpp-websocket-build-tools", private: true, dependencies };
  const text = JSON.stringify(manifest, null, 2) + "\n";
  const stamp = join(cache, "node_modules", ".xmpp-websocket-stamp.json");
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === text) return;
  mkdirSync(cache, { recursive: true });
  writeFileSync(join(cache, "package.json"), text);
  console.error(`build_npm: installing ${Object.keys(dependencies).join(", ")} into ${cache}`);
  execFileSync("npm", [
    "install",
    "--no-audit",
    "--no-fund",
    "--loglevel=error",
    "--prefer-offline",
  ], {
    cwd: cache,
    stdio: ["ignore", "ignore", "inherit"],
  });
  writeFileSync(stamp, text);
}

/** Refuses to delete anything but an earlier build (or an empty folder). */
function cleanOut(out) {
  if (ROOT.startsWith(out + sep) || out === ROOT) {
    throw new Error(`--out ${out} contains the repository`);
  }
  if (existsSync(out)) {
    const entries = readdirSync(out);
    const manifest = join(out, "package.json");
    const ours = existsSync(manifest) && JSON.parse(readFileSync(manifest, "utf8")).name === NAME;
    if (entries.length > 0 && !ours) {
      throw new Error(`--out ${out} is not empty and not a build of ${NAME}`);
    }
    rmSync(out, { recursive: true, force: true });
  }
  mkdirSync(out, { recursive: true });
}

/** esbuild aliases: `@std/...` -> the file of the deno-std package in the cache. */
function stdAliases(cache, imports) {
  const aliases = {};
  for (const [name, { pkg, subpath }] of Object.entries(imports)) {
    if (pkg !== "deno-std") continue;
    const file = join(cache, "node_modules", pkg, subpath);
    if (!existsSync(file)) throw new Error(`${name}: ${file} is missing`);
    aliases[name] = file;
  }
  return aliases;
}

/** Every repository file reached from the entry points at run time (type-only imports excluded). */
async function sourceGraph(esbuild, aliases, entries) {
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: entries,
    bundle: true,
    write: false,
    metafile: true,
    outdir: "/nonexistent", // nothing is written
    format: "esm",
    platform: "node",
    target: "node20",
    external: RUNTIME_DEPENDENCIES,
    alias: aliases,
    logLevel: "error",
  });
  return Object.keys(result.metafile.inputs)
    .filter((path) => path.endsWith(".ts") && !path.includes("node_modules"))
    .sort();
}

/** One .js per source file: relative imports stay imports (to .js), `@std/*` is inlined. */
async function transpile(esbuild, aliases, files, lib) {
  const perFile = {
    name: "per-file",
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        if (args.kind === "entry-point" || args.importer.includes(`${sep}node_modules${sep}`)) {
          return;
        }
        if (!args.path.endsWith(".ts")) {
          throw new Error(`${args.importer}: import '${args.path}' is not a .ts file`);
        }
        return { path: args.path.replace(/\.ts$/, ".js"), external: true };
      });
    },
  };
  await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: files,
    outbase: ROOT,
    outdir: lib,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    charset: "utf8",
    legalComments: "inline",
    external: RUNTIME_DEPENDENCIES,
    alias: aliases,
    plugins: [perFile],
    logLevel: "error",
  });
}

/** .d.ts files with tsc (type errors are `deno check`'s business: declarations only here). */
function declarations(cache, files, lib, imports) {
  const modules = join(cache, "node_modules");
  const paths = {
    "sax-ts": [join(modules, "sax-ts")],
    ws: [join(modules, "@types", "ws")],
  };
  for (const [name, { pkg, subpath }] of Object.entries(imports)) {
    if (pkg === "deno-std") paths[name] = [join(modules, pkg, subpath)];
  }
  const tsconfig = {
    compilerOptions: {
      target: "ES2022",
      module: "ESNext",
      moduleResolution: "Bundler",
      lib: ["ES2022", "DOM", "DOM.Iterable"],
      types: ["node"],
      typeRoots: [join(modules, "@types")],
      paths,
      strict: true,
      exactOptionalPropertyTypes: true,
      declaration: true,
      emitDeclarationOnly: true,
      noCheck: true,
      allowImportingTsExtensions: true,
      rewriteRelativeImportExtensions: true,
      skipLibCheck: true,
      rootDir: ROOT,
      outDir: lib,
    },
    files,
  };
  const config = join(cache, "tsconfig.npm.json");
  writeFileSync(config, JSON.stringify(tsconfig, null, 2));
  const tsc = join(modules, "typescript", "bin", "tsc");
  execFileSync(process.execPath, [tsc, "--project", config], { cwd: ROOT, stdio: "inherit" });
  // Relative `.ts` specifiers become `.js`, as in the JavaScript; the Deno bindings' types
  // (`Deno.NetAddr`, ...) come from a local module, not from a global `Deno` Node users lack.
  writeFileSync(join(lib, DENO_TYPES_FILE), DENO_TYPES);
  for (const file of walk(lib)) {
    if (!file.endsWith(".d.ts") || file.endsWith(DENO_TYPES_FILE)) continue;
    const text = readFileSync(file, "utf8");
    let fixed = text.replace(
      /((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']*)\.ts(["'])/g,
      "$1$2.js$3",
    );
    const code = fixed.split("\n").filter((line) => !/^\s*(\*|\/\*\*|\/\/)/.test(line)).join("\n");
    const used = new Set([...code.matchAll(/\bDeno\.([A-Z]\w*)/g)].map((m) => m[1]));
    if (used.size > 0) {
      const missing = [...used].filter((name) => !DENO_TYPES.includes(`interface ${name}`));
      if (missing.length > 0) {
        throw new Error(`${file}: add Deno.${missing.join(", Deno.")} to DENO_TYPES`);
      }
      let rel = relative(dirname(file), join(lib, DENO_TYPES_FILE)).split(sep).join("/");
      if (!rel.startsWith(".")) rel = `./${rel}`;
      fixed = `import type * as Deno from "${rel.replace(/\.d\.ts$/, ".js")}";\n${fixed}`;
    }
    if (fixed !== text) writeFileSync(file, fixed);
  }
}

const DENO_TYPES_FILE = "_deno_types.d.ts";
/** The shapes of the few Deno types that the Deno bindings' declarations name (types only). */
const DENO_TYPES = `/**
 * The shapes of the Deno types named in the declarations of the Deno bindings (deno/), which the
 * Node entry points reach through shared types. Types only: nothing here exists at run time.
 * @module
 */
export interface NetAddr {
  transport: "tcp" | "udp";
  hostname: string;
  port: number;
}
export interface Conn extends Disposable {
  readonly localAddr: NetAddr;
  readonly remoteAddr: NetAddr;
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
  ref(): void;
  unref(): void;
}
export interface ServeHandlerInfo<Addr = NetAddr> {
  remoteAddr: Addr;
  completed: Promise<void>;
}
export interface HttpServer<Addr = NetAddr> extends AsyncDisposable {
  finished: Promise<void>;
  addr: Addr;
  ref(): void;
  unref(): void;
  shutdown(): Promise<void>;
}
`;

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}

function packageJson(denoJson, imports) {
  const exportsMap = {};
  for (const [key, source] of Object.entries(ENTRIES)) {
    const base = `./lib/${source.replace(/\.ts$/, "")}`;
    exportsMap[key] = { types: `${base}.d.ts`, default: `${base}.js` };
  }
  exportsMap["./package.json"] = "./package.json";
  const dependencies = {};
  for (const pkg of RUNTIME_DEPENDENCIES) dependencies[pkg] = pinOf(imports, pkg);
  return {
    name: NAME,
    version: denoJson.version,
    description:
      "XMPP over WebSocket (RFC 7395): a gateway in front of any XMPP server, an embedded server, a client, and a pure I/O-free core",
    license: denoJson.license,
    type: "module",
    main: exportsMap["."].default,
    types: exportsMap["."].types,
    exports: exportsMap,
    bin: { [COMMAND]: `./bin/${COMMAND}.js` },
    files: ["lib/", "bin/", "README.md", "LICENSE"],
    engines: { node: ">=20" },
    keywords: ["xmpp", "websocket", "rfc7395", "gateway", "jabber"],
    dependencies,
    sideEffects: false,
  };
}

const BIN = `#!/usr/bin/env node
// ${COMMAND}: the gateway (with --upstream) or the embedded XMPP server; see --help.
import process from "node:process";
import { main } from "../lib/${BIN_SOURCE.replace(/\.ts$/, ".js")}";

process.exitCode = await main(process.argv.slice(2), process.env);
`;

async function build() {
  const { out, cache } = parseArgs(process.argv.slice(2));
  const denoJson = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8"));
  const imports = npmImports(denoJson);
  installTools(cache, imports);
  const esbuild = createRequire(join(cache, "package.json"))("esbuild");
  cleanOut(out);
  const lib = join(out, "lib");
  const aliases = stdAliases(cache, imports);
  const files = await sourceGraph(esbuild, aliases, [...Object.values(ENTRIES), BIN_SOURCE]);
  await transpile(esbuild, aliases, files, lib);
  declarations(cache, files.map((f) => join(ROOT, f)), lib, imports);
  mkdirSync(join(out, "bin"));
  writeFileSync(join(out, "bin", `${COMMAND}.js`), BIN);
  chmodSync(join(out, "bin", `${COMMAND}.js`), 0o755);
  writeFileSync(
    join(out, "package.json"),
    JSON.stringify(packageJson(denoJson, imports), null, 2) + "\n",
  );
  cpSync(join(ROOT, "README.md"), join(out, "README.md"));
  cpSync(join(ROOT, "LICENSE"), join(out, "LICENSE"));
  // Smoke check: every entry point loads under this Node, with the dependencies from the cache.
  const modules = join(out, "node_modules");
  symlinkSync(join(cache, "node_modules"), modules);
  try {
    for (const source of Object.values(ENTRIES)) {
      const url = pathToFileURL(join(lib, source.replace(/\.ts$/, ".js"))).href;
      await import(url).catch((error) => {
        throw new Error(`${relative(ROOT, fileURLToPath(url))} does not load: ${error.message}`);
      });
    }
  } finally {
    rmSync(modules);
  }
  console.error(`build_npm: ${NAME}@${denoJson.version} in ${out} (${files.length} modules)`);
}

build().catch((error) => {
  console.error(`build_npm: ${error instanceof Error ? error.message : error}`);
  process.exitCode = 1;
});
