/**
 * How a client connection ends (private to the client reducer): the reason becomes a typed
 * {@link ClientError}; then the client follows a redirect, tries the next candidate, waits
 * with backoff (keeping a resumable XEP-0198 session), or stops for good, reporting the
 * stanzas and iqs that can no longer be delivered.
 *
 * @module
 */

import type { Output as SessionOutput } from "../session/types.ts";
import { backoffDelay, randomFraction } from "./backoff.ts";
import { type ClientError, streamErrorAdvice } from "./errors.ts";
import type { StanzaFailure } from "./types.ts";
import type { Stepper } from "./_stepper.ts";

/** The connection is gone: decide what comes next (then `st.c` is undefined). */
export function finishConnection(st: Stepper): void {
  const c = st.c;
  if (!c) return;
  const s = st.s;
  st.c = undefined;
  st.transportGone = false;
  st.clearTimer("liveness");
  st.clearTimer("open");
  st.clearTimer("close");
  if (c.closedCleanly) {
    // The server handled everything before answering our <close/> (RFC 6120 §4.4).
    if (s.sm && s.sm.unacked.length > 0) {
      st.out.push({ type: "stanzas-acked", elements: s.sm.unacked });
    }
    s.sm = undefined;
  }
  const error: ClientError = c.error ??
    { kind: "connection", reason: "transport-lost", reconnect: "backoff" };
  if (s.closeRequested) return terminate(st, c.closedCleanly ? undefined : error);
  if (c.stage === "connecting" || !c.streamOpened) {
    // Never reached XMPP: try the next candidate (a failed redirect target is dropped).
    if (s.redirectTo !== undefined && error.kind !== "redirect") {
      s.redirectTo = undefined;
      return retry(st, error, st.now);
    }
    const switchable = error.reconnect === "backoff" || error.kind === "connection" ||
      error.kind === "redirect";
    if (switchable && error.reconnect !== "redirect" && s.tried + 1 < s.config.endpoints.length) {
      s.tried++;
      s.candidate = (s.candidate + 1) % s.config.endpoints.length;
      return retry(st, error, st.now);
    }
  }
  if (error.kind === "redirect" && error.reconnect === "redirect") {
    if (s.redirects >= s.config.maxRedirects) {
      return terminate(st, {
        ...error,
        reconnect: "never",
        text: `more than ${s.config.maxRedirects} redirects in a row`,
      });
    }
    s.redirects++;
    s.redirectTo = error.uri;
    // The stream was closed by the server: the XEP-0198 session ended with it.
    endSession(st, "session-lost");
    return retry(st, error, st.now);
  }
  if (error.reconnect === "never" || !s.everOnline || !s.config.reconnect) {
    return terminate(st, error);
  }
  const resumable = s.sm?.resumable === true && streamSurvives(error);
  if (!resumable) endSession(st, "session-lost");
  else s.smLostAt ??= st.now;
  const delay = backoffDelay(s.attempt, randomFraction(st.random), s.config.backoff);
  s.attempt++;
  s.tried = 0;
  retry(st, error, st.now + delay);
}

/** The XMPP session is over (no resumption): report what was lost. */
function endSession(st: Stepper, reason: StanzaFailure): void {
  st.dropSm(reason);
  st.failSentIqs(reason === "closed" ? "closed" : "session-lost");
}

/** Reports the end of a connection and starts the next attempt at `at`. */
function retry(st: Stepper, error: ClientError, at: number): void {
  st.out.push({ type: "disconnected", error, retryAt: at });
  if (at <= st.now) return st.startAttempt();
  st.setStatus("reconnecting");
  st.setTimer("reconnect", at);
}

/** Stops the client for good, reporting what was not delivered. */
export function terminate(st: Stepper, error: ClientError | undefined): void {
  const s = st.s;
  st.dropSm("closed");
  const outbox = s.outbox;
  s.outbox = [];
  if (outbox.length > 0) {
    st.out.push({ type: "stanzas-failed", elements: outbox, reason: "closed" });
  }
  st.failSentIqs("closed");
  st.clearTimer("reconnect");
  if (s.iqTimerAt !== undefined) {
    s.iqTimerAt = undefined;
    st.clearTimer("iq");
  }
  s.error = error;
  st.setStatus("closed");
  st.out.push({ type: "closed", error });
}

/** Whether the server may still hold the session after this ending (nothing closed it). */
function streamSurvives(error: ClientError): boolean {
  if (error.kind !== "connection") return false;
  return ["transport-lost", "liveness-timeout", "negotiation-timeout", "open-timeout"].includes(
    error.reason,
  );
}

/** The typed error of a core session's `stream-failed` notice. */
export function failureError(
  output: Extract<SessionOutput, { type: "stream-failed" }>,
): ClientError {
  const text = output.text !== undefined ? { text: output.text } : {};
  switch (output.reason) {
    case "stream-error": {
      const condition = output.condition ?? "undefined-condition";
      return {
        kind: "stream-error",
        by: output.by === "peer" ? "peer" : "local",
        condition,
        ...text,
        reconnect: output.by === "peer" ? streamErrorAdvice(condition) : "backoff",
      };
    }
    case "insecure-redirect":
      return {
        kind: "redirect",
        uri: output.uri ?? "",
        ...text,
        reconnect: "never",
      };
    case "subprotocol":
      return { kind: "connection", reason: "subprotocol", ...text, reconnect: "never" };
    case "open-timeout":
      return { kind: "connection", reason: "open-timeout", ...text, reconnect: "backoff" };
    case "close-timeout":
      return { kind: "connection", reason: "close-timeout", ...text, reconnect: "backoff" };
    case "transport-lost":
    case "aborted":
      return { kind: "connection", reason: "transport-lost", ...text, reconnect: "backoff" };
  }
}
