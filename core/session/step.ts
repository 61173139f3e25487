/**
 * The session reducer: `step(session, input) -> { state, outputs }` (the reducer contract of
 * `core/reducer.ts`). Deterministic and
 * synchronous: it reads no clock (time arrives as `now`), arms no timer (it emits `set-timer`),
 * and never throws on peer input (a misbehaving peer produces a stream error and a close). It
 * throws {@link XmppUsageError} only when the application misuses it.
 *
 * The session is a linear value, not a pure one: its framing codec keeps one reusable XML
 * parser (building a parser per message costs more than parsing most messages), and a TCP
 * codec's parser holds the unfinished element between chunks. A step therefore spends the
 * session it is given: step only the session the last step returned. Stepping a spent session
 * throws `XmppUsageError` (phase `spent`) before anything changes ({@link isSpent} tells).
 *
 * Outputs must be carried out in order. Rules cited as "#N" are those of §1 of the RFC 7395
 * digest (`tests/vectors/rfc7395-digest.md`).
 *
 * @example
 * ```ts
 * import { createSession, step } from "@xmpp-websocket/xmpp-websocket/session";
 * import { assertEquals } from "@std/assert";
 * let session = createSession({ role: "server", domains: ["localhost"] });
 * ({ state: session } = step(session, { type: "transport-opened", now: 0, secure: true, streamId: "s1" }));
 * const { outputs } = step(session, {
 *   type: "text-received", now: 1,
 *   data: "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>",
 * });
 * assertEquals(outputs.map((o) => o.type), ["clear-timer", "stream-open-requested"]);
 * ```
 * @module
 */

import { CLOSE_CODES } from "../close_codes.ts";
import { WebSocketFraming } from "../framing/websocket.ts";
import { TcpFraming } from "../framing/tcp.ts";
import { RelayTcpFraming } from "../framing/tcp_relay.ts";
import { normalizeDomain } from "./open_rules.ts";
import { checkTransition, TRANSITIONS } from "./transitions.ts";
import type { Input, Output, Session, SessionConfig, SessionStepResult } from "./types.ts";
import { acceptStream, closeStream, restartStream, sendElement, sendRaw } from "./_commands.ts";
import { frames } from "./_receive.ts";
import { timerFired, transportClosed, transportOpened, transportSecured } from "./_transport.ts";
import { Ctx, type Draft } from "./_context.ts";
import { SpentStates } from "./linear.ts";

/**
 * Creates a session in the `idle` phase. Throws `RangeError` on an invalid configuration.
 *
 * @example
 * ```ts
 * import { createSession } from "@xmpp-websocket/xmpp-websocket/session";
 * import { assertEquals } from "@std/assert";
 * assertEquals(createSession({ role: "client", to: "localhost" }).phase, "idle");
 * ```
 */
export function createSession(config: SessionConfig): Session {
  const openTimeoutMs = config.openTimeoutMs ?? 30_000;
  const closeTimeoutMs = config.closeTimeoutMs ?? 5_000;
  for (
    const [name, value] of [["openTimeoutMs", openTimeoutMs], [
      "closeTimeoutMs",
      closeTimeoutMs,
    ]] as const
  ) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new RangeError(
        `Invalid ${name}: expected a positive number of milliseconds, got ${value}`,
      );
    }
  }
  if (config.role === "client" && !config.to) {
    throw new RangeError("A client session needs 'to', the service domain (RFC 6120 §4.7.2)");
  }
  const transport = config.transport ?? "websocket";
  const codecOptions = config.limits ? { limits: config.limits } : {};
  const codec = transport === "websocket"
    ? new WebSocketFraming({
      ...codecOptions,
      ...(config.oversizeCondition ? { oversizeCondition: config.oversizeCondition } : {}),
      ...(config.legacyFraming ? { legacyFraming: true } : {}),
      ...(config.relay ? { relay: config.relay } : {}),
    })
    : config.relay
    ? new RelayTcpFraming({ ...codecOptions, relay: config.relay })
    : new TcpFraming(codecOptions);
  return {
    config: {
      role: config.role,
      transport,
      openTimeoutMs,
      closeTimeoutMs,
      domains: (config.domains ?? []).map(normalizeDomain),
      defaultLang: config.defaultLang ?? "en",
      to: config.to,
      from: config.from,
      lang: config.lang,
      autoReplyClose: config.autoReplyClose ?? true,
    },
    phase: "idle",
    codec,
    transportOpen: false,
    transportClosing: false,
    secure: false,
    streamId: undefined,
    nextStreamId: undefined,
    peer: undefined,
    restartPending: false,
    closeSent: false,
    closeReceived: false,
    tlsPending: false,
    ended: false,
  };
}

