/**
 * The hub reducer: `hubStep(hub, input) -> { state, outputs }` (the reducer contract of
 * `core/reducer.ts`). Synchronous and deterministic
 * (no clock, no I/O); a misbehaving client produces stream or stanza errors, never a throw.
 * The hub state is linear: a step updates its maps in place and returns the next state, and
 * the state given to a step is spent (stepping it again throws `XmppUsageError`, never reads
 * newer data). Other misuse (reporting the same connection id twice) throws too.
 *
 * Per element from a connection: the rate limit first (exceeded: `policy-violation`), then
 * SASL before authentication (anything else: `not-authorized`), binding or XEP-0198 resumption
 * after it (anything else: `not-authorized`), then stanzas, which are stamped with the sender's
 * full JID (a `from` naming anyone else: `invalid-from`), counted for XEP-0198 and routed.
 * Elements in `jabber:server` get `invalid-namespace`; other unknown elements
 * `unsupported-stanza-type`. Logins that do not bind (or resume) within `loginTimeoutMs` end
 * with `connection-timeout`, as do clients that stay silent after an XEP-0199 ping.
 *
 * @example
 * ```ts
 * import { createHub } from "./config.ts";
 * import { hubStep } from "./hub.ts";
 * let hub = createHub({ domain: "localhost", accounts: [] });
 * const random = "0123456789abcdefghij";
 * ({ state: hub } = hubStep(hub, { type: "connection-opened", now: 0, random, connId: "c1", secure: true, loopback: false }));
 * const { outputs } = hubStep(hub, {
 *   type: "open-requested", now: 1, random, connId: "c1", attributes: { to: "localhost", version: "1.0" }, restart: false,
 * });
 * console.log(outputs[0]?.type); // "accept-stream"
 * ```
 * @module
 */

import { childElement, element, type XmlElement } from "../xml/element.ts";
import { NS } from "../xmpp/namespaces.ts";
import { XmppUsageError } from "../errors.ts";
import type { StreamAttributes } from "../framing/types.ts";
import { Context } from "./_context.ts";
import { SpentStates } from "../session/linear.ts";
import { plainDerived, saslElement } from "./_auth.ts";
import { saslFeatures, sessionFeatures } from "./features.ts";
import { bareString } from "../xmpp/jid.ts";
import { bind, endSession, teardown } from "./_lifecycle.ts";
import { fullBucket, takeToken } from "./rate.ts";
import { routeStanza } from "./_route.ts";
import { smElement } from "./_sm.ts";
import { isStanza, withAttrs } from "../xmpp/stanza.ts";
import { stanzaError } from "../xmpp/stanza_errors.ts";
import type { Hub, HubConnection, HubInput, HubStepResult, HubTimerKey } from "./types.ts";

/**
 * Applies one input to the hub. See the module documentation.
 *
 * @example
 * ```ts
 * import { createHub, hubStep } from "./mod.ts";
 * const hub = createHub({ domain: "localhost", accounts: [] });
 * const { outputs } = hubStep(hub, { type: "timer-fired", now: 0, random: "r", timer: { kind: "login", connId: "gone" } });
 * console.log(outputs); // [] (a timer of a connection that has ended)
 * ```
 */
export function hubStep(hub: Hub, input: HubInput): HubStepResult {
  // The hub is a linear value: its maps are updated in place (copying them per step cost
  // O(connections) per stanza), so a stepped state is spent, and stepping it again would read
  // the newer maps. That reuse is refused rather than silently wrong.
  SPENT.check(hub, input.type);
  const ctx = new Context(hub, input.now, input.random);
  switch (input.type) {
    case "connection-opened":
      connectionOpened(ctx, input.connId, input.secure, input.loopback, input.address ?? "");
      break;
    case "open-requested":
      openRequested(ctx, input.connId, input.attributes);
      break;
    case "element-received":
      elementReceived(ctx, input.connId, input.element);
      break;
    case "connection-ended":
      // A stream error of the session layer: the hub's own were logged by ctx.fail (and their
      // connection is gone already).
      if (input.streamError && ctx.connections.has(input.connId)) {
        ctx.logStreamError(input.connId, input.streamError.condition, input.streamError.text);
      }
      // A client ended by its transport for not reading (resource-constraint, see the adapter's
      // outbound budget) lost its connection, not its session: it may resume.
      teardown(
        ctx,
        input.connId,
        !input.clean || input.streamError?.condition === "resource-constraint",
      );
      break;
    case "timer-fired":
      timerFired(ctx, input.timer);
      break;
    case "key-derived":
      plainDerived(ctx, input.connId, input.id, input.key);
      break;
  }
  endOverflowed(ctx);
  SPENT.spend(hub); // only once the step succeeded: a refused misuse leaves the state usable
  return ctx.finish();
}

