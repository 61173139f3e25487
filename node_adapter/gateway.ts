/**
 * The gateway on Node: `serveXmppNode` whose every connection is bridged to an XMPP server over
 * RFC 6120 TCP by the runtime-neutral driver of `core/endpoint/gateway_connection.ts`, given
 * Node's effects, TCP connector (`connectTcpNode`) and SRV lookup (`node:dns/promises`). XEP-0156
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
import { GatewayConnection } from "../core/endpoint/gateway_connection.ts";
import type { Metrics } from "../core/endpoint/metrics.ts";
import { type GatewayCommonOptions, gatewaySetup } from "../core/endpoint/gateway_setup.ts";
import { serveXmppNode } from "./serve.ts";
import { connectTcpNode } from "./tcp.ts";
import { createLogger, NODE_RUNTIME } from "./_runtime.ts";
import type { ServeXmppNodeOptions, XmppNodeServer } from "./_types.ts";

/** Options of {@link serveGatewayNode}: the common gateway options, with Node's `onListen`. */
export interface GatewayNodeServeOptions
  extends GatewayCommonOptions, Pick<ServeXmppNodeOptions, "onListen"> {}

/** A running gateway on Node. */
export interface GatewayNodeServer extends XmppNodeServer {
  /** The gateway's counters (`/metrics`). */
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
  const setup = gatewaySetup(options, {
    runtime: NODE_RUNTIME,
    srvLookup: nodeSrvLookup,
    connect: connectTcpNode,
    log: createLogger("info", "text"),
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
