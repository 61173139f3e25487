/**
 * Test support for the client: an embedded server on a random port, bounded waits for client
 * events, and a WebSocket factory that records every message sent and received.
 *
 * @module
 */

import type { WebSocketFactory, XmppClient, XmppClientEvents } from "../../deno/client.ts";
import { embeddedServer, type EmbeddedServerOptions, loadAccounts } from "../../deno/embedded.ts";
import { serveXmpp } from "../../deno/serve.ts";
import type { XmppServer } from "../../deno/mod.ts";

/** The default bound of every wait, in ms. */
export const WAIT_MS = 8_000;

/** An embedded server for the tests. */
export interface TestServer extends AsyncDisposable {
  readonly xmpp: XmppServer;
  readonly app: ReturnType<typeof embeddedServer>;
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts the embedded server with accounts `user:password`. */
export async function startServer(
  users: readonly string[],
  options: Partial<EmbeddedServerOptions> = {},
): Promise<TestServer> {
  const { accounts } = await loadAccounts({ users: [...users] });
  const app = embeddedServer({ accounts, ...options });
  const xmpp = serveXmpp({
    hostname: "127.0.0.1",
    port: 0,
    session: { domains: ["localhost"] },
    application: app,
  });
  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      await xmpp.shutdown();
      app.stop();
    })();
  return {
    xmpp,
    app,
    port: xmpp.addr.port,
    url: `ws://127.0.0.1:${xmpp.addr.port}/xmpp-websocket`,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** Resolves with the detail of the next `type` event matching `test`, or rejects after `ms`. */
export function waitFor<K extends keyof XmppClientEvents>(
  client: XmppClient,
  type: K,
  test: (detail: XmppClientEvents[K]) => boolean = () => true,
  ms = WAIT_MS,
): Promise<XmppClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`Timed out after ${ms} ms waiting for '${type}'`));
    }, ms);
    const off = client.on(type, (detail) => {
      if (!test(detail)) return;
      clearTimeout(timer);
      off();
      resolve(detail);
    });
  });
}

/** Bounded sleep. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `check` until it holds; rejects after `ms` (a bounded wait for a state, not a sleep
 * that stands for "the rest has happened by now").
 */
export async function until(what: string, check: () => boolean, ms = WAIT_MS): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) {
      throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    }
    await sleep(10);
  }
}

/** A transcript of the WebSocket messages (`>` sent, `<` received) and the sockets opened. */
export interface Recorder {
  readonly factory: WebSocketFactory;
  readonly log: string[];
  /**
   * URL and time (performance.now, the client driver's clock) of each socket opened, and the
   * time its close event began (read before the driver's own handler runs, so it comes before
   * the `now` of the driver's `transport-closed` input).
   */
  readonly opened: {
    readonly url: string;
    /** The subprotocols the client asked for (Sec-WebSocket-Protocol). */
    readonly protocols: readonly string[];
    readonly at: number;
    readonly socket: WebSocket;
    closedAt?: number;
  }[];
}

/** A WebSocket factory that records what goes through the sockets it creates. */
export function recorder(rewrite: (url: string) => string = (url) => url): Recorder {
  const log: string[] = [];
  const opened: Recorder["opened"] = [];
  const factory: WebSocketFactory = (url, protocols) => {
    const socket = new WebSocket(rewrite(url), protocols);
    const entry: Recorder["opened"][number] = {
      url,
      protocols: [...protocols],
      at: performance.now(),
      socket,
    };
    opened.push(entry);
    // Registered before the driver sets `onclose`, so it runs first.
    socket.addEventListener("close", () => entry.closedAt = performance.now());
    const send = socket.send.bind(socket);
    socket.send = (data: string | ArrayBufferLike | Blob | ArrayBufferView) => {
      log.push(`> ${data}`);
      send(data);
    };
    socket.addEventListener("message", (event) => log.push(`< ${event.data}`));
    return socket;
  };
  return { factory, log, opened };
}