/**
 * Whether the application may send elements now (the stream is open and no restart is due).
 *
 * @example
 * ```ts
 * import { canSend, createSession } from "@xmpp-websocket/xmpp-websocket/session";
 * import { assertEquals } from "@std/assert";
 * assertEquals(canSend(createSession({ role: "server" })), false);
 * ```
 */
export function canSend(session: Session): boolean {
  if (!session.transportOpen || session.restartPending) return false;
  return session.phase === "open" ||
    (session.phase === "closing" && session.closeReceived && !session.closeSent);
}

/**
 * Applies one input to a session. See the module documentation.
 *
 * @example
 * ```ts
 * import { createSession, step } from "@xmpp-websocket/xmpp-websocket/session";
 * import { assertEquals } from "@std/assert";
 * const session = createSession({ role: "client", to: "localhost" });
 * const { outputs } = step(session, { type: "transport-opened", now: 0, secure: true, protocol: "xmpp" });
 * assertEquals(outputs[0], {
 *   type: "send-text",
 *   text: "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>",
 * });
 * ```
 */
export function step(session: Session, input: Input): SessionStepResult {
  SPENT.check(session, input.type);
  const draft: Draft = { ...session };
  const outputs: Output[] = [];
  apply(new Ctx(draft, outputs, input.now), input);
  checkTransition("session", TRANSITIONS, session.phase, draft.phase);
  SPENT.spend(session); // only once the step succeeded: a refused misuse leaves it usable
  return { state: draft, outputs };
}

/** Sessions already stepped (see the module documentation: the state is linear). */
const SPENT = new SpentStates<Session>("session");

/**
 * Whether `session` was already stepped, so that stepping it again would throw (its codec has
 * moved on with the session that step returned).
 *
 * @example
 * ```ts
 * import { createSession, isSpent, step } from "@xmpp-websocket/xmpp-websocket/session";
 * import { assertEquals } from "@std/assert";
 * const first = createSession({ role: "server" });
 * const { state: session } = step(first, { type: "transport-opened", now: 0, secure: true, streamId: "s1" });
 * assertEquals([isSpent(first), isSpent(session)], [true, false]);
 * ```
 */
export function isSpent(session: Session): boolean {
  return SPENT.has(session);
}

function apply(ctx: Ctx, input: Input): void {
  switch (input.type) {
    case "transport-opened":
      return transportOpened(ctx, input.secure, input.protocol, input.streamId);
    case "text-received":
      if (!ctx.receiving()) return;
      return frames(ctx, ctx.s.codec.decode(input.data));
    case "binary-received":
      if (!ctx.receiving()) return;
      return frames(ctx, [{
        kind: "invalid",
        condition: "unsupported-stanza-type",
        text: "RFC 7395 §3.2: binary messages are not allowed",
        closeCode: CLOSE_CODES.UNSUPPORTED_DATA,
        streamError: false,
      }]);
    case "transport-closed":
      return transportClosed(ctx);
    case "timer-fired":
      return timerFired(ctx, input.timer);
    case "accept-stream":
      return acceptStream(ctx, input.features, input.id, input.nextStreamId);
    case "restart-stream":
      return restartStream(ctx);
    case "transport-secured":
      return transportSecured(ctx);
    case "abort-transport":
      ctx.require(input.type, ctx.s.transportOpen, "the transport is not open");
      ctx.s.phase = "closed";
      ctx.out.push({ type: "clear-timer", timer: "open" }, {
        type: "clear-timer",
        timer: "close",
      });
      ctx.closeTransport(input.code, input.reason);
      return ctx.failed("aborted", "local", undefined, input.reason);
    case "send-element":
      return sendElement(ctx, input.element);
    case "send-raw":
      return sendRaw(ctx, input.element);
    case "close-stream":
      return closeStream(ctx, input.seeOtherUri);
    case "fail-stream":
      ctx.require(
        input.type,
        ctx.s.transportOpen && ctx.s.phase !== "closed",
        "the stream has ended",
      );
      if (ctx.s.config.role === "server" && ctx.s.phase === "idle") {
        // #17: the server says nothing before the client's <open/>: just end the transport.
        ctx.s.phase = "closed";
        ctx.out.push({ type: "clear-timer", timer: "open" });
        ctx.closeTransport(CLOSE_CODES.GOING_AWAY, input.text ?? input.condition);
        return ctx.failed("stream-error", "local", input.condition, input.text, input.content);
      }
      return ctx.fail(
        input.condition,
        input.text,
        CLOSE_CODES.NORMAL,
        input.content,
        input.extra,
      );
  }
}
