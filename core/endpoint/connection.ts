/**
 * One XMPP-over-WebSocket connection: feeds the events of a web-standard `WebSocket` to a core
 * session as inputs, carries out the outputs in order, and hands the notices to the
 * application. It makes no protocol decision: the core chooses every message and close code.
 *
 * Runtime-neutral: it needs only the web-standard WebSocket surface ({@link SocketLike}) and the
 * effects of a {@link Runtime} (clock, timers, random ids), which each binding passes in: the
 * Deno endpoint drives its sockets with it, the Node adapter its `ws` sockets.
 *
 * Outbound budget (issue 9, finding 1): after each message sent it reads `bufferedAmount`; a
 * client with more than the endpoint's `maxBufferedBytes` waiting for it is a slow reader, whose
 * stream ends with `resource-constraint` when it is still over the budget `slowReaderGraceMs`
 * later, or at once past twice the budget. Memory per connection is so bounded whatever the
 * client does.
 *
 * @example
 * ```ts ignore
 * import { Connection } from "./connection.ts";
 * // socket: an upgraded WebSocket; runtime: the binding's effects (see runtime.ts)
 * new Connection(socket, {}, { role: "server" }, "127.0.0.1:1234", false, runtime);
 * ```
 * @module
 */

import {
  canSend,
  createSession,
  type Input,
  type Output,
  type Session,
  type SessionConfig,
  step,
  type StreamErrorCondition,
  type TimerName,
  type XmlElement,
} from "../session/mod.ts";
import { TimerTable } from "./timers.ts";
import type { Runtime, TimerHandle } from "./runtime.ts";
import type {
  AcceptOptions,
  CloseOptions,
  ConnectionControl,
  SocketCloseEvent,
  SocketLike,
  SocketMessageEvent,
  XmppApplication,
  XmppConnection,
} from "./types.ts";

/** `WebSocket.OPEN`, spelled out: the core names no runtime class. */
const OPEN = 1;

/** The driver of one connection (the endpoints' default when no `attach` hook is given). */
export class Connection implements XmppConnection {
  readonly id: string;
  readonly remoteAddr: string;
  readonly secure: boolean;
  /** Resolves once the transport is closed and `onEnded` was called. */
  readonly ended: Promise<void>;
  readonly #socket: SocketLike;
  readonly #runtime: Runtime;
  readonly #app: XmppApplication;
  readonly #timers: TimerTable<TimerName>;
  readonly #queue: Output[] = [];
  readonly #control: ConnectionControl | undefined;
  #session: Session;
  #draining = false;
  /** The grace timer of a slow reader, while it is over the outbound budget. */
  #slowTimer: TimerHandle | undefined;
  #slowEnded = false;

