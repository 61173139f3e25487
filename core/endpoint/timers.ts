/**
 * Carries out the core's `set-timer` / `clear-timer` outputs with the runtime's timers, one
 * timer per key. Every reducer names its timers with its own typed key (a string union such as
 * the session's `"open" | "close"`, or an object such as the hub's `{ kind: "login", connId }`);
 * {@link timerId} turns one into the table's map key.
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

/** A reducer's timer key: a string, or a flat object of strings (the hub's, the gateway's). */
export type TimerKeyLike = string | { readonly [field: string]: string };

/**
 * The map key of a timer key: the string itself, or the object's fields in name order (so
 * that two keys with the same fields are the same timer, whatever order they were built in).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { timerId } from "./timers.ts";
 * assertEquals(timerId("open"), "open");
 * assertEquals(timerId({ kind: "login", connId: "c1" }), timerId({ connId: "c1", kind: "login" }));
 * assertEquals(timerId({ kind: "login", connId: "c:1" }) === timerId({ kind: "login:c", connId: "1" }), false);
 * ```
 */
export function timerId(key: TimerKeyLike): string {
  if (typeof key === "string") return key;
  return JSON.stringify(Object.keys(key).sort().map((field) => [field, key[field]]));
}

/**
 * One-shot timers by key; setting a key again re-arms it.
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
 * const fired: unknown[] = [];
 * const timers = new TimerTable<{ kind: "ping"; connId: string }>(runtime);
 * timers.set({ kind: "ping", connId: "c1" }, 1_000, (key) => fired.push(key));
 * for (const fire of pending.values()) fire();
 * assertEquals(fired, [{ kind: "ping", connId: "c1" }]);
 * ```
 */
export class TimerTable<K extends TimerKeyLike> {
  readonly #handles = new Map<string, TimerHandle>();
  readonly #runtime: Runtime;

  /** Timers on `runtime`'s clock. */
  constructor(runtime: Runtime) {
    this.#runtime = runtime;
  }

  /** Arms `key` to call `fire(key)` at time `at` (the runtime's monotonic clock). */
  set(key: K, at: number, fire: (key: K) => void): void {
    const id = timerId(key);
    this.#clearId(id);
    const delay = Math.max(0, Math.ceil(at - this.#runtime.now()));
    this.#handles.set(
      id,
      this.#runtime.setTimer(() => {
        this.#handles.delete(id);
        fire(key);
      }, delay),
    );
  }

  /** Disarms `key` (no effect when it is not armed). */
  clear(key: K): void {
    this.#clearId(timerId(key));
  }

  /** Disarms every timer. */
  clearAll(): void {
    for (const handle of this.#handles.values()) this.#runtime.clearTimer(handle);
    this.#handles.clear();
  }

  #clearId(id: string): void {
    if (!this.#handles.has(id)) return;
    this.#runtime.clearTimer(this.#handles.get(id));
    this.#handles.delete(id);
  }
}
