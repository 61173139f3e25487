/**
 * The embedded XMPP server on Node: the runtime-neutral hub driver and start-up of
 * `core/endpoint/` (the same as the Deno command's) bound to Node's effects, `node:fs` and
 * `serveXmppNode`. `startEmbedded` is what `xmpp-websocket` (the npm package's command) runs when
 * no `--upstream` is given; demo accounts (fresh random passwords) are made and printed when no
 * account is configured. There is no demo page on Node (it is the Deno binding's).
 *
 * @example
 * ```ts ignore
 * import { parseOptions } from "./options.ts";
 * import { createLogger } from "./_runtime.ts";
 * import { startEmbedded } from "./embedded.ts";
 * const parsed = parseOptions(["--port", "0"], {});
 * if (parsed.ok) await (await startEmbedded(parsed.options, createLogger("info", "text"))).shutdown();
 * ```
 * @module
 */

import {
  type EmbeddedServer,
  embeddedServer as embeddedServerOn,
  type EmbeddedServerOptions,
} from "../core/endpoint/embedded.ts";
import {
  type AccountSources,
  type DemoAccount,
  loadAccounts as loadAccountsWith,
  type LoadedAccounts,
} from "../core/endpoint/accounts.ts";
import {
  type EmbeddedRunning,
  startEmbedded as startEmbeddedWith,
} from "../core/endpoint/embedded_start.ts";
import type { GatewayOptions } from "../core/endpoint/options.ts";
import type { Logger } from "../core/endpoint/log.ts";
import { NODE_RUNTIME } from "./_runtime.ts";
import { readTextFile } from "./_files.ts";
import { serveXmppNode } from "./serve.ts";
import type { XmppNodeServer } from "./_types.ts";

export type {
  AccountSources,
  DemoAccount,
  EmbeddedRunning,
  EmbeddedServer,
  EmbeddedServerOptions,
  LoadedAccounts,
};

/**
 * Creates the embedded server's application (give `serveXmppNode` the same domain in
 * `session.domains`). Throws `RangeError` on an invalid configuration.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { embeddedServer } from "./embedded.ts";
 * const app = embeddedServer({ accounts: [] });
 * assertEquals(app.hub.config.domain, "localhost");
 * app.stop();
 * ```
 */
export function embeddedServer(options: EmbeddedServerOptions): EmbeddedServer {
  return embeddedServerOn(options, NODE_RUNTIME);
}

/**
 * Loads the accounts (`user:password` pairs and a JSON file, read with `node:fs`); with none
 * configured, demo accounts with random passwords.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { loadAccounts } from "./embedded.ts";
 * const { demo } = await loadAccounts();
 * assertEquals(demo.map((d) => d.username), ["alice", "bob"]);
 * ```
 */
export function loadAccounts(sources: AccountSources = {}): Promise<LoadedAccounts> {
  return loadAccountsWith({ readTextFile, ...sources }, NODE_RUNTIME);
}

/**
 * Starts the embedded server with the command-line options; rejects with a message naming the
 * option on bad configuration.
 *
 * @example
 * ```ts ignore
 * import { startEmbedded } from "./embedded.ts";
 * // startEmbedded(options, log): see the module example
 * ```
 */
export function startEmbedded(
  options: GatewayOptions,
  log: Logger,
): Promise<EmbeddedRunning<XmppNodeServer>> {
  return startEmbeddedWith(options, log, {
    runtime: NODE_RUNTIME,
    readTextFile,
    serve: ({ websocketLayer: _layer, strictLayer: _strict, ...endpoint }) =>
      serveXmppNode(endpoint),
    print: (line) => console.log(line),
  });
}

/** The former name of {@link startEmbedded}. */
export const startEmbeddedNode: typeof startEmbedded = startEmbedded;
