/**
 * The entry script of the real-Node tests (`real_node_test.ts`): bundled with esbuild and run by
 * `node`, it starts the Node adapter and prints one JSON line, `{ "port": ..., "node": ... }`,
 * once listening. SIGTERM shuts it down.
 *
 * Usage: `node entry.mjs serve` (an echo application) or
 * `node entry.mjs gateway <upstream port> <ca file>` (the gateway, STARTTLS required).
 *
 * @module
 */

import process from "node:process";
import { readFileSync } from "node:fs";
import { createLogger } from "../../deno/mod.ts";
import { serveGatewayNode, serveXmppNode, type XmppNodeServer } from "../../node_adapter/mod.ts";

const [mode, upstreamPort, caFile] = process.argv.slice(2);
let server: XmppNodeServer;
if (mode === "serve") {
  server = await serveXmppNode({
    hostname: "127.0.0.1",
    port: 0,
    session: { domains: ["localhost"] },
    application: {
      onOpenRequested: (conn) => conn.accept(),
      onElement: (conn, element) => conn.send(element),
    },
  });
} else if (mode === "gateway" && upstreamPort && caFile) {
  server = await serveGatewayNode({
    hostname: "127.0.0.1",
    port: 0,
    domains: ["localhost"],
    upstream: { hostname: "127.0.0.1", port: Number(upstreamPort) },
    upstreamTls: "required",
    upstreamCaCerts: [readFileSync(caFile, "utf8")],
    log: createLogger("warn", "text"),
  });
} else {
  console.error("usage: entry.mjs serve | entry.mjs gateway <upstream port> <ca file>");
  process.exit(2);
}
process.once("SIGTERM", () => void server.shutdown().then(() => process.exit(0)));
console.log(JSON.stringify({ port: server.addr.port, node: process.version }));
