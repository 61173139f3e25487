/**
 * The state of one step of the session reducer: the draft session, the outputs so far, `now`,
 * and the small helpers every handler uses (sending, timers, closing the transport, terminal
 * notices, stream errors #23-#25).
 *
 * @module
 */

import type { XmlElement } from "../xml/element.ts";
import { utf8Length } from "../xml/limits.ts";
import { CLOSE_CODES } from "../close_codes.ts";
import { XmppUsageError } from "../errors.ts";
import { streamError, type StreamErrorCondition } from "../stream_errors.ts";
import { clientOpenAttributes, responseAttributes } from "./open_rules.ts";
import type { FailureReason, Output, Session } from "./types.ts";

/** A session being changed by one step. */
export type Draft = { -readonly [K in keyof Session]: Session[K] };

/** One step in progress. */
export class Ctx {
  readonly s: Draft;
  readonly out: Output[];
  readonly now: number;

  constructor(s: Draft, out: Output[], now: number) {
    this.s = s;
    this.out = out;
    this.now = now;
  }

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
    // Once asked to close, the transport is only awaited: a second close (a stale timer firing,
    // say) would contradict the first code and reason.
    if (!this.s.transportOpen || this.s.transportClosing) return;
    this.s.transportClosing = true;
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
    if (s.config.role === "client" && s.restartPending && codec.transport === "tcp") {
      if (s.tlsPending) {
        // Between <proceed/> and the TLS handshake nothing may be written in the clear: no
        // document is open, so the transport just closes.
        s.phase = "closed";
        s.closeSent = true;
        this.out.push({ type: "clear-timer", timer: "open" }, {
          type: "clear-timer",
          timer: "close",
        });
        this.closeTransport(closeCode, text ?? condition);
        this.failed("stream-error", "local", condition, text, content);
        return;
      }
      // After SASL <success/> the old document is over (RFC 6120 §4.3.3): a stream error needs
      // a new header first, or its `stream:` prefix would be unbound (issue 8, finding 4).
      // (RFC 7395 messages are standalone documents that declare their own prefixes.)
      messages.push(codec.encodeOpen(clientOpenAttributes(s)));
    }
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

/** RFC 6455 §5.5: a close reason fits in 123 bytes of UTF-8. */
function closeReason(reason: string): string {
  if (utf8Length(reason, 123) <= 123) return reason;
  let cut = reason.slice(0, 120);
  while (utf8Length(cut) > 120) cut = cut.slice(0, -1);
  return cut + "...";
}
