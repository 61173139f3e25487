/**
 * Starts the embedded XMPP server behind the WebSocket endpoint: the default of
 * `deno task start` when no `--upstream` is given. Demo accounts (with fresh random passwords)
 * are created and printed when no account is configured.
 *
 * @module
 */

import { endpointLimits, type GatewayOptions } from "./options.ts";
import type { Logger } from "./_log.ts";
import type { XmppServer } from "./_types.ts";
import { embeddedServer, loadAccounts } from "./embedded.ts";
import { serveXmpp } from "./serve.ts";
import { publicWebSocketUrl, webHandler } from "./_web.ts";
import { trustPolicy } from "../core/http/forwarded.ts";
import { addressList } from "../core/http/ip.ts";
import { listenUrl, readTls } from "./_cli_files.ts";
import { renderEndpointStats } from "./_metrics.ts";

/**
 * Starts the embedded server with the command-line options; rejects with a message naming the
 * option on bad configuration.
 */
export async function startEmbedded(options: GatewayOptions, log: Logger): Promise<XmppServer> {
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
  const metricsAllow = addressList(options.metricsAllow);
  const websocketUrl = publicWebSocketUrl(secure, path, options.publicUrl || undefined);
  const server: XmppServer = serveXmpp({
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
    websocketLayer: options.websocketLayer as "strict",
    strictLayer: { headerTimeoutMs: options.headerTimeout, closeTimeoutMs: options.closeTimeout },
    ...endpointLimits(options),
    session: {
      domains: [domain],
      limits: { maxBytes: options.maxMessageBytes, maxDepth: options.maxDepth },
      openTimeoutMs: options.openTimeout,
      closeTimeoutMs: options.closeTimeout,
    },
    application: app,
    handler: webHandler({
      websocketUrl,
      metricsAllow,
      trust,
      metrics: () =>
        "# HELP xmpp_ws_connections_open WebSocket connections open now.\n# TYPE xmpp_ws_connections_open gauge\n" +
        `xmpp_ws_connections_open ${server.liveCount}\n` +
        renderEndpointStats(server.endpointStats()),
    }),
    onListen: (addr) => {
      log("info", "embedded XMPP server listening", {
        url: listenUrl(addr, options, tls.cert !== undefined),
        domain,
      });
      for (const { username, password } of demo) {
        console.log(`demo account: ${username}@${domain}  password: ${password}`);
      }
    },
  });
  server.finished.then(() => app.stop());
  return server;
}
