/**
 * The live connections of an endpoint, shared by the Deno and Node endpoints: each upgraded
 * socket is driven either by the application's core session (`Connection`) or by an `attach`
 * hook (the gateway); shutdowns and drains go through here.
 *
 * @example
 * ```ts
 * import { LiveConnections } from "./_live_connections.ts";
 * const live = new LiveConnections();
 * console.log(live.size); // 0
 * await live.settled();
 * ```
 * @module
 */

import { Connection } from "./_connection.ts";
import type { EndpointSettings } from "./_endpoint_settings.ts";
import type { AttachedSocket, PeerInfo, ServeXmppOptions } from "./_types.ts";
import { formatAddr } from "./_handshake.ts";

/** The set of live connections of one endpoint. */
export class LiveConnections {
  /** The connections driven by a core session and the application. */
  readonly connections: Set<Connection> = new Set();
  readonly #live = new Set<AttachedSocket>();

  /** How many connections are live. */
  get size(): number {
    return this.#live.size;
  }

  /** Starts driving an upgraded socket. Errors thrown by `attach` propagate. */
  adopt(
    socket: WebSocket,
    peer: PeerInfo,
    settings: EndpointSettings,
    attach: ServeXmppOptions["attach"],
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
      );
      this.connections.add(conn);
      conn.ended.then(() => this.connections.delete(conn));
      attached = {
        ended: conn.ended,
        shutdown: (uri) =>
          void (uri ? conn.close({ seeOtherUri: uri }) : conn.fail("system-shutdown")),
      };
    }
    this.#live.add(attached);
    attached.ended.then(() => this.#live.delete(attached));
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
      if (gap > 0) await new Promise((resolve) => setTimeout(resolve, gap));
    }
  }

  /** Resolves once every live connection has ended. */
  async settled(): Promise<void> {
    while (this.#live.size > 0) await Promise.all([...this.#live].map((conn) => conn.ended));
  }
}
