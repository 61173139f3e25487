/**
 * The client reducer's working object (private): one `Stepper` applies one input to a draft
 * of the state and collects the outputs. This file holds the connection lifecycle (attempts,
 * the core session, timers, liveness, iq deadlines) and the application commands; what the
 * stream carries (SASL, binding, XEP-0198, stanzas) is in `_stream.ts`, and how a connection
 * ends (redirect, next candidate, backoff, stop) in `_endings.ts`.
 *
 * @module
 */

import type { XmlElement } from "../xml/element.ts";
import { canSend, createSession, step } from "../session/step.ts";
import type { Input as SessionInput, Output as SessionOutput } from "../session/types.ts";
import { XmppUsageError } from "../errors.ts";
import { CLOSE_CODES } from "../close_codes.ts";
import { checkEndpoint } from "./endpoint.ts";
import type { ClientError } from "./errors.ts";
import { expireIqs, nextIqDeadline, trackIq } from "./iq.ts";
import { checkLiveness } from "./liveness.ts";
import { smAnswer, smRequest, smSent } from "./sm.ts";
import { assertSendable, iqStanza } from "./stanzas.ts";
import { isStanza } from "../xmpp/stanza.ts";
import { NS } from "../xmpp/namespaces.ts";
import { element } from "../xml/element.ts";
import { streamElement } from "./_stream.ts";
import { failureError, finishConnection, terminate } from "./_endings.ts";
import type {
  ClientInput,
  ClientOutput,
  ClientState,
  ClientStatus,
  ClientTimer,
  ConnectionState,
  Stage,
  StanzaFailure,
} from "./types.ts";
import { checkTransition } from "../session/transitions.ts";
import { CLIENT_STAGE_TRANSITIONS, CLIENT_STATUS_TRANSITIONS } from "./transitions.ts";

type Draft<T> = { -readonly [K in keyof T]: T[K] };

/** Applies one input; see `client.ts`. */
export class Stepper {
  readonly s: Draft<ClientState>;
  c: Draft<ConnectionState> | undefined;
  readonly out: ClientOutput[] = [];
  readonly now: number;
  readonly random: string;
  /** The transport of the current connection is gone (closed by us or reported closed). */
  transportGone = false;
  /** Connections started during this step. */
  started = 0;
  readonly #before: Stage | undefined;

  constructor(state: ClientState, now: number, random: string) {
    this.s = { ...state };
    this.c = state.connection ? { ...state.connection } : undefined;
    this.#before = state.connection?.stage;
    this.now = now;
    this.random = random;
  }

