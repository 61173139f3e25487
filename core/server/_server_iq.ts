/**
 * The iqs the hub answers itself: those to the server (`to` the domain), and those to an
 * account's bare JID or without `to`, which the server handles on the account's behalf (RFC 6120
 * §10.3.3, §10.5.3): XEP-0199 ping, XEP-0030 disco#info and disco#items, the RFC 3921 session
 * (a no-op), and the roster. Anything else gets `service-unavailable` (RFC 6120 §8.4).
 *
 * @example
 * ```ts
 * import { serverInfo } from "./_server_iq.ts";
 * console.log(serverInfo("xmpp-websocket").children.length); // 5 (identity and features)
 * ```
 * @module
 */

import { element, type XmlElement } from "../xml/element.ts";
import { NS } from "../xmpp/namespaces.ts";
import type { Context } from "./_context.ts";
import { rosterIq } from "./_roster_iq.ts";
import { iqPayload, iqResult } from "../xmpp/stanza.ts";
import { stanzaError } from "../xmpp/stanza_errors.ts";
import type { BoundSession } from "./types.ts";

const COMMON_FEATURES = [NS.DISCO_INFO, NS.DISCO_ITEMS, NS.PING];

/**
 * The server's disco#info: an `im` server identity and its features.
 *
 * @example
 * ```ts
 * import { serverInfo } from "./_server_iq.ts";
 * console.log(serverInfo("x").children[0]); // the <identity category='server' type='im' name='x'/>
 * ```
 */
export function serverInfo(name: string): XmlElement {
  return discoInfo({ category: "server", type: "im", name }, [...COMMON_FEATURES, NS.ROSTER]);
}

/**
 * An account's disco#info (XEP-0030 §3.1: `account/registered`).
 *
 * @example
 * ```ts
 * import { accountInfo } from "./_server_iq.ts";
 * console.log(accountInfo().children[0]!); // the <identity category='account' type='registered'/>
 * ```
 */
export function accountInfo(): XmlElement {
  return discoInfo({ category: "account", type: "registered" }, COMMON_FEATURES);
}

function discoInfo(identity: Record<string, string>, features: readonly string[]): XmlElement {
  return element("query", NS.DISCO_INFO, {}, [
    element("identity", NS.DISCO_INFO, identity),
    ...features.map((feature) => element("feature", NS.DISCO_INFO, { var: feature })),
  ]);
}

/** An iq to the server itself (its domain, with or without a resource). */
export function serverIq(ctx: Context, session: BoundSession, iq: XmlElement): void {
  if (!isRequest(iq)) return; // answers to the server's own pings and pushes
  const payload = iqPayload(iq)!;
  const answer = commonIq(iq, payload, serverInfo(ctx.config.serverName));
  ctx.deliver(session.jid, answer ?? stanzaError(iq, "service-unavailable"));
}

/** An iq to an account's bare JID (`self`: the sender's own account), or without `to`. */
export function accountIq(
  ctx: Context,
  session: BoundSession,
  iq: XmlElement,
  self: boolean,
): void {
  if (!isRequest(iq)) return;
  const payload = iqPayload(iq)!;
  if (self && payload.name === "query" && payload.ns === NS.ROSTER) {
    return rosterIq(ctx, session, iq, payload);
  }
  const answer = commonIq(iq, payload, accountInfo());
  ctx.deliver(session.jid, answer ?? stanzaError(iq, "service-unavailable"));
}

function isRequest(iq: XmlElement): boolean {
  return iq.attrs.type === "get" || iq.attrs.type === "set";
}

/** Ping, disco and session: the answer, or `undefined` when not one of them. */
function commonIq(iq: XmlElement, payload: XmlElement, info: XmlElement): XmlElement | undefined {
  const get = iq.attrs.type === "get";
  if (get && payload.name === "ping" && payload.ns === NS.PING) return iqResult(iq);
  if (get && payload.name === "query" && payload.ns === NS.DISCO_INFO) {
    return payload.attrs.node === undefined
      ? iqResult(iq, info)
      : stanzaError(iq, "item-not-found");
  }
  if (get && payload.name === "query" && payload.ns === NS.DISCO_ITEMS) {
    return payload.attrs.node === undefined
      ? iqResult(iq, element("query", NS.DISCO_ITEMS))
      : stanzaError(iq, "item-not-found");
  }
  if (!get && payload.name === "session" && payload.ns === NS.SESSION) return iqResult(iq);
  if (!get && payload.name === "bind" && payload.ns === NS.BIND) {
    return stanzaError(iq, "not-allowed", "A resource is already bound");
  }
  return undefined;
}
