/**
 * The command line on Node: the `xmpp-websocket` command of the npm package (built by
 * `scripts/build_npm.sh`). It takes the options of `deno task start` (the same table,
 * `core/endpoint/options.ts`: every flag also reads its environment variable) and runs the
 * gateway in front of `--upstream`, or the embedded XMPP server when no upstream is given.
 * SIGINT and SIGTERM drain the sessions over `--drain` ms, then stop. The command itself is
 * `core/endpoint/command.ts`'s; this file lends it Node's signals, files and listeners. The
 * WebSocket layer on Node is always the `ws` package: `--websocket-layer strict` and
 * `--header-timeout` apply to Deno only (a warning says so).
 *
 * @example
 * ```ts ignore
 * import process from "node:process";
 * import { main } from "./main.ts";
 * process.exitCode = await main(process.argv.slice(2), process.env);
 * ```
 * @module
 */

import process from "node:process";
import { endpointLimits, helpText, parseOptions } from "./options.ts";
import { createLogger } from "./_runtime.ts";
import { serveGatewayNode } from "./gateway.ts";
import { startEmbedded } from "./embedded.ts";
import { readTextFile } from "./_files.ts";
import { runCommand } from "../core/endpoint/command.ts";

export { parseUpstream } from "../core/endpoint/command.ts";

/** The name of the command, as npm installs it. */
export const COMMAND = "xmpp-websocket";

/**
 * Runs the program; resolves with the exit code (0 after a clean shutdown or `--help`, 2 on bad
 * options or a failed start).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { main } from "@xmpp-websocket/xmpp-websocket/node";
 * assertEquals(await main(["--port", "nope"], {}), 2); // and a message on stderr
 * ```
 */
export function main(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  return runCommand(
    {
      command: COMMAND,
      parse: parseOptions,
      helpText: () => helpText().replace("Usage: deno task start", `Usage: ${COMMAND}`),
      print: (text) => console.log(text),
      printError: (text) => console.error(text),
      createLogger,
      readTextFile,
      startEmbedded,
      // The same admission and outbound limits as on Deno (the flags were parsed but unused).
      serveGateway: (settings, options) =>
        serveGatewayNode({ ...settings, ...endpointLimits(options) }),
      onSignal: (signal, handler) => {
        process.on(signal, handler);
        return () => void process.off(signal, handler);
      },
      hangup: false,
      beforeStart: (options, log) => {
        if (options.websocketLayer === "strict") {
          log("warn", "--websocket-layer strict is Deno's; on Node the ws package is the layer");
        }
      },
    },
    args,
    env,
  );
}