  /** The client after the step, once its connection's stage move is checked. */
  result(): ClientState {
    const table = CLIENT_STAGE_TRANSITIONS;
    const after = this.c?.stage ?? "ended";
    if (this.started === 0) {
      if (this.#before !== undefined) checkTransition("client stage", table, this.#before, after);
    } else {
      if (this.#before !== undefined) checkTransition("client stage", table, this.#before, "ended");
      if (this.c !== undefined) checkTransition("client stage", table, "new", after);
    }
    return { ...this.s, connection: this.c ? { ...this.c } : undefined };
  }

  apply(input: ClientInput): void {
    switch (input.type) {
      case "connect":
        this.require("connect", this.s.status === "idle", "the client was already started");
        return this.startAttempt();
      case "transport-opened":
        return this.transportOpened(input.protocol);
      case "text-received":
        if (!this.c || this.c.stage === "connecting") return;
        this.c.lastInbound = this.now;
        return this.session({ type: "text-received", now: this.now, data: input.data });
      case "binary-received":
        if (!this.c || this.c.stage === "connecting") return;
        return this.session({
          type: "binary-received",
          now: this.now,
          byteLength: input.byteLength,
        });
      case "transport-closed":
        return this.transportClosed(input.code, input.reason);
      case "timer-fired":
        return this.timerFired(input.timer);
      case "send":
        return this.sendCommand(input.element);
      case "send-iq":
        return this.sendIqCommand(input.element, input.timeoutMs ?? this.s.config.iqTimeoutMs);
      case "close":
        return this.closeCommand();
    }
  }

  // ---- helpers ------------------------------------------------------------------------

  require(input: string, condition: boolean, reason: string): void {
    if (!condition) throw new XmppUsageError(input, this.s.status, reason);
  }

  setStatus(status: ClientStatus): void {
    if (this.s.status === status) return;
    checkTransition("client status", CLIENT_STATUS_TRANSITIONS, this.s.status, status);
    this.s.status = status;
    this.out.push({ type: "status-changed", status });
  }

  setTimer(timer: ClientTimer, at: number): void {
    this.out.push({ type: "set-timer", timer, at });
  }

  clearTimer(timer: ClientTimer): void {
    this.out.push({ type: "clear-timer", timer });
  }

  /** A fresh id for the client's own iqs on this connection. */
  nextId(): string {
    const c = this.c!;
    c.counter++;
    return `${c.idPrefix}-${c.counter}`;
  }

  /** Records why the connection ends (the first reason wins). */
  noteError(error: ClientError): void {
    if (this.c && this.c.error === undefined) this.c.error = error;
  }

  // ---- the core session ---------------------------------------------------------------

  /** Steps the core session and carries out its outputs. */
  session(input: SessionInput): void {
    const c = this.c;
    if (!c) return;
    const { state: session, outputs } = step(c.session, input);
    c.session = session;
    for (const output of outputs) {
      if (this.c !== c) return; // the connection finished meanwhile
      this.sessionOutput(output);
    }
    if (this.transportGone && this.c === c) finishConnection(this);
  }

  sessionOutput(output: SessionOutput): void {
    const c = this.c!;
    switch (output.type) {
      case "send-text":
      case "set-timer":
      case "clear-timer":
        this.out.push(output);
        return;
      case "close-transport":
        this.out.push(output);
        this.transportGone = true;
        return;
      case "stream-opened":
        c.streamOpened = true;
        return;
      case "element-received":
        return streamElement(this, output.element);
      case "restart-required":
      case "start-tls":
      case "close-requested":
      case "stream-open-requested":
        return; // restarts are driven by the SASL outcome; the others never reach a client
      case "stream-closed":
        c.stage = "closing";
        if (output.initiator === "local") {
          if (c.error === undefined) c.closedCleanly = true;
        } else {
          this.noteError({ kind: "connection", reason: "peer-closed", reconnect: "backoff" });
        }
        return;
      case "stream-redirected": {
        c.stage = "closing";
        const check = checkEndpoint(output.uri, { allowInsecure: this.s.config.allowInsecure });
        this.noteError(
          check.ok
            ? { kind: "redirect", uri: check.url, reconnect: "redirect" }
            : { kind: "redirect", uri: output.uri, reconnect: "never", text: check.reason },
        );
        return;
      }
      case "stream-failed":
        c.stage = "closing";
        return this.noteError(failureError(output));
    }
  }

  /** Sends a stanza now (counted by XEP-0198, with an ack request every `ackEvery`). */
  transmit(el: XmlElement): void {
    this.session({ type: "send-element", now: this.now, element: el });
    const c = this.c;
    if (!c || !c.smActive || !this.s.sm || !isStanza(el)) return;
    this.s.sm = smSent(this.s.sm, el);
    if (!this.s.sm.requested && this.s.sm.unacked.length >= this.s.config.ackEvery) {
      this.s.sm = { ...this.s.sm, requested: true };
      this.session({ type: "send-element", now: this.now, element: smRequest() });
    }
  }

  /** Sends a nonza (or a stanza outside XEP-0198 accounting). */
  sendRaw(el: XmlElement): void {
    this.session({ type: "send-element", now: this.now, element: el });
  }

  /** Whether the stream accepts elements now. */
  streamWritable(): boolean {
    return this.c !== undefined && this.c.stage !== "closing" && canSend(this.c.session);
  }

  /**
   * Ends the connection: `close` runs the close handshake, `abort` drops the transport
   * without `<close/>` (so XEP-0198 can resume), `fail` sends a stream error.
   */
  endConnection(
    error: ClientError | undefined,
    how:
      | { readonly type: "close" }
      | { readonly type: "abort" }
      | {
        readonly type: "fail";
        readonly condition: "undefined-condition" | "policy-violation";
        readonly text: string;
      },
  ): void {
    const c = this.c;
    if (!c) return;
    if (error) this.noteError(error);
    const session = c.session;
    if (!session.transportOpen) {
      this.out.push({ type: "close-transport", code: CLOSE_CODES.NORMAL, reason: "Closed" });
      this.transportGone = true;
      finishConnection(this);
      return;
    }
    c.stage = "closing";
    if (how.type === "close" && (session.phase === "opening" || session.phase === "open")) {
      return this.session({ type: "close-stream", now: this.now });
    }
    if (how.type === "fail" && session.phase !== "closing" && session.phase !== "closed") {
      return this.session({
        type: "fail-stream",
        now: this.now,
        condition: how.condition,
        text: how.text,
      });
    }
    if (how.type === "close" && session.phase === "closing") return; // already closing
    this.session({
      type: "abort-transport",
      now: this.now,
      code: CLOSE_CODES.NORMAL,
      reason: error && error.kind === "connection" ? error.reason : "Connection dropped",
    });
  }

  // ---- attempts -----------------------------------------------------------------------

  startAttempt(): void {
    const s = this.s;
    const config = s.config;
    const url = s.redirectTo ?? config.endpoints[s.candidate]!;
    const check = checkEndpoint(url, { allowInsecure: config.allowInsecure });
    const secure = check.ok && check.secure;
    const bare = config.username ? `${config.username}@${config.domain}` : undefined;
    this.started++;
    this.c = {
      url,
      secure,
      loopback: check.ok && check.loopback,
      session: createSession({
        role: "client",
        transport: "websocket",
        to: config.domain,
        ...(bare !== undefined ? { from: bare } : {}),
        ...(config.lang !== undefined ? { lang: config.lang } : {}),
        openTimeoutMs: config.openTimeoutMs,
        closeTimeoutMs: config.closeTimeoutMs,
      }),
      stage: "connecting",
      streamOpened: false,
      auth: undefined,
      idPrefix: "c" + this.random.replace(/[^0-9A-Za-z]/g, "").slice(0, 8),
      counter: 0,
      pendingId: undefined,
      features: undefined,
      openedAt: undefined,
      lastInbound: this.now,
      probeSentAt: undefined,
      smActive: false,
      error: undefined,
      closedCleanly: false,
    };
    this.transportGone = false;
    this.setStatus("connecting");
    this.out.push({ type: "open-transport", url });
    // Covers the WebSocket handshake and the whole login.
    this.setTimer("liveness", this.now + config.negotiationTimeoutMs);
  }

  transportOpened(protocol: string): void {
    const c = this.c;
    if (!c || c.stage !== "connecting") return;
    c.stage = "opening";
    c.openedAt = this.now;
    c.lastInbound = this.now;
    this.session({ type: "transport-opened", now: this.now, secure: c.secure, protocol });
  }

  transportClosed(code: number | undefined, reason: string | undefined): void {
    const c = this.c;
    if (!c) return;
    this.transportGone = true;
    this.noteError({
      kind: "connection",
      reason: "transport-lost",
      ...(code !== undefined ? { code } : {}),
      ...(reason ? { text: reason } : {}),
      reconnect: "backoff",
    });
    if (c.session.transportOpen) {
      this.session({
        type: "transport-closed",
        now: this.now,
        ...(code !== undefined ? { code } : {}),
        ...(reason !== undefined ? { reason } : {}),
      });
    } else {
      finishConnection(this);
    }
  }

  timerFired(timer: ClientTimer): void {
    switch (timer) {
      case "open":
      case "close":
        return this.session({ type: "timer-fired", now: this.now, timer });
      case "reconnect":
        if (this.s.status === "reconnecting" && !this.c) this.startAttempt();
        return;
      case "iq":
        this.s.iqTimerAt = undefined;
        return this.expireIqs();
      case "liveness":
        return this.livenessTimer();
    }
  }

  livenessTimer(): void {
    const c = this.c;
    if (!c) return;
    const config = this.s.config;
    if (c.stage !== "online") {
      if (c.stage === "closing") return;
      return this.endConnection({
        kind: "connection",
        reason: c.stage === "connecting" ? "transport-lost" : "negotiation-timeout",
        text: `not online after ${config.negotiationTimeoutMs} ms`,
        reconnect: "backoff",
      }, { type: "abort" });
    }
    const checked = checkLiveness(
      { lastInbound: c.lastInbound, probeSentAt: c.probeSentAt },
      this.now,
      config,
    );
    c.probeSentAt = checked.state.probeSentAt;
    const decision = checked.decision;
    if (decision.type === "dead") {
      return this.endConnection({
        kind: "connection",
        reason: "liveness-timeout",
        text: `no answer to a liveness probe within ${config.probeTimeoutMs} ms`,
        reconnect: "backoff",
      }, { type: "abort" });
    }
    this.setTimer("liveness", decision.until);
    if (decision.type !== "probe") return;
    if (c.smActive) {
      this.s.sm = this.s.sm && { ...this.s.sm, requested: true };
      this.sendRaw(smRequest());
    } else {
      this.sendRaw(iqStanza("get", this.nextId(), element("ping", NS.PING), config.domain));
    }
  }

  // ---- online -------------------------------------------------------------------------

  goOnline(resumed: boolean): void {
    const c = this.c!;
    const s = this.s;
    c.stage = "online";
    c.lastInbound = this.now;
    c.probeSentAt = undefined;
    s.everOnline = true;
    s.attempt = 0;
    s.redirects = 0;
    s.tried = 0;
    s.smLostAt = undefined;
    this.setTimer("liveness", this.now + s.config.probeAfterMs);
    this.setStatus("online");
    this.out.push({
      type: "online",
      jid: s.jid!,
      resumed,
      streamManagement: c.smActive,
    });
    const outbox = s.outbox;
    s.outbox = [];
    for (const el of outbox) {
      if (this.c !== c || !this.streamWritable()) {
        s.outbox = [...s.outbox, el];
        continue;
      }
      this.transmit(el);
    }
  }

  // ---- iqs ----------------------------------------------------------------------------

  armIqTimer(): void {
    const next = nextIqDeadline(this.s.iqs);
    if (next === this.s.iqTimerAt) return;
    this.s.iqTimerAt = next;
    if (next === undefined) this.clearTimer("iq");
    else this.setTimer("iq", next);
  }

  expireIqs(): void {
    const { tracker, expired } = expireIqs(this.s.iqs, this.now);
    this.s.iqs = tracker;
    for (const p of expired) this.out.push({ type: "iq-failed", id: p.id, reason: "timeout" });
    this.armIqTimer();
  }

  /** Fails the iqs in flight that were sent (those still in the outbox will be sent later). */
  failSentIqs(reason: "session-lost" | "closed"): void {
    const queued = new Set(this.s.outbox.map((el) => el.attrs.id));
    const failing = this.s.iqs.pending.filter((p) => reason === "closed" || !queued.has(p.id));
    if (failing.length === 0) return;
    this.s.iqs = { pending: this.s.iqs.pending.filter((p) => !failing.includes(p)) };
    for (const p of failing) this.out.push({ type: "iq-failed", id: p.id, reason });
    this.armIqTimer();
  }

  /** Reports the stanzas XEP-0198 did not see acknowledged, and forgets the SM session. */
  dropSm(reason: StanzaFailure): void {
    const sm = this.s.sm;
    this.s.sm = undefined;
    this.s.smLostAt = undefined;
    if (sm && sm.unacked.length > 0) {
      this.out.push({ type: "stanzas-failed", elements: sm.unacked, reason });
    }
  }

  // ---- commands -----------------------------------------------------------------------

  sendCommand(el: XmlElement): void {
    assertSendable(el);
    const s = this.s;
    this.require("send", s.status !== "closed" && s.status !== "closing", "the client is closed");
    if (s.status === "online" && this.streamWritable()) return this.transmit(el);
    this.require(
      "send",
      s.outbox.length < s.config.maxQueue,
      `the offline queue is full (${s.config.maxQueue} stanzas)`,
    );
    s.outbox = [...s.outbox, el];
  }

  sendIqCommand(el: XmlElement, timeoutMs: number): void {
    if (!(timeoutMs > 0)) throw new RangeError(`Invalid iq timeout ${timeoutMs}`);
    const tracked = trackIq(this.s.iqs, el, this.now + timeoutMs);
    this.sendCommand(el);
    this.s.iqs = tracked;
    this.armIqTimer();
  }

  closeCommand(): void {
    const s = this.s;
    if (s.status === "closed" || s.closeRequested) return;
    s.closeRequested = true;
    if (!this.c) return terminate(this, undefined);
    this.setStatus("closing");
    const c = this.c;
    if (!c.session.transportOpen || c.stage === "connecting") {
      c.closedCleanly = true;
      return this.endConnection(undefined, { type: "abort" });
    }
    if (c.stage === "closing") return;
    // XEP-0198 §4: acknowledge everything handled before a clean close, or the server counts
    // the last stanzas as undelivered (and bounces or stores them again).
    if (c.smActive && s.sm && this.streamWritable()) this.sendRaw(smAnswer(s.sm));
    this.endConnection(undefined, { type: "close" });
  }
}
