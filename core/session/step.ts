/**
 * The session reducer: `step(session, input) -> { session, outputs }`. Pure and synchronous: it
 * reads no clock (time arrives as `now`), arms no timer (it emits `set-timer`), and never throws
 * on peer input (a misbehaving peer produces a stream error and a close). It throws
 * {@link XmppUsageError} only when the application misuses it.
 *
 * Outputs must be carried out in order. Rules cited as "#N" are those of §1 of the RFC 7395
 * digest (`shared/spec/rfc7395-digest.md`).
 *
 * @example
 * ```ts
 * import { createSession, step } from "./step.ts";
 * let session = createSession({ role: "server", domains: ["localhost"] });
 * ({ session } = step(session, { type: "transport-opened", now: 0, secure: true, streamId: "s1" }));
 * const { outputs } = step(session, {
 *   type: "text-received", now: 1,
 *   data: "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>",
 * });
 * console.log(outputs.map((o) => o.type)); // ["clear-timer", "stream-open-requested"]
 * ```
 * @module
 */

import type { XmlElement } from "../xml/element.ts";
import { element } from "../xml/element.ts";
import { utf8Length } from "../xml/limits.ts";
import { findIllegalCharacter } from "../xml/restricted.ts";
import { NS } from "../namespaces.ts";
import { CLOSE_CODES } from "../close_codes.ts";
import { XmppUsageError } from "../errors.ts";
import {
  isStreamError,
  readStreamError,
  streamError,
  type StreamErrorCondition,
} from "../stream_errors.ts";
import type { Frame, StreamAttributes } from "../framing/types.ts";
import { WebSocketFraming } from "../framing/websocket.ts";
import { TcpFraming } from "../framing/tcp.ts";
import { checkOpen, normalizeDomain, responseAttributes } from "./open_rules.ts";
import { isAllowedTransition } from "./transitions.ts";
import type { FailureReason, Input, Output, Session, SessionConfig, StepResult } from "./types.ts";

const STANZAS: ReadonlySet<string> = new Set(["message", "presence", "iq"]);
const WEAK_SCHEMES: ReadonlySet<string> = new Set(["ws:", "http:"]);

/**
 * Creates a session in the `idle` phase. Throws `RangeError` on an invalid configuration.
 *
 * @example
 * ```ts
 * import { createSession } from "./step.ts";
 * console.log(createSession({ role: "client", to: "localhost" }).phase); // "idle"
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
    })
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
 * import { canSend, createSession } from "./step.ts";
 * console.log(canSend(createSession({ role: "server" }))); // false
 * ```
 */
export function canSend(session: Session): boolean {
  if (!session.transportOpen || session.restartPending) return false;
  return session.phase === "open" ||
    (session.phase === "closing" && session.closeReceived && !session.closeSent);
}

type Draft = { -readonly [K in keyof Session]: Session[K] };

/**
 * Applies one input to a session. See the module documentation.
 *
 * @example
 * ```ts
 * import { createSession, step } from "./step.ts";
 * const session = createSession({ role: "client", to: "localhost" });
 * const { outputs } = step(session, { type: "transport-opened", now: 0, secure: true, protocol: "xmpp" });
 * console.log(outputs[0]);
 * // { type: "send-text", text: "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from=... " }
 * ```
 */
export function step(session: Session, input: Input): StepResult {
  const draft: Draft = { ...session };
  const outputs: Output[] = [];
  new Stepper(draft, outputs, input.now).apply(input);
  if (!isAllowedTransition(session.phase, draft.phase)) {
    throw new Error(
      `Internal error: transition ${session.phase} -> ${draft.phase} is not in TRANSITIONS`,
    );
  }
  return { session: draft, outputs };
}

class Stepper {
  readonly s: Draft;
  readonly out: Output[];
  readonly now: number;

  constructor(s: Draft, out: Output[], now: number) {
    this.s = s;
    this.out = out;
    this.now = now;
  }

