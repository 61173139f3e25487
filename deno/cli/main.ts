/**
 * Command-line tools for any XMPP-over-WebSocket (RFC 7395) endpoint:
 *
 * - `probe <url|domain>`: connect (directly, or through XEP-0156 discovery) and print the whole
 *   framing transcript with timings, SASL payloads redacted, like `curl -v`;
 * - `conformance <url>`: run the RFC 7395 server checks and print a pass/fail table citing the
 *   rule numbers of the requirements digest;
 * - `send <url|domain>`: log in, send one message, wait briefly for a bounce (exit code 1), close.
 *
 * Exit codes: 0 all went well (every check passed), 1 a check or an XMPP step failed, 2 usage
 * error or unreachable endpoint.
 *
 * ```sh
 * deno run --allow-net --allow-read --allow-env deno/cli/main.ts conformance ws://127.0.0.1:5280/xmpp-websocket --domain localhost
 * ```
 *
 * @example
 * ```ts
 * import { cli } from "./main.ts";
 * const out: string[] = [];
 * const code = await cli(["probe"], { stdout: (t) => out.push(t), stderr: (t) => out.push(t), env: {} });
 * console.log(code); // 2: the endpoint is missing
 * ```
 * @module
 */

import { parseArgs } from "@std/cli";
import {
  type CheckResult,
  CHECKS,
  conformance,
  formatRow,
  formatTable,
  tableHeader,
} from "./conformance.ts";
import { probe, type ProbeOptions } from "./probe.ts";
import { formatEntry } from "./transcript.ts";

/** Where the tools write, and the environment they read (`XMPP_WS_PASSWORD`). */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
}

interface CommandSpec {
  readonly usage: string;
  readonly summary: string;
  readonly strings: readonly string[];
  readonly booleans: readonly string[];
  readonly collect?: readonly string[];
  readonly options: string;
  readonly run: (target: string, flags: Flags, io: CliIo) => Promise<number>;
}

type Flags = Readonly<Record<string, string | boolean | string[] | undefined>>;

const COMMON_OPTIONS =
  `  --domain <name>     The XMPP domain, the 'to' of <open/> (default: the domain of --user
                      when it is a bare JID, else the discovered domain or the URL's host; if
                      the server refuses that host with host-unknown and names another domain
                      in its <open from>, that one)
  --timeout <ms>      Bound on every wait (default 3000)
  --origin <origin>   Send this Origin header with the upgrade
  --ca-file <path>    PEM CA certificates trusted for wss:
  --json              Print the result as JSON
  -h, --help          This help`;

const LOGIN_OPTIONS =
  `  --user <name>       Log in as this user (a bare JID such as alice@localhost, or a local part)
  --password <pw>     Its password (default: the XMPP_WS_PASSWORD environment variable; the
                      tools never prompt)
  --allow-plain       Allow SASL PLAIN over ws: to a non-loopback host`;

const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  probe: {
    usage: "probe <ws-url|wss-url|domain> [options]",
    summary: "Connect and print the framing transcript (SASL redacted), like curl -v",
    strings: ["domain", "timeout", "origin", "ca-file", "user", "password", "resource"],
    booleans: ["json", "help", "allow-plain", "allow-insecure"],
    options: `${COMMON_OPTIONS}
${LOGIN_OPTIONS}
  --resource <name>   Resource to bind after login (default probe-<random>)
  --allow-insecure    Accept ws: endpoints and http: host-meta from discovery

A domain (or an https: origin) is looked up with XEP-0156 host-meta over https; wss:
endpoints found are tried in turn. Without --user the stream is opened and closed.
Exit codes: 0 success, 1 the XMPP exchange failed, 2 usage error or unreachable.`,
    run: runProbe,
  },
  conformance: {
    usage: "conformance <ws-url|wss-url> [options]",
    summary: "Run the RFC 7395 server checks and print a pass/fail table",
    strings: ["domain", "timeout", "origin", "ca-file", "user", "password", "silence", "idle"],
    booleans: ["json", "help", "allow-plain"],
    collect: ["check"],
    options: `${COMMON_OPTIONS}
${LOGIN_OPTIONS}
  --silence <ms>      How long the server must stay silent before <open/> (default 1000)
  --idle <ms>         How long an idle stream is watched for whitespace (default 2000)
  --check <id>        Run only this check (repeatable)

Checks (rule numbers of the RFC 7395 requirements digest):
${
      CHECKS.map((c) => `  ${c.id.padEnd(26)} ${c.rules.map((n) => `#${n}`).join(" ")}: ${c.title}`)
        .join("\n")
    }

Every check opens its own connection. "skip" means not applicable, with the reason.
Exit codes: 0 no check failed, 1 a check failed, 2 usage error or unusable endpoint.`,
    run: runConformance,
  },
  send: {
    usage: "send <ws-url|wss-url|domain> --user <name> --to <jid> [--body <text> | <text>...]",
    summary: "Log in, send one message, close",
    strings: [
      "domain",
      "timeout",
      "origin",
      "ca-file",
      "user",
      "password",
      "resource",
      "to",
      "body",
      "type",
      "wait",
    ],
    booleans: ["json", "help", "allow-plain", "allow-insecure", "verbose"],
    options: `${COMMON_OPTIONS}
${LOGIN_OPTIONS}
  --to <jid>          The recipient
  --body <text>       The message text (or give it as the remaining arguments)
  --type <type>       The message type (default chat)
  --resource <name>   Resource to bind (default probe-<random>)
  --wait <ms>         How long to wait for a bounce (<message type='error'>) before closing
                      (default 1000; 0: only what arrives before the server's <close/>)
  --allow-insecure    Accept ws: endpoints and http: host-meta from discovery
  -v, --verbose       Print the transcript (SASL redacted) on stderr

A message to an account with no available resource, or to an unknown account, bounces on our
embedded server (service-unavailable): send reports it and exits 1.
Exit codes: 0 sent and not bounced, 1 the XMPP exchange failed or the message bounced, 2 usage
error or unreachable.`,
    run: runSend,
  },
};