  constructor(
    socket: SocketLike,
    app: XmppApplication,
    config: SessionConfig,
    remoteAddr: string,
    secure: boolean,
    runtime: Runtime,
    control?: ConnectionControl,
  ) {
    this.#socket = socket;
    this.#runtime = runtime;
    this.#timers = new TimerTable<TimerName>(runtime);
    this.id = runtime.randomId();
    this.#control = control;
    this.#app = app;
    this.#session = createSession(config);
    this.remoteAddr = remoteAddr;
    this.secure = secure;
    let resolve: () => void = () => {};
    this.ended = new Promise<void>((done) => resolve = done); // no Promise.withResolvers on Node 20
    socket.binaryType = "arraybuffer";
    socket.onopen = () =>
      this.#input({
        type: "transport-opened",
        now: this.#runtime.now(),
        secure,
        protocol: socket.protocol,
        streamId: this.#runtime.randomId(),
      });
    socket.onmessage = (event: SocketMessageEvent) => {
      const now = this.#runtime.now();
      const data: unknown = event.data;
      this.#input(
        typeof data === "string"
          ? { type: "text-received", now, data }
          : { type: "binary-received", now, byteLength: byteLengthOf(data) },
      );
    };
    socket.onclose = (event: SocketCloseEvent) => {
      this.#input({
        type: "transport-closed",
        now: this.#runtime.now(),
        code: event.code,
        reason: event.reason,
      });
      this.#timers.clearAll();
      this.#runtime.clearTimer(this.#slowTimer);
      resolve();
    };
    // An error is followed by a close event, except when the upgrade itself failed.
    socket.onerror = () => {
      if (!this.#session.transportOpen) resolve();
    };
  }

  get streamId(): string | undefined {
    return this.#session.streamId;
  }

  canSend(): boolean {
    return canSend(this.#session);
  }

  accept(options: AcceptOptions = {}): boolean {
    return this.#command({
      type: "accept-stream",
      now: this.#runtime.now(),
      ...options,
      nextStreamId: this.#runtime.randomId(),
    });
  }

  send(element: XmlElement): boolean {
    return this.#command({ type: "send-element", now: this.#runtime.now(), element });
  }

  close(options: CloseOptions = {}): boolean {
    return this.#command({ type: "close-stream", now: this.#runtime.now(), ...options });
  }

  fail(condition: StreamErrorCondition, text?: string, extra?: XmlElement): boolean {
    return this.#command({
      type: "fail-stream",
      now: this.#runtime.now(),
      condition,
      ...(text !== undefined ? { text } : {}),
      ...(extra !== undefined ? { extra } : {}),
    });
  }

  markAuthenticated(): void {
    this.#control?.authenticated();
  }

  #command(input: Input): boolean {
    if (!this.#session.transportOpen || this.#session.phase === "closed") return false;
    this.#input(input);
    return true;
  }

  /** Steps the session, then carries out the outputs in order (re-entrant calls queue theirs). */
  #input(input: Input): void {
    const { state: session, outputs } = step(this.#session, input);
    this.#session = session;
    this.#queue.push(...outputs);
    if (this.#draining) return;
    this.#draining = true;
    try {
      for (let output = this.#queue.shift(); output; output = this.#queue.shift()) {
        this.#execute(output);
      }
    } finally {
      this.#draining = false;
    }
  }

  #execute(output: Output): void {
    const socket = this.#socket;
    switch (output.type) {
      case "send-text":
        if (socket.readyState === OPEN) ignoreErrors(() => socket.send(output.text));
        return this.#checkBacklog();
      case "close-transport":
        if (socket.readyState <= OPEN) {
          ignoreErrors(() => socket.close(output.code, output.reason));
        }
        return;
      case "set-timer":
        return this.#timers.set(
          output.timer,
          output.at,
          (timer) => this.#input({ type: "timer-fired", now: this.#runtime.now(), timer }),
        );
      case "clear-timer":
        return this.#timers.clear(output.timer);
      case "stream-open-requested":
        if (!this.#app.onOpenRequested) return void this.accept();
        return this.#call(() =>
          this.#app.onOpenRequested?.(this, output.attributes, output.restart)
        );
      case "stream-opened":
        return this.#call(() => this.#app.onOpened?.(this, output));
      case "element-received":
        return this.#call(() => this.#app.onElement?.(this, output.element));
      case "stream-closed":
      case "stream-failed":
      case "stream-redirected":
        return this.#call(() => this.#app.onEnded?.(this, output));
      case "restart-required": // client role only
        return;
    }
  }

  /** The outbound budget: see the module documentation. */
  #checkBacklog(): void {
    const control = this.#control;
    if (!control || this.#slowEnded) return;
    const budget = control.maxBufferedBytes;
    const buffered = this.#socket.bufferedAmount;
    if (buffered <= budget || this.#slowTimer !== undefined) {
      if (buffered <= 2 * budget) return;
    } else if (buffered <= 2 * budget) {
      this.#slowTimer = this.#runtime.setTimer(() => {
        this.#slowTimer = undefined;
        if (this.#socket.bufferedAmount > budget) this.#endSlowReader();
      }, control.slowReaderGraceMs);
      return;
    }
    this.#endSlowReader();
  }

  #endSlowReader(): void {
    if (this.#slowEnded || this.#socket.readyState !== OPEN) return;
    this.#slowEnded = true;
    this.#runtime.clearTimer(this.#slowTimer);
    this.#control?.slowReader();
    this.fail("resource-constraint", "The client does not read fast enough");
  }

  #call(hook: () => unknown): void {
    try {
      const result = hook();
      if (result instanceof Promise) result.catch((error: unknown) => this.#hookFailed(error));
    } catch (error) {
      this.#hookFailed(error);
    }
  }

  #hookFailed(error: unknown): void {
    if (this.#app.onError) return this.#app.onError(this, error);
    this.#runtime.reportError(
      `xmpp-websocket: connection ${this.id}: application hook failed:`,
      error,
    );
    this.fail("internal-server-error");
  }
}

function byteLengthOf(data: unknown): number {
  if (data instanceof ArrayBuffer) return data.byteLength;
  const size = (data as { readonly size?: unknown } | null)?.size; // a Blob
  if (typeof size === "number") return size;
  return ArrayBuffer.isView(data) ? data.byteLength : 0;
}

/** A send or close racing the peer's close may throw; the close event still follows. */
function ignoreErrors(action: () => void): void {
  try {
    action();
  } catch {
    // The socket is closing: nothing more to do.
  }
}
