/**
 * The session reducer's handling of the application's commands: accepting a stream (#19, #20,
 * #38, #43), restarting (#36, #37), sending elements, and closing or redirecting (#27, #32).
 *
 * @module
 */

import type { XmlElement } from "../xml/element.ts";
import { RawElement } from "../xml/raw_element.ts";
import { element } from "../xml/element.ts";
import { findIllegalCharacter } from "../xml/restricted.ts";
import { NS } from "../xmpp/namespaces.ts";
import { CLOSE_CODES } from "../close_codes.ts";
import { XmppUsageError } from "../errors.ts";
import { isStreamError } from "../stream_errors.ts";
import { responseAttributes } from "./open_rules.ts";
import type { Ctx } from "./_context.ts";
import { frames } from "./_receive.ts";
import { sendOpen } from "./_transport.ts";
import { redirectAllowed, withoutStartTls } from "./_policies.ts";

/** Server: answers `stream-open-requested` with the header and features (#19, #20, #38, #43). */
export function acceptStream(
  ctx: Ctx,
  features: XmlElement | undefined,
  id: string | undefined,
  nextStreamId: string | undefined,
): void {
  const s = ctx.s;
  ctx.require(
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
  ctx.require(
    "accept-stream",
    streamId !== undefined && streamId !== "",
    "no stream id was supplied (transport-opened.streamId or accept-stream.id)",
  );
  if (id === undefined) s.nextStreamId = undefined;
  if (nextStreamId !== undefined) s.nextStreamId = nextStreamId;
  // #38: a restart gets a new id.
  ctx.require(
    "accept-stream",
    streamId !== s.streamId,
    "a restarted stream needs a new id (RFC 6120 §4.3.3)",
  );
  const peer = s.peer!;
  const attributes = responseAttributes(peer, streamId, s.config.defaultLang, s.config.domains);
  // #19: the response header; #20: features in their own message.
  ctx.send(s.codec.encodeOpen(attributes));
  ctx.send(
    s.codec.encodeElement(
      features === undefined ? element("features", NS.STREAMS) : withoutStartTls(features),
    ),
  );
  const restart = s.streamId !== undefined;
  s.streamId = streamId;
  s.phase = "open";
  ctx.out.push({ type: "stream-opened", id: streamId, attributes, restart });
}

/** Client: opens the new stream after SASL success (#36, #37). */
export function restartStream(ctx: Ctx): void {
  const s = ctx.s;
  ctx.require(
    "restart-stream",
    s.config.role === "client" && s.phase === "open" && s.restartPending && !s.tlsPending,
    "no restart is due",
  );
  s.restartPending = false;
  const pending = s.codec.restart();
  // #36 / #37: a fresh <open/>, never a <close/>, at a restart.
  sendOpen(ctx);
  frames(ctx, pending);
}

/**
 * What `send-element` and `send-raw` need: an open stream (or the peer's `<close/>` still to be
 * answered, while what is in flight is relayed), and no restart due.
 */
function requireSendable(ctx: Ctx, input: "send-element" | "send-raw"): void {
  const s = ctx.s;
  const relaying = s.phase === "closing" && s.closeReceived && !s.closeSent;
  ctx.require(input, s.transportOpen && (s.phase === "open" || relaying), "the stream is not open");
  ctx.require(input, !s.restartPending, "a stream restart is due");
}

/** Sends one application element on the open stream (nothing ill-formed ever leaves). */
export function sendElement(ctx: Ctx, el: XmlElement): void {
  const s = ctx.s;
  requireSendable(ctx, "send-element");
  ctx.require("send-element", !isStreamError(el), "use fail-stream to send a stream error");
  ctx.require(
    "send-element",
    !(s.config.transport === "websocket" && el.ns === NS.TLS && el.name !== "failure"),
    "STARTTLS never runs over a WebSocket (RFC 7395 §3.9)",
  );
  ctx.require(
    "send-element",
    el.ns !== NS.FRAMING,
    "use the session inputs to open or close the stream",
  );
  const isFeatures = s.config.role === "server" && el.name === "features" && el.ns === NS.STREAMS;
  const text = s.codec.encodeElement(
    isFeatures && s.config.transport === "websocket" ? withoutStartTls(el) : el,
  );
  // Nothing that is not well-formed XML leaves (e.g. a NUL in an application's body text).
  ctx.require(
    "send-element",
    findIllegalCharacter(text) < 0,
    "the element holds a character XML forbids",
  );
  ctx.send(text);
  if (s.config.role === "server") {
    if (el.name === "success" && el.ns === NS.SASL) {
      // #35: after SASL success the client must restart; give it openTimeoutMs to do so.
      s.restartPending = true;
      s.codec.restart();
      ctx.setTimer("open", s.config.openTimeoutMs);
    }
  }
}

/**
 * Sends an element another session received as validated text (`raw-received`), as it came:
 * no tree, no serialization (issue 10). Only ordinary elements: stream-level, SASL, STARTTLS
 * and framing elements change the session and go through `send-element` or the other inputs.
 */
export function sendRaw(ctx: Ctx, raw: RawElement): void {
  requireSendable(ctx, "send-raw");
  ctx.require("send-raw", RawElement.isValidated(raw), "not a RawElement made by a codec");
  ctx.require(
    "send-raw",
    !RAW_REFUSED.has(raw.ns),
    "stream-level, SASL, STARTTLS and framing elements go through send-element",
  );
  ctx.send(raw.text);
}

const RAW_REFUSED: ReadonlySet<string> = new Set([
  NS.STREAMS,
  NS.FRAMING,
  NS.SASL,
  NS.SASL2,
  NS.TLS,
]);

/** Closes the stream (#27), answers the peer's `<close/>`, or redirects (#32). */
export function closeStream(ctx: Ctx, seeOtherUri: string | undefined): void {
  const s = ctx.s;
  if (s.phase === "closing" && s.closeReceived && !s.closeSent && seeOtherUri === undefined) {
    // Answering the peer's <close/> (autoReplyClose off); the peer closes the transport (#28).
    ctx.send(s.codec.encodeClose());
    s.closeSent = true;
    s.phase = "closed";
    ctx.terminal({ type: "stream-closed", initiator: "peer" });
    return;
  }
  ctx.require(
    "close-stream",
    s.transportOpen && s.phase !== "closing" && s.phase !== "closed",
    "the stream is already closing",
  );
  if (seeOtherUri !== undefined) {
    ctx.require("close-stream", s.config.role === "server", "only a server redirects");
    ctx.require(
      "close-stream",
      s.config.transport === "websocket",
      "see-other-uri exists only over WebSocket",
    );
    ctx.require(
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
    ctx.send(s.codec.encodeClose(seeOtherUri));
    s.closeSent = true;
    s.phase = "closed";
    ctx.out.push({ type: "clear-timer", timer: "open" });
    ctx.closeTransport(CLOSE_CODES.NORMAL, "Redirected");
    ctx.terminal({ type: "stream-closed", initiator: "local" });
    return;
  }
  if (s.phase === "idle") {
    // Nothing is open to close gracefully yet: end the transport.
    s.phase = "closed";
    ctx.out.push({ type: "clear-timer", timer: "open" });
    ctx.closeTransport(CLOSE_CODES.NORMAL, "Closed before the stream opened");
    ctx.terminal({ type: "stream-closed", initiator: "local" });
    return;
  }
  if (s.config.role === "client" && s.config.transport === "tcp" && s.restartPending) {
    // After SASL <success/> (or <proceed/>) the old document is over and the new one has not
    // begun (RFC 6120 §4.3.3): there is no stream to write a footer into, so closing the
    // stream means closing the transport (a bare footer would be malformed; issue 8 #4).
    s.phase = "closed";
    s.closeSent = true;
    ctx.out.push({ type: "clear-timer", timer: "open" });
    ctx.closeTransport(CLOSE_CODES.NORMAL, "Closed before the stream restart");
    ctx.terminal({ type: "stream-closed", initiator: "local" });
    return;
  }
  if (s.config.role === "server" && s.phase === "opening" && s.config.transport === "tcp") {
    ctx.send(
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
  ctx.send(s.codec.encodeClose());
  s.closeSent = true;
  s.phase = "closing";
  ctx.out.push({ type: "clear-timer", timer: "open" });
  ctx.setTimer("close", s.config.closeTimeoutMs);
}
