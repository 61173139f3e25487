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
import { parseJid } from "../xmpp/jid.ts";
import { LoginLimits } from "./login_limits.ts";
import type { Hub, HubConfig, ResolvedHubConfig, Roster, RosterItem } from "./types.ts";

/** The defaults of every optional setting of {@link HubConfig}. */
export const HUB_DEFAULTS: Omit<ResolvedHubConfig, "domain"> = {
  maxAuthAttempts: 3,
  loginTimeoutMs: 60_000,
  hibernationMs: 300_000,
  maxUnacked: 500,
  maxUnackedBytes: 2 << 20,
  loginLimits: {},
  plainDerivation: "inline",
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
      "maxUnackedBytes",
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
  if (resolved.plainDerivation !== "inline" && resolved.plainDerivation !== "adapter") {
    throw new RangeError(
      `Invalid plainDerivation: expected "inline" or "adapter", got ${resolved.plainDerivation}`,
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
    // Throws RangeError on an invalid setting.
    logins: new LoginLimits(resolved.loginLimits),
  };
}

/**
 * Returns `hub` with every one of `usernames` in the roster of every other, with a mutual
 * subscription (`both`, RFC 6121 §2.1.2.5): they see each other's presence from their first
 * login (the embedded server's demo accounts). Other rosters are unchanged. Throws
 * `RangeError` for a username that is not an account. Meant for a hub just created: an item
 * already there is replaced.
 *
 * @example
 * ```ts
 * import { createHub, withContacts } from "./config.ts";
 * const scram = { "SCRAM-SHA-1": { salt: "c2FsdA==", iterations: 4096, storedKey: "", serverKey: "" } };
 * const hub = withContacts(createHub({
 *   domain: "localhost",
 *   accounts: [{ username: "alice", scram }, { username: "bob", scram }],
 * }), ["alice", "bob"]);
 * console.log(hub.rosters.get("alice@localhost")?.items.get("bob@localhost")?.subscription); // "both"
 * ```
 */
export function withContacts(hub: Hub, usernames: readonly string[]): Hub {
  const bare = usernames.map((name) => {
    const username = name.toLowerCase();
    if (!hub.accounts.has(username)) throw new RangeError(`Unknown account '${name}'`);
    return `${username}@${hub.config.domain}`;
  });
  const rosters = new Map(hub.rosters);
  for (const owner of bare) {
    const items = new Map<string, RosterItem>(rosters.get(owner)?.items ?? []);
    for (const contact of bare) {
      if (contact === owner) continue;
      items.set(contact, {
        jid: contact,
        name: undefined,
        subscription: "both",
        ask: false,
        groups: [],
      });
    }
    const roster: Roster = { items, pendingIn: new Set(rosters.get(owner)?.pendingIn ?? []) };
    rosters.set(owner, roster);
  }
  return { ...hub, rosters };
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
