/**
 * The embedded XMPP server's driver, shared by the Deno and Node bindings: binds the pure hub of
 * `core/server/` to the connections of an endpoint. It keeps the live connections by id, reports
 * their events to the hub with the time and a fresh random string, and carries out the hub's
 * outputs (`accept-stream`, `send-element`, `fail-stream`, `close-stream`: the session commands of
 * the same names, timers, notices). Every protocol decision is the hub's. PLAIN's
 * PBKDF2 runs on the runtime's asynchronous WebCrypto (`Runtime.pbkdf2`), never on the event
 * loop: the hub asks with `derive-key` and gets `key-derived` back.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { embeddedServer } from "./embedded.ts";
 * import type { Runtime } from "./runtime.ts";
 * const runtime = { now: () => 0, randomId: () => "id" } as unknown as Runtime;
 * const app = embeddedServer({ accounts: [] }, runtime);
 * assertEquals(app.hub.config.domain, "localhost");
 * app.stop();
 * ```
 * @module
 */

import {
  createHub,
  type Hub,
  type HubConfig,
  type HubInput,
  type HubOutput,
  hubStep,
  type HubTimerKey,
  type Notice,
  withContacts,
} from "../server/mod.ts";
import type { StoredAccount } from "../sasl/types.ts";
import type { TerminalNotice, XmppApplication, XmppConnection } from "./types.ts";
import { TimerTable } from "./timers.ts";
import type { Runtime } from "./runtime.ts";

/** Options of {@link embeddedServer}: the hub's settings, with `domain` defaulting to `localhost`. */
export interface EmbeddedServerOptions extends Omit<HubConfig, "domain" | "saslSecret"> {
  /** The domain served (default `localhost`); give `serveXmpp` the same in `session.domains`. */
  readonly domain?: string;
  /** Receives the hub's notices (default: none). */
  readonly log?: (notice: Notice) => void;
  /**
   * Accounts that have each other in their rosters with a mutual subscription from the start
   * (the demo accounts), so that they see each other online at once (default: none).
   */
  readonly contacts?: readonly string[];
  /** Sees every hub step, after its outputs were carried out (for metrics; default: none). */
  readonly onStep?: (input: HubInput, outputs: readonly HubOutput[], hub: Hub) => void;
}

/** The application to pass to `serveXmpp`, with access to the hub. */
export interface EmbeddedServer extends XmppApplication {
  /** The hub's current state (read-only data, for inspection and tests). */
  readonly hub: Hub;
  /** Cancels the hub's timers (hibernated sessions, pings); call once the endpoint has stopped. */
  stop(): void;
  /**
   * Replaces the account table (a reload of the accounts file): new logins use the new
   * credentials; sessions already open are kept, whatever became of their account. Throws
   * `RangeError` (and changes nothing) on an invalid table.
   */
  replaceAccounts(accounts: readonly StoredAccount[]): void;
}

type Report = HubInput extends infer I ? I extends HubInput ? Omit<I, "now" | "random"> : never
  : never;

/**
 * Creates the embedded server. Throws `RangeError` on an invalid configuration.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { embeddedServer } from "./embedded.ts";
 * import type { Runtime } from "./runtime.ts";
 * const runtime = { now: () => 0, randomId: () => "id" } as unknown as Runtime;
 * const app = embeddedServer({ accounts: [], domain: "example.org" }, runtime);
 * assertEquals(app.hub.config.domain, "example.org");
 * app.stop();
 * ```
 */