/** Hub states already stepped (see {@link hubStep}). */
const SPENT = new SpentStates<Hub>("hub");

function connectionOpened(
  ctx: Context,
  connId: string,
  secure: boolean,
  loopback: boolean,
  address: string,
): void {
  if (ctx.connections.has(connId)) {
    throw new XmppUsageError(
      "connection-opened",
      "running",
      `connection ${connId} is already open`,
    );
  }
  if (ctx.connections.size >= ctx.config.maxConnections) {
    ctx.log("warn", "limit-connections", { connId });
    return ctx.fail(connId, "resource-constraint", "Too many connections");
  }
  ctx.connections.set(connId, {
    id: connId,
    secure,
    loopback,
    address,
    pendingPlain: undefined,
    stage: "connected",
    sasl: undefined,
    authFailures: 0,
    username: undefined,
    jid: undefined,
    bucket: fullBucket(ctx.config.rate, ctx.now),
    throttled: 0,
    lastActivity: ctx.now,
    pingSentAt: undefined,
  });
  ctx.setTimer({ kind: "login", connId }, ctx.now + ctx.config.loginTimeoutMs);
}

function openRequested(ctx: Context, connId: string, attributes: StreamAttributes): void {
  const conn = ctx.connections.get(connId);
  if (!conn) return;
  if (attributes.to?.toLowerCase() !== ctx.domain) {
    ctx.fail(connId, "host-unknown", `This server serves ${ctx.domain}`);
    return teardown(ctx, connId, false);
  }
  const features = conn.stage === "connected"
    ? saslFeatures(conn.secure || conn.loopback)
    : conn.stage === "authenticated"
    ? sessionFeatures()
    : element("features", NS.STREAMS);
  ctx.outputs.push({ type: "accept-stream", connId, features });
}

function elementReceived(ctx: Context, connId: string, el: XmlElement): void {
  const conn = ctx.connections.get(connId);
  if (!conn) return;
  const taken = takeToken(conn.bucket, ctx.config.rate, ctx.now);
  ctx.updateConnection(connId, {
    bucket: taken.bucket,
    throttled: taken.ok ? 0 : conn.throttled + 1,
    lastActivity: ctx.now,
    pingSentAt: undefined,
  });
  const current = ctx.connections.get(connId)!;
  if (!taken.ok) {
    // A bound session that sends stanzas too fast stays usable: each stanza over the limit is
    // refused with an error the client can act on (issue 8, finding 6). Anything else over the
    // limit (before login, or nonzas), or a flood that does not stop, ends the stream.
    if (conn.stage === "bound" && isStanza(el) && current.throttled <= ctx.config.maxThrottled) {
      if (current.throttled === 1) {
        ctx.log("warn", "limit-rate", { connId, ...(conn.jid ? { jid: conn.jid } : {}) });
      }
      return stanzaReceived(ctx, current, el, true);
    }
    ctx.log("warn", "limit-rate", { connId, ...(conn.jid ? { jid: conn.jid } : {}) });
    return failAndEnd(ctx, connId, "policy-violation", "Too many stanzas: slow down");
  }
  if (el.ns === NS.SASL) return saslElement(ctx, current, el);
  if (conn.stage === "connected") {
    return failAndEnd(ctx, connId, "not-authorized", "Authenticate first");
  }
  if (el.ns === NS.SM) return smElement(ctx, current, el);
  if (conn.stage === "authenticated") {
    const request = el.name === "iq" && el.ns === NS.CLIENT && el.attrs.type === "set"
      ? childElement(el, "bind", NS.BIND)
      : undefined;
    if (request) return bind(ctx, current, el, request);
    return failAndEnd(ctx, connId, "not-authorized", "Bind a resource first");
  }
  if (!isStanza(el)) {
    if (el.ns === NS.SERVER) {
      return failAndEnd(ctx, connId, "invalid-namespace", "Use jabber:client");
    }
    return failAndEnd(ctx, connId, "unsupported-stanza-type", `Unknown element <${el.name}/>`);
  }
  stanzaReceived(ctx, current, el);
}