/**
 * The global help text.
 *
 * @example
 * ```ts
 * import { helpText } from "./main.ts";
 * console.log(helpText().split("\n")[0]); // "Usage: xmpp-ws <command> [options]"
 * ```
 */
export function helpText(command?: string): string {
  const spec = command ? COMMANDS[command] : undefined;
  if (spec) return `Usage: xmpp-ws ${spec.usage}\n\n${spec.summary}.\n\nOptions:\n${spec.options}`;
  return [
    "Usage: xmpp-ws <command> [options]",
    "",
    "Tools for XMPP over WebSocket (RFC 7395) endpoints.",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`),
    "",
    "Run 'xmpp-ws <command> --help' for its options.",
    "Exit codes: 0 success, 1 a check or XMPP step failed, 2 usage error or unreachable endpoint.",
  ].join("\n");
}

/**
 * Runs the tools with `args`; resolves with the exit code.
 *
 * @example
 * ```ts
 * import { cli } from "./main.ts";
 * const lines: string[] = [];
 * const io = { stdout: (t: string) => lines.push(t), stderr: (t: string) => lines.push(t), env: {} };
 * console.log(await cli(["--help"], io), lines[0]!.split("\n")[0]); // 0 "Usage: xmpp-ws <command> [options]"
 * ```
 */
export async function cli(args: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    const wanted = command === "help" ? rest[0] : undefined;
    if (wanted !== undefined && !COMMANDS[wanted]) return usage(io, `unknown command '${wanted}'`);
    (command === undefined ? io.stderr : io.stdout)(helpText(wanted));
    return command === undefined ? 2 : 0;
  }
  const spec = COMMANDS[command];
  if (!spec) return usage(io, `unknown command '${command}'`);
  const unknown: string[] = [];
  const parsed = parseArgs([...rest], {
    string: [...spec.strings, ...(spec.collect ?? [])],
    boolean: [...spec.booleans],
    collect: [...(spec.collect ?? [])],
    alias: { h: "help", ...(spec.booleans.includes("verbose") ? { v: "verbose" } : {}) },
    unknown: (arg: string) => {
      if (arg.startsWith("-")) unknown.push(arg);
      return !arg.startsWith("-");
    },
  });
  if (parsed.help) {
    io.stdout(helpText(command));
    return 0;
  }
  if (unknown.length > 0) return usage(io, `unknown option ${unknown[0]}`, command);
  for (const name of spec.strings) {
    const given = rest.filter((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`));
    if (given.length > 1) return usage(io, `--${name} given twice`, command);
  }
  const positional = parsed._.map(String);
  const target = positional[0];
  if (target === undefined) return usage(io, "the endpoint is missing", command);
  if (command !== "send" && positional.length > 1) {
    return usage(io, `unexpected argument '${positional[1]}'`, command);
  }
  const flags: Record<string, string | boolean | string[] | undefined> = { ...parsed };
  if (command === "send" && positional.length > 1) flags._body = positional.slice(1).join(" ");
  for (const name of ["timeout", "silence", "idle", "wait"]) {
    const value = flags[name];
    const pattern = name === "wait" ? /^(0|[1-9]\d{0,6})$/ : /^[1-9]\d{0,6}$/;
    if (typeof value === "string" && !pattern.test(value)) {
      const what = name === "wait" ? "a number" : "a positive number";
      return usage(io, `--${name}: expected ${what} of milliseconds, got '${value}'`, command);
    }
  }
  if (typeof flags["ca-file"] === "string") {
    try {
      flags._ca = await Deno.readTextFile(flags["ca-file"]);
    } catch (error) {
      return usage(io, `--ca-file: ${error instanceof Error ? error.message : error}`, command);
    }
  }
  if (typeof flags.user === "string" && flags.password === undefined) {
    const password = io.env.XMPP_WS_PASSWORD;
    if (password === undefined) {
      return usage(
        io,
        `--user ${flags.user} needs a password: give --password or set XMPP_WS_PASSWORD ` +
          "(the tools never prompt)",
        command,
      );
    }
    flags.password = password;
  }
  return await spec.run(target, flags, io);
}

