/**
 * The gateway on Deno: an RFC 7395 endpoint whose every connection is bridged to an XMPP
 * server over RFC 6120 TCP (STARTTLS or direct TLS), plus XEP-0156 discovery, `/healthz` and
 * `/metrics`. All protocol decisions are the core's (`core/gateway`).
 *
 * @example
 * ```ts ignore
 * import { serveGateway } from "./gateway.ts";
 * const gateway = serveGateway({
 *   port: 5280, domains: ["example.com"], upstream: { hostname: "127.0.0.1", port: 5222 },
 * });
 * await gateway.finished;
 * ```
 * @module
 */

import { type GatewayConfig, orderSrvTargets, type SrvRecord } from "../core/mod.ts";
import { serveXmpp } from "./serve.ts";
import type { ServeXmppOptions, XmppServer } from "./_types.ts";
import { GatewayConnection, type UpstreamTarget } from "./_gateway_connection.ts";
import type { Logger } from "./_log.ts";
import type { Metrics } from "./_metrics.ts";
import { gatewaySetup } from "./_gateway_setup.ts";

/** Options of {@link serveGateway}. */
export interface GatewayServeOptions extends
  Pick<
    ServeXmppOptions,
    | "hostname"
    | "port"
    | "path"
    | "allowedOrigins"
    | "allowMissingOrigin"
    | "cert"
    | "key"
    | "secure"
    | "pingIntervalMs"
    | "trustedProxies"
    | "forwardedHeader"
    | "onListen"
    | "websocketLayer"
    | "strictLayer"
    | "admission"
    | "outbound"
  >,
  Omit<GatewayConfig, "domains"> {
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
  /** DNS SRV lookup for `upstream: "srv"` (default: `Deno.resolveDns`; tests inject one). */
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

/** A running gateway. */
export interface GatewayServer extends XmppServer {
  readonly metrics: Metrics;
}

/**
 * Starts the gateway. Throws `RangeError` on invalid options.
 *
 * @example
 * ```ts ignore
 * import { serveGateway } from "./gateway.ts";
 * const gw = serveGateway({ hostname: "127.0.0.1", port: 0, domains: ["localhost"], upstream: "srv" });
 * await gw.shutdown();
 * ```
 */
export function serveGateway(options: GatewayServeOptions): GatewayServer {
  const upstreamTls = options.upstreamTls ?? "optional";
  const setup = gatewaySetup(options, {
    resolveSrv: (domain) => resolveSrv(domain, upstreamTls, options.srvLookup),
  });
  const xmpp = serveXmpp({
    ...setup.endpoint,
    ...(options.onListen ? { onListen: options.onListen } : {}),
    attach: (socket, peer) =>
      new GatewayConnection(socket, setup.connection, peer.client, peer.control),
  });
  setup.readiness.attach(xmpp);
  setup.metrics.endpoint = () => xmpp.endpointStats();
  return Object.assign(xmpp, { metrics: setup.metrics });
}

/** Looks up the SRV records of one name; resolves `[]` when there are none. */
export type SrvLookup = (name: string) => Promise<readonly SrvRecord[]>;

/**
 * The upstream targets of a domain (XEP-0368 and RFC 6120 §3.2): direct TLS and STARTTLS SRV
 * records merged by priority and weight, or the domain itself on the default port when there are
 * none. `lookup` is the runtime's DNS (default: `Deno.resolveDns`); the Node adapter injects its
 * own.
 *
 * @example
 * ```ts
 * import { resolveSrv } from "./gateway.ts";
 * const targets = await resolveSrv("example.com", "optional", () => Promise.resolve([]));
 * console.log(targets); // [{ hostname: "example.com", port: 5222, tls: "none" }]
 * ```
 */
export async function resolveSrv(
  domain: string,
  tls: string,
  lookup: SrvLookup = denoSrvLookup,
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
  const ordered = orderSrvTargets(records, Math.random);
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

function denoSrvLookup(name: string): Promise<readonly SrvRecord[]> {
  return Deno.resolveDns(name, "SRV");
}
