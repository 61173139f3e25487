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

import type { SrvRecord } from "../core/mod.ts";
import { serveXmpp } from "./serve.ts";
import type { ServeXmppOptions, XmppServer } from "./_types.ts";
import { GatewayConnection } from "../core/endpoint/gateway_connection.ts";
import type { Metrics } from "../core/endpoint/metrics.ts";
import {
  type GatewayCommonOptions,
  gatewaySetup,
  resolveSrv as resolveTargets,
  type SrvLookup,
} from "../core/endpoint/gateway_setup.ts";
import type { UpstreamTarget } from "../core/endpoint/gateway_connection.ts";
import { createLogger, DENO_RUNTIME } from "./_runtime.ts";
import { connectTcp } from "./tcp.ts";

export type { SrvLookup };

/** Options of {@link serveGateway}: the common gateway options, with Deno's listener settings. */
export interface GatewayServeOptions
  extends
    GatewayCommonOptions,
    Pick<ServeXmppOptions, "onListen" | "websocketLayer" | "strictLayer"> {}

/** A running gateway. */
export interface GatewayServer extends XmppServer {
  /** The gateway's counters (`/metrics`). */
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
  const setup = gatewaySetup(options, {
    runtime: DENO_RUNTIME,
    srvLookup: denoSrvLookup,
    connect: connectTcp,
    log: createLogger("info", "text"),
  });
  const xmpp = serveXmpp({
    ...setup.endpoint,
    ...(options.websocketLayer ? { websocketLayer: options.websocketLayer } : {}),
    ...(options.strictLayer ? { strictLayer: options.strictLayer } : {}),
    ...(options.onListen ? { onListen: options.onListen } : {}),
    attach: (socket, peer) =>
      new GatewayConnection(socket, setup.connection, peer.client, peer.control),
  });
  setup.readiness.attach(xmpp);
  setup.metrics.endpoint = () => xmpp.endpointStats();
  return Object.assign(xmpp, { metrics: setup.metrics });
}

/**
 * The upstream targets of a domain (XEP-0368 and RFC 6120 §3.2): direct TLS and STARTTLS SRV
 * records merged by priority and weight, or the domain itself on the default port when there are
 * none. `lookup` is the DNS (default: `Deno.resolveDns`).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { resolveSrv } from "./gateway.ts";
 * const targets = await resolveSrv("example.com", "optional", () => Promise.resolve([]));
 * assertEquals(targets, [{ hostname: "example.com", port: 5222, tls: "none" }]);
 * ```
 */
export function resolveSrv(
  domain: string,
  tls: string,
  lookup: SrvLookup = denoSrvLookup,
): Promise<readonly UpstreamTarget[]> {
  return resolveTargets(domain, tls, lookup, DENO_RUNTIME.random);
}

function denoSrvLookup(name: string): Promise<readonly SrvRecord[]> {
  return Deno.resolveDns(name, "SRV");
}
