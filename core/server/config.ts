/**
 * Creating a hub: defaults, validation of the configuration, the account table.
 *
 * @example
 * ```ts
 * import { createHub } from "./config.ts";
 * const hub = createHub({ domain: "localhost", accounts: [] });
 * console.log(hub.config.maxAuthAttempts, hub.config.hibernationMs); // 3 300000
 * ```
 * @module
 */

import type { StoredAccount } from "../sasl/types.ts";
import { parseJid } from "./jid.ts";
import type { Hub, HubConfig, ResolvedHubConfig } from "./types.ts";

/** The defaults of every optional setting of {@link HubConfig}. */
export const HUB_DEFAULTS: Omit<ResolvedHubConfig, "domain"> = {
  maxAuthAttempts: 3,
  loginTimeoutMs: 60_000,
  hibernationMs: 300_000,
  maxUnacked: 500,
  rate: { perSecond: 20, burst: 100 },
  maxConnections: 1_000,
  maxSessions: 1_000,
  maxSessionsPerAccount: 10,
  pingIntervalMs: 120_000,
  pingTimeoutMs: 30_000,
  serverName: "xmpp-websocket",
  saslSecret: "",
  maxRosterItems: 1_000,
  maxRosterNameLength: 1_024,
  maxRosterGroups: 64,
  maxRosterGroupLength: 1_024,
  maxDirectedPresences: 100,
  maxThrottled: 10_000,
};

/**
 * Creates an empty hub (no connection, empty rosters). Throws `RangeError` on an invalid
 * configuration: a malformed domain, a bad number, an invalid or duplicate username, or an
 * account without SCRAM credentials.
 *
 * @example
 * ```ts
 * import { createHub } from "./config.ts";
 * try {
 *   createHub({ domain: "localhost", accounts: [], maxAuthAttempts: 0 });
 * } catch (error) {
 *   console.log((error as Error).message); // "Invalid maxAuthAttempts: expected a positive integer, got 0"
 * }
 * ```
 */
export function createHub(config: HubConfig): Hub {
  const domainJid = parseJid(config.domain);
  if (!domainJid || domainJid.local !== undefined || domainJid.resource !== undefined) {
    throw new RangeError(`Invalid domain '${config.domain}': expected a domain name`);
  }
  const resolved: ResolvedHubConfig = {
    ...HUB_DEFAULTS,
    ...withoutUndefined(config),
    domain: domainJid.domain,
  };
  for (
    const key of [
      "maxAuthAttempts",
      "maxUnacked",
      "maxConnections",
      "maxSessions",
      "maxSessionsPerAccount",
      "maxRosterItems",
      "maxRosterNameLength",
      "maxRosterGroups",
      "maxRosterGroupLength",
      "maxDirectedPresences",
      "maxThrottled",
    ] as const
  ) {
    if (!Number.isInteger(resolved[key]) || resolved[key] < 1) {
      throw new RangeError(`Invalid ${key}: expected a positive integer, got ${resolved[key]}`);
    }
  }
  for (const key of ["loginTimeoutMs", "hibernationMs", "pingTimeoutMs"] as const) {
    if (!(resolved[key] > 0 && Number.isFinite(resolved[key]))) {
      throw new RangeError(
        `Invalid ${key}: expected a positive number of milliseconds, got ${resolved[key]}`,
      );
    }
  }
  if (!(resolved.pingIntervalMs >= 0 && Number.isFinite(resolved.pingIntervalMs))) {
    throw new RangeError(
      `Invalid pingIntervalMs: expected 0 (off) or a positive number of milliseconds, got ${resolved.pingIntervalMs}`,
    );
  }
  if (!(resolved.rate.perSecond > 0 && resolved.rate.burst >= 1)) {
    throw new RangeError(
      `Invalid rate: expected perSecond > 0 and burst >= 1, got ${resolved.rate.perSecond}/s, burst ${resolved.rate.burst}`,
    );
  }
  return {
    config: resolved,
    accounts: accountTable(config.accounts, resolved.domain),
    connections: new Map(),
    sessions: new Map(),
    resumable: new Map(),
    rosters: new Map(),
    counter: 0,
  };
}

function accountTable(
  accounts: readonly StoredAccount[],
  domain: string,
): Map<string, StoredAccount> {
  const table = new Map<string, StoredAccount>();
  for (const account of accounts) {
    const username = account.username.toLowerCase();
    const jid = parseJid(`${username}@${domain}`);
    if (!jid || jid.local !== username) {
      throw new RangeError(`Invalid username '${account.username}': not a valid JID local part`);
    }
    if (table.has(username)) throw new RangeError(`Duplicate account '${username}'`);
    if (!account.scram["SCRAM-SHA-1"] && !account.scram["SCRAM-SHA-256"]) {
      throw new RangeError(`Account '${username}' has no SCRAM credentials`);
    }
    table.set(username, { ...account, username });
  }
  return table;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(value) as (keyof T)[]) {
    if (key === "accounts" as keyof T) continue;
    if (value[key] !== undefined) out[key] = value[key];
  }
  return out;
}
