/**
 * The stream-header rules of RFC 6120 §4.7 as applied by the receiving entity (server role):
 * which `<open/>` is acceptable and what the response header carries.
 *
 * @example
 * ```ts
 * import { negotiateVersion } from "./open_rules.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(negotiateVersion("1.0"), "1.0");
 * assertEquals(negotiateVersion("2.3"), "1.0");
 * assertEquals(negotiateVersion(undefined), undefined);
 * ```
 * @module
 */

import type { StreamAttributes } from "../framing/types.ts";
import type { StreamErrorCondition } from "../stream_errors.ts";

const VERSION = /^(\d{1,9})\.(\d{1,9})$/;

/**
 * The version for the response header (RFC 6120 §4.7.5): the lower of the client's and ours
 * (1.0). `undefined` when the client's version is missing or below 1.0 (not supported).
 *
 * @example
 * ```ts
 * import { negotiateVersion } from "./open_rules.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(negotiateVersion("0.9"), undefined);
 * ```
 */
export function negotiateVersion(version: string | undefined): "1.0" | undefined {
  const match = version === undefined ? null : VERSION.exec(version);
  if (match === null) return undefined;
  return Number(match[1]) >= 1 ? "1.0" : undefined;
}

/** Why an `<open/>` was refused. */
export interface OpenRefusal {
  readonly condition: StreamErrorCondition;
  readonly text: string;
}

/**
 * Checks a client's `<open/>` against the served domains and the version rule. Domains are
 * compared case-insensitively (domainparts are case-insensitive, RFC 7622 §3.2).
 *
 * @example
 * ```ts
 * import { checkOpen } from "./open_rules.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(checkOpen({ to: "elsewhere", version: "1.0" }, ["localhost"])?.condition, "host-unknown");
 * ```
 */
export function checkOpen(
  attributes: StreamAttributes,
  domains: readonly string[],
): OpenRefusal | undefined {
  const to = attributes.to;
  if (to === undefined || to === "") {
    return { condition: "host-unknown", text: "RFC 6120 §4.7.2: the 'to' attribute is required" };
  }
  if (domains.length > 0 && !domains.includes(normalizeDomain(to))) {
    return { condition: "host-unknown", text: `${to} is not served here` };
  }
  if (negotiateVersion(attributes.version) === undefined) {
    return {
      condition: "unsupported-version",
      text: "RFC 6120 §4.7.5: this server requires version 1.0",
    };
  }
  return undefined;
}

/**
 * Lower-cases a domain and drops a trailing dot.
 *
 * @example
 * ```ts
 * import { normalizeDomain } from "./open_rules.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(normalizeDomain("LocalHost."), "localhost");
 * ```
 */
export function normalizeDomain(domain: string): string {
  const lower = domain.toLowerCase();
  return lower.endsWith(".") ? lower.slice(0, -1) : lower;
}

/**
 * The response header of RFC 6120 §4.7 for an accepted (or refused) `<open/>`: `from` is the
 * served domain, `to` echoes the client's `from` only if it sent one, `xml:lang` is always
 * present, and `version` is omitted when the client's was unusable.
 *
 * @example
 * ```ts
 * import { responseAttributes } from "./open_rules.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(responseAttributes({ to: "localhost", version: "1.0" }, "abc", "en", ["localhost"]), { from: "localhost", id: "abc", version: "1.0", lang: "en" });
 * ```
 */
export function responseAttributes(
  request: StreamAttributes,
  id: string | undefined,
  defaultLang: string,
  domains: readonly string[],
): StreamAttributes {
  const to = request.to === undefined ? undefined : normalizeDomain(request.to);
  const served = to !== undefined && (domains.length === 0 || domains.includes(to));
  const from = served ? to : domains[0] ?? "";
  const version = negotiateVersion(request.version);
  return {
    from,
    ...(request.from !== undefined && served ? { to: request.from } : {}),
    ...(id !== undefined ? { id } : {}),
    ...(version !== undefined ? { version } : {}),
    lang: request.lang ?? defaultLang,
  };
}

/**
 * The header a client sends to open (or restart) its stream (RFC 6120 §4.7, digest rules 18 and
 * 36): `to` is the server's domain, `from` the bare JID only once the channel is protected
 * (RFC 6120 §4.7.1).
 *
 * @example
 * ```ts
 * import { clientOpenAttributes } from "./open_rules.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(
 *   clientOpenAttributes({ config: { to: "localhost", from: "a@localhost" }, secure: false }),
 *   { to: "localhost", version: "1.0" },
 * );
 * ```
 */
export function clientOpenAttributes(
  s: {
    readonly config: {
      readonly to?: string | undefined;
      readonly from?: string | undefined;
      readonly lang?: string | undefined;
    };
    readonly secure: boolean;
  },
): StreamAttributes {
  const cfg = s.config;
  return {
    to: cfg.to ?? "",
    version: "1.0",
    ...(cfg.from !== undefined && s.secure ? { from: cfg.from } : {}),
    ...(cfg.lang !== undefined ? { lang: cfg.lang } : {}),
  };
}
