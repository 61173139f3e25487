/**
 * The command line: `deno task start [options]` runs the gateway in front of `--upstream`, or
 * in front of the embedded server when no upstream is given. Every option also reads an
 * environment variable (see `--help` and the README's table). The command itself is
 * `core/endpoint/command.ts`'s; this file lends it Deno's signals, files and listeners.
 *
 * @example
 * ```ts ignore
 * import { main } from "./main.ts";
 * Deno.exit(await main(["--help"], {}));
 * ```
 * @module
 */

import { endpointLimits, helpText, parseOptions } from "./options.ts";
import { serveGateway } from "./gateway.ts";
import { createLogger } from "./_runtime.ts";
import { startEmbedded } from "./embedded.ts";
import { readTextFile } from "./_files.ts";
import { runCommand } from "../core/endpoint/command.ts";

/**
 * Runs the program; resolves with the exit code (0 after a clean shutdown, 2 on bad options).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { main } from "@xmpp-websocket/xmpp-websocket/deno";
 * assertEquals(await main(["--port", "nope"], {}), 2); // and a message on stderr
 * ```
 */
export function main(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  return runCommand(
    {
      command: "xmpp-websocket",
      parse: parseOptions,
      helpText,
      print: (text) => console.log(text),
      printError: (text) => console.error(text),
      createLogger,
      readTextFile,
      startEmbedded,
      serveGateway: (settings, options) =>
        Promise.resolve(serveGateway({
          ...settings,
          websocketLayer: options.websocketLayer as "strict",
          strictLayer: {
            headerTimeoutMs: options.headerTimeout,
            closeTimeoutMs: options.closeTimeout,
          },
          ...endpointLimits(options),
        })),
      onSignal: (signal, handler) => {
        Deno.addSignalListener(signal, handler);
        return () => Deno.removeSignalListener(signal, handler);
      },
      hangup: Deno.build.os !== "windows",
    },
    args,
    env,
  );
}

if (import.meta.main) Deno.exit(await main(Deno.args, Deno.env.toObject()));
