/**
 * The session reducer's handling of what the peer sends: headers (#19, #22, #24, #35),
 * `<close/>` and redirects (#27, #28, #33), stream errors (#26), and elements (#12, #35, #44).
 *
 * @module
 */

import type { XmlElement } from "../xml/element.ts";
import { NS } from "../xmpp/namespaces.ts";
import { CLOSE_CODES } from "../close_codes.ts";
import { isStreamError, readStreamError } from "../stream_errors.ts";
import type { Frame, StreamAttributes } from "../framing/types.ts";
import { checkOpen, normalizeDomain } from "./open_rules.ts";
import type { Ctx } from "./_context.ts";

const STANZAS: ReadonlySet<string> = new Set(["message", "presence", "iq"]);
import { redirectAllowed, withoutStartTls } from "./_policies.ts";

/** Handles decoded frames in order, stopping once the stream has ended. */
export function frames(ctx: Ctx, frames: readonly Frame[]): void {
  for (const f of frames) {
    if (!ctx.receiving()) return;
    frame(ctx, f);
  }
}

/** Handles one decoded frame. */
export function frame(ctx: Ctx, frame: Frame): void {
  switch (frame.kind) {
    case "invalid":
      if (!frame.streamError) {
        ctx.s.phase = "closed";
        ctx.out.push({ type: "clear-timer", timer: "open" }, {
          type: "clear-timer",
          timer: "close",
        });
        ctx.closeTransport(frame.closeCode, frame.text);
        ctx.failed("stream-error", "local", frame.condition, frame.text);
        return;
      }
      return ctx.fail(frame.condition, frame.text, frame.closeCode);
    case "keepalive":
      return;
    case "open":
      return ctx.s.config.role === "server"
        ? openReceivedByServer(ctx, frame.attributes)
        : openReceivedByClient(ctx, frame.attributes);
    case "close":
      return closeReceived(ctx, frame.seeOtherUri);
    case "element":
      // After a terminal notice (e.g. the peer's stream error) only its <close/> matters.
      if (ctx.s.ended) return;
      return elementReceived(ctx, frame.element);
    case "raw":
      // Never a stream error, SASL, STARTTLS or features: the relay policy keeps those as trees.
      if (ctx.s.ended || !elementAllowed(ctx, frame.element.name, frame.element.ns)) return;
      ctx.out.push({ type: "raw-received", element: frame.element });
      return;
  }
}

