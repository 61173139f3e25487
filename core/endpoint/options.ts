/**
 * Every option of the gateway, as one table read by the command-line parser, the environment
 * reader, `--help` and the README: a flag, an environment variable, a default and a line of
 * documentation each. Runtime-neutral: the argument splitter (`@std/cli`'s `parseArgs`) is passed
 * in by each binding (`deno/options.ts`, `node_adapter/options.ts`), which also read the
 * environment.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseArgs } from "@std/cli";
 * import { parseOptions } from "./options.ts";
 * const result = parseOptions(["--port", "5281", "--domain", "example.com"], {}, parseArgs);
 * assertEquals(result.ok && [result.options.port, result.options.domains], [5281, ["example.com"]]);
 * ```
 * @module
 */

/** One option's description. */
export interface OptionSpec {
  /** The flag without its dashes (`--max-depth` is `max-depth`). */
  readonly flag: string;
  /** The environment variable read when the flag is absent. */
  readonly env: string;
  /** How the value parses: text, a non-negative integer, on/off, or a comma-separated list. */
  readonly kind: "string" | "integer" | "boolean" | "list";
  /** The default, as it would be written on the command line. */
  readonly default: string;
  /** The line of `--help`. */
  readonly help: string;
}

/** The option table (the order is the order of `--help`). */
export const OPTION_SPECS = [
  {
    flag: "host",
    env: "XMPP_WS_HOST",
    kind: "string",
    default: "127.0.0.1",
    help: "Interface to listen on (0.0.0.0 for all)",
  },
  {
    flag: "port",
    env: "XMPP_WS_PORT",
    kind: "integer",
    default: "5280",
    help: "HTTP(S) port of the WebSocket endpoint",
  },
  {
    flag: "path",
    env: "XMPP_WS_PATH",
    kind: "string",
    default: "/xmpp-websocket",
    help: "Path of the WebSocket endpoint",
  },
  {
    flag: "domain",
    env: "XMPP_WS_DOMAINS",
    kind: "list",
    default: "localhost",
    help: "XMPP domains served (<open to> must name one; comma-separated)",
  },
  {
    flag: "upstream",
    env: "XMPP_WS_UPSTREAM",
    kind: "string",
    default: "",
    help:
      "XMPP server as host:port, or 'srv' for DNS SRV lookup of the domain; empty: embedded server",
  },
  {
    flag: "upstream-tls",
    env: "XMPP_WS_UPSTREAM_TLS",
    kind: "string",
    default: "optional",
    help: "TLS to the upstream: optional (STARTTLS when offered), required, direct (XEP-0368), off",
  },
  {
    flag: "upstream-ca-file",
    env: "XMPP_WS_UPSTREAM_CA_FILE",
    kind: "string",
    default: "",
    help: "PEM file of CA certificates trusted for the upstream (private CAs)",
  },
  {
    flag: "upstream-server-name",
    env: "XMPP_WS_UPSTREAM_SERVER_NAME",
    kind: "string",
    default: "",
    help: "Name to verify in the upstream certificate (default: the XMPP domain)",
  },
  {
    flag: "upstream-connect-timeout",
    env: "XMPP_WS_UPSTREAM_CONNECT_TIMEOUT",
    kind: "integer",
    default: "10000",
    help: "Upstream connect timeout, ms",
  },
  {
    flag: "proxy-protocol",
    env: "XMPP_WS_PROXY_PROTOCOL",
    kind: "string",
    default: "off",
    help:
      "PROXY protocol header toward the upstream: off, v1 or v2 (the server sees client addresses)",
  },
  {
    flag: "see-other-host",
    env: "XMPP_WS_SEE_OTHER_HOST",
    kind: "list",
    default: "",
    help: "Map upstream see-other-host to see-other-uri: host=wss://url (comma-separated)",
  },
  {
    flag: "legacy-framing",
    env: "XMPP_WS_LEGACY_FRAMING",
    kind: "boolean",
    default: "false",
    help:
      "Also serve draft-ietf-xmpp-websocket-00 clients (open <stream:stream> framing), detected per connection",
  },
  {
    flag: "origin",
    env: "XMPP_WS_ORIGINS",
    kind: "list",
    default: "",
    help: "Allowed Origin values (comma-separated); empty: any origin",
  },
  {
    flag: "deny-missing-origin",
    env: "XMPP_WS_DENY_MISSING_ORIGIN",
    kind: "boolean",
    default: "false",
    help: "Refuse handshakes without an Origin header (non-browser clients)",
  },
  {
    flag: "cert",
    env: "XMPP_WS_CERT",
    kind: "string",
    default: "",
    help: "PEM certificate chain file: serve wss",
  },
  {
    flag: "key",
    env: "XMPP_WS_KEY",
    kind: "string",
    default: "",
    help: "PEM private key file for --cert",
  },
  {
    flag: "secure",
    env: "XMPP_WS_SECURE",
    kind: "boolean",
    default: "false",
    help: "Treat connections as secure (TLS terminated by a trusted proxy in front)",
  },
  {
    flag: "trusted-proxy",
    env: "XMPP_WS_TRUSTED_PROXIES",
    kind: "list",
    default: "",
    help: "Proxy addresses or CIDR ranges whose --forwarded-header is believed (comma-separated)",
  },
  {
    flag: "forwarded-header",
    env: "XMPP_WS_FORWARDED_HEADER",
    kind: "string",
    default: "x-forwarded-for",
    help: "Header naming the client behind a --trusted-proxy: x-forwarded-for, forwarded or none",
  },
  {
    flag: "public-url",
    env: "XMPP_WS_PUBLIC_URL",
    kind: "string",
    default: "",
    help: "WebSocket URL advertised by XEP-0156 discovery (default: from the request's Host)",
  },
  {
    flag: "metrics-allow",
    env: "XMPP_WS_METRICS_ALLOW",
    kind: "list",
    default: "127.0.0.0/8,::1",
    help: "Client addresses or CIDR ranges allowed to read /metrics (comma-separated)",
  },
  {
    flag: "max-message-bytes",
    env: "XMPP_WS_MAX_MESSAGE_BYTES",
    kind: "integer",
    default: "262144",
    help: "Largest client message (RFC 6120 §13.12: at least 10000)",
  },
  {
    flag: "max-upstream-element-bytes",
    env: "XMPP_WS_MAX_UPSTREAM_ELEMENT_BYTES",
    kind: "integer",
    default: "1048576",
    help: "Largest first-level element accepted from the upstream",
  },
  {
    flag: "max-depth",
    env: "XMPP_WS_MAX_DEPTH",
    kind: "integer",
    default: "64",
    help: "Deepest element nesting accepted",
  },
  {
    flag: "max-auth-failures",
    env: "XMPP_WS_MAX_AUTH_FAILURES",
    kind: "integer",
    default: "3",
    help:
      "Gateway: failed SASL attempts per stream before policy-violation, whatever the server allows",
  },
  {
    flag: "max-buffered-elements",
    env: "XMPP_WS_MAX_BUFFERED_ELEMENTS",
    kind: "integer",
    default: "64",
    help: "Client elements held while the upstream stream is not ready",
  },
  {
    flag: "ping-interval",
    env: "XMPP_WS_PING_INTERVAL",
    kind: "integer",
    default: "25000",
    help:
      "WebSocket ping after this much client silence, ms (below 60000: proxies cut idle links at 60 s)",
  },
  {
    flag: "open-timeout",
    env: "XMPP_WS_OPEN_TIMEOUT",
    kind: "integer",
    default: "30000",
    help: "Wait for a stream header, ms",
  },
  {
    flag: "close-timeout",
    env: "XMPP_WS_CLOSE_TIMEOUT",
    kind: "integer",
    default: "5000",
    help: "Wait for the peer's half of a close handshake, ms",
  },
  {
    flag: "websocket-layer",
    env: "XMPP_WS_WEBSOCKET_LAYER",
    kind: "string",
    default: "native",
    help:
      "WebSocket layer: strict (RFC 6455 codec over Deno.listen) or native (Deno.upgradeWebSocket)",
  },
  {
    flag: "header-timeout",
    env: "XMPP_WS_HEADER_TIMEOUT",
    kind: "integer",
    default: "10000",
    help: "Strict layer: time for a client to send an HTTP request's head and body, ms",
  },
  {
    flag: "max-connections",
    env: "XMPP_WS_MAX_CONNECTIONS",
    kind: "integer",
    default: "10000",
    help: "WebSocket connections at once, in total (more: HTTP 503 with Retry-After)",
  },
  {
    flag: "max-connections-per-address",
    env: "XMPP_WS_MAX_CONNECTIONS_PER_ADDRESS",
    kind: "integer",
    default: "200",
    help: "WebSocket connections at once from one client address (an IPv6 /64 is one address)",
  },
  {
    flag: "max-unauthenticated-per-address",
    env: "XMPP_WS_MAX_UNAUTHENTICATED_PER_ADDRESS",
    kind: "integer",
    default: "20",
    help: "Connections not yet authenticated at once from one client address",
  },
  {
    flag: "new-connections-per-second",
    env: "XMPP_WS_NEW_CONNECTIONS_PER_SECOND",
    kind: "integer",
    default: "10",
    help: "New connections per second from one client address (sustained)",
  },
  {
    flag: "new-connections-burst",
    env: "XMPP_WS_NEW_CONNECTIONS_BURST",
    kind: "integer",
    default: "40",
    help: "New connections one client address may open at once before the rate applies",
  },
  {
    flag: "preauth-timeout",
    env: "XMPP_WS_PREAUTH_TIMEOUT",
    kind: "integer",
    default: "20000",
    help: "Time from the upgrade to authentication, ms (then connection-timeout)",
  },
  {
    flag: "max-outbound-bytes",
    env: "XMPP_WS_MAX_OUTBOUND_BYTES",
    kind: "integer",
    default: "4194304",
    help: "Bytes waiting for a client beyond which it is a slow reader (twice this: ended at once)",
  },
  {
    flag: "slow-reader-grace",
    env: "XMPP_WS_SLOW_READER_GRACE",
    kind: "integer",
    default: "10000",
    help:
      "How long a slow reader may stay over --max-outbound-bytes, ms (then resource-constraint)",
  },
  {
    flag: "max-unacked-bytes",
    env: "XMPP_WS_MAX_UNACKED_BYTES",
    kind: "integer",
    default: "2097152",
    help: "Embedded server: XEP-0198 queue per session, in characters of stanzas not acknowledged",
  },
  {
    flag: "auth-failures-per-address",
    env: "XMPP_WS_AUTH_FAILURES_PER_ADDRESS",
    kind: "integer",
    default: "10",
    help:
      "Embedded server: failed logins from one address in --auth-failure-window before back-off",
  },
  {
    flag: "auth-failures-per-account",
    env: "XMPP_WS_AUTH_FAILURES_PER_ACCOUNT",
    kind: "integer",
    default: "10",
    help: "Embedded server: failed logins for one account in --auth-failure-window before back-off",
  },
  {
    flag: "auth-failure-window",
    env: "XMPP_WS_AUTH_FAILURE_WINDOW",
    kind: "integer",
    default: "600000",
    help: "Embedded server: the window in which failed logins are counted, ms",
  },
  {
    flag: "auth-max-backoff",
    env: "XMPP_WS_AUTH_MAX_BACKOFF",
    kind: "integer",
    default: "300000",
    help: "Embedded server: longest refusal after too many failed logins, ms (doubling from 1 s)",
  },
  {
    flag: "drain",
    env: "XMPP_WS_DRAIN",
    kind: "integer",
    default: "10000",
    help: "On SIGINT/SIGTERM, spread session shutdowns over this many ms",
  },
  {
    flag: "shutdown-redirect",
    env: "XMPP_WS_SHUTDOWN_REDIRECT",
    kind: "string",
    default: "",
    help: "On shutdown, send clients here (see-other-uri) instead of system-shutdown",
  },
  {
    flag: "demo-page",
    env: "XMPP_WS_DEMO_PAGE",
    kind: "string",
    default: "auto",
    help: "Embedded server: chat page at / (on, off; auto: on when listening on loopback)",
  },
  {
    flag: "stanza-rate",
    env: "XMPP_WS_STANZA_RATE",
    kind: "integer",
    default: "20",
    help: "Embedded server: elements per second per connection (token bucket refill)",
  },
  {
    flag: "stanza-burst",
    env: "XMPP_WS_STANZA_BURST",
    kind: "integer",
    default: "100",
    help: "Embedded server: burst of the per-connection rate limit (bucket size)",
  },
  {
    flag: "max-throttled",
    env: "XMPP_WS_MAX_THROTTLED",
    kind: "integer",
    default: "10000",
    help: "Embedded server: stanzas over the rate in a row before policy-violation",
  },
  {
    flag: "max-xmpp-connections",
    env: "XMPP_WS_MAX_XMPP_CONNECTIONS",
    kind: "integer",
    default: "1000",
    help: "Embedded server: XMPP streams at once, logged in or not (resource-constraint)",
  },
  {
    flag: "max-sessions",
    env: "XMPP_WS_MAX_SESSIONS",
    kind: "integer",
    default: "1000",
    help: "Embedded server: bound sessions at once, hibernating ones included",
  },
  {
    flag: "max-sessions-per-account",
    env: "XMPP_WS_MAX_SESSIONS_PER_ACCOUNT",
    kind: "integer",
    default: "10",
    help: "Embedded server: bound sessions per account",
  },
  {
    flag: "login-timeout",
    env: "XMPP_WS_LOGIN_TIMEOUT",
    kind: "integer",
    default: "60000",
    help: "Embedded server: time from <open/> to a bound resource, ms",
  },
  {
    flag: "max-auth-attempts",
    env: "XMPP_WS_MAX_AUTH_ATTEMPTS",
    kind: "integer",
    default: "3",
    help: "Embedded server: failed SASL attempts per connection before policy-violation",
  },
  {
    flag: "hibernation",
    env: "XMPP_WS_HIBERNATION",
    kind: "integer",
    default: "300000",
    help: "Embedded server: how long a dropped XEP-0198 session waits for resumption, ms",
  },
  {
    flag: "max-unacked",
    env: "XMPP_WS_MAX_UNACKED",
    kind: "integer",
    default: "500",
    help: "Embedded server: unacknowledged XEP-0198 stanzas per session before policy-violation",
  },
  {
    flag: "xmpp-ping-interval",
    env: "XMPP_WS_XMPP_PING_INTERVAL",
    kind: "integer",
    default: "120000",
    help: "Embedded server: XEP-0199 ping after this much client silence, ms (0: never)",
  },
  {
    flag: "xmpp-ping-timeout",
    env: "XMPP_WS_XMPP_PING_TIMEOUT",
    kind: "integer",
    default: "30000",
    help: "Embedded server: end the stream when a ping gets nothing back within this, ms",
  },
  {
    flag: "max-roster-items",
    env: "XMPP_WS_MAX_ROSTER_ITEMS",
    kind: "integer",
    default: "1000",
    help: "Embedded server: items per roster",
  },
  {
    flag: "max-roster-name-length",
    env: "XMPP_WS_MAX_ROSTER_NAME_LENGTH",
    kind: "integer",
    default: "1024",
    help: "Embedded server: characters in a roster item's name",
  },
  {
    flag: "max-roster-groups",
    env: "XMPP_WS_MAX_ROSTER_GROUPS",
    kind: "integer",
    default: "64",
    help: "Embedded server: groups per roster item",
  },
  {
    flag: "max-roster-group-length",
    env: "XMPP_WS_MAX_ROSTER_GROUP_LENGTH",
    kind: "integer",
    default: "1024",
    help: "Embedded server: characters in a roster group name",
  },
  {
    flag: "max-directed-presences",
    env: "XMPP_WS_MAX_DIRECTED_PRESENCES",
    kind: "integer",
    default: "100",
    help: "Embedded server: entities a session sent directed presence to (RFC 6121 §4.6)",
  },
  {
    flag: "accounts-file",
    env: "XMPP_WS_ACCOUNTS_FILE",
    kind: "string",
    default: "",
    help: "Embedded server: JSON accounts file",
  },
  {
    flag: "account",
    env: "XMPP_WS_ACCOUNTS",
    kind: "list",
    default: "",
    help: "Embedded server: user:password accounts (comma-separated)",
  },
  {
    flag: "log-level",
    env: "XMPP_WS_LOG_LEVEL",
    kind: "string",
    default: "info",
    help: "debug, info, warn or error",
  },
  {
    flag: "log-format",
    env: "XMPP_WS_LOG_FORMAT",
    kind: "string",
    default: "text",
    help: "text or json",
  },
] as const satisfies readonly OptionSpec[];

