/**
 * Runs the core client reducer on web APIs (private to `client.ts`): feeds it inputs one at a
 * time (never re-entrantly) with the monotonic time and a fresh random string, and carries out
 * its outputs: WebSockets with the `xmpp` subprotocol, timers, and notices handed to a
 * callback. Every protocol decision is the reducer's. Uses only `WebSocket`, `setTimeout`,
 * `performance` and `crypto`, so it runs in browsers too.
 *
 * @module
 */

import {
  type ClientInput,
  type ClientOutput,
  type ClientState,
  clientStep,
  type ClientTimer,
} from "../core/client/mod.ts";
import { TimerTable } from "../core/endpoint/timers.ts";
import { DENO_RUNTIME } from "./_runtime.ts";

/** Creates a WebSocket (inject one for tests or other runtimes). */
export type WebSocketFactory = (url: string, protocols: string[]) => WebSocket;

type Report = ClientInput extends infer I
  ? I extends ClientInput ? Omit<I, "now" | "random"> : never
  : never;

/** The notices of the reducer, i.e. every output that is not an order to the adapter. */
export type ClientNotice = Exclude<
  ClientOutput,
  { type: "open-transport" | "send-text" | "close-transport" | "set-timer" | "clear-timer" }
>;

/** Drives one client state. */
export class ClientDriver {
  #state: ClientState;
  readonly #notify: (notice: ClientNotice) => void;
  readonly #random: () => string;
  readonly #factory: WebSocketFactory;
  readonly #timers = new TimerTable<ClientTimer>(DENO_RUNTIME);
  readonly #queue: ClientInput[] = [];
  #running = false;
  #socket: WebSocket | undefined;
  #generation = 0;
  /** Sockets closed by the client but not yet fully closed. */
  readonly #closing = new Set<Promise<void>>();

  constructor(
    state: ClientState,
    notify: (notice: ClientNotice) => void,
    random: () => string,
    factory: WebSocketFactory,
  ) {
    this.#state = state;
    this.#notify = notify;
    this.#random = random;
    this.#factory = factory;
  }

  get state(): ClientState {
    return this.#state;
  }

  /** Feeds one input (queued when called from inside an output). */
  input(report: Report): void {
    this.#queue.push({ ...report, now: DENO_RUNTIME.now(), random: this.#random() } as ClientInput);
    if (this.#running) return;
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        const { state, outputs } = clientStep(this.#state, this.#queue.shift()!);
        this.#state = state;
        for (const output of outputs) this.#perform(output);
      }
    } finally {
      this.#running = false;
    }
  }

  /** Resolves once every socket this client opened has finished closing (bounded wait). */
  async settled(timeoutMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = new Promise<void>((resolve) => timer = setTimeout(resolve, timeoutMs));
    await Promise.race([Promise.all([...this.#closing]), bound]);
    clearTimeout(timer);
  }

  #perform(output: ClientOutput): void {
    switch (output.type) {
      case "open-transport":
        return this.#open(output.url);
      case "send-text":
        this.#socket?.send(output.text);
        return;
      case "close-transport":
        return this.#close(output.code, output.reason);
      case "set-timer":
        return this.#timers.set(output.timer, output.at, (timer) => {
          this.input({ type: "timer-fired", timer });
        });
      case "clear-timer":
        return this.#timers.clear(output.timer);
      default:
        if (output.type === "closed") this.#timers.clearAll();
        return this.#notify(output);
    }
  }

  #open(url: string): void {
    const generation = ++this.#generation;
    const current = () => generation === this.#generation;
    let socket: WebSocket;
    try {
      socket = this.#factory(url, ["xmpp"]);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      queueMicrotask(() => {
        if (current()) this.input({ type: "transport-closed", code: 1006, reason });
      });
      return;
    }
    this.#socket = socket;
    socket.binaryType = "arraybuffer";
    let done: () => void = () => {};
    const finished = new Promise<void>((resolve) => done = resolve);
    socket.onopen = () => {
      if (current()) this.input({ type: "transport-opened", protocol: socket.protocol });
    };
    socket.onmessage = (event: MessageEvent) => {
      if (!current()) return;
      if (typeof event.data === "string") this.input({ type: "text-received", data: event.data });
      else {
        const size = event.data instanceof ArrayBuffer ? event.data.byteLength : 0;
        this.input({ type: "binary-received", byteLength: size });
      }
    };
    socket.onerror = () => {}; // a close event follows
    socket.onclose = (event: CloseEvent) => {
      done();
      if (current()) {
        this.#socket = undefined;
        this.input({ type: "transport-closed", code: event.code, reason: event.reason });
      }
    };
    const tracked = finished.then(() => void this.#closing.delete(tracked));
    this.#closing.add(tracked);
  }

  #close(code: number, reason: string): void {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#generation++;
    if (!socket) return;
    try {
      // Web APIs accept only 1000 and 3000-4999 from applications.
      socket.close(code === 1000 || (code >= 3000 && code <= 4999) ? code : 1000, reason);
    } catch {
      socket.close();
    }
  }
}
