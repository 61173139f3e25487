/**
 * How long a fetched discovery document may be reused (RFC 9111 §4.2.1 freshness lifetime),
 * from its `Cache-Control`, `Expires`, `Date` and `Age` headers and a wall-clock `now`
 * (milliseconds since the epoch) given by the caller. HTTP dates are parsed here, without the
 * runtime's clock.
 *
 * @example
 * ```ts
 * import { freshnessLifetime } from "@xmpp-websocket/xmpp-websocket/client-core";
 * import { assertEquals } from "@std/assert";
 * assertEquals(freshnessLifetime({ cacheControl: "public, max-age=3600" }, 0), 3600000);
 * assertEquals(freshnessLifetime({ cacheControl: "no-store, max-age=60" }, 0), 0);
 * ```
 * @module
 */

/** The response headers that decide freshness (as `Headers.get` returns them). */
export interface CacheHeaders {
  /** The `Cache-Control` header. */
  readonly cacheControl?: string | null;
  /** The `Expires` header. */
  readonly expires?: string | null;
  /** The `Date` header. */
  readonly date?: string | null;
  /** The `Age` header. */
  readonly age?: string | null;
}

/** Bounds on the lifetime. */
export interface FreshnessOptions {
  /** Lifetime when the response says nothing (default 0: not reused). */
  readonly defaultMs?: number;
  /** The longest lifetime granted, whatever the server says (default one day). */
  readonly maxMs?: number;
}

const DAY_MS = 86_400_000;

/**
 * The remaining freshness of a response received now, in ms (0: do not reuse). `no-store`
 * and `no-cache` give 0; `max-age` wins over `Expires`; `Expires` counts from `Date` when
 * present (else from `now`), and an invalid `Expires` means already expired; `Age` is
 * subtracted. The result is clamped to [0, `maxMs`].
 *
 * @example
 * ```ts
 * import { freshnessLifetime } from "@xmpp-websocket/xmpp-websocket/client-core";
 * import { assertEquals } from "@std/assert";
 * const headers = {
 *   date: "Sun, 06 Nov 1994 08:49:37 GMT", expires: "Sun, 06 Nov 1994 09:49:37 GMT", age: "600",
 * };
 * assertEquals(freshnessLifetime(headers, 0), 3000000); // one hour minus ten minutes
 * ```
 */
export function freshnessLifetime(
  headers: CacheHeaders,
  now: number,
  options: FreshnessOptions = {},
): number {
  const maxMs = options.maxMs ?? DAY_MS;
  const directives = parseCacheControl(headers.cacheControl ?? "");
  if (directives.has("no-store") || directives.has("no-cache")) return 0;
  let lifetime: number;
  const maxAge = directives.get("max-age");
  if (maxAge !== undefined && /^[0-9]+$/.test(maxAge)) {
    lifetime = Number(maxAge) * 1000;
  } else if (headers.expires != null) {
    const expires = parseHttpDate(headers.expires);
    if (expires === undefined) return 0;
    const date = headers.date != null ? parseHttpDate(headers.date) : undefined;
    lifetime = expires - (date ?? now);
  } else {
    lifetime = options.defaultMs ?? 0;
  }
  const age = headers.age != null && /^\s*[0-9]+\s*$/.test(headers.age)
    ? Number(headers.age) * 1000
    : 0;
  return Math.max(0, Math.min(maxMs, lifetime - age));
}

/**
 * The directives of a `Cache-Control` value, names lowercased, values unquoted (`""` when
 * absent); the first occurrence of a directive wins.
 *
 * @example
 * ```ts
 * import { parseCacheControl } from "./http_cache.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(parseCacheControl('Max-Age="60", private'), new Map([["max-age", "60"], ["private", ""]]));
 * ```
 */
export function parseCacheControl(value: string): Map<string, string> {
  const directives = new Map<string, string>();
  for (const part of value.split(",")) {
    const eq = part.indexOf("=");
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (name === "" || directives.has(name)) continue;
    let arg = eq < 0 ? "" : part.slice(eq + 1).trim();
    if (arg.length >= 2 && arg.startsWith('"') && arg.endsWith('"')) arg = arg.slice(1, -1);
    directives.set(name, arg);
  }
  return directives;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/**
 * Parses an HTTP date (RFC 9110 §5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime
 * forms) into milliseconds since the epoch; `undefined` when it is not one.
 *
 * @example
 * ```ts
 * import { parseHttpDate } from "./http_cache.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(parseHttpDate("Thu, 01 Jan 1970 00:01:00 GMT"), 60000);
 * assertEquals(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777000);
 * assertEquals(parseHttpDate("tomorrow"), undefined);
 * ```
 */
export function parseHttpDate(text: string): number | undefined {
  const value = text.trim();
  let day: string, month: string, year: string, time: string;
  let match = /^[A-Za-z]{3}, (\d{2}) ([A-Za-z]{3}) (\d{4}) (\d{2}:\d{2}:\d{2}) GMT$/.exec(value);
  if (match) {
    [, day, month, year, time] = match as unknown as [string, string, string, string, string];
  } else if (
    (match = /^[A-Za-z]+, (\d{2})-([A-Za-z]{3})-(\d{2}) (\d{2}:\d{2}:\d{2}) GMT$/.exec(value))
  ) {
    [, day, month, year, time] = match as unknown as [string, string, string, string, string];
    // RFC 9110 §5.6.7: a two-digit year more than 50 years ahead is in the past century.
    year = String(Number(year) < 70 ? 2000 + Number(year) : 1900 + Number(year));
  } else if (
    (match = /^[A-Za-z]{3} ([A-Za-z]{3}) ([ \d]\d) (\d{2}:\d{2}:\d{2}) (\d{4})$/.exec(value))
  ) {
    [, month, day, time, year] = match as unknown as [string, string, string, string, string];
  } else {
    return undefined;
  }
  const monthIndex = MONTHS.indexOf(month.toLowerCase());
  const [h, m, s] = time.split(":").map(Number) as [number, number, number];
  const d = Number(day.trim());
  if (monthIndex < 0 || d < 1 || d > 31 || h > 23 || m > 59 || s > 60) return undefined;
  return (daysFromCivil(Number(year), monthIndex + 1, d) * 86_400 + h * 3600 + m * 60 + s) * 1000;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}