/** One entry of {@link OPTION_SPECS}, with its literal flag and kind. */
export type OptionSpecEntry = typeof OPTION_SPECS[number];
/** A kebab-case flag name in camel case (`max-depth` becomes `maxDepth`). */
export type CamelCase<S extends string> = S extends `${infer H}-${infer T}`
  ? `${H}${Capitalize<CamelCase<T>>}`
  : S;
/** The type an option of kind `K` parses to. */
export type OptionValue<K extends OptionSpecEntry["kind"]> = K extends "integer" ? number
  : K extends "boolean" ? boolean
  : K extends "list" ? readonly string[]
  : string;

/** The parsed options, keyed by the camel-cased flag name. */
export type GatewayOptions =
  & { readonly [S in OptionSpecEntry as CamelCase<S["flag"]>]: OptionValue<S["kind"]> }
  & {
    readonly domains: readonly string[];
  };

/** The outcome of parsing: options, a request for help, or a message for the user. */
export type ParseOutcome =
  | { readonly ok: true; readonly options: GatewayOptions }
  | { readonly ok: false; readonly help: true }
  | { readonly ok: false; readonly help: false; readonly error: string };

/**
 * Parses command-line arguments over environment variables over defaults. Never throws: bad
 * input gives a message naming the option.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseArgs } from "@std/cli";
 * import { parseOptions } from "./options.ts";
 * const bad = parseOptions(["--port", "http"], {}, parseArgs);
 * assertEquals(!bad.ok && !bad.help && bad.error, "--port: expected an integer, got 'http'");
 * ```
 */
