/**
 * Who the client is, behind reverse proxies: the one decision both runtimes share. The TCP peer
 * is the client unless it is a configured trusted proxy; then, and only then, the one header the
 * operator chose (`X-Forwarded-For`, or RFC 7239 `Forwarded`) is read from the right: each hop
 * that is itself a trusted proxy is skipped, and the first one that is not is the client. A
 * client can write anything into these headers, but it cannot write to the right of what its
 * own proxy appends, so the right-most untrusted hop is the only one worth believing. Any other
 * forwarding header is ignored, so a client's own `Forwarded: for=127.0.0.1` is never read when
 * the proxy speaks `X-Forwarded-For`. A hop that is not an IP address (`unknown`, an obfuscated
 * name, garbage) makes the client `unknown`, never the proxy's own (perhaps loopback) address.
 *
 * @example
 * ```ts
 * import { resolveClientAddress, trustPolicy } from "./forwarded.ts";
 * const headers = new Map([
 *   ["x-forwarded-for", "127.0.0.1, 203.0.113.7"], // the client wrote the first, nginx the second
 *   ["forwarded", "for=127.0.0.1"], // the client's own: not the chosen header
 * ]);
 * const client = resolveClientAddress(
 *   { hostname: "10.0.0.1", port: 40000 },
 *   (name) => headers.get(name) ?? null,
 *   trustPolicy(["10.0.0.1"]),
 * );
 * console.log(client.address); // { hostname: "203.0.113.7", port: 0 }
 * ```
 * @module
 */

import { type AddressList, addressList, type IpAddress, matchesAddress, parseIp } from "./ip.ts";

/** The forwarding headers an operator may choose from (`none`: believe no header at all). */
export const FORWARDED_HEADERS = ["x-forwarded-for", "forwarded", "none"] as const;

/** Which request header names the client behind a trusted proxy. */
export type ForwardedHeader = (typeof FORWARDED_HEADERS)[number];

/** Request headers that announce a proxy in between (any of them, believed or not). */
const FORWARDING_HEADERS = ["x-forwarded-for", "forwarded", "x-real-ip"] as const;

/** The most hops read from the right of a header (a longer chain is cut on the left). */
export const MAX_FORWARDED_HOPS = 32;

/** The address given to a client a trusted proxy could not name (never loopback, never allowed). */
export const UNKNOWN_CLIENT = "unknown";

/** What to believe: the trusted proxies and the header they write. */
export interface TrustPolicy {
  readonly proxies: AddressList;
  readonly header: ForwardedHeader;
}

/** A host and a port. */
export interface HostPort {
  readonly hostname: string;
  readonly port: number;
}

/** The decision. */
export interface ClientAddress {
  /** The client's address: the peer's, one named by a trusted proxy, or `unknown`. */
  readonly address: HostPort;
  /** Where it came from. */
  readonly source: "peer" | "header";
  /**
   * The request carries forwarding headers that were not believed because the peer is not a
   * trusted proxy (or no header is trusted): something in front forwards requests that we
   * were not told about, so the peer's own address says little about the real client.
   */
  readonly untrustedForwarding: boolean;
}

/**
 * Builds a policy from configured proxy addresses or CIDR ranges and the chosen header
 * (default `x-forwarded-for`). Throws `RangeError` on a bad entry or header name.
 *
 * @example
 * ```ts
 * import { trustPolicy } from "./forwarded.ts";
 * console.log(trustPolicy(["127.0.0.1", "10.0.0.0/8"], "forwarded").header); // "forwarded"
 * ```
 */
export function trustPolicy(
  proxies: readonly string[],
  header: string = "x-forwarded-for",
): TrustPolicy {
  if (!(FORWARDED_HEADERS as readonly string[]).includes(header)) {
    throw new RangeError(
      `Invalid forwarded header '${header}': expected one of ${FORWARDED_HEADERS.join(", ")}`,
    );
  }
  return { proxies: addressList(proxies), header: header as ForwardedHeader };
}

