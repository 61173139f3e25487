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
import type { GatewayConfig, SrvRecord } from "../core/mod.ts";
import { type GatewayServeOptions, resolveSrv } from "../deno/gateway.ts";
import { GatewayConnection, type GatewayConnectionOptions } from "../deno/_gateway_connection.ts";
import { createLogger } from "../deno/_log.ts";
import { Metrics } from "../deno/_metrics.ts";
import { webHandler } from "../deno/_web.ts";
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
  const log = options.log ?? createLogger("info", "text");
  const metrics = options.metrics ?? new Metrics();
  const upstreamTls = options.upstreamTls ?? "optional";
  const fixed = options.upstream === "srv" ? undefined : options.upstream;
  const path = options.path ?? "/xmpp-websocket";
  const secure = options.secure ?? options.cert !== undefined;
  const config: GatewayConfig = { ...options, domains: options.domains, upstreamTls };
  const connectionOptions: GatewayConnectionOptions = {
    config,
    resolve: fixed
      ? () => Promise.resolve([{ ...fixed, tls: upstreamTls === "direct" ? "direct" : "none" }])
      : (domain) => resolveSrv(domain, upstreamTls, nodeSrvLookup),
    caCerts: options.upstreamCaCerts,
    serverName: options.upstreamServerName,
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    proxyProtocol: options.proxyProtocol ?? "off",
    secure,
    log,
    metrics,
    connect: connectTcpNode,
  };
  const xmpp = await serveXmppNode({
    ...pick(options, [
      "hostname",
      "port",
      "allowedOrigins",
      "allowMissingOrigin",
      "cert",
      "key",
      "pingIntervalMs",
      "trustedProxies",
      "onListen",
    ]),
    path,
    secure,
    // Only the frame bound (maxPayload) is read from it: the gateway drives the sessions.
    session: {
      domains: options.domains,
      ...(config.clientLimits ? { limits: config.clientLimits } : {}),
    },
    attach: (socket, peer) => new GatewayConnection(socket, connectionOptions, peer.client),
    handler: webHandler({
      websocketUrl: (request) => {
        const url = new URL(request.url);
        const scheme = secure || url.protocol === "https:" ? "wss:" : "ws:";
        return `${scheme}//${request.headers.get("host") ?? url.host}${path}`;
      },
      metrics: () => metrics.render(),
    }),
  });
  return Object.assign(xmpp, { metrics });
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

function pick<T extends object, K extends keyof T>(
  value: T,
  keys: readonly K[],
): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (value[key] !== undefined) out[key] = value[key];
  return out;
}