  apply(input: Input): void {
    switch (input.type) {
      case "transport-opened":
        return this.transportOpened(input.secure, input.protocol, input.streamId);
      case "text-received":
        if (!this.receiving()) return;
        return this.frames(this.s.codec.decode(input.data));
      case "binary-received":
        if (!this.receiving()) return;
        return this.frames([{
          kind: "invalid",
          condition: "unsupported-stanza-type",
          text: "RFC 7395 §3.2: binary messages are not allowed",
          closeCode: CLOSE_CODES.UNSUPPORTED_DATA,
          streamError: false,
        }]);
      case "transport-closed":
        return this.transportClosed();
      case "timer-fired":
        return this.timerFired(input.timer);
      case "accept-stream":
        return this.acceptStream(input.features, input.id, input.nextStreamId);
      case "restart-stream":
        return this.restartStream();
      case "transport-secured":
        return this.transportSecured();
      case "abort-transport":
        this.require(input.type, this.s.transportOpen, "the transport is not open");
        this.s.phase = "closed";
        this.out.push({ type: "clear-timer", timer: "open" }, {
          type: "clear-timer",
          timer: "close",
        });
        this.closeTransport(input.code, input.reason);
        return this.failed("aborted", "local", undefined, input.reason);
      case "send-element":
        return this.sendElement(input.element);
      case "close-stream":
        return this.closeStream(input.seeOtherUri);
      case "fail-stream":
        this.require(
          input.type,
          this.s.transportOpen && this.s.phase !== "closed",
          "the stream has ended",
        );
        if (this.s.config.role === "server" && this.s.phase === "idle") {
          // #17: the server says nothing before the client's <open/>: just end the transport.
          this.s.phase = "closed";
          this.out.push({ type: "clear-timer", timer: "open" });
          this.closeTransport(CLOSE_CODES.GOING_AWAY, input.text ?? input.condition);
          return this.failed("stream-error", "local", input.condition, input.text, input.content);
        }
        return this.fail(
          input.condition,
          input.text,
          CLOSE_CODES.NORMAL,
          input.content,
          input.extra,
        );
    }
  }

  // ---- helpers -------------------------------------------------------------------------

  require(input: string, condition: boolean, reason: string): void {
    if (!condition) throw new XmppUsageError(input, this.s.phase, reason);
  }

  receiving(): boolean {
    // After our <close/> we still process what arrives (RFC 6120 §4.4); after the stream has
    // closed, or before the transport opened, peer data is ignored.
    return this.s.transportOpen && this.s.phase !== "closed";
  }

  send(text: string): void {
    this.out.push({ type: "send-text", text });
  }

  setTimer(timer: "open" | "close", ms: number): void {
    this.out.push({ type: "set-timer", timer, at: this.now + ms });
  }

  closeTransport(code: number, reason: string): void {
    if (!this.s.transportOpen) return;
    this.out.push({ type: "close-transport", code, reason: closeReason(reason) });
  }

  terminal(notice: Output): void {
    if (this.s.ended) return;
    this.s.ended = true;
    this.out.push(notice);
  }

  failed(
    reason: FailureReason,
    by: "local" | "peer" | "transport",
    condition?: StreamErrorCondition,
    text?: string,
    content?: string,
  ): void {
    this.terminal({
      type: "stream-failed",
      reason,
      by,
      ...(condition !== undefined ? { condition } : {}),
      ...(text !== undefined ? { text } : {}),
      ...(content !== undefined ? { content } : {}),
    });
  }

  // ---- transport events ----------------------------------------------------------------

