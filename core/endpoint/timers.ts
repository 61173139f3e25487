/**
 * Carries out the core's `set-timer` / `clear-timer` outputs with the runtime's timers, one
 * timer per name.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { TimerTable } from "./timers.ts";
 * import type { Runtime } from "./runtime.ts";
 * const armed: number[] = [];
 * const runtime = {
 *   now: () => 100,
 *   setTimer: (_callback: () => void, delayMs: number) => armed.push(delayMs),
 *   clearTimer: () => {},
 * } as unknown as Runtime;
 * const timers = new TimerTable<"open" | "close">(runtime);
 * timers.set("open", 110, () => {});
 * timers.clearAll();
 * assertEquals(armed, [10]);
 * ```
 * @module
 */

import type { Runtime, TimerHandle } from "./runtime.ts";

/**
 * Named one-shot timers; setting a name again re-arms it.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { TimerTable } from "./timers.ts";
 * import type { Runtime } from "./runtime.ts";
 * const pending = new Map<number, () => void>();
 * const runtime = {
 *   now: () => 0,
 *   setTimer: (callback: () => void) => (pending.set(pending.size, callback), pending.size - 1),
 *   clearTimer: (handle: unknown) => pending.delete(handle as number),
 * } as unknown as Runtime;
 * const fired: string[] = [];
 * const timers = new TimerTable<string>(runtime);
 * timers.set("close", 1_000, (name) => fired.push(name));
 * for (const fire of pending.values()) fire();
 * assertEquals(fired, ["close"]);
 * ```
 */
export class TimerTable<Name extends string> {
  readonly #handles = new Map<Name, TimerHandle>();
  readonly #runtime: Runtime;

  /** Timers on `runtime`'s clock. */
  constructor(runtime: Runtime) {
    this.#runtime = runtime;
  }

  /** Arms `name` to call `fire(name)` at time `at` (the runtime's monotonic clock). */
  set(name: Name, at: number, fire: (name: Name) => void): void {
    this.clear(name);
    const delay = Math.max(0, Math.ceil(at - this.#runtime.now()));
    this.#handles.set(
      name,
      this.#runtime.setTimer(() => {
        this.#handles.delete(name);
        fire(name);
      }, delay),
    );
  }

  /** Disarms `name` (no effect when it is not armed). */
  clear(name: Name): void {
    if (!this.#handles.has(name)) return;
    this.#runtime.clearTimer(this.#handles.get(name));
    this.#handles.delete(name);
  }

  /** Disarms every timer. */
  clearAll(): void {
    for (const handle of this.#handles.values()) this.#runtime.clearTimer(handle);
    this.#handles.clear();
  }
}