export function embeddedServer(
  options: EmbeddedServerOptions,
  runtime: Runtime,
): EmbeddedServer {
  const { domain = "localhost", log, contacts = [], onStep, ...config } = options;
  let hub = withContacts(
    createHub({
      plainDerivation: "adapter",
      ...config,
      domain,
      saslSecret: runtime.randomId(),
    }),
    contacts,
  );
  const connections = new Map<string, XmppConnection>();
  const timers = new TimerTable<HubTimerKey>(runtime);
  const queue: HubInput[] = [];
  let running = false;

  // Outputs are carried out in order; reports made meanwhile (a fail ends a session at once) wait.
  const report = (input: Report) => {
    queue.push({ ...input, now: runtime.now(), random: runtime.randomId() } as HubInput);
    if (running) return;
    running = true;
    try {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const result = hubStep(hub, next);
        hub = result.state;
        for (const output of result.outputs) execute(output);
        onStep?.(next, result.outputs, hub);
      }
    } finally {
      running = false;
    }
  };

  const execute = (output: HubOutput): void => {
    if (output.type === "notice") return log?.(output);
    if (output.type === "set-timer") {
      return timers.set(output.timer, output.at, (timer) => report({ type: "timer-fired", timer }));
    }
    if (output.type === "clear-timer") return timers.clear(output.timer);
    if (output.type === "derive-key") {
      const { connId, id } = output;
      return void deriveKey(output.derivation, runtime).then((key) =>
        report({ type: "key-derived", connId, id, key })
      );
    }
    const conn = connections.get(output.connId);
    if (!conn) return;
    switch (output.type) {
      case "accept-stream":
        return void conn.accept({ features: output.features });
      case "send-element":
        return void (conn.canSend() && conn.send(output.element));
      case "fail-stream":
        return void conn.fail(output.condition, output.text, output.extra);
      case "close-stream":
        return void conn.close();
      case "authenticated":
        return conn.markAuthenticated();
    }
  };

  return {
    get hub() {
      return hub;
    },
    stop: () => timers.clearAll(),
    replaceAccounts(accounts) {
      // createHub validates the table (and throws before anything changes).
      const table = createHub({ ...hub.config, accounts }).accounts;
      hub = { ...hub, accounts: table };
    },
    onOpenRequested(conn, attributes, restart) {
      if (!connections.has(conn.id)) {
        connections.set(conn.id, conn);
        const loopback = isLoopback(conn.remoteAddr);
        report({
          type: "connection-opened",
          connId: conn.id,
          secure: conn.secure,
          loopback,
          address: hostOf(conn.remoteAddr),
        });
      }
      report({ type: "open-requested", connId: conn.id, attributes, restart });
    },
    onElement(conn, element) {
      report({ type: "element-received", connId: conn.id, element });
    },
    onEnded(conn, notice) {
      connections.delete(conn.id);
      const sent = notice.type === "stream-failed" && notice.by === "local" ? notice : undefined;
      report({
        type: "connection-ended",
        connId: conn.id,
        clean: !isTransportLoss(notice),
        ...(sent?.condition !== undefined
          ? {
            streamError: { condition: sent.condition, ...(sent.text ? { text: sent.text } : {}) },
          }
          : {}),
      });
    },
  };
}

/** A transport lost without `<close/>` or a stream error: XEP-0198 sessions may resume. */
function isTransportLoss(notice: TerminalNotice): boolean {
  return notice.type === "stream-failed" && notice.reason === "transport-lost";
}

/** `127.0.0.0/8`, `::1` and their IPv4-mapped forms, from `host:port` or `[host]:port`. */
function isLoopback(remoteAddr: string): boolean {
  const host = hostOf(remoteAddr);
  return host === "::1" || host.startsWith("127.") || host.toLowerCase().startsWith("::ffff:127.");
}

/** The host of `host:port` or `[host]:port`. */
function hostOf(remoteAddr: string): string {
  return remoteAddr.startsWith("[")
    ? remoteAddr.slice(1, remoteAddr.indexOf("]"))
    : remoteAddr.slice(0, remoteAddr.lastIndexOf(":"));
}

/** PBKDF2 on the runtime's WebCrypto (asynchronous, off the event loop); empty on failure. */
async function deriveKey(
  derivation: Extract<HubOutput, { type: "derive-key" }>["derivation"],
  runtime: Runtime,
): Promise<Uint8Array> {
  try {
    return await runtime.pbkdf2({
      password: derivation.password,
      salt: derivation.salt,
      iterations: derivation.iterations,
      hash: derivation.hash,
      length: derivation.length,
    });
  } catch {
    return new Uint8Array(0); // matches nothing: not-authorized
  }
}
