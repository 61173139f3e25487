/**
 * The HTTP-side decisions both runtimes share, pure: IP addresses and ranges, the client's
 * address behind trusted proxies, and access to operator resources.
 *
 * @example
 * ```ts
 * import { resolveClientAddress, trustPolicy } from "./mod.ts";
 * const client = resolveClientAddress({ hostname: "192.0.2.1", port: 1 }, () => null, trustPolicy([]));
 * console.log(client.address.hostname); // "192.0.2.1"
 * ```
 * @module
 */

export * from "./ip.ts";
export * from "./forwarded.ts";
export * from "./access.ts";
export * from "./admission.ts";