export function parseOptions(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  parseArgs: ArgsParser,
): ParseOutcome {
  const flags = OPTION_SPECS.map((s) => s.flag);
  let parsed: Record<string, unknown>;
  try {
    parsed = parseOptionsRaw(args, flags, parseArgs);
  } catch (error) {
    if (error instanceof UnknownOption) {
      return { ok: false, help: false, error: `${error.message}: unknown option (see --help)` };
    }
    throw error;
  }
  return build(parsed, env);
}

/** What the argument splitter is told: `@std/cli`'s `parseArgs` options, the part used here. */
export interface ArgsSpec {
  readonly string: string[];
  readonly boolean: string[];
  readonly collect: string[];
  readonly alias: Record<string, string>;
  readonly unknown: (arg: string) => boolean;
}

/** Splits command-line arguments (`@std/cli`'s `parseArgs`, passed in by each binding). */
export type ArgsParser = (args: string[], spec: ArgsSpec) => Record<string, unknown>;

function parseOptionsRaw(
  args: readonly string[],
  flags: readonly string[],
  parseArgs: ArgsParser,
): Record<string, unknown> {
  return parseArgs([...args], {
    string: flags.filter((f) => !isBoolean(f)),
    boolean: [...flags.filter(isBoolean), "help"],
    collect: OPTION_SPECS.filter((s) => s.kind === "list").map((s) => s.flag),
    alias: { h: "help" },
    unknown: (arg: string) => {
      throw new UnknownOption(arg);
    },
  });
}

