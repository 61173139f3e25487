/**
 * The reducer contract shared by the four reducers of the core: the session (`step`), the
 * client (`clientStep`), the hub (`hubStep`) and the gateway (`gatewayStep`).
 *
 * - **One shape**: `reducerStep(state, input) -> { state, outputs }` ({@link StepResult}).
 *   Inputs are facts in the past tense (`text-received`, `timer-fired`) or commands in the
 *   imperative (`send-element`, `close-stream`); outputs are orders to the adapter in the
 *   imperative (`send-text`, `set-timer`) or notices in the past tense. A producer's output and
 *   the consumer's input have the same name (the hub's `accept-stream` is the session's).
 * - **Linear states**: a step may update parts of its state in place (a parser, the hub's
 *   maps), so the state given to a step is spent; stepping it again throws `XmppUsageError`
 *   (see `core/session/linear.ts`). Keep the state the step returned.
 * - **Timers are outputs**: {@link SetTimer} and {@link ClearTimer} name a timer with the
 *   reducer's own typed key (a string union, or an object such as the hub's
 *   `{ kind: "login", connId }`); the adapter answers with a {@link TimerFired} input carrying
 *   the same key (`timerId` of `core/endpoint/timers.ts` makes a map key of it).
 * - **One notice** for logs and metrics: {@link Notice}.
 * - **Transition tables**: each reducer checks every move of its phases against a table
 *   (`TransitionTable` of `core/session/transitions.ts`).
 *
 * @example
 * ```ts
 * import type { Notice, SetTimer, StepResult } from "@xmpp-websocket/xmpp-websocket/session";
 * import { assertEquals } from "@std/assert";
 * type Out = SetTimer<"open"> | Notice;
 * const result: StepResult<{ n: number }, Out> = {
 *   state: { n: 1 },
 *   outputs: [{ type: "set-timer", timer: "open", at: 10 }, { type: "notice", level: "info", event: "opened" }],
 * };
 * assertEquals(result.outputs.map((o) => o.type), ["set-timer", "notice"]);
 * ```
 * @module
 */

/**
 * The result of one step of any reducer: the next state (the state given to the step is
 * spent) and the outputs, to be carried out in order.
 *
 * @example
 * ```ts
 * import type { StepResult } from "@xmpp-websocket/xmpp-websocket/session";
 * import { assertEquals } from "@std/assert";
 * const result: StepResult<string, number> = { state: "next", outputs: [1, 2] };
 * assertEquals(result.outputs.length, 2);
 * ```
 */
export interface StepResult<S, O> {
  /** The state after the step (the state given to the step is spent). */
  readonly state: S;
  /** What the adapter and the application must do, in order. */
  readonly outputs: readonly O[];
}

/**
 * Arm (or re-arm) the timer `timer` to fire at `at` (the clock of the inputs' `now`).
 *
 * @example
 * ```ts
 * import type { SetTimer } from "@xmpp-websocket/xmpp-websocket/session";
 * import { assertEquals } from "@std/assert";
 * const order: SetTimer<{ kind: "ping"; connId: string }> = {
 *   type: "set-timer", timer: { kind: "ping", connId: "c1" }, at: 120_000,
 * };
 * assertEquals(order.timer.kind, "ping");
 * ```
 */
export interface SetTimer<K> {
  /** The output's name. */
  readonly type: "set-timer";
  /** Which timer (the reducer's own key type). */
  readonly timer: K;
  /** When it fires, on the clock of the inputs' `now`. */
  readonly at: number;
}

/**
 * Disarm the timer `timer` (no effect when it is not armed).
 *
 * @example
 * ```ts
 * import type { ClearTimer } from "@xmpp-websocket/xmpp-websocket/session";
 * import { assertEquals } from "@std/assert";
 * const order: ClearTimer<"close"> = { type: "clear-timer", timer: "close" };
 * assertEquals(order.timer, "close");
 * ```
 */
export interface ClearTimer<K> {
  /** The output's name. */
  readonly type: "clear-timer";
  /** Which timer. */
  readonly timer: K;
}

/**
 * The input that reports a timer armed by {@link SetTimer} (reducers add `now`, and the
 * client and the hub `random`, as on every input).
 *
 * @example
 * ```ts
 * import type { TimerFired } from "@xmpp-websocket/xmpp-websocket/session";
 * import { assertEquals } from "@std/assert";
 * const input: TimerFired<"open"> = { type: "timer-fired", timer: "open" };
 * assertEquals(input.type, "timer-fired");
 * ```
 */
export interface TimerFired<K> {
  /** The input's name. */
  readonly type: "timer-fired";
  /** The key of the `set-timer` that armed it. */
  readonly timer: K;
}

/** How much a {@link Notice} matters. */
export type NoticeLevel = "debug" | "info" | "warn";

/**
 * Something worth a log line or a metric, from the hub or the gateway. `event` is a short,
 * stable name (`authenticated`, `stream-error`, `upstream-connect-failed`, ...); `text` is
 * the reducer's own words (it may quote an element name, never a payload or a password).
 *
 * @example
 * ```ts
 * import type { Notice } from "@xmpp-websocket/xmpp-websocket/session";
 * import { assertEquals } from "@std/assert";
 * const notice: Notice = {
 *   type: "notice", level: "warn", event: "stream-error", connId: "c1",
 *   condition: "not-authorized", text: "not-authorized: Authenticate first",
 * };
 * assertEquals(notice.condition, "not-authorized");
 * ```
 */
export interface Notice {
  /** The output's name. */
  readonly type: "notice";
  /** How much it matters. */
  readonly level: NoticeLevel;
  /** A short, stable event name. */
  readonly event: string;
  /** Details, in one line. */
  readonly text?: string;
  /** The connection concerned (the hub). */
  readonly connId?: string;
  /** The full JID concerned (the hub). */
  readonly jid?: string;
  /** The stream error condition, for `stream-error` and `*-stream-failed` events. */
  readonly condition?: string;
}
