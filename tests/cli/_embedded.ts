/**
 * Test support for the command-line tests: our endpoint as `deno task start` runs it (the
 * embedded server with accounts alice and bob, host-meta beside it) on a free loopback port.
 *
 * @module
 */

import { embeddedServer, loadAccounts } from "../../deno/embedded.ts";
import { serveXmpp } from "../../deno/serve.ts";
import { webHandler } from "../../core/endpoint/web.ts";

/** The password of both accounts. */
export const PASSWORD = "s3cret-Pa55";

/** Our endpoint as `deno task start` runs it: the embedded server, with host-meta beside it. */
export async function withEmbedded(
  run: (url: string) => Promise<void>,
  tls?: { readonly cert: string; readonly key: string },
): Promise<void> {
  const { accounts } = await loadAccounts({ users: [`alice:${PASSWORD}`, `bob:${PASSWORD}`] });
  const app = embeddedServer({ accounts });
  const path = "/xmpp-websocket";
  const scheme = tls ? "wss" : "ws";
  const xmpp = serveXmpp({
    hostname: "127.0.0.1",
    port: 0,
    path,
    ...(tls ?? {}),
    session: { domains: ["localhost"] },
    application: app,
    handler: webHandler({
      websocketUrl: (request) => `${scheme}://${new URL(request.url).host}${path}`,
      metrics: () => "",
    }),
  });
  try {
    await run(`${scheme}://127.0.0.1:${xmpp.addr.port}${path}`);
  } finally {
    await xmpp.shutdown();
    app.stop();
  }
}