class UnknownOption extends Error {}

const CHOICES: Readonly<Record<string, readonly string[]>> = {
  "upstream-tls": ["optional", "required", "direct", "off"],
  "proxy-protocol": ["off", "v1", "v2"],
  "forwarded-header": ["x-forwarded-for", "forwarded", "none"],
  "log-level": ["debug", "info", "warn", "error"],
  "log-format": ["text", "json"],
  "websocket-layer": ["strict", "native"],
  "demo-page": ["on", "off", "auto"],
};

function isBoolean(flag: string): boolean {
  return OPTION_SPECS.some((s) => s.flag === flag && s.kind === "boolean");
}

function build(
  parsed: Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>>,
): ParseOutcome {
  if (parsed.help) return { ok: false, help: true };
  const out: Record<string, unknown> = {};
  for (const spec of OPTION_SPECS) {
    const raw = rawValue(spec, parsed, env);
    const key = camel(spec.flag);
    switch (spec.kind) {
      case "string":
        out[key] = raw;
        break;
      case "integer": {
        if (!/^\d+$/.test(raw)) {
          return {
            ok: false,
            help: false,
            error: `--${spec.flag}: expected an integer, got '${raw}'`,
          };
        }
        out[key] = Number(raw);
        break;
      }
      case "boolean":
        if (!["true", "false", "1", "0", ""].includes(raw)) {
          return {
            ok: false,
            help: false,
            error: `--${spec.flag}: expected true or false, got '${raw}'`,
          };
        }
        out[key] = raw === "true" || raw === "1";
        break;
      case "list":
        out[key] = raw.split(",").map((v) => v.trim()).filter((v) => v !== "");
        break;
    }
  }
  for (const [key, allowed] of Object.entries(CHOICES)) {
    const value = String(out[camel(key)]);
    if (!allowed.includes(value)) {
      return {
        ok: false,
        help: false,
        error: `--${key}: expected one of ${allowed.join(", ")}, got '${value}'`,
      };
    }
  }
  return { ok: true, options: { ...out, domains: out.domain } as unknown as GatewayOptions };
}

