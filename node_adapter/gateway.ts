/**
 * The gateway on Node: `serveXmppNode` whose every connection is bridged to an XMPP server over
 * RFC 6120 TCP by the Deno adapter's runtime-neutral driver (`deno/_gateway_connection.ts`),
 * given Node's TCP connector (`connectTcpNode`) and SRV lookup (`node:dns/promises`). XEP-0156
 * discovery, `/healthz` and `/metrics` as on Deno. All protocol decisions are the core's.
 *
 * @example
 * ```ts ignore
 * import { serveGatewayNode } from "./gateway.ts";
 * const gateway = await serveGatewayNode({
 *   port: 5280, domains: ["example.com"], upstream: { hostname: "127.0.0.1", port: 5222 },
 * });
 * await gateway.finished;
 * ```
 * @module
 */

import { resolveSrv as dnsResolveSrv } from "node:dns/promises";
import type { SrvRecord } from "../core/mod.ts";
import { type GatewayServeOptions, resolveSrv } from "../deno/gateway.ts";
import { GatewayConnection } from "../deno/_gateway_connection.ts";
import type { Metrics } from "../deno/_metrics.ts";
import { gatewaySetup } from "../deno/_gateway_setup.ts";
import { serveXmppNode } from "./serve.ts";
import { connectTcpNode } from "./tcp.ts";
import type { ServeXmppNodeOptions, XmppNodeServer } from "./_types.ts";

/** Options of {@link serveGatewayNode}: Deno's `GatewayServeOptions`, with Node's `onListen`. */
export interface GatewayNodeServeOptions
  extends Omit<GatewayServeOptions, "onListen">, Pick<ServeXmppNodeOptions, "onListen"> {}

/** A running gateway on Node. */
export interface GatewayNodeServer extends XmppNodeServer {
  readonly metrics: Metrics;
}

/**
 * Starts the gateway and resolves once it listens. Throws `RangeError` on invalid options.
 *
 * @example
 * ```ts
 * import { serveGatewayNode } from "./gateway.ts";
 * const gw = await serveGatewayNode({ hostname: "127.0.0.1", port: 0, domains: ["localhost"], upstream: "srv" });
 * await gw.shutdown();
 * ```
 */
export async function serveGatewayNode(
  options: GatewayNodeServeOptions,
): Promise<GatewayNodeServer> {
  const upstreamTls = options.upstreamTls ?? "optional";
  const setup = gatewaySetup(options as GatewayServeOptions, {
    resolveSrv: (domain) => resolveSrv(domain, upstreamTls, nodeSrvLookup),
    connect: connectTcpNode,
  });
  const xmpp = await serveXmppNode({
    ...setup.endpoint,
    ...(options.onListen ? { onListen: options.onListen } : {}),
    attach: (socket, peer) =>
      new GatewayConnection(socket, setup.connection, peer.client, peer.control),
  });
  setup.metrics.endpoint = () => xmpp.endpointStats();
  return Object.assign(xmpp, { metrics: setup.metrics });
}

async function nodeSrvLookup(name: string): Promise<readonly SrvRecord[]> {
  const records = await dnsResolveSrv(name);
  return records.map((r) => ({
    target: r.name,
    port: r.port,
    priority: r.priority,
    weight: r.weight,
  }));
}
