/**
 * The session reducer's handling of transport events: the transport opening (the client's
 * header, #4 and #18), its loss (#30), secured TLS, and the open and close timers (#29).
 *
 * @module
 */

import { CLOSE_CODES } from "../close_codes.ts";
import type { Ctx } from "./_context.ts";
import { clientOpenAttributes } from "./open_rules.ts";

/** The transport opened: the server waits for `<open/>` (#17); the client checks the subprotocol (#4) and opens (#18). */
export function transportOpened(
  ctx: Ctx,
  secure: boolean,
  protocol: string | undefined,
  streamId: string | undefined,
): void {
  const s = ctx.s;
  ctx.require(
    "transport-opened",
    !s.transportOpen && s.phase === "idle" && !s.ended,
    "the transport is already open",
  );
  s.transportOpen = true;
  s.secure = secure;
  if (s.config.role === "server") {
    s.nextStreamId = streamId;
    // #17: the server says nothing first; the client has openTimeoutMs to send <open/>.
    ctx.setTimer("open", s.config.openTimeoutMs);
    return;
  }
  if (s.config.transport === "websocket" && protocol !== "xmpp") {
    // #4: without the xmpp subprotocol there is no XMPP session; send no <open/>.
    ctx.out.push({
      type: "close-transport",
      code: CLOSE_CODES.PROTOCOL_ERROR,
      reason: "RFC 7395 §3.1: subprotocol 'xmpp' not negotiated",
    });
    s.phase = "closed";
    ctx.failed(
      "subprotocol",
      "local",
      undefined,
      `The server answered with subprotocol '${protocol ?? ""}'`,
    );
    return;
  }
  sendOpen(ctx);
}

/** Client: sends the initial header, also after a restart (#18, #36). */
export function sendOpen(ctx: Ctx): void {
  const s = ctx.s;
  const cfg = s.config;
  ctx.send(s.codec.encodeOpen(clientOpenAttributes(s)));
  s.phase = "opening";
  ctx.setTimer("open", cfg.openTimeoutMs);
}

/** The transport closed; without a stream close this ends the session (#30). */
export function transportClosed(ctx: Ctx): void {
  const s = ctx.s;
  if (!s.transportOpen) return;
  s.transportOpen = false;
  ctx.out.push({ type: "clear-timer", timer: "open" }, { type: "clear-timer", timer: "close" });
  if (s.phase !== "closed") {
    s.phase = "closed";
    // #30: a transport lost without <close/> ends the stream implicitly.
    ctx.failed("transport-lost", "transport");
  }
}

/** The open or close timer fired (#29). */
export function timerFired(ctx: Ctx, timer: "open" | "close"): void {
  const s = ctx.s;
  // A timer that fires after the transport closed, or after its close was requested, is stale.
  if (!s.transportOpen || s.transportClosing) return;
  if (timer === "open") {
    if (s.phase === "closed") return;
    if (!(s.phase === "idle" || s.phase === "opening" || s.restartPending)) return;
    if (s.config.role === "server" && s.phase === "opening" && !s.restartPending) return; // waiting for the app
    s.phase = "closed";
    ctx.closeTransport(CLOSE_CODES.POLICY_VIOLATION, "No stream header in time");
    ctx.failed("open-timeout", "local");
    return;
  }
  // #29: the peer never answered the close handshake (or never closed the transport).
  if (s.phase === "closing" || s.phase === "closed") {
    const wasClosing = s.phase === "closing";
    s.phase = "closed";
    ctx.closeTransport(CLOSE_CODES.NORMAL, "Close handshake timed out");
    if (wasClosing) ctx.failed("close-timeout", "local");
  }
}

/** Client over TCP: TLS is up after `<proceed/>`; the stream restarts. */
export function transportSecured(ctx: Ctx): void {
  const s = ctx.s;
  ctx.require(
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
  sendOpen(ctx);
}