function rawValue(
  spec: OptionSpecEntry,
  parsed: Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>>,
): string {
  const value = parsed[spec.flag];
  if (Array.isArray(value) && value.length > 0) return value.map(String).join(",");
  if (typeof value === "boolean" && value) return "true";
  if (typeof value === "string") return value;
  return env[spec.env] ?? spec.default;
}

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * The `--help` text, generated from {@link OPTION_SPECS}.
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * import { helpText } from "./options.ts";
 * assert(helpText().includes("--port"));
 * ```
 */
export function helpText(): string {
  const lines = [
    "xmpp-websocket gateway: XMPP over WebSocket (RFC 7395) in front of any XMPP server,",
    "or of its embedded server when no --upstream is given.",
    "",
    "Usage: deno task start [options]",
    "",
    "Options (flag, environment variable, default):",
  ];
  for (const spec of OPTION_SPECS) {
    const value = spec.kind === "boolean" ? "" : " <value>";
    lines.push(
      `  --${spec.flag}${value}`,
      `      ${spec.help}`,
      `      env ${spec.env}, default: ${spec.default === "" ? "(none)" : spec.default}`,
    );
  }
  lines.push("  -h, --help", "      Print this help");
  return lines.join("\n");
}

/**
 * Parses a list of `host=uri` pairs (for `--see-other-host`).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parsePairs } from "./options.ts";
 * assertEquals(parsePairs(["b.example=wss://b.example/ws"]), { "b.example": "wss://b.example/ws" });
 * ```
 */
