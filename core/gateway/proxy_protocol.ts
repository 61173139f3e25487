/**
 * PROXY protocol headers (HAProxy, versions 1 and 2), written by a gateway before the first
 * XMPP byte so that the XMPP server sees the browser's address instead of the gateway's.
 *
 * @example
 * ```ts
 * import { proxyHeaderV1 } from "@xmpp-websocket/xmpp-websocket/gateway";
 * import { assertEquals } from "@std/assert";
 * assertEquals(proxyHeaderV1({ hostname: "203.0.113.7", port: 51000 }, { hostname: "10.0.0.2", port: 5222 }), "PROXY TCP4 203.0.113.7 10.0.0.2 51000 5222\r\n");
 * ```
 * @module
 */

/** One end of a TCP connection. */
export interface Endpoint {
  /** The IP address (v4 or v6). */
  readonly hostname: string;
  /** The TCP port. */
  readonly port: number;
}

/**
 * The version 1 (text) header; `UNKNOWN` when the families differ or are not IP.
 *
 * @example
 * ```ts
 * import { proxyHeaderV1 } from "@xmpp-websocket/xmpp-websocket/gateway";
 * import { assertEquals } from "@std/assert";
 * assertEquals(proxyHeaderV1({ hostname: "::1", port: 1 }, { hostname: "::1", port: 2 }), "PROXY TCP6 ::1 ::1 1 2\r\n");
 * ```
 */
export function proxyHeaderV1(source: Endpoint, destination: Endpoint): string {
  const family = familyOf(source.hostname);
  if (family === undefined || family !== familyOf(destination.hostname)) return "PROXY UNKNOWN\r\n";
  return `PROXY TCP${family} ${source.hostname} ${destination.hostname} ${source.port} ${destination.port}\r\n`;
}

const SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

/**
 * The version 2 (binary) header: PROXY command over TCP, or LOCAL when the address family is
 * unknown.
 *
 * @example
 * ```ts
 * import { proxyHeaderV2 } from "@xmpp-websocket/xmpp-websocket/gateway";
 * import { assertEquals } from "@std/assert";
 * const header = proxyHeaderV2({ hostname: "127.0.0.1", port: 1 }, { hostname: "127.0.0.1", port: 2 });
 * assertEquals(header.length, 28); // 16 fixed + 12 for IPv4
 * ```
 */
export function proxyHeaderV2(source: Endpoint, destination: Endpoint): Uint8Array {
  const family = familyOf(source.hostname);
  if (family === undefined || family !== familyOf(destination.hostname)) {
    return Uint8Array.from([...SIGNATURE, 0x20, 0x00, 0x00, 0x00]); // LOCAL, UNSPEC
  }
  const src = family === "4" ? ipv4Bytes(source.hostname) : ipv6Bytes(source.hostname);
  const dst = family === "4" ? ipv4Bytes(destination.hostname) : ipv6Bytes(destination.hostname);
  const length = src.length + dst.length + 4;
  return Uint8Array.from([
    ...SIGNATURE,
    0x21, // version 2, PROXY
    family === "4" ? 0x11 : 0x21, // TCP over IPv4 / IPv6
    length >> 8,
    length & 0xff,
    ...src,
    ...dst,
    source.port >> 8,
    source.port & 0xff,
    destination.port >> 8,
    destination.port & 0xff,
  ]);
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function familyOf(host: string): "4" | "6" | undefined {
  const v4 = IPV4.exec(host);
  if (v4 !== null) return v4.slice(1).every((p) => Number(p) <= 255) ? "4" : undefined;
  return /^[0-9a-fA-F:.]+$/.test(host) && host.includes(":") && ipv6Bytes(host).length === 16
    ? "6"
    : undefined;
}

function ipv4Bytes(host: string): number[] {
  return host.split(".").map(Number);
}

function ipv6Bytes(host: string): number[] {
  let text = host;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(":");
  if (text.slice(lastColon + 1).includes(".")) {
    tail.push(...ipv4Bytes(text.slice(lastColon + 1)));
    text = text.slice(0, lastColon + 1) + "0:0";
  }
  const halves = text.split("::");
  if (halves.length > 2) return [];
  const head = halves[0] ? halves[0].split(":") : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const fill = halves.length === 2 ? 8 - head.length - rest.length : 0;
  const groups = [...head, ...Array(Math.max(0, fill)).fill("0"), ...rest];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return [];
  const bytes = groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]);
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes;
}
