/**
 * Linear reducer states. The session, the client, the hub and the gateway are reducers whose
 * state is linear: a step may update parts of it in place (the session's parser, which the
 * client and the gateway hold through their sessions; the hub's maps), so the state given to a
 * step is spent and only the state the step returned may be stepped next. A {@link SpentStates}
 * set makes reuse impossible rather than silently wrong: stepping a spent state throws an
 * `XmppUsageError` before anything is read or changed.
 *
 * @example
 * ```ts
 * import { SpentStates } from "./linear.ts";
 * import { XmppUsageError } from "../errors.ts";
 * import { assertThrows } from "@std/assert";
 * const spent = new SpentStates<object>("thing");
 * const state = {};
 * spent.check(state, "poke"); // fresh: returns
 * spent.spend(state);
 * assertThrows(() => spent.check(state, "poke"), XmppUsageError);
 * ```
 * @module
 */

import { XmppUsageError } from "../errors.ts";

/**
 * The states of one reducer that were already stepped. A spent state carries a mark under a
 * symbol private to this set, set by plain assignment: about 3 ns a step, where
 * `Object.defineProperty` (a non-enumerable mark) cost 250 ns and 6 % of the gateway's CPU, and a
 * `WeakSet` 100 ns plus garbage-collector work (issue 10). The next state is spread from the old
 * one before the old one is marked, so marks never travel forward; a copy spread from a spent
 * state is spent too, which is right. `JSON` ignores symbols.
 */
export class SpentStates<T extends object> {
  readonly #mark: symbol;
  readonly #what: string;

  /** `what` names the state in error messages (`session`, `client`, `hub`, `gateway`). */
  constructor(what: string) {
    this.#what = what;
    this.#mark = Symbol(`spent ${what}`);
  }

  /** Throws `XmppUsageError` if `state` was already stepped; `input` names the refused input. */
  check(state: T, input: string): void {
    if (this.has(state)) {
      throw new XmppUsageError(
        input,
        "spent",
        `this ${this.#what} state was already stepped; step the one returned by the last step`,
      );
    }
  }

  /** Marks `state` as stepped (call once the step succeeded: a refused misuse spends nothing). */
  spend(state: T): void {
    (state as Record<symbol, unknown>)[this.#mark] = true;
  }

  /** Whether `state` was already stepped. */
  has(state: T): boolean {
    return (state as Record<symbol, unknown>)[this.#mark] === true;
  }
}