/**
 * Decides the client's address from the TCP peer and the request headers (`header(name)`
 * returns a header's value, lines joined with `, ` as `Headers.get` does, or `null`).
 *
 * @example
 * ```ts
 * import { resolveClientAddress, trustPolicy } from "./forwarded.ts";
 * const peer = { hostname: "198.51.100.2", port: 5000 }; // not a trusted proxy
 * const spoofed = (name: string) => name === "x-forwarded-for" ? "127.0.0.1" : null;
 * const client = resolveClientAddress(peer, spoofed, trustPolicy(["127.0.0.1"]));
 * console.log(client.address.hostname, client.untrustedForwarding); // "198.51.100.2" true
 * ```
 */
export function resolveClientAddress(
  peer: HostPort,
  header: (name: string) => string | null,
  policy: TrustPolicy,
): ClientAddress {
  const trustedPeer = policy.header !== "none" && matchesAddress(policy.proxies, peer.hostname);
  if (!trustedPeer) {
    const forwarded = FORWARDING_HEADERS.some((name) => header(name) !== null);
    return { address: peer, source: "peer", untrustedForwarding: forwarded };
  }
  const value = header(policy.header);
  const hops = value === null
    ? []
    : policy.header === "forwarded"
    ? forwardedFor(value)
    : value.split(",").filter((hop) => hop.trim() !== "").map(node);
  if (hops.length === 0) return { address: peer, source: "peer", untrustedForwarding: false };
  const first = Math.max(0, hops.length - MAX_FORWARDED_HOPS);
  for (let i = hops.length - 1; i >= first; i--) {
    const hop = hops[i];
    if (hop === undefined) return fromHeader({ hostname: UNKNOWN_CLIENT, port: 0 });
    if (!matchesAddress(policy.proxies, hop.ip)) {
      return fromHeader({ hostname: hop.ip.text, port: hop.port });
    }
  }
  // Every hop is a trusted proxy: the left-most is where the request came from.
  const origin = hops[first]!;
  return fromHeader({ hostname: origin.ip.text, port: origin.port });
}

/**
 * The `for=` nodes of an RFC 7239 `Forwarded` value, left to right; an element without `for`,
 * or with one that is not an IP address, is `undefined`.
 *
 * @example
 * ```ts
 * import { forwardedFor } from "./forwarded.ts";
 * const hops = forwardedFor('for=192.0.2.60;proto=http, for="[2001:db8::1]:4711", for=unknown');
 * console.log(hops.map((hop) => hop?.ip.text)); // ["192.0.2.60", "2001:db8::1", undefined]
 * ```
 */
export function forwardedFor(
  value: string,
): ({ readonly ip: IpAddress; readonly port: number } | undefined)[] {
  return splitOutsideQuotes(value, ",").filter((element) => element.trim() !== "").map(
    (element) => {
      for (const pair of splitOutsideQuotes(element, ";")) {
        const eq = pair.indexOf("=");
        if (eq < 0 || pair.slice(0, eq).trim().toLowerCase() !== "for") continue;
        return node(unquote(pair.slice(eq + 1).trim()));
      }
      return undefined;
    },
  );
}

function fromHeader(address: HostPort): ClientAddress {
  return { address, source: "header", untrustedForwarding: false };
}

/** One hop: `ip`, `ip:port`, `[ipv6]`, `[ipv6]:port` or a bare IPv6 address. */
function node(text: string): { readonly ip: IpAddress; readonly port: number } | undefined {
  const hop = text.trim();
  let host = hop;
  let port = "";
  if (hop.startsWith("[")) {
    const end = hop.indexOf("]");
    if (end < 0) return undefined;
    host = hop.slice(1, end);
    const rest = hop.slice(end + 1);
    if (rest !== "" && !rest.startsWith(":")) return undefined;
    port = rest.slice(1);
  } else if (hop.indexOf(":") >= 0 && hop.indexOf(":") === hop.lastIndexOf(":")) {
    host = hop.slice(0, hop.indexOf(":"));
    port = hop.slice(hop.indexOf(":") + 1);
  }
  const ip = parseIp(host);
  if (ip === undefined) return undefined;
  const number = /^\d{1,5}$/.test(port) ? Number(port) : 0; // obfuscated ports (`_x`) count as 0
  return { ip, port: number <= 65_535 ? number : 0 };
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === "\\") i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === separator) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function unquote(value: string): string {
  if (!value.startsWith('"')) return value;
  return value.slice(1, value.endsWith('"') && value.length > 1 ? -1 : undefined).replace(
    /\\(.)/g,
    "$1",
  );
}
