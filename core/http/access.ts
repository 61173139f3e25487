/**
 * Who may read an operator resource such as `/metrics`: a client whose address (as decided by
 * `forwarded.ts`) is in a configured list, and whose request did not come through a forwarding
 * proxy we were not told to trust (behind such a proxy every request looks local).
 *
 * @example
 * ```ts
 * import { clientAllowed } from "./access.ts";
 * import { LOOPBACK_RANGES } from "./ip.ts";
 * const local = { address: { hostname: "127.0.0.1", port: 1 }, source: "peer", untrustedForwarding: false } as const;
 * console.log(clientAllowed(local, LOOPBACK_RANGES)); // true
 * ```
 * @module
 */

import type { ClientAddress } from "./forwarded.ts";
import { type AddressList, matchesAddress } from "./ip.ts";

/**
 * Whether `client` may read a resource restricted to `allow`.
 *
 * @example
 * ```ts
 * import { clientAllowed } from "./access.ts";
 * import { LOOPBACK_RANGES } from "./ip.ts";
 * // A loopback peer that forwards someone else's request (an unconfigured reverse proxy):
 * const proxied = { address: { hostname: "127.0.0.1", port: 1 }, source: "peer", untrustedForwarding: true } as const;
 * console.log(clientAllowed(proxied, LOOPBACK_RANGES)); // false
 * ```
 */
export function clientAllowed(client: ClientAddress, allow: AddressList): boolean {
  return !client.untrustedForwarding && matchesAddress(allow, client.address.hostname);
}
