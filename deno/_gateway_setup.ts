/**
 * What the Deno and Node gateways share: the per-connection options of the bridge driver and
 * the endpoint options (discovery, health and metrics included). Each runtime adds only its TCP
 * connector, its DNS and its server.
 *
 * @module
 */

import type { GatewayConfig } from "../core/mod.ts";
import type { GatewayServeOptions } from "./gateway.ts";
import type { GatewayConnectionOptions, UpstreamTarget } from "./_gateway_connection.ts";
import { createLogger } from "./_log.ts";
import { Metrics } from "./_metrics.ts";
import { publicWebSocketUrl, type RequestInfo, webHandler } from "./_web.ts";
import { trustPolicy } from "../core/http/forwarded.ts";
import { addressList, LOOPBACK_RANGES } from "../core/http/ip.ts";
import { Readiness, tcpProbe, UpstreamCheck } from "./_health.ts";
import { connectTcp } from "./tcp.ts";

/** The runtime's pieces. */
export interface GatewayRuntime {
  /** The upstream targets of a domain for `upstream: "srv"` (DNS SRV). */
  readonly resolveSrv: (domain: string) => Promise<readonly UpstreamTarget[]>;
  /** The TCP connector (default: Deno's). */
  readonly connect?: GatewayConnectionOptions["connect"];
}

/** The result: options for the driver and for the endpoint. */
export interface GatewaySetup {
  readonly metrics: Metrics;
  /** `/healthz`: attach the server once it exists (its `draining` flag counts). */
  readonly readiness: Readiness;
  readonly connection: GatewayConnectionOptions;
  readonly endpoint: {
    readonly path: string;
    readonly secure: boolean;
    readonly session: {
      readonly domains: readonly string[];
      readonly limits?: NonNullable<GatewayConfig["clientLimits"]>;
    };
    readonly handler: (request: Request, info?: RequestInfo) => Response | Promise<Response>;
  } & Partial<Pick<GatewayServeOptions, (typeof ENDPOINT_KEYS)[number]>>;
}

const ENDPOINT_KEYS = [
  "hostname",
  "port",
  "allowedOrigins",
  "allowMissingOrigin",
  "cert",
  "key",
  "pingIntervalMs",
  "trustedProxies",
  "forwardedHeader",
  "websocketLayer",
  "strictLayer",
  "admission",
  "outbound",
] as const;

/**
 * Derives both option sets from the gateway's options.
 *
 * @example
 * ```ts
 * import { gatewaySetup } from "./_gateway_setup.ts";
 * const setup = gatewaySetup(
 *   { domains: ["localhost"], upstream: { hostname: "127.0.0.1", port: 5222 } },
 *   { resolveSrv: () => Promise.resolve([]) },
 * );
 * console.log(setup.endpoint.path); // "/xmpp-websocket"
 * ```
 */
export function gatewaySetup(options: GatewayServeOptions, runtime: GatewayRuntime): GatewaySetup {
  const metrics = options.metrics ?? new Metrics();
  const upstreamTls = options.upstreamTls ?? "optional";
  const fixed = options.upstream === "srv" ? undefined : options.upstream;
  const tls = upstreamTls === "direct" ? "direct" as const : "none" as const;
  const path = options.path ?? "/xmpp-websocket";
  const secure = options.secure ?? options.cert !== undefined;
  const config: GatewayConfig = { ...options, domains: options.domains, upstreamTls };
  const endpoint: Record<string, unknown> = {};
  for (const key of ENDPOINT_KEYS) if (options[key] !== undefined) endpoint[key] = options[key];
  const resolve = fixed ? () => Promise.resolve([{ ...fixed, tls }]) : runtime.resolveSrv;
  const connect = runtime.connect ?? connectTcp;
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  // Readiness: the last upstream connection of a session, or a TCP connect (no XMPP, no TLS)
  // to the first domain's upstream when that is older than 5 s.
  const readiness = new Readiness(
    new UpstreamCheck({
      last: () => metrics.lastUpstream,
      probe: tcpProbe(
        () => resolve(options.domains[0] ?? ""),
        (target) =>
          connect({ hostname: target.hostname, port: target.port, tls: "none" }, {
            onChunk: () => {},
            onClosed: () => {},
          }),
        Math.min(connectTimeoutMs, 3_000),
      ),
    }),
  );
  return {
    metrics,
    readiness,
    connection: {
      config,
      resolve,
      caCerts: options.upstreamCaCerts,
      serverName: options.upstreamServerName,
      connectTimeoutMs,
      proxyProtocol: options.proxyProtocol ?? "off",
      secure,
      log: options.log ?? createLogger("info", "text"),
      metrics,
      ...(runtime.connect ? { connect: runtime.connect } : {}),
    },
    endpoint: {
      ...endpoint,
      path,
      secure,
      // The gateway drives the sessions itself; the endpoint reads the limits for frame bounds.
      session: {
        domains: options.domains,
        ...(config.clientLimits ? { limits: config.clientLimits } : {}),
      },
      handler: webHandler({
        websocketUrl: publicWebSocketUrl(secure, path, options.publicUrl),
        metrics: () => metrics.render(),
        health: () => readiness.report(),
        metricsAllow: options.metricsAllow ? addressList(options.metricsAllow) : LOOPBACK_RANGES,
        trust: trustPolicy(options.trustedProxies ?? [], options.forwardedHeader),
      }),
    },
  };
}
