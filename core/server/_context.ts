/**
 * The working state of one hub step: views of the hub's maps (updated in place), the outputs so
 * far, and the delivery primitive every module uses (it keeps the XEP-0198 queues). Private to
 * `core/server/`.
 *
 * @example
 * ```ts
 * import { Context } from "./_context.ts";
 * import { createHub } from "./config.ts";
 * const ctx = new Context(createHub({ domain: "localhost", accounts: [] }), 0, "r".repeat(24));
 * ctx.log("info", "hello");
 * console.log(ctx.finish().outputs); // [{ type: "notice", level: "info", event: "hello" }]
 * ```
 * @module
 */

import { element, type XmlElement } from "../xml/element.ts";
import { NS } from "../xmpp/namespaces.ts";
import type { StreamErrorCondition } from "../stream_errors.ts";
import type { StoredAccount } from "../sasl/types.ts";
import type { LoginLimits } from "./login_limits.ts";
import type { NoticeLevel } from "../reducer.ts";
import { elementSize } from "./_size.ts";
import { checkTransition } from "../session/transitions.ts";
import {
  HUB_CONNECTION_TRANSITIONS,
  HUB_SESSION_TRANSITIONS,
  type HubSessionPhase,
} from "./transitions.ts";
import type {
  BoundSession,
  Hub,
  HubConnection,
  HubOutput,
  HubStepResult,
  HubTimerKey,
  ResolvedHubConfig,
  Roster,
} from "./types.ts";

/**
 * A view of one of the hub's maps for one step. The maps are owned by the hub and updated in
 * place: copying a map on the first write of every step cost O(connections) per stanza
 * (`bench/load.ts` measured 14 µs at 400 connections, 35 µs at 1 000), more than the rest of a
 * step. A hub state is therefore not kept after it is stepped (like a session's codec).
 */
export class HubMap<K, V> {
  readonly #map: Map<K, V>;
  readonly #check: ((before: V | undefined, after: V | undefined) => void) | undefined;

  /** `check` sees every change (`undefined`: absent) before it is made, and may throw. */
  constructor(
    base: ReadonlyMap<K, V>,
    check?: (before: V | undefined, after: V | undefined) => void,
  ) {
    this.#map = base as Map<K, V>;
    this.#check = check;
  }

  get(key: K): V | undefined {
    return this.#map.get(key);
  }

  has(key: K): boolean {
    return this.#map.has(key);
  }

  get size(): number {
    return this.#map.size;
  }

  values(): IterableIterator<V> {
    return this.#map.values();
  }

  set(key: K, value: V): void {
    this.#check?.(this.#map.get(key), value);
    this.#map.set(key, value);
  }

  delete(key: K): void {
    if (this.#check !== undefined && this.#map.has(key)) this.#check(this.#map.get(key), undefined);
    this.#map.delete(key);
  }

  /** The map to store in the next hub (the same object, updated). */
  result(): ReadonlyMap<K, V> {
    return this.#map;
  }
}

function checkConnectionMove(
  before: HubConnection | undefined,
  after: HubConnection | undefined,
): void {
  checkTransition(
    "hub connection",
    HUB_CONNECTION_TRANSITIONS,
    before?.stage ?? "new",
    after?.stage ?? "ended",
  );
}

function sessionPhase(session: BoundSession | undefined, absent: HubSessionPhase): HubSessionPhase {
  if (session === undefined) return absent;
  return session.connId === undefined ? "hibernating" : "live";
}

function checkSessionMove(before: BoundSession | undefined, after: BoundSession | undefined): void {
  checkTransition(
    "hub session",
    HUB_SESSION_TRANSITIONS,
    sessionPhase(before, "new"),
    sessionPhase(after, "ended"),
  );
}

const EMPTY_ROSTER: Roster = { items: new Map(), pendingIn: new Set() };

/** The longest stream error text a log line carries. */
export const STREAM_ERROR_LOG_CHARS = 200;

/** Stream errors that end a session in the ordinary course of things (logged at `info`). */
const ORDINARY_ENDS: ReadonlySet<string> = new Set([
  "conflict",
  "connection-timeout",
  "system-shutdown",
]);

/** One line of at most {@link STREAM_ERROR_LOG_CHARS} characters. */
function oneLine(text: string): string {
  // deno-lint-ignore no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f]/g, " ");
  return flat.length > STREAM_ERROR_LOG_CHARS
    ? `${flat.slice(0, STREAM_ERROR_LOG_CHARS - 1)}…`
    : flat;
}

/** One step's state and outputs. */
export class Context {
  readonly config: ResolvedHubConfig;
  readonly accounts: ReadonlyMap<string, StoredAccount>;
  readonly now: number;
  readonly random: string;
  readonly connections: HubMap<string, HubConnection>;
  readonly sessions: HubMap<string, BoundSession>;
  readonly resumable: HubMap<string, string>;
  readonly rosters: HubMap<string, Roster>;
  /** Failed logins per address and per account (updated in place). */
  readonly logins: LoginLimits;
  readonly outputs: HubOutput[] = [];
  /** Sessions (full JIDs) whose XEP-0198 queue overflowed: ended once the step is done. */
  readonly overflowed: Set<string> = new Set();
  /** Connections failed during this step: nothing more is sent to them. */
  readonly failed: Set<string> = new Set();
  #counter: number;