  transportOpened(
    secure: boolean,
    protocol: string | undefined,
    streamId: string | undefined,
  ): void {
    const s = this.s;
    this.require(
      "transport-opened",
      !s.transportOpen && s.phase === "idle" && !s.ended,
      "the transport is already open",
    );
    s.transportOpen = true;
    s.secure = secure;
    if (s.config.role === "server") {
      s.nextStreamId = streamId;
      // #17: the server says nothing first; the client has openTimeoutMs to send <open/>.
      this.setTimer("open", s.config.openTimeoutMs);
      return;
    }
    if (s.config.transport === "websocket" && protocol !== "xmpp") {
      // #4: without the xmpp subprotocol there is no XMPP session; send no <open/>.
      this.out.push({
        type: "close-transport",
        code: CLOSE_CODES.PROTOCOL_ERROR,
        reason: "RFC 7395 §3.1: subprotocol 'xmpp' not negotiated",
      });
      s.phase = "closed";
      this.failed(
        "subprotocol",
        "local",
        undefined,
        `The server answered with subprotocol '${protocol ?? ""}'`,
      );
      return;
    }
    this.sendOpen();
  }

  /** Client: #18 / #36, the initial header (also after a restart). */
  sendOpen(): void {
    const s = this.s;
    const c = s.config;
    const attributes: StreamAttributes = {
      to: c.to!,
      version: "1.0",
      // #18: from = bare JID, but only once the channel is protected (RFC 6120 §4.7.1).
      ...(c.from !== undefined && s.secure ? { from: c.from } : {}),
      ...(c.lang !== undefined ? { lang: c.lang } : {}),
    };
    this.send(s.codec.encodeOpen(attributes));
    s.phase = "opening";
    this.setTimer("open", c.openTimeoutMs);
  }

  transportClosed(): void {
    const s = this.s;
    if (!s.transportOpen) return;
    s.transportOpen = false;
    this.out.push({ type: "clear-timer", timer: "open" }, { type: "clear-timer", timer: "close" });
    if (s.phase !== "closed") {
      s.phase = "closed";
      // #30: a transport lost without <close/> ends the stream implicitly.
      this.failed("transport-lost", "transport");
    }
  }

  timerFired(timer: "open" | "close"): void {
    const s = this.s;
    if (!s.transportOpen) return;
    if (timer === "open") {
      if (s.phase === "closed") return;
      if (!(s.phase === "idle" || s.phase === "opening" || s.restartPending)) return;
      if (s.config.role === "server" && s.phase === "opening" && !s.restartPending) return; // waiting for the app
      s.phase = "closed";
      this.closeTransport(CLOSE_CODES.POLICY_VIOLATION, "No stream header in time");
      this.failed("open-timeout", "local");
      return;
    }
    // #29: the peer never answered the close handshake (or never closed the transport).
    if (s.phase === "closing" || s.phase === "closed") {
      const wasClosing = s.phase === "closing";
      s.phase = "closed";
      this.closeTransport(CLOSE_CODES.NORMAL, "Close handshake timed out");
      if (wasClosing) this.failed("close-timeout", "local");
    }
  }

  // ---- frames from the peer ------------------------------------------------------------

  frames(frames: readonly Frame[]): void {
    for (const frame of frames) {
      if (!this.receiving()) return;
      this.frame(frame);
    }
  }

  frame(frame: Frame): void {
    switch (frame.kind) {
      case "invalid":
        if (!frame.streamError) {
          this.s.phase = "closed";
          this.out.push({ type: "clear-timer", timer: "open" }, {
            type: "clear-timer",
            timer: "close",
          });
          this.closeTransport(frame.closeCode, frame.text);
          this.failed("stream-error", "local", frame.condition, frame.text);
          return;
        }
        return this.fail(frame.condition, frame.text, frame.closeCode);
      case "keepalive":
        return;
      case "open":
        return this.s.config.role === "server"
          ? this.openReceivedByServer(frame.attributes)
          : this.openReceivedByClient(frame.attributes);
      case "close":
        return this.closeReceived(frame.seeOtherUri);
      case "element":
        // After a terminal notice (e.g. the peer's stream error) only its <close/> matters.
        if (this.s.ended) return;
        return this.elementReceived(frame.element);
    }
  }

