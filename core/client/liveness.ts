/**
 * Liveness of a connection from the client's side (RFC 7395 §3.8): after `probeAfterMs` of
 * inbound silence, send a probe (XEP-0198 `<r/>` when stream management is on, else an
 * XEP-0199 ping to the server); if nothing at all arrives within `probeTimeoutMs`, the
 * connection is dead (a proxy dropped it silently) and should be dropped without `<close/>`,
 * so that the XEP-0198 session can be resumed. The caller arms one timer at the time returned.
 *
 * @example
 * ```ts
 * import { checkLiveness } from "./liveness.ts";
 * import { assertEquals } from "@std/assert";
 * const options = { probeAfterMs: 30_000, probeTimeoutMs: 10_000 };
 * assertEquals(checkLiveness({ lastInbound: 0, probeSentAt: undefined }, 30_000, options).decision, { type: "probe", until: 40000 });
 * ```
 * @module
 */

/** How long to tolerate silence. */
export interface LivenessOptions {
  /** Inbound silence before a probe, in ms (default 30 000: below common 60 s proxy limits). */
  readonly probeAfterMs: number;
  /** How long a probe may go unanswered, in ms (default 15 000). */
  readonly probeTimeoutMs: number;
}

/** The defaults of {@link LivenessOptions}. */
export const DEFAULT_LIVENESS: LivenessOptions = Object.freeze({
  probeAfterMs: 30_000,
  probeTimeoutMs: 15_000,
});

/** What the client knows about inbound traffic. */
export interface LivenessState {
  /** When the last message arrived (any message counts). */
  readonly lastInbound: number;
  /** When the outstanding probe was sent, if one is. */
  readonly probeSentAt: number | undefined;
}

/** What to do when the liveness timer fires. */
export type LivenessDecision =
  /** All is well: arm the timer for `until`. */
  | { readonly type: "wait"; readonly until: number }
  /** Send a probe now, and arm the timer for `until`. */
  | { readonly type: "probe"; readonly until: number }
  /** The probe went unanswered: the connection is dead. */
  | { readonly type: "dead" };

/**
 * Decides what to do at `now` (call it when the timer fires; it is also correct to call it
 * early). Returns the decision and the new state.
 *
 * @example
 * ```ts
 * import { checkLiveness } from "./liveness.ts";
 * import { assertEquals } from "@std/assert";
 * const options = { probeAfterMs: 30_000, probeTimeoutMs: 10_000 };
 * assertEquals(checkLiveness({ lastInbound: 0, probeSentAt: 30_000 }, 40_000, options).decision, { type: "dead" });
 * assertEquals(checkLiveness({ lastInbound: 35_000, probeSentAt: 30_000 }, 40_000, options).decision, { type: "wait", until: 65000 });
 * ```
 */
export function checkLiveness(
  state: LivenessState,
  now: number,
  options: LivenessOptions,
): { readonly state: LivenessState; readonly decision: LivenessDecision } {
  if (state.probeSentAt !== undefined && state.lastInbound < state.probeSentAt) {
    const deadline = state.probeSentAt + options.probeTimeoutMs;
    return now >= deadline
      ? { state, decision: { type: "dead" } }
      : { state, decision: { type: "wait", until: deadline } };
  }
  const idleSince = state.lastInbound;
  if (now >= idleSince + options.probeAfterMs) {
    return {
      state: { lastInbound: state.lastInbound, probeSentAt: now },
      decision: { type: "probe", until: now + options.probeTimeoutMs },
    };
  }
  return {
    state: { lastInbound: state.lastInbound, probeSentAt: undefined },
    decision: { type: "wait", until: idleSince + options.probeAfterMs },
  };
}
