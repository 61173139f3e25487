/**
 * A client session and a server session wired back to back, with a virtual clock (testing
 * pyramid item 2).
 *
 * - `send-text` of one side becomes `text-received` of the other, in order (a FIFO network).
 * - `close-transport` of either side becomes `transport-closed` on both sides (after what was
 *   already in flight); once it is issued, new `send-text` outputs are dropped, as data written
 *   after a WebSocket Close frame would be.
 * - `set-timer` / `clear-timer` keep a timer list sorted by deadline; time only moves when a
 *   test calls {@link Pair.advance}.
 * - Faults can be injected: drop the messages of one direction, or ignore a side's
 *   `close-transport` (a peer that never closes the socket).
 *
 * @module
 */

import {
  createSession,
  type Input,
  type Output,
  type Phase,
  type Session,
  type SessionConfig,
  step,
  type TimerName,
} from "../../core/mod.ts";

/** Which end of the pair. */
export type Side = "client" | "server";

/** An input without its timestamp (the pair supplies `now`). */
export type TimelessInput = Input extends infer I ? I extends Input ? Omit<I, "now"> : never
  : never;

/** One output, with the virtual time at which it was produced. */
export interface Logged {
  readonly at: number;
  readonly output: Output;
}

/** The kinds of output that are notices to the application (not orders to the adapter). */
export const NOTICE_TYPES: ReadonlySet<Output["type"]> = new Set<Output["type"]>([
  "stream-open-requested",
  "stream-opened",
  "element-received",
  "restart-required",
  "start-tls",
  "close-requested",
  "stream-closed",
  "stream-failed",
  "stream-redirected",
]);

/** The terminal notices: exactly one per session. */
export const TERMINAL_TYPES: ReadonlySet<Output["type"]> = new Set<Output["type"]>([
  "stream-closed",
  "stream-failed",
  "stream-redirected",
]);

/** One end of the pair: its session and everything it did. */
export class Endpoint {
  readonly side: Side;
  session: Session;
  /** Every output, in order. */
  readonly log: Logged[] = [];
  /** Every phase the session went through (starting with `idle`). */
  readonly phases: Phase[];
  /** Texts this side sent that reached the wire. */
  readonly sent: string[] = [];
  /** Texts this side tried to send after the transport close had started (never delivered). */
  readonly dropped: string[] = [];
  /** Whether this side has asked for the transport to be closed. */
  closeIssued = false;
  /** Whether this side has been told the transport is closed. */
  transportClosed = false;

  constructor(side: Side, config: SessionConfig) {
    this.side = side;
    this.session = createSession(config);
    this.phases = [this.session.phase];
  }

  /** The current phase. */
  get phase(): Phase {
    return this.session.phase;
  }

  /** All outputs, without timestamps. */
  outputs(): Output[] {
    return this.log.map((l) => l.output);
  }

  /** The notices to the application, in order. */
  notices(): Output[] {
    return this.outputs().filter((o) => NOTICE_TYPES.has(o.type));
  }

  /** The terminal notices (a correct session has at most one). */
  terminals(): Output[] {
    return this.outputs().filter((o) => TERMINAL_TYPES.has(o.type));
  }

  /** Outputs of one type. */
  ofType<T extends Output["type"]>(type: T): Extract<Output, { type: T }>[] {
    return this.outputs().filter((o): o is Extract<Output, { type: T }> => o.type === type);
  }
}

interface Timer {
  readonly side: Side;
  readonly timer: TimerName;
  readonly at: number;
  readonly seq: number;
}

interface Delivery {
  readonly to: Side;
  readonly input: TimelessInput;
}

/** Options of {@link Pair.connect}. */
export interface ConnectOptions {
  /** What the client's transport reports (wss). Default true. */
  readonly clientSecure?: boolean;
  /** What the server's transport reports. Default: same as the client. */
  readonly serverSecure?: boolean;
  /** The negotiated subprotocol as the client sees it. Default `xmpp`. */
  readonly protocol?: string;
  /** The server's first stream id. Default `s1`. */
  readonly streamId?: string;
}

/** Two sessions back to back; see the module documentation. */
export class Pair {
  readonly client: Endpoint;
  readonly server: Endpoint;
  /** Virtual time in ms. */
  now = 0;
  /** Drop every message sent toward this side (it never hears its peer). */
  readonly deaf: Set<Side> = new Set();
  /** Ignore this side's `close-transport` (it never closes the socket). */
  readonly neverClosesTransport: Set<Side> = new Set();
  #timers: Timer[] = [];
  #seq = 0;
  #queue: Delivery[] = [];
  #linkClosed = false;