function usage(io: CliIo, message: string, command?: string): number {
  io.stderr(`xmpp-ws: ${message}`);
  io.stderr(`Run 'xmpp-ws ${command ? `${command} ` : ""}--help' for usage.`);
  return 2;
}

const str = (flags: Flags, name: string): string | undefined =>
  typeof flags[name] === "string" ? flags[name] as string : undefined;
const num = (flags: Flags, name: string): number | undefined =>
  str(flags, name) === undefined ? undefined : Number(str(flags, name));

/** The options shared by `probe` and `send`. */
function sessionOptions(target: string, flags: Flags): ProbeOptions {
  const pick: Record<string, unknown> = {
    target,
    domain: str(flags, "domain"),
    user: str(flags, "user"),
    password: str(flags, "password"),
    resource: str(flags, "resource"),
    allowPlain: flags["allow-plain"] === true,
    allowInsecure: flags["allow-insecure"] === true,
    timeoutMs: num(flags, "timeout"),
    origin: str(flags, "origin"),
    caCerts: str(flags, "_ca") === undefined ? undefined : [str(flags, "_ca")!],
  };
  for (const key of Object.keys(pick)) if (pick[key] === undefined) delete pick[key];
  return pick as unknown as ProbeOptions;
}

async function runProbe(target: string, flags: Flags, io: CliIo): Promise<number> {
  const json = flags.json === true;
  const report = await probe({
    ...sessionOptions(target, flags),
    ...(json ? {} : { onEntry: (entry) => io.stdout(formatEntry(entry)) }),
  });
  if (json) io.stdout(JSON.stringify(report, null, 2));
  else if (report.exitCode === 0) {
    io.stderr(
      `xmpp-ws: probe succeeded (domain ${report.domain}${
        report.jid ? `, bound ${report.jid}` : ""
      })`,
    );
  } else io.stderr(`xmpp-ws: probe failed: ${report.error}`);
  return report.exitCode;
}

/**
 * `send`, built from the raw pieces (`probe` with a message: open, SASL, bind, message, close).
 * To move it onto the client library, replace the `probe` call below; the flags, the output and
 * the exit codes (0 sent, 1 XMPP failure, 2 usage or unreachable) stay as they are.
 */
async function runSend(target: string, flags: Flags, io: CliIo): Promise<number> {
  const to = str(flags, "to");
  const body = str(flags, "body") ?? str(flags, "_body");
  if (str(flags, "user") === undefined) return usage(io, "send needs --user", "send");
  if (to === undefined) return usage(io, "send needs --to", "send");
  if (body === undefined) return usage(io, "send needs --body or the text as arguments", "send");
  const type = str(flags, "type");
  const verbose = flags.verbose === true;
  const wait = num(flags, "wait");
  const report = await probe({
    ...sessionOptions(target, flags),
    message: { to, body, ...(type ? { type } : {}) },
    ...(wait !== undefined ? { bounceWaitMs: wait } : {}),
    ...(verbose ? { onEntry: (entry) => io.stderr(formatEntry(entry)) } : {}),
  });
  if (flags.json === true) io.stdout(JSON.stringify(report, null, 2));
  else if (report.exitCode === 0) io.stdout(`sent to ${to} as ${report.jid}`);
  else io.stderr(`xmpp-ws: send failed: ${report.error}`);
  return report.exitCode;
}

async function runConformance(target: string, flags: Flags, io: CliIo): Promise<number> {
  const json = flags.json === true;
  const only = flags.check as string[] | undefined;
  const options: Record<string, unknown> = {
    url: target,
    domain: str(flags, "domain"),
    timeoutMs: num(flags, "timeout"),
    silenceMs: num(flags, "silence"),
    idleMs: num(flags, "idle"),
    user: str(flags, "user"),
    password: str(flags, "password"),
    allowPlain: flags["allow-plain"] === true,
    origin: str(flags, "origin"),
    caCerts: str(flags, "_ca") === undefined ? undefined : [str(flags, "_ca")!],
    only: only?.length ? only : undefined,
  };
  for (const key of Object.keys(options)) if (options[key] === undefined) delete options[key];
  const report = await conformance({
    ...(options as { url: string }),
    ...(json ? {} : {
      onStart: (url: string, domain: string) => io.stdout(tableHeader(url, domain)),
      onResult: (result: CheckResult) => io.stdout(formatRow(result)),
    }),
  });
  if (json) io.stdout(JSON.stringify(report, null, 2));
  else if (report.error) io.stderr(formatTable(report));
  else {
    const { pass, fail, skip } = report.counts;
    io.stdout(`\n${pass} passed, ${fail} failed, ${skip} skipped`);
  }
  return report.exitCode;
}

/** The variables among `names` that are set and readable without a permission prompt. */
function readableEnv(names: readonly string[]): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const name of names) {
    if (Deno.permissions.querySync({ name: "env", variable: name }).state === "granted") {
      env[name] = Deno.env.get(name);
    }
  }
  return env;
}

if (import.meta.main) {
  Deno.exit(
    await cli(Deno.args, {
      stdout: (text) => console.log(text),
      stderr: (text) => console.error(text),
      env: readableEnv(["XMPP_WS_PASSWORD"]),
    }),
  );
}