  constructor(hub: Hub, now: number, random: string) {
    this.config = hub.config;
    this.accounts = hub.accounts;
    this.now = now;
    this.random = random;
    this.connections = new HubMap(hub.connections, checkConnectionMove);
    this.sessions = new HubMap(hub.sessions, checkSessionMove);
    this.resumable = new HubMap(hub.resumable);
    this.rosters = new HubMap(hub.rosters);
    this.#counter = hub.counter;
    this.logins = hub.logins;
  }

  get domain(): string {
    return this.config.domain;
  }

  /** A fresh id for a stanza the server generates. */
  nextId(prefix: string): string {
    this.#counter += 1;
    return `${prefix}-${this.#counter}`;
  }

  /** Whether `username` is an account here. */
  isAccount(username: string | undefined): username is string {
    return username !== undefined && this.accounts.has(username);
  }

  roster(bare: string): Roster {
    return this.rosters.get(bare) ?? EMPTY_ROSTER;
  }

  /** Sends an element on a connection as is (no XEP-0198 counting). */
  send(connId: string, el: XmlElement): void {
    if (this.failed.has(connId)) return;
    this.outputs.push({ type: "send-element", connId, element: el });
  }

  /**
   * Ends a connection's stream with a stream error (callers then tear the connection down), and
   * logs it (`stream-error`, see {@link Context.logStreamError}).
   */
  fail(connId: string, condition: StreamErrorCondition, text?: string, extra?: XmlElement): void {
    if (this.failed.has(connId)) return;
    this.failed.add(connId);
    this.logStreamError(connId, condition, text);
    this.outputs.push({
      type: "fail-stream",
      connId,
      condition,
      ...(text !== undefined ? { text } : {}),
      ...(extra !== undefined ? { extra } : {}),
    });
  }

  setTimer(timer: HubTimerKey, at: number): void {
    this.outputs.push({ type: "set-timer", timer, at });
  }

  clearTimer(timer: HubTimerKey): void {
    this.outputs.push({ type: "clear-timer", timer });
  }

  /** Emits a `notice` (for logs and metrics). */
  log(
    level: NoticeLevel,
    event: string,
    fields: { connId?: string; jid?: string; text?: string; condition?: string } = {},
  ): void {
    this.outputs.push({ type: "notice", level, event, ...fields });
  }

  /**
   * Logs a stream error this server sends: event `stream-error`, `condition`, and text
   * `<condition>: <text>`.
   * The text is the server's own (it may quote an element name, never a payload), cut at
   * {@link STREAM_ERROR_LOG_CHARS} characters, control characters replaced. Level `info` for the
   * ordinary ends of a session (replaced, timed out, shut down), `warn` for the others.
   */
  logStreamError(connId: string, condition: string, text?: string): void {
    const jid = this.connections.get(connId)?.jid;
    const detail = text === undefined ? condition : `${condition}: ${oneLine(text)}`;
    this.log(ORDINARY_ENDS.has(condition) ? "info" : "warn", "stream-error", {
      connId,
      ...(jid !== undefined ? { jid } : {}),
      condition,
      text: detail,
    });
  }

  updateConnection(id: string, patch: Partial<HubConnection>): void {
    const conn = this.connections.get(id);
    if (conn) this.connections.set(id, { ...conn, ...patch });
  }

  updateSession(jid: string, patch: Partial<BoundSession>): void {
    const session = this.sessions.get(jid);
    if (session) this.sessions.set(jid, { ...session, ...patch });
  }

  /**
   * Delivers a stanza to a bound session: sent on its connection, and kept for XEP-0198 until
   * acknowledged (queued only, while the session hibernates). Returns false when there is no
   * such session.
   */
  deliver(jid: string, stanza: XmlElement): boolean {
    const session = this.sessions.get(jid);
    if (!session) return false;
    const sm = session.sm;
    if (session.connId !== undefined) this.send(session.connId, stanza);
    if (!sm) {
      if (session.sentBeforeSm < this.config.maxUnacked) {
        this.updateSession(jid, { sentBeforeSm: session.sentBeforeSm + 1 });
      }
      return true;
    }
    const ask = session.connId !== undefined && !sm.requested;
    const unackedBytes = sm.unackedBytes + elementSize(stanza);
    this.updateSession(jid, {
      sm: { ...sm, unacked: [...sm.unacked, stanza], unackedBytes, requested: sm.requested || ask },
    });
    if (ask) this.send(session.connId!, element("r", NS.SM));
    if (
      sm.unacked.length + 1 > this.config.maxUnacked || unackedBytes > this.config.maxUnackedBytes
    ) {
      this.overflowed.add(jid);
    }
    return true;
  }

  /** The hub after this step, and its outputs. */
  finish(): HubStepResult {
    const hub: Hub = {
      config: this.config,
      accounts: this.accounts,
      connections: this.connections.result(),
      sessions: this.sessions.result(),
      resumable: this.resumable.result(),
      rosters: this.rosters.result(),
      counter: this.#counter,
      logins: this.logins,
    };
    // Always a new state object: the one stepped is spent (see hubStep), even when no map
    // changed.
    return { state: hub, outputs: this.outputs };
  }
}