  constructor(client: SessionConfig, server: SessionConfig) {
    this.client = new Endpoint("client", client);
    this.server = new Endpoint("server", server);
  }

  /** The endpoint of a side. */
  endpoint(side: Side): Endpoint {
    return side === "client" ? this.client : this.server;
  }

  /** The armed timers, soonest first. */
  timers(): readonly { side: Side; timer: TimerName; at: number }[] {
    return this.#timers.map(({ side, timer, at }) => ({ side, timer, at }));
  }

  /** Whether the transport between the two has been closed (or lost). */
  get linkClosed(): boolean {
    return this.#linkClosed;
  }

  /** Opens the transport: the server hears of it first, then the client (which sends `<open/>`). */
  connect(options: ConnectOptions = {}): void {
    const clientSecure = options.clientSecure ?? true;
    this.input("server", {
      type: "transport-opened",
      secure: options.serverSecure ?? clientSecure,
      streamId: options.streamId ?? "s1",
    });
    this.input("client", {
      type: "transport-opened",
      secure: clientSecure,
      protocol: options.protocol ?? "xmpp",
    });
  }

  /** Gives one input to a side at the current time, then lets the network settle. */
  input(side: Side, input: TimelessInput): Output[] {
    const outputs = this.#step(side, input);
    this.#pump();
    return outputs;
  }

  /** Moves the clock forward by `ms`, firing due timers in deadline order. */
  advance(ms: number): void {
    const target = this.now + ms;
    for (;;) {
      const next = this.#timers[0];
      if (next === undefined || next.at > target) break;
      this.#timers.shift();
      this.now = Math.max(this.now, next.at);
      this.#step(next.side, { type: "timer-fired", timer: next.timer });
      this.#pump();
    }
    this.now = target;
  }

  /** The network fails: both sides see the transport close, without any close handshake. */
  cut(code = 1006): void {
    if (this.#linkClosed) return;
    this.#linkClosed = true;
    this.#queue.push(
      { to: "client", input: { type: "transport-closed", code } },
      { to: "server", input: { type: "transport-closed", code } },
    );
    this.#pump();
  }

  #step(side: Side, input: TimelessInput): Output[] {
    const endpoint = this.endpoint(side);
    const { state: session, outputs } = step(
      endpoint.session,
      { ...input, now: this.now } as Input,
    );
    endpoint.session = session;
    if (endpoint.phases[endpoint.phases.length - 1] !== session.phase) {
      endpoint.phases.push(session.phase);
    }
    if (input.type === "transport-closed") endpoint.transportClosed = true;
    for (const output of outputs) {
      endpoint.log.push({ at: this.now, output });
      this.#carryOut(endpoint, output);
    }
    return [...outputs];
  }

  #carryOut(from: Endpoint, output: Output): void {
    const to: Side = from.side === "client" ? "server" : "client";
    switch (output.type) {
      case "send-text":
        if (this.#linkClosed || from.transportClosed) {
          from.dropped.push(output.text);
          return;
        }
        from.sent.push(output.text);
        if (!this.deaf.has(to)) {
          this.#queue.push({ to, input: { type: "text-received", data: output.text } });
        }
        return;
      case "close-transport":
        from.closeIssued = true;
        if (this.neverClosesTransport.has(from.side) || this.#linkClosed) return;
        this.#linkClosed = true;
        this.#queue.push(
          { to, input: { type: "transport-closed", code: output.code, reason: output.reason } },
          {
            to: from.side,
            input: { type: "transport-closed", code: output.code, reason: output.reason },
          },
        );
        return;
      case "set-timer": {
        this.#clearTimer(from.side, output.timer);
        const timer = { side: from.side, timer: output.timer, at: output.at, seq: this.#seq++ };
        this.#timers.push(timer);
        this.#timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
        return;
      }
      case "clear-timer":
        this.#clearTimer(from.side, output.timer);
        return;
      default:
        return;
    }
  }

  #clearTimer(side: Side, timer: TimerName): void {
    this.#timers = this.#timers.filter((t) => !(t.side === side && t.timer === timer));
  }

  #pump(): void {
    for (let delivery = this.#queue.shift(); delivery; delivery = this.#queue.shift()) {
      const target = this.endpoint(delivery.to);
      if (target.transportClosed) continue;
      this.#step(delivery.to, delivery.input);
    }
  }
}