function stanzaReceived(
  ctx: Context,
  conn: HubConnection,
  el: XmlElement,
  throttled = false,
): void {
  const jid = conn.jid!;
  const session = ctx.sessions.get(jid);
  if (!session) return failAndEnd(ctx, conn.id, "internal-server-error", "Lost session");
  const from = el.attrs.from;
  if (from !== undefined && from !== jid && from !== bareString(jid)) {
    return failAndEnd(ctx, conn.id, "invalid-from", `Your address is ${jid}`);
  }
  if (session.sm) {
    ctx.updateSession(jid, { sm: { ...session.sm, inbound: (session.sm.inbound + 1) >>> 0 } });
  }
  const stamped = withAttrs(el, { from: jid });
  if (!throttled) return routeStanza(ctx, ctx.sessions.get(jid)!, stamped);
  // Handled (XEP-0198 counts it) but refused; errors and iq results get no answer.
  const type = el.attrs.type;
  if (type === "error" || (el.name === "iq" && type !== "get" && type !== "set")) return;
  ctx.deliver(jid, stanzaError(stamped, "resource-constraint", "Too many stanzas: slow down"));
}

function failAndEnd(
  ctx: Context,
  connId: string,
  condition: Parameters<Context["fail"]>[1],
  text: string,
): void {
  ctx.fail(connId, condition, text);
  teardown(ctx, connId, false);
}

function timerFired(ctx: Context, timer: HubTimerKey): void {
  if (timer.kind === "sm") {
    const jid = ctx.resumable.get(timer.id);
    const session = jid === undefined ? undefined : ctx.sessions.get(jid);
    if (session && session.connId === undefined) {
      endSession(ctx, session.jid, "resumption window expired");
    }
    return;
  }
  const connId = timer.connId;
  const conn = ctx.connections.get(connId);
  if (!conn) return;
  if (timer.kind === "login" && conn.stage !== "bound") {
    ctx.log("info", "login-timeout", { connId });
    return failAndEnd(ctx, connId, "connection-timeout", "Login took too long");
  }
  if (timer.kind === "ping" && conn.jid !== undefined) ping(ctx, conn, conn.jid);
}

/** XEP-0199: ping a silent client; end its stream when the ping goes unanswered. */
function ping(ctx: Context, conn: HubConnection, jid: string): void {
  const { pingIntervalMs, pingTimeoutMs } = ctx.config;
  const timer: HubTimerKey = { kind: "ping", connId: conn.id };
  if (conn.pingSentAt !== undefined) {
    ctx.log("info", "ping-timeout", { connId: conn.id, jid });
    ctx.fail(conn.id, "connection-timeout", "No answer to ping");
    return teardown(ctx, conn.id, true); // the network is gone: keep the session resumable
  }
  if (ctx.now - conn.lastActivity < pingIntervalMs) {
    return ctx.setTimer(timer, conn.lastActivity + pingIntervalMs);
  }
  ctx.updateConnection(conn.id, { pingSentAt: ctx.now });
  ctx.deliver(
    jid,
    element("iq", NS.CLIENT, { type: "get", id: ctx.nextId("ping"), from: ctx.domain, to: jid }, [
      element("ping", NS.PING),
    ]),
  );
  ctx.setTimer(timer, ctx.now + pingTimeoutMs);
}

/**
 * Sessions whose XEP-0198 queue passed its bound (stanzas or characters) during the step: a live
 * one's client is not keeping up, so its stream ends with `resource-constraint` and the session
 * hibernates with its queue, as when its transport was lost (or ends, without resumption); a
 * hibernating one ends (its stanzas routed again; a later `<resume/>` gets `item-not-found`).
 */
function endOverflowed(ctx: Context): void {
  for (let round = 0; ctx.overflowed.size > 0 && round < 100; round++) {
    const jids = [...ctx.overflowed];
    ctx.overflowed.clear();
    for (const jid of jids) {
      const session = ctx.sessions.get(jid);
      if (!session) continue;
      ctx.log("warn", "limit-unacked", { jid });
      if (session.connId === undefined) {
        endSession(ctx, jid, "too many unacknowledged stanzas");
        continue;
      }
      const connId = session.connId;
      ctx.fail(connId, "resource-constraint", "Too many unacknowledged stanzas");
      teardown(ctx, connId, true);
    }
  }
}
