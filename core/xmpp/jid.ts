/**
 * JIDs (RFC 7622): split, checked and compared. The local part and the domain are compared
 * case-insensitively (lowercased, an approximation of the PRECIS profiles), the resource
 * exactly.
 *
 * @example
 * ```ts
 * import { bareOf, parseJid } from "@xmpp-websocket/xmpp-websocket/xmpp";
 * import { assertEquals } from "@std/assert";
 * const jid = parseJid("Alice@Localhost/phone")!;
 * assertEquals([jid.local, jid.domain, jid.resource, bareOf(jid)], ["alice", "localhost", "phone", "alice@localhost"]);
 * ```
 * @module
 */

/** A parsed JID. */
export interface Jid {
  /** The local part, lowercased; `undefined` for a domain JID. */
  readonly local: string | undefined;
  /** The domain part, lowercased, without a trailing dot. */
  readonly domain: string;
  /** The resource part, as given; `undefined` for a bare JID. */
  readonly resource: string | undefined;
}

const MAX_PART = 1023;
// deno-lint-ignore no-control-regex
const FORBIDDEN_LOCAL = /[\u0000-\u0020"&'/:<>@\u007f]/;
// deno-lint-ignore no-control-regex
const FORBIDDEN_RESOURCE = /[\u0000-\u001f\u007f]/;

/**
 * Parses a JID; `undefined` when it is malformed (empty parts, forbidden characters, parts
 * over 1023 characters).
 *
 * @example
 * ```ts
 * import { parseJid } from "@xmpp-websocket/xmpp-websocket/xmpp";
 * import { assertEquals } from "@std/assert";
 * assertEquals(parseJid("localhost")?.domain, "localhost");
 * assertEquals(parseJid("@localhost"), undefined);
 * ```
 */
export function parseJid(text: string): Jid | undefined {
  const slash = text.indexOf("/");
  const bare = slash < 0 ? text : text.slice(0, slash);
  const resource = slash < 0 ? undefined : text.slice(slash + 1);
  const at = bare.indexOf("@");
  const local = at < 0 ? undefined : bare.slice(0, at).toLowerCase();
  const domain = (at < 0 ? bare : bare.slice(at + 1)).toLowerCase().replace(/\.$/, "");
  if (!domain || domain.length > MAX_PART || /[\s@/]/.test(domain)) return undefined;
  if (local !== undefined && !isValidLocal(local)) return undefined;
  if (resource !== undefined && !isValidResource(resource)) return undefined;
  return { local, domain, resource };
}

/**
 * Whether `resource` is acceptable as a resource part (non-empty, no control characters, at
 * most 1023 characters, no leading or trailing space).
 *
 * @example
 * ```ts
 * import { isValidResource } from "@xmpp-websocket/xmpp-websocket/xmpp";
 * import { assertEquals } from "@std/assert";
 * assertEquals([isValidResource("phone"), isValidResource("")], [true, false]);
 * ```
 */
export function isValidResource(resource: string): boolean {
  return resource.length > 0 && resource.length <= MAX_PART && resource.trim() === resource &&
    !FORBIDDEN_RESOURCE.test(resource);
}

function isValidLocal(local: string): boolean {
  return local.length > 0 && local.length <= MAX_PART && !FORBIDDEN_LOCAL.test(local);
}

/**
 * The bare JID (`local@domain`, or `domain`) of a parsed JID.
 *
 * @example
 * ```ts
 * import { bareOf } from "@xmpp-websocket/xmpp-websocket/xmpp";
 * import { assertEquals } from "@std/assert";
 * assertEquals(bareOf({ local: "bob", domain: "localhost", resource: "web" }), "bob@localhost");
 * ```
 */
export function bareOf(jid: Jid): string {
  return jid.local === undefined ? jid.domain : `${jid.local}@${jid.domain}`;
}

/**
 * The bare part of a full JID string (everything before the first `/`).
 *
 * @example
 * ```ts
 * import { bareString } from "@xmpp-websocket/xmpp-websocket/xmpp";
 * import { assertEquals } from "@std/assert";
 * assertEquals(bareString("bob@localhost/web"), "bob@localhost");
 * ```
 */
export function bareString(jid: string): string {
  const slash = jid.indexOf("/");
  return slash < 0 ? jid : jid.slice(0, slash);
}