  openReceivedByServer(attributes: StreamAttributes): void {
    const s = this.s;
    const restart = s.phase === "open" && s.restartPending;
    if (!(s.phase === "idle" || restart)) {
      // #22: one stream per WebSocket; an <open/> that is not a restart is refused.
      return this.fail(
        "policy-violation",
        "RFC 7395 §3.4: only one stream per connection; <open/> is allowed only at a restart",
      );
    }
    this.out.push({ type: "clear-timer", timer: "open" });
    s.peer = attributes;
    s.restartPending = false;
    const refusal = checkOpen(attributes, s.config.domains);
    if (refusal !== undefined) return this.fail(refusal.condition, refusal.text);
    s.phase = "opening";
    this.out.push({
      type: "stream-open-requested",
      attributes: {
        to: normalizeDomain(attributes.to!),
        version: attributes.version!,
        ...(attributes.from !== undefined ? { from: attributes.from } : {}),
        ...(attributes.lang !== undefined ? { lang: attributes.lang } : {}),
      },
      restart,
    });
  }

  openReceivedByClient(attributes: StreamAttributes): void {
    const s = this.s;
    if (s.phase !== "opening") {
      return this.fail("policy-violation", "Unexpected stream header: no restart was due");
    }
    this.out.push({ type: "clear-timer", timer: "open" });
    const restart = s.streamId !== undefined;
    s.peer = attributes;
    s.streamId = attributes.id;
    s.phase = "open";
    this.out.push({ type: "stream-opened", id: attributes.id, attributes, restart });
  }

  closeReceived(seeOtherUri: string | undefined): void {
    const s = this.s;
    this.out.push({ type: "clear-timer", timer: "open" });
    if (s.closeReceived) return this.fail("not-well-formed", "A second <close/>");
    s.closeReceived = true;
    if (s.phase === "closing") {
      // The peer answered our <close/>: the side that closed the stream starts the transport
      // close (#28).
      s.phase = "closed";
      this.out.push({ type: "clear-timer", timer: "close" });
      this.closeTransport(CLOSE_CODES.NORMAL, "Stream closed");
      this.terminal({ type: "stream-closed", initiator: "local" });
      return;
    }
    if (!s.config.autoReplyClose && seeOtherUri === undefined && s.phase === "open") {
      // The application relays what is in flight, then answers with close-stream.
      s.phase = "closing";
      this.setTimer("close", s.config.closeTimeoutMs);
      this.out.push({ type: "close-requested" });
      return;
    }
    // #27: the peer closed the stream; answer with our <close/> and let the peer close the
    // transport (#28), with a timeout (#29).
    s.phase = "closed";
    this.send(s.codec.encodeClose());
    s.closeSent = true;
    this.setTimer("close", s.config.closeTimeoutMs);
    if (seeOtherUri !== undefined && s.config.role === "client") {
      // #33: never follow a redirect to a weaker security context.
      if (!redirectAllowed(seeOtherUri, s.secure)) {
        this.terminal({
          type: "stream-failed",
          reason: "insecure-redirect",
          by: "local",
          text: `Refused redirect from a secure connection to ${seeOtherUri}`,
          uri: seeOtherUri,
        });
      } else {
        this.terminal({ type: "stream-redirected", uri: seeOtherUri });
      }
      return;
    }
    this.terminal({ type: "stream-closed", initiator: "peer" });
  }

