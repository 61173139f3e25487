/**
 * Carries out the core's `set-timer` / `clear-timer` outputs with `setTimeout`, one timer per
 * name. Private to the adapters.
 *
 * @example
 * ```ts
 * import { monotonicNow, TimerTable } from "./_timers.ts";
 * const timers = new TimerTable<"open" | "close">();
 * timers.set("open", monotonicNow() + 10, (name) => console.log(name, "fired"));
 * timers.clearAll();
 * ```
 * @module
 */

/**
 * The adapters' clock in milliseconds: monotonic, so wall-clock jumps never fire or delay
 * timers. Every `now` given to the core and every `at` it returns use this clock.
 *
 * @example
 * ```ts
 * import { monotonicNow } from "./_timers.ts";
 * console.log(monotonicNow() >= 0); // true
 * ```
 */
export function monotonicNow(): number {
  return performance.now();
}

/**
 * Named one-shot timers; setting a name again re-arms it.
 *
 * @example
 * ```ts
 * import { monotonicNow, TimerTable } from "./_timers.ts";
 * const timers = new TimerTable<string>();
 * timers.set("close", monotonicNow() + 1_000, () => {});
 * timers.clear("close");
 * ```
 */
export class TimerTable<Name extends string> {
  readonly #handles = new Map<Name, ReturnType<typeof setTimeout>>();

  /** Arms `name` to call `fire(name)` at time `at` (clock of {@link monotonicNow}). */
  set(name: Name, at: number, fire: (name: Name) => void): void {
    this.clear(name);
    const delay = Math.max(0, Math.ceil(at - monotonicNow()));
    this.#handles.set(
      name,
      setTimeout(() => {
        this.#handles.delete(name);
        fire(name);
      }, delay),
    );
  }

  /** Disarms `name` (no effect when it is not armed). */
  clear(name: Name): void {
    const handle = this.#handles.get(name);
    if (handle === undefined) return;
    clearTimeout(handle);
    this.#handles.delete(name);
  }

  /** Disarms every timer. */
  clearAll(): void {
    for (const handle of this.#handles.values()) clearTimeout(handle);
    this.#handles.clear();
  }
}
