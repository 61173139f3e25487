/**
 * The names of the hub's timers in `set-timer` / `clear-timer` outputs and `timer-fired`
 * inputs: `login:<connection id>` (login timeout), `ping:<connection id>` (XEP-0199 keepalive)
 * and `sm:<resumption id>` (end of an XEP-0198 hibernation).
 *
 * @example
 * ```ts
 * import { timerName } from "./timers.ts";
 * console.log(timerName("login", "c1")); // "login:c1"
 * ```
 * @module
 */

/** The hub's timers. */
export type TimerKind = "login" | "ping" | "sm";

/**
 * The name of a timer.
 *
 * @example
 * ```ts
 * import { timerName } from "./timers.ts";
 * console.log(timerName("sm", "abc")); // "sm:abc"
 * ```
 */
export function timerName(kind: TimerKind, key: string): string {
  return `${kind}:${key}`;
}