  elementReceived(el: XmlElement): void {
    const s = this.s;
    if (isStreamError(el)) {
      // #26: a stream error from the peer ends the stream; the peer follows it with <close/>.
      const info = readStreamError(el);
      this.failed("stream-error", "peer", info.condition, info.text, info.content);
      if (s.phase === "closing" && s.closeSent) {
        s.phase = "closed";
        this.out.push({ type: "clear-timer", timer: "close" });
        this.closeTransport(CLOSE_CODES.NORMAL, "Stream error received");
        return;
      }
      if (s.phase === "idle") {
        s.phase = "closed";
        this.out.push({ type: "clear-timer", timer: "open" });
        this.closeTransport(CLOSE_CODES.NORMAL, "Stream error received");
        return;
      }
      // The stream is dead: close our side now and wait (bounded) for the peer's <close/>.
      if (!s.closeSent) this.send(s.codec.encodeClose());
      s.closeSent = true;
      s.phase = "closing";
      this.out.push({ type: "clear-timer", timer: "open" });
      this.setTimer("close", s.config.closeTimeoutMs);
      return;
    }
    if (s.config.role === "server" && (s.phase === "idle" || s.restartPending)) {
      // #18 / #35: the first message, and the first after SASL success, must be <open/>.
      return this.fail(
        "not-authorized",
        s.restartPending
          ? "RFC 7395 §3.7: a stream restart (<open/>) is required after SASL success"
          : "RFC 7395 §3.4: the first message must be <open/>",
      );
    }
    if (s.config.role === "client" && s.phase !== "open" && s.phase !== "closing") {
      return this.fail("bad-format", "An element arrived before the stream header");
    }
    if (STANZAS.has(el.name) && el.ns !== NS.CLIENT) {
      // #12: stanzas must be namespace-complete and in the client content namespace.
      return this.fail(
        "invalid-namespace",
        `RFC 6120 §4.8.3: <${el.name}/> must be qualified by ${NS.CLIENT}, not '${el.ns}'`,
      );
    }
    if (s.config.role === "client") {
      if (el.name === "features" && el.ns === NS.STREAMS) {
        // #44: a WebSocket client ignores STARTTLS even when required.
        this.out.push({
          type: "element-received",
          element: s.config.transport === "websocket" ? withoutStartTls(el) : el,
        });
        return;
      }
      this.out.push({ type: "element-received", element: el });
      if (el.name === "success" && el.ns === NS.SASL) {
        // #35: SASL success requires a restart (not SASL2, not XEP-0198 <resumed/>).
        s.restartPending = true;
        this.out.push({ type: "restart-required" });
      } else if (el.name === "proceed" && el.ns === NS.TLS && s.config.transport === "tcp") {
        // RFC 6120 §5.4.3.3: TLS negotiation, then a restart on the secured channel.
        s.restartPending = true;
        s.tlsPending = true;
        this.out.push({ type: "start-tls" });
      }
      return;
    }
    this.out.push({ type: "element-received", element: el });
  }

  // ---- application commands ------------------------------------------------------------

  acceptStream(
    features: XmlElement | undefined,
    id: string | undefined,
    nextStreamId: string | undefined,
  ): void {
    const s = this.s;
    this.require(
      "accept-stream",
      s.config.role === "server" && s.phase === "opening",
      "no stream-open-requested is pending",
    );
    if (features !== undefined && !(features.name === "features" && features.ns === NS.STREAMS)) {
      throw new XmppUsageError(
        "accept-stream",
        s.phase,
        "features must be <features/> in the streams namespace",
      );
    }
    const streamId = id ?? s.nextStreamId;
    this.require(
      "accept-stream",
      streamId !== undefined && streamId !== "",
      "no stream id was supplied (transport-opened.streamId or accept-stream.id)",
    );
    if (id === undefined) s.nextStreamId = undefined;
    if (nextStreamId !== undefined) s.nextStreamId = nextStreamId;
    // #38: a restart gets a new id.
    this.require(
      "accept-stream",
      streamId !== s.streamId,
      "a restarted stream needs a new id (RFC 6120 §4.3.3)",
    );
    const peer = s.peer!;
    const attributes = responseAttributes(peer, streamId, s.config.defaultLang, s.config.domains);
    // #19: the response header; #20: features in their own message.
    this.send(s.codec.encodeOpen(attributes));
    this.send(
      s.codec.encodeElement(
        features === undefined ? element("features", NS.STREAMS) : withoutStartTls(features),
      ),
    );
    const restart = s.streamId !== undefined;
    s.streamId = streamId;
    s.phase = "open";
    this.out.push({ type: "stream-opened", id: streamId, attributes, restart });
  }