export function parsePairs(items: readonly string[]): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf("=");
    if (eq > 0) pairs[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return pairs;
}

/**
 * The endpoint limits (admission control and the outbound budget) from parsed options, as
 * `serveXmpp` and `serveGateway` take them.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseArgs } from "@std/cli";
 * import { endpointLimits, parseOptions } from "./options.ts";
 * const parsed = parseOptions(["--max-connections", "50"], {}, parseArgs);
 * assertEquals(parsed.ok && endpointLimits(parsed.options).admission.maxConnections, 50);
 * ```
 */
export function endpointLimits(options: GatewayOptions): {
  readonly admission: {
    readonly maxConnections: number;
    readonly maxPerAddress: number;
    readonly maxUnauthenticatedPerAddress: number;
    readonly newPerSecond: number;
    readonly newBurst: number;
    readonly preAuthTimeoutMs: number;
  };
  readonly outbound: { readonly maxBufferedBytes: number; readonly slowReaderGraceMs: number };
} {
  return {
    admission: {
      maxConnections: options.maxConnections,
      maxPerAddress: options.maxConnectionsPerAddress,
      maxUnauthenticatedPerAddress: options.maxUnauthenticatedPerAddress,
      newPerSecond: options.newConnectionsPerSecond,
      newBurst: options.newConnectionsBurst,
      preAuthTimeoutMs: options.preauthTimeout,
    },
    outbound: {
      maxBufferedBytes: options.maxOutboundBytes,
      slowReaderGraceMs: options.slowReaderGrace,
    },
  };
}
