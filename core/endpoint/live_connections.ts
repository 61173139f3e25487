/**
 * The live connections of an endpoint, shared by the Deno and Node endpoints: each upgraded
 * socket is driven either by the application's core session (`Connection`) or by an `attach`
 * hook (the gateway); shutdowns and drains go through here. Each connection's admission ticket
 * (`core/http/admission.ts`) is released when it ends, and its pre-authentication deadline
 * watched: admission control decides, this file only keeps the timer.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { LiveConnections } from "./live_connections.ts";
 * import type { Runtime } from "./runtime.ts";
 * const live = new LiveConnections({ now: () => 0 } as unknown as Runtime);
 * assertEquals(live.size, 0);
 * await live.settled();
 * ```
 * @module
 */

import { Connection } from "./connection.ts";
import type { EndpointSettings } from "./settings.ts";
import type {
  AttachedSocket,
  ConnectionControl,
  EndpointOptions,
  EndpointStats,
  PeerInfo,
  SocketLike,
} from "./types.ts";
import { formatAddr } from "../http/upgrade.ts";
import type { Runtime, TimerHandle } from "./runtime.ts";
import type { Admission, AdmissionTicket } from "../http/admission.ts";

/** The set of live connections of one endpoint. */
export class LiveConnections {
  /** The connections driven by a core session and the application. */
  readonly connections: Set<Connection> = new Set();
  readonly #live = new Set<AttachedSocket>();
  #slowReaders = 0;
  readonly #runtime: Runtime;

  /** The live connections of an endpoint on `runtime`. */
  constructor(runtime: Runtime) {
    this.#runtime = runtime;
  }

  /** How many connections are live. */
  get size(): number {
    return this.#live.size;
  }

  /** Admission control's and the slow readers' counters. */
  stats(admission: Admission): EndpointStats {
    return { admission: admission.stats(), slowReaders: this.#slowReaders };
  }

  /**
   * Starts driving an upgraded socket admitted with `ticket`. Errors thrown by `attach`
   * propagate (the ticket is then released).
   */
  adopt(
    socket: SocketLike,
    peer: PeerInfo,
    settings: EndpointSettings,
    attach: EndpointOptions["attach"],
    ticket?: AdmissionTicket,
  ): AttachedSocket {
    const admission = settings.admission;
    let deadline: TimerHandle | undefined;
    const runtime = this.#runtime;
    const control: ConnectionControl = {
      ...settings.outbound,
      authenticated: () => {
        runtime.clearTimer(deadline);
        if (ticket) admission.authenticated(ticket);
      },
      slowReader: () => void this.#slowReaders++,
    };
    let attached: AttachedSocket;
    try {
      attached = this.#attach(socket, { ...peer, control }, settings, attach);
    } catch (error) {
      if (ticket) admission.release(ticket, runtime.now());
      throw error;
    }
    this.#live.add(attached);
    if (ticket) {
      // A timer may fire a little before the deadline as the runtime's clock reads it: then it
      // is armed again for what is left, until the ticket is authenticated or released.
      const arm = () => {
        deadline = runtime.setTimer(() => {
          if (ticket.authenticated || ticket.released) return;
          if (admission.expired(ticket, runtime.now())) {
            return attached.expire?.("connection-timeout", "Authenticate sooner");
          }
          arm();
        }, Math.max(1, ticket.authDeadline - runtime.now()));
      };
      arm();
    }
    attached.ended.then(() => {
      runtime.clearTimer(deadline);
      if (ticket) admission.release(ticket, runtime.now());
      this.#live.delete(attached);
    });
    return attached;
  }

  #attach(
    socket: SocketLike,
    peer: PeerInfo,
    settings: EndpointSettings,
    attach: EndpointOptions["attach"],
  ): AttachedSocket {
    let attached: AttachedSocket;
    if (attach) {
      attached = attach(socket, peer);
    } else {
      const conn = new Connection(
        socket,
        settings.application,
        settings.config,
        formatAddr(peer.client),
        settings.secure,
        this.#runtime,
        peer.control,
      );
      this.connections.add(conn);
      conn.ended.then(() => this.connections.delete(conn));
      attached = {
        ended: conn.ended,
        shutdown: (uri) =>
          void (uri ? conn.close({ seeOtherUri: uri }) : conn.fail("system-shutdown")),
        expire: (condition, text) => void conn.fail(condition, text),
      };
    }
    return attached;
  }

  /** Ends every live session at once (system-shutdown, or a redirect). */
  shutdownAll(seeOtherUri?: string): void {
    for (const conn of this.#live) conn.shutdown(seeOtherUri);
  }

  /** Ends the live sessions one after another, spread evenly over `windowMs`. */
  async shutdownSpread(windowMs: number, seeOtherUri?: string): Promise<void> {
    const sessions = [...this.#live];
    const gap = sessions.length > 1 ? windowMs / sessions.length : 0;
    for (const conn of sessions) {
      conn.shutdown(seeOtherUri);
      if (gap > 0) await new Promise<void>((resolve) => this.#runtime.setTimer(resolve, gap));
    }
  }

  /** Resolves once every live connection has ended. */
  async settled(): Promise<void> {
    while (this.#live.size > 0) await Promise.all([...this.#live].map((conn) => conn.ended));
  }
}