  transportSecured(): void {
    const s = this.s;
    this.require(
      "transport-secured",
      s.tlsPending && s.phase === "open" && s.transportOpen,
      "no STARTTLS is pending",
    );
    s.tlsPending = false;
    s.restartPending = false;
    s.secure = true;
    // Anything received between <proceed/> and the TLS handshake is discarded, never parsed
    // (it could be injected by an attacker, cf. STARTTLS command injection).
    s.codec.restart();
    this.sendOpen();
  }

  restartStream(): void {
    const s = this.s;
    this.require(
      "restart-stream",
      s.config.role === "client" && s.phase === "open" && s.restartPending && !s.tlsPending,
      "no restart is due",
    );
    s.restartPending = false;
    const pending = s.codec.restart();
    // #36 / #37: a fresh <open/>, never a <close/>, at a restart.
    this.sendOpen();
    this.frames(pending);
  }

  sendElement(el: XmlElement): void {
    const s = this.s;
    const relaying = s.phase === "closing" && s.closeReceived && !s.closeSent;
    this.require(
      "send-element",
      s.transportOpen && (s.phase === "open" || relaying),
      "the stream is not open",
    );
    this.require("send-element", !s.restartPending, "a stream restart is due");
    this.require("send-element", !isStreamError(el), "use fail-stream to send a stream error");
    this.require(
      "send-element",
      !(s.config.transport === "websocket" && el.ns === NS.TLS && el.name !== "failure"),
      "STARTTLS never runs over a WebSocket (RFC 7395 §3.9)",
    );
    this.require(
      "send-element",
      el.ns !== NS.FRAMING,
      "use the session inputs to open or close the stream",
    );
    const isFeatures = s.config.role === "server" && el.name === "features" && el.ns === NS.STREAMS;
    const text = s.codec.encodeElement(
      isFeatures && s.config.transport === "websocket" ? withoutStartTls(el) : el,
    );
    // Nothing that is not well-formed XML leaves (e.g. a NUL in an application's body text).
    this.require(
      "send-element",
      findIllegalCharacter(text) < 0,
      "the element holds a character XML forbids",
    );
    this.send(text);
    if (s.config.role === "server") {
      if (el.name === "success" && el.ns === NS.SASL) {
        // #35: after SASL success the client must restart; give it openTimeoutMs to do so.
        s.restartPending = true;
        s.codec.restart();
        this.setTimer("open", s.config.openTimeoutMs);
      }
    }
  }

