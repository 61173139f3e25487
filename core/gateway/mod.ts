/**
 * The gateway core: RFC 7395 toward browsers, RFC 6120 toward any XMPP server.
 *
 * @example
 * ```ts
 * import { createGateway } from "./mod.ts";
 * console.log(createGateway({ domains: ["localhost"] }).upstream); // undefined
 * ```
 * @module
 */
export * from "./types.ts";
export { createGateway, gatewayStep } from "./bridge.ts";
export { filterFeaturesForWebSocket, startTlsOffer } from "./features.ts";
export { type Endpoint, proxyHeaderV1, proxyHeaderV2 } from "./proxy_protocol.ts";
export { orderSrvTargets, type SrvRecord } from "./srv.ts";
