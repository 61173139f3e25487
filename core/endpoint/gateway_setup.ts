/**
 * What the Deno and Node gateways share: their common options, the per-connection options of
 * the bridge driver and the endpoint options (discovery, health and metrics included), and the
 * SRV resolution of upstream targets. Each runtime adds only its effects, its TCP connector, its
 * DNS and its server.
 *
 * @module
 */

import { type GatewayConfig, orderSrvTargets, type SrvRecord } from "../mod.ts";
import type { GatewayConnectionOptions, UpstreamTarget } from "./gateway_connection.ts";
import type { Logger } from "./log.ts";
import { Metrics } from "./metrics.ts";
import type { Runtime } from "./runtime.ts";
import type { TcpConnector } from "./tcp.ts";
import type { EndpointOptions } from "./types.ts";
import { publicWebSocketUrl, type RequestInfo, webHandler } from "./web.ts";
import { trustPolicy } from "../http/forwarded.ts";
import { addressList, LOOPBACK_RANGES } from "../http/ip.ts";
import { Readiness, tcpProbe, UpstreamCheck } from "./health.ts";

/** Looks up the SRV records of one name; resolves `[]` when there are none. */
export type SrvLookup = (name: string) => Promise<readonly SrvRecord[]>;

/** The options of the gateway that every runtime reads the same way. */
export interface GatewayCommonOptions extends
  Pick<
    EndpointOptions,
    | "path"
    | "allowedOrigins"
    | "allowMissingOrigin"
    | "cert"
    | "key"
    | "secure"
    | "pingIntervalMs"
    | "trustedProxies"
    | "forwardedHeader"
    | "admission"
    | "outbound"
  >,
  Omit<GatewayConfig, "domains"> {
  /** Interface to listen on. */
  readonly hostname?: string;
  /** TCP port (default 5280; 0 picks a free port). */
  readonly port?: number;
  /** XMPP domains served. */
  readonly domains: readonly string[];
  /** A fixed upstream address, or `"srv"` to look the domain up (RFC 6120 §3.2, XEP-0368). */
  readonly upstream: { readonly hostname: string; readonly port: number } | "srv";
  /** PEM CA certificates trusted for the upstream (default: the system store). */
  readonly upstreamCaCerts?: readonly string[];
  /** Name to verify in the upstream certificate (default: the XMPP domain). */
  readonly upstreamServerName?: string;
  /** Upstream connect timeout in ms (default 10 000). */
  readonly connectTimeoutMs?: number;
  /** PROXY protocol header toward the upstream (default off). */
  readonly proxyProtocol?: "off" | "v1" | "v2";
  /** DNS SRV lookup for `upstream: "srv"` (default: the runtime's DNS; tests inject one). */
  readonly srvLookup?: SrvLookup;
  /** Where log lines go (default: text lines at info level on stderr). */
  readonly log?: Logger;
  /** Metrics registry (default: a new one). */
  readonly metrics?: Metrics;
  /**
   * The WebSocket URL advertised by XEP-0156 discovery (`ws://` or `wss://`). Default: built
   * from each request's `Host`, answered with `Vary: Host` and a shorter cache lifetime.
   */
  readonly publicUrl?: string;
  /** Client addresses or CIDR ranges allowed to read `/metrics` (default: loopback only). */
  readonly metricsAllow?: readonly string[];
}

/** The runtime's pieces. */
export interface GatewayRuntime {
  /** The runtime's effects (clock, timers, random ids and numbers). */
  readonly runtime: Runtime;
  /** The runtime's DNS SRV lookup, used when the options give none. */
  readonly srvLookup: SrvLookup;
  /** The runtime's TCP connector. */
  readonly connect: TcpConnector;
  /** The logger used when the options give none. */
  readonly log: Logger;
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
  } & Partial<Pick<GatewayCommonOptions, (typeof ENDPOINT_KEYS)[number]>>;
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
  "admission",
  "outbound",
] as const;

/**
 * Derives both option sets from the gateway's options.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { gatewaySetup } from "./gateway_setup.ts";
 * import type { Runtime } from "./runtime.ts";
 * const setup = gatewaySetup(
 *   { domains: ["localhost"], upstream: { hostname: "127.0.0.1", port: 5222 } },
 *   {
 *     runtime: { now: () => 0, random: () => 0.5 } as unknown as Runtime,
 *     srvLookup: () => Promise.resolve([]),
 *     connect: () => Promise.reject(new Error("no network in this example")),
 *     log: () => {},
 *   },
 * );
 * assertEquals(setup.endpoint.path, "/xmpp-websocket");
 * ```
 */
export function gatewaySetup(
  options: GatewayCommonOptions,
  runtime: GatewayRuntime,
): GatewaySetup {
  const metrics = options.metrics ?? new Metrics(runtime.runtime.now);
  const upstreamTls = options.upstreamTls ?? "optional";
  const fixed = options.upstream === "srv" ? undefined : options.upstream;
  const tls = upstreamTls === "direct" ? "direct" as const : "none" as const;
  const path = options.path ?? "/xmpp-websocket";
  const secure = options.secure ?? options.cert !== undefined;
  const config: GatewayConfig = { ...options, domains: options.domains, upstreamTls };
  const endpoint: Record<string, unknown> = {};
  for (const key of ENDPOINT_KEYS) if (options[key] !== undefined) endpoint[key] = options[key];
  const lookup = options.srvLookup ?? runtime.srvLookup;
  const resolve = fixed
    ? () => Promise.resolve([{ ...fixed, tls }])
    : (domain: string) => resolveSrv(domain, upstreamTls, lookup, runtime.runtime.random);
  const connect = runtime.connect;
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
        runtime.runtime,
      ),
      now: runtime.runtime.now,
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
      log: options.log ?? runtime.log,
      metrics,
      connect,
      runtime: runtime.runtime,
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

/**
 * The upstream targets of a domain (XEP-0368 and RFC 6120 §3.2): direct TLS and STARTTLS SRV
 * records merged by priority and weight (`random` draws the weights), or the domain itself on
 * the default port when there are none. `lookup` is the runtime's DNS.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { resolveSrv } from "./gateway_setup.ts";
 * const targets = await resolveSrv("example.com", "optional", () => Promise.resolve([]), () => 0.5);
 * assertEquals(targets, [{ hostname: "example.com", port: 5222, tls: "none" }]);
 * ```
 */
export async function resolveSrv(
  domain: string,
  tls: string,
  lookup: SrvLookup,
  random: () => number,
): Promise<readonly UpstreamTarget[]> {
  const find = (name: string) => lookup(name).catch(() => [] as SrvRecord[]);
  const [direct, plain] = await Promise.all([
    tls === "off" ? Promise.resolve([]) : find(`_xmpps-client._tcp.${domain}`),
    tls === "direct" ? Promise.resolve([]) : find(`_xmpp-client._tcp.${domain}`),
  ]);
  const records = [
    ...direct.map((r) => ({ ...r, tls: "direct" as const })),
    ...plain.map((r) => ({ ...r, tls: "none" as const })),
  ];
  const ordered = orderSrvTargets(records, random);
  if (ordered.length === 0) {
    // RFC 6120 §3.2.2: no SRV records: the domain itself on the default port.
    return [{
      hostname: domain,
      port: tls === "direct" ? 5223 : 5222,
      tls: tls === "direct" ? "direct" : "none",
    }];
  }
  return ordered.map((r) => ({ hostname: r.target, port: r.port, tls: r.tls }));
}