  closeStream(seeOtherUri: string | undefined): void {
    const s = this.s;
    if (s.phase === "closing" && s.closeReceived && !s.closeSent && seeOtherUri === undefined) {
      // Answering the peer's <close/> (autoReplyClose off); the peer closes the transport (#28).
      this.send(s.codec.encodeClose());
      s.closeSent = true;
      s.phase = "closed";
      this.terminal({ type: "stream-closed", initiator: "peer" });
      return;
    }
    this.require(
      "close-stream",
      s.transportOpen && s.phase !== "closing" && s.phase !== "closed",
      "the stream is already closing",
    );
    if (seeOtherUri !== undefined) {
      this.require("close-stream", s.config.role === "server", "only a server redirects");
      this.require(
        "close-stream",
        s.config.transport === "websocket",
        "see-other-uri exists only over WebSocket",
      );
      this.require(
        "close-stream",
        s.phase !== "idle",
        "the server says nothing before the client's <open/> (#17)",
      );
      if (!redirectAllowed(seeOtherUri, s.secure)) {
        throw new XmppUsageError(
          "close-stream",
          s.phase,
          `see-other-uri ${seeOtherUri} is not a URI, or would weaken a secure connection (RFC 7395 §3.6.1)`,
        );
      }
      // #32: <close see-other-uri/>, in answer to <open/> or later, then the transport close.
      this.send(s.codec.encodeClose(seeOtherUri));
      s.closeSent = true;
      s.phase = "closed";
      this.out.push({ type: "clear-timer", timer: "open" });
      this.closeTransport(CLOSE_CODES.NORMAL, "Redirected");
      this.terminal({ type: "stream-closed", initiator: "local" });
      return;
    }
    if (s.phase === "idle") {
      // Nothing is open to close gracefully yet: end the transport.
      s.phase = "closed";
      this.out.push({ type: "clear-timer", timer: "open" });
      this.closeTransport(CLOSE_CODES.NORMAL, "Closed before the stream opened");
      this.terminal({ type: "stream-closed", initiator: "local" });
      return;
    }
    if (s.config.role === "server" && s.phase === "opening" && s.config.transport === "tcp") {
      this.send(
        s.codec.encodeOpen(
          responseAttributes(
            s.peer ?? {},
            s.nextStreamId ?? s.streamId,
            s.config.defaultLang,
            s.config.domains,
          ),
        ),
      );
    }
    // #27: send <close/>, keep processing input, wait for the peer's <close/> (#29 timeout).
    this.send(s.codec.encodeClose());
    s.closeSent = true;
    s.phase = "closing";
    this.out.push({ type: "clear-timer", timer: "open" });
    this.setTimer("close", s.config.closeTimeoutMs);
  }

  /** Sends a stream error and closes: #23, #24 (header first during open), #25. */
  fail(
    condition: StreamErrorCondition,
    text: string | undefined,
    closeCode: number = CLOSE_CODES.NORMAL,
    content?: string,
    extra?: XmlElement,
  ): void {
    const s = this.s;
    const codec = s.codec;
    const messages: string[] = [];
    if (
      s.config.role === "server" &&
      (s.phase === "idle" || s.phase === "opening" || s.restartPending)
    ) {
      const request = s.peer ?? {};
      messages.push(
        codec.encodeOpen(
          responseAttributes(
            request,
            s.nextStreamId ?? s.streamId,
            s.config.defaultLang,
            s.config.domains,
          ),
        ),
      );
    }
    if (!s.closeSent) {
      messages.push(
        codec.encodeElement(streamError(condition, text, content, extra)),
        codec.encodeClose(),
      );
      s.closeSent = true;
    }
    // #24: three messages; draft-00 framing wants the header, error and footer in one.
    if (codec.batchOpenError && messages.length === 3) this.send(messages.join(""));
    else for (const message of messages) this.send(message);
    s.phase = "closed";
    this.out.push({ type: "clear-timer", timer: "open" }, { type: "clear-timer", timer: "close" });
    this.closeTransport(closeCode, text ?? condition);
    this.failed("stream-error", "local", condition, text, content);
  }
}

function withoutStartTls(features: XmlElement): XmlElement {
  // #43 / #44: STARTTLS never appears on, and is ignored over, a WebSocket (RFC 7395 §3.9).
  if (!features.children.some((c) => typeof c !== "string" && c.ns === NS.TLS)) return features;
  return {
    ...features,
    children: features.children.filter((c) => typeof c === "string" || c.ns !== NS.TLS),
  };
}

/** RFC 6455 §5.5: a close reason fits in 123 bytes of UTF-8. */
function closeReason(reason: string): string {
  if (utf8Length(reason, 123) <= 123) return reason;
  let cut = reason.slice(0, 120);
  while (utf8Length(cut) > 120) cut = cut.slice(0, -1);
  return cut + "...";
}

/**
 * #33: a redirect target must parse as a URI (the way a browser parses it: `new URL` drops
 * leading spaces and tabs) and must not weaken a secure connection (wss to ws or http).
 */
function redirectAllowed(uri: string, secure: boolean): boolean {
  let scheme: string;
  try {
    scheme = new URL(uri).protocol;
  } catch {
    return false;
  }
  return !(secure && WEAK_SCHEMES.has(scheme));
}
