/**
 * Starts the embedded XMPP server behind the Node endpoint: what `xmpp-websocket` (the npm
 * package's command) runs when no `--upstream` is given. The same wiring as the Deno command's
 * (`deno/_embedded_main.ts`): the runtime-neutral hub driver of `deno/embedded.ts`, the
 * accounts loader, and the discovery, `/healthz` and `/metrics` handler, on `serveXmppNode`.
 * Demo accounts (fresh random passwords) are made and printed when no account is configured.
 *
 * @example
 * ```ts ignore
 * import { parseOptions } from "../deno/options.ts";
 * import { createLogger } from "../deno/_log.ts";
 * import { startEmbeddedNode } from "./_embedded_main.ts";
 * const parsed = parseOptions(["--port", "0"], {});
 * if (parsed.ok) await (await startEmbeddedNode(parsed.options, createLogger("info", "text"))).shutdown();
 * ```
 * @module
 */

import { readFile as fsReadFile } from "node:fs/promises";
import type { GatewayOptions } from "../deno/options.ts";
import type { Logger } from "../deno/_log.ts";
import { embeddedServer, loadAccounts } from "../deno/embedded.ts";
import { publicWebSocketUrl, webHandler } from "../deno/_web.ts";
import { trustPolicy } from "../core/http/forwarded.ts";
import { addressList } from "../core/http/ip.ts";
import { serveXmppNode } from "./serve.ts";
import type { XmppNodeServer } from "./_types.ts";
import { listenUrl, readTls } from "./_files.ts";

/**
 * Starts the embedded server with the command-line options; rejects with a message naming the
 * option on bad configuration.
 *
 * @example
 * ```ts ignore
 * import { startEmbeddedNode } from "./_embedded_main.ts";
 * // startEmbeddedNode(options, log): see the module example
 * ```
 */
export async function startEmbeddedNode(
  options: GatewayOptions,
  log: Logger,
): Promise<XmppNodeServer> {
  const domain = options.domains[0] ?? "localhost";
  if (options.domains.length > 1) {
    log("warn", "the embedded server serves one domain", {
      using: domain,
      ignored: options.domains.slice(1).join(","),
    });
  }
  const { accounts, demo } = await loadAccounts({
    users: options.account,
    file: options.accountsFile,
    readTextFile: (path) => fsReadFile(path, "utf8"),
  });
  const tls = await readTls(options);
  const app = embeddedServer({
    domain,
    accounts,
    log: (e) =>
      log(e.level, e.event, {
        ...(e.connId ? { conn: e.connId } : {}),
        ...(e.jid ? { jid: e.jid } : {}),
        ...(e.text ? { detail: e.text } : {}),
      }),
  });
  const secure = options.secure || tls.cert !== undefined;
  const path = options.path;
  const trust = trustPolicy(options.trustedProxy, options.forwardedHeader);
  let live = () => 0;
  const handle = webHandler({
    websocketUrl: publicWebSocketUrl(secure, path, options.publicUrl || undefined),
    metricsAllow: addressList(options.metricsAllow),
    trust,
    metrics: () =>
      "# HELP xmpp_ws_connections_open WebSocket connections open now.\n# TYPE xmpp_ws_connections_open gauge\n" +
      `xmpp_ws_connections_open ${live()}\n`,
  });
  const server = await serveXmppNode({
    hostname: options.host,
    port: options.port,
    path,
    ...tls,
    secure,
    ...(options.origin.length > 0 ? { allowedOrigins: options.origin } : {}),
    allowMissingOrigin: !options.denyMissingOrigin,
    trustedProxies: options.trustedProxy,
    forwardedHeader: trust.header,
    pingIntervalMs: options.pingInterval,
    session: {
      domains: [domain],
      limits: { maxBytes: options.maxMessageBytes, maxDepth: options.maxDepth },
      openTimeoutMs: options.openTimeout,
      closeTimeoutMs: options.closeTimeout,
    },
    application: app,
    handler: handle,
    onListen: (addr) => {
      log("info", "embedded XMPP server listening", {
        url: listenUrl(addr, path, tls.cert !== undefined),
        domain,
      });
      for (const { username, password } of demo) {
        console.log(`demo account: ${username}@${domain}  password: ${password}`);
      }
    },
  });
  live = () => server.liveCount;
  server.finished.then(() => app.stop());
  return server;
}
