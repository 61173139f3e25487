/**
 * IP addresses and address ranges as the HTTP side needs them: parsed strictly (a peer's text
 * is either an IPv4 or an IPv6 address, or nothing), compared as bytes (so `::ffff:127.0.0.1`
 * and `127.0.0.1` are the same peer), and matched against configured lists of addresses or CIDR
 * ranges (`10.0.0.0/8`, `::1`, `2001:db8::/32`).
 *
 * @example
 * ```ts
 * import { addressList, matchesAddress } from "./ip.ts";
 * const proxies = addressList(["10.0.0.0/8", "::1"]);
 * console.log(matchesAddress(proxies, "10.1.2.3"), matchesAddress(proxies, "192.0.2.1")); // true false
 * ```
 * @module
 */

/** A parsed address: 4 bytes (IPv4, IPv4-mapped IPv6 included) or 16 bytes (IPv6). */
export interface IpAddress {
  readonly family: 4 | 6;
  readonly bytes: readonly number[];
  /** The canonical text: dotted IPv4, lowercase IPv6 as given (without brackets or zone). */
  readonly text: string;
}

/** One configured entry: an address and how many leading bits must match. */
export interface AddressRange {
  readonly family: 4 | 6;
  readonly bytes: readonly number[];
  readonly prefix: number;
}

/** A configured list of addresses and ranges (see {@link addressList}). */
export type AddressList = readonly AddressRange[];

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const MAX_TEXT = 64;

/**
 * Parses an IPv4 or IPv6 address (IPv6 optionally in brackets; a zone such as `%eth0` is
 * dropped); `undefined` for anything else, host names included. IPv4-mapped IPv6 becomes IPv4.
 *
 * @example
 * ```ts
 * import { parseIp } from "./ip.ts";
 * console.log(parseIp("::ffff:127.0.0.1")?.text, parseIp("[::1]")?.family, parseIp("example.com")); // "127.0.0.1" 6 undefined
 * ```
 */
export function parseIp(text: string): IpAddress | undefined {
  if (text.length > MAX_TEXT) return undefined;
  let host = text.trim();
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  const zone = host.indexOf("%");
  if (zone >= 0 && host.includes(":")) host = host.slice(0, zone);
  const v4 = ipv4Bytes(host);
  if (v4 !== undefined) return { family: 4, bytes: v4, text: v4.join(".") };
  const v6 = ipv6Bytes(host);
  if (v6 === undefined) return undefined;
  const mapped = v6.slice(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff;
  if (mapped) {
    const bytes = v6.slice(12);
    return { family: 4, bytes, text: bytes.join(".") };
  }
  return { family: 6, bytes: v6, text: host.toLowerCase() };
}

/**
 * Parses configured addresses and CIDR ranges. Throws `RangeError` naming the first entry that
 * is neither (operators get told at start-up, not at the first request).
 *
 * @example
 * ```ts
 * import { addressList } from "./ip.ts";
 * try { addressList(["10.0.0.0/33"]); } catch (e) { console.log((e as Error).message); }
 * // "Invalid address or range '10.0.0.0/33': expected an IP address or address/prefix"
 * ```
 */
export function addressList(entries: readonly string[]): AddressList {
  return entries.map((entry) => {
    const slash = entry.indexOf("/");
    const ip = parseIp(slash < 0 ? entry : entry.slice(0, slash));
    const bits = slash < 0 ? undefined : entry.slice(slash + 1);
    const max = ip === undefined ? 0 : ip.bytes.length * 8;
    const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : -1;
    if (ip === undefined || prefix < 0 || prefix > max) {
      throw new RangeError(
        `Invalid address or range '${entry}': expected an IP address or address/prefix`,
      );
    }
    return { family: ip.family, bytes: ip.bytes, prefix };
  });
}

/**
 * Whether `address` (text, or parsed) falls in one of the ranges; text that is not an IP
 * address matches nothing.
 *
 * @example
 * ```ts
 * import { addressList, matchesAddress } from "./ip.ts";
 * console.log(matchesAddress(addressList(["127.0.0.0/8"]), "::ffff:127.0.0.2")); // true
 * ```
 */
export function matchesAddress(list: AddressList, address: string | IpAddress): boolean {
  const ip = typeof address === "string" ? parseIp(address) : address;
  if (ip === undefined) return false;
  return list.some((range) => range.family === ip.family && prefixMatches(range, ip.bytes));
}

/** The default list of loopback ranges (`127.0.0.0/8` and `::1`). */
export const LOOPBACK_RANGES: AddressList = addressList(["127.0.0.0/8", "::1"]);

/**
 * Whether `address` is a loopback address (`127.0.0.0/8`, `::1`, or their IPv4-mapped form).
 *
 * @example
 * ```ts
 * import { isLoopbackAddress } from "./ip.ts";
 * console.log(isLoopbackAddress("127.0.0.2"), isLoopbackAddress("unknown")); // true false
 * ```
 */
export function isLoopbackAddress(address: string): boolean {
  return matchesAddress(LOOPBACK_RANGES, address);
}

function prefixMatches(range: AddressRange, bytes: readonly number[]): boolean {
  let bits = range.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((range.bytes[i]! ^ bytes[i]!) & mask) !== 0) return false;
  }
  return true;
}

function ipv4Bytes(host: string): number[] | undefined {
  const match = IPV4.exec(host);
  if (match === null) return undefined;
  const bytes = match.slice(1).map(Number);
  return bytes.every((b) => b <= 255) ? bytes : undefined;
}

function ipv6Bytes(host: string): number[] | undefined {
  if (!host.includes(":") || !/^[0-9a-fA-F:.]+$/.test(host)) return undefined;
  let text = host;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(":");
  if (text.slice(lastColon + 1).includes(".")) {
    const v4 = ipv4Bytes(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail.push(...v4);
    text = text.slice(0, lastColon + 1) + "0:0";
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(":") : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const fill = halves.length === 2 ? 8 - head.length - rest.length : 0;
  if (fill < (halves.length === 2 ? 1 : 0)) return undefined;
  const groups = [...head, ...Array<string>(fill).fill("0"), ...rest];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const bytes = groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]);
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes;
}
