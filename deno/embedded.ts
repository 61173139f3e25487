/**
 * The embedded XMPP server on Deno: the runtime-neutral hub driver and start-up of
 * `core/endpoint/` bound to Deno's effects, files, `serveXmpp` and demo page. `embeddedServer`
 * is the application to give `serveXmpp`; `startEmbedded` is what `deno task start` runs when no
 * `--upstream` is given.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { embeddedServer, loadAccounts } from "./embedded.ts";
 * import { serveXmpp } from "./serve.ts";
 * const { accounts, demo } = await loadAccounts({ demoUsers: ["alice"] });
 * const app = embeddedServer({ accounts });
 * const xmpp = serveXmpp({ hostname: "127.0.0.1", port: 0, session: { domains: ["localhost"] }, application: app });
 * assertEquals(demo[0]!.username, "alice"); // and a random password to print
 * await xmpp.shutdown();
 * app.stop();
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
  hubSettings,
  startEmbedded as startEmbeddedWith,
} from "../core/endpoint/embedded_start.ts";
import type { GatewayOptions } from "../core/endpoint/options.ts";
import type { Logger } from "../core/endpoint/log.ts";
import { DENO_RUNTIME } from "./_runtime.ts";
import { readTextFile } from "./_files.ts";
import { serveXmpp } from "./serve.ts";
import type { XmppServer } from "./_types.ts";

export type {
  AccountSources,
  DemoAccount,
  EmbeddedRunning,
  EmbeddedServer,
  EmbeddedServerOptions,
  LoadedAccounts,
};
export { hubSettings };

/**
 * Creates the embedded server's application (give `serveXmpp` the same domain in
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
  return embeddedServerOn(options, DENO_RUNTIME);
}

/**
 * Loads the accounts (`user:password` pairs and a JSON file, read with `Deno.readTextFile`);
 * with none configured, demo accounts with random passwords. Throws an `Error` naming the source
 * on a malformed entry, an unreadable file or a duplicate username.
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
  return loadAccountsWith({ readTextFile, ...sources }, DENO_RUNTIME);
}

/**
 * Starts the embedded server with the command-line options (with the demo page when
 * `--demo-page` says so); rejects with a message naming the option on bad configuration.
 *
 * @example
 * ```ts ignore
 * import { parseOptions } from "./options.ts";
 * import { createLogger } from "./_runtime.ts";
 * import { startEmbedded } from "./embedded.ts";
 * const parsed = parseOptions(["--port", "0"], {});
 * if (parsed.ok) await (await startEmbedded(parsed.options, createLogger("info", "text"))).shutdown();
 * ```
 */
export function startEmbedded(
  options: GatewayOptions,
  log: Logger,
): Promise<EmbeddedRunning<XmppServer>> {
  return startEmbeddedWith(options, log, {
    runtime: DENO_RUNTIME,
    readTextFile,
    serve: (endpoint) =>
      serveXmpp({
        ...endpoint,
        websocketLayer: endpoint.websocketLayer as "strict" | "native",
      }),
    print: (line) => console.log(line),
    demoPage: async (page) => {
      const { demoPage } = await import("./demo/page.ts");
      const { CLIENT_BUNDLE } = await import("./demo/bundle.ts");
      return demoPage({ ...page, bundle: CLIENT_BUNDLE });
    },
  });
}
