/**
 * The defaults the README's Configuration table promises, written out here as literals (not
 * read from `OPTION_SPECS`, the code under test): each must be the README's row, the line that
 * `--help` prints (a real subprocess), and the value the parser gives with no flag and no
 * environment variable.
 */

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { parseOptions } from "../../deno/options.ts";

/** flag, environment variable, default as the README prints it, parsed value. */
const DOCUMENTED: readonly (readonly [string, string, string, unknown])[] = [
  ["host", "XMPP_WS_HOST", "127.0.0.1", "127.0.0.1"],
  ["port", "XMPP_WS_PORT", "5280", 5280],
  ["path", "XMPP_WS_PATH", "/xmpp-websocket", "/xmpp-websocket"],
  ["domain", "XMPP_WS_DOMAINS", "localhost", ["localhost"]],
  ["upstream", "XMPP_WS_UPSTREAM", "(none)", ""],
  ["upstream-tls", "XMPP_WS_UPSTREAM_TLS", "optional", "optional"],
  ["upstream-ca-file", "XMPP_WS_UPSTREAM_CA_FILE", "(none)", ""],
  ["upstream-server-name", "XMPP_WS_UPSTREAM_SERVER_NAME", "(none)", ""],
  ["upstream-connect-timeout", "XMPP_WS_UPSTREAM_CONNECT_TIMEOUT", "10000", 10_000],
  ["proxy-protocol", "XMPP_WS_PROXY_PROTOCOL", "off", "off"],
  ["see-other-host", "XMPP_WS_SEE_OTHER_HOST", "(none)", []],
  ["origin", "XMPP_WS_ORIGINS", "(none)", []],
  ["deny-missing-origin", "XMPP_WS_DENY_MISSING_ORIGIN", "false", false],
  ["cert", "XMPP_WS_CERT", "(none)", ""],
  ["key", "XMPP_WS_KEY", "(none)", ""],
  ["secure", "XMPP_WS_SECURE", "false", false],
  ["trusted-proxy", "XMPP_WS_TRUSTED_PROXIES", "(none)", []],
  ["forwarded-header", "XMPP_WS_FORWARDED_HEADER", "x-forwarded-for", "x-forwarded-for"],
  ["public-url", "XMPP_WS_PUBLIC_URL", "(none)", ""],
  ["metrics-allow", "XMPP_WS_METRICS_ALLOW", "127.0.0.0/8,::1", ["127.0.0.0/8", "::1"]],
  ["max-message-bytes", "XMPP_WS_MAX_MESSAGE_BYTES", "262144", 262_144],
  ["max-upstream-element-bytes", "XMPP_WS_MAX_UPSTREAM_ELEMENT_BYTES", "1048576", 1_048_576],
  ["max-depth", "XMPP_WS_MAX_DEPTH", "64", 64],
  ["max-auth-failures", "XMPP_WS_MAX_AUTH_FAILURES", "3", 3],
  ["max-buffered-elements", "XMPP_WS_MAX_BUFFERED_ELEMENTS", "64", 64],
  ["ping-interval", "XMPP_WS_PING_INTERVAL", "25000", 25_000],
  ["open-timeout", "XMPP_WS_OPEN_TIMEOUT", "30000", 30_000],
  ["close-timeout", "XMPP_WS_CLOSE_TIMEOUT", "5000", 5_000],
  ["websocket-layer", "XMPP_WS_WEBSOCKET_LAYER", "native", "native"],
  ["header-timeout", "XMPP_WS_HEADER_TIMEOUT", "10000", 10_000],
  ["drain", "XMPP_WS_DRAIN", "10000", 10_000],
  ["shutdown-redirect", "XMPP_WS_SHUTDOWN_REDIRECT", "(none)", ""],
  ["accounts-file", "XMPP_WS_ACCOUNTS_FILE", "(none)", ""],
  ["account", "XMPP_WS_ACCOUNTS", "(none)", []],
  ["log-level", "XMPP_WS_LOG_LEVEL", "info", "info"],
  ["log-format", "XMPP_WS_LOG_FORMAT", "text", "text"],
];

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** The rows of the README's Configuration table: flag -> [env, default]. */
async function readmeRows(): Promise<Map<string, readonly [string, string]>> {
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const section = readme.slice(readme.indexOf("\n## Configuration\n") + 1);
  const rows = new Map<string, readonly [string, string]>();
  for (const line of section.split("\n").slice(1)) {
    if (line.startsWith("## ")) break;
    const cells = line.split("|").map((c) => c.trim());
    const flag = /^`--([a-z0-9-]+)`$/.exec(cells[1] ?? "")?.[1];
    if (flag === undefined) continue;
    rows.set(flag, [cells[2]!.replaceAll("`", ""), cells[3]!.replaceAll("`", "")]);
  }
  return rows;
}

Deno.test("README Configuration table: the documented flags, variables and defaults, literally", async () => {
  const rows = await readmeRows();
  for (const [flag, env, shown] of DOCUMENTED) {
    assertEquals(rows.get(flag), [env, shown], `README row of --${flag}`);
  }
});

Deno.test("--help prints the documented variable and default of every documented option", async () => {
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../../deno/main.ts", import.meta.url).pathname, "--help"],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(20_000),
  }).output();
  assertEquals(code, 0);
  const help = new TextDecoder().decode(stdout);
  for (const [flag, env, shown] of DOCUMENTED) {
    const at = help.search(new RegExp(`\n  --${flag}[ \n]`));
    assert(at >= 0, `--help lists --${flag}`);
    const block = help.slice(at, help.indexOf("\n  --", at + 1)) + "\n";
    assertStringIncludes(block, `env ${env}, default: ${shown}\n`, `--help of --${flag}`);
  }
});

Deno.test("with no flag and no environment variable, the parser gives the documented defaults", () => {
  const parsed = parseOptions([], {});
  if (!parsed.ok) throw new Error("no options must parse");
  const options = parsed.options as unknown as Readonly<Record<string, unknown>>;
  for (const [flag, , , value] of DOCUMENTED) {
    assertEquals(options[camel(flag)], value, `--${flag}`);
  }
  assertEquals(parsed.options.domains, ["localhost"]);
});