/** Server: the client's `<open/>` (first, or a restart; #19, #22, #24, #35). */
export function openReceivedByServer(ctx: Ctx, attributes: StreamAttributes): void {
  const s = ctx.s;
  const restart = s.phase === "open" && s.restartPending;
  if (!(s.phase === "idle" || restart)) {
    // #22: one stream per WebSocket; an <open/> that is not a restart is refused.
    return ctx.fail(
      "policy-violation",
      "RFC 7395 §3.4: only one stream per connection; <open/> is allowed only at a restart",
    );
  }
  ctx.out.push({ type: "clear-timer", timer: "open" });
  s.peer = attributes;
  s.restartPending = false;
  const refusal = checkOpen(attributes, s.config.domains);
  if (refusal !== undefined) return ctx.fail(refusal.condition, refusal.text);
  s.phase = "opening";
  ctx.out.push({
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

/** Client: the server's response header. */
export function openReceivedByClient(ctx: Ctx, attributes: StreamAttributes): void {
  const s = ctx.s;
  if (s.phase !== "opening") {
    return ctx.fail("policy-violation", "Unexpected stream header: no restart was due");
  }
  ctx.out.push({ type: "clear-timer", timer: "open" });
  const restart = s.streamId !== undefined;
  s.peer = attributes;
  s.streamId = attributes.id;
  s.phase = "open";
  ctx.out.push({ type: "stream-opened", id: attributes.id, attributes, restart });
}

/** The peer's `<close/>`, maybe with `see-other-uri` (#27, #28, #29, #33). */
export function closeReceived(ctx: Ctx, seeOtherUri: string | undefined): void {
  const s = ctx.s;
  ctx.out.push({ type: "clear-timer", timer: "open" });
  if (s.closeReceived) return ctx.fail("not-well-formed", "A second <close/>");
  s.closeReceived = true;
  if (s.phase === "closing") {
    // The peer answered our <close/>: the side that closed the stream starts the transport
    // close (#28).
    s.phase = "closed";
    ctx.out.push({ type: "clear-timer", timer: "close" });
    ctx.closeTransport(CLOSE_CODES.NORMAL, "Stream closed");
    ctx.terminal({ type: "stream-closed", initiator: "local" });
    return;
  }
  if (!s.config.autoReplyClose && seeOtherUri === undefined && s.phase === "open") {
    // The application relays what is in flight, then answers with close-stream.
    s.phase = "closing";
    ctx.setTimer("close", s.config.closeTimeoutMs);
    ctx.out.push({ type: "close-requested" });
    return;
  }
  // #27: the peer closed the stream; answer with our <close/> and let the peer close the
  // transport (#28), with a timeout (#29).
  s.phase = "closed";
  ctx.send(s.codec.encodeClose());
  s.closeSent = true;
  ctx.setTimer("close", s.config.closeTimeoutMs);
  if (seeOtherUri !== undefined && s.config.role === "client") {
    // #33: never follow a redirect to a weaker security context.
    if (!redirectAllowed(seeOtherUri, s.secure)) {
      ctx.terminal({
        type: "stream-failed",
        reason: "insecure-redirect",
        by: "local",
        text: `Refused redirect from a secure connection to ${seeOtherUri}`,
        uri: seeOtherUri,
      });
    } else {
      ctx.terminal({ type: "stream-redirected", uri: seeOtherUri });
    }
    return;
  }
  ctx.terminal({ type: "stream-closed", initiator: "peer" });
}

/**
 * Whether an element (other than a stream error) may arrive now; if not, the stream has been
 * failed (#12, #18, #35).
 */
function elementAllowed(ctx: Ctx, name: string, ns: string): boolean {
  const s = ctx.s;
  if (s.config.role === "server" && (s.phase === "idle" || s.restartPending)) {
    // #18 / #35: the first message, and the first after SASL success, must be <open/>.
    ctx.fail(
      "not-authorized",
      s.restartPending
        ? "RFC 7395 §3.7: a stream restart (<open/>) is required after SASL success"
        : "RFC 7395 §3.4: the first message must be <open/>",
    );
    return false;
  }
  if (s.config.role === "client" && s.phase !== "open" && s.phase !== "closing") {
    ctx.fail("bad-format", "An element arrived before the stream header");
    return false;
  }
  if (STANZAS.has(name) && ns !== NS.CLIENT) {
    // #12: stanzas must be namespace-complete and in the client content namespace.
    ctx.fail(
      "invalid-namespace",
      `RFC 6120 §4.8.3: <${name}/> must be qualified by ${NS.CLIENT}, not '${ns}'`,
    );
    return false;
  }
  return true;
}

/** Any other element from the peer (#12, #18, #26, #35, #44). */
export function elementReceived(ctx: Ctx, el: XmlElement): void {
  const s = ctx.s;
  if (isStreamError(el)) {
    // #26: a stream error from the peer ends the stream; the peer follows it with <close/>.
    const info = readStreamError(el);
    ctx.failed("stream-error", "peer", info.condition, info.text, info.content);
    if (s.phase === "closing" && s.closeSent) {
      s.phase = "closed";
      ctx.out.push({ type: "clear-timer", timer: "close" });
      ctx.closeTransport(CLOSE_CODES.NORMAL, "Stream error received");
      return;
    }
    if (s.phase === "idle") {
      s.phase = "closed";
      ctx.out.push({ type: "clear-timer", timer: "open" });
      ctx.closeTransport(CLOSE_CODES.NORMAL, "Stream error received");
      return;
    }
    // The stream is dead: close our side now and wait (bounded) for the peer's <close/>.
    if (!s.closeSent) ctx.send(s.codec.encodeClose());
    s.closeSent = true;
    s.phase = "closing";
    ctx.out.push({ type: "clear-timer", timer: "open" });
    ctx.setTimer("close", s.config.closeTimeoutMs);
    return;
  }
  if (!elementAllowed(ctx, el.name, el.ns)) return;
  if (s.config.role === "client") {
    if (el.name === "features" && el.ns === NS.STREAMS) {
      // #44: a WebSocket client ignores STARTTLS even when required.
      ctx.out.push({
        type: "element-received",
        element: s.config.transport === "websocket" ? withoutStartTls(el) : el,
      });
      return;
    }
    ctx.out.push({ type: "element-received", element: el });
    if (el.name === "success" && el.ns === NS.SASL) {
      // #35: SASL success requires a restart (not SASL2, not XEP-0198 <resumed/>).
      s.restartPending = true;
      ctx.out.push({ type: "restart-required" });
    } else if (el.name === "proceed" && el.ns === NS.TLS && s.config.transport === "tcp") {
      // RFC 6120 §5.4.3.3: TLS negotiation, then a restart on the secured channel.
      s.restartPending = true;
      s.tlsPending = true;
      ctx.out.push({ type: "start-tls" });
    }
    return;
  }
  ctx.out.push({ type: "element-received", element: el });
}
