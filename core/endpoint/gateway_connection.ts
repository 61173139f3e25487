/**
 * One gateway connection: a browser's WebSocket and the TCP connection to the XMPP server,
 * driven by the core's gateway bridge. It carries out the bridge's orders and reports socket
 * events as inputs; every protocol decision is the core's.
 *
 * Outbound budget (issue 9, finding 1): upstream reads pause while more than 1 MiB (or the
 * endpoint's `maxBufferedBytes`, if lower) waits for the browser; a browser that keeps the
 * gateway paused for longer than `slowReaderGraceMs` is ended with `resource-constraint` (the
 * upstream is closed without its footer, so an XEP-0198 session stays resumable there).
 *
 * @example
 * ```ts ignore
 * import { GatewayConnection } from "./gateway_connection.ts";
 * new GatewayConnection(socket, options, { hostname: "203.0.113.7", port: 50000 });
 * ```
 * @module
 */

import {
  createGateway,
  type Endpoint,
  type Gateway,
  type GatewayConfig,
  type GatewayInput,
  type GatewayOutput,
  gatewayStep,
  proxyHeaderV1,
  proxyHeaderV2,
} from "../mod.ts";
import type { GatewayTimerKey } from "../gateway/mod.ts";
import type { TcpConnection, TcpConnector } from "./tcp.ts";
import { TimerTable } from "./timers.ts";
import type { Runtime } from "./runtime.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import type { AttachedSocket, ConnectionControl, SocketLike } from "./types.ts";

/** Where the upstream for a domain can be reached, in order of preference. */
export interface UpstreamTarget {
  readonly hostname: string;
  readonly port: number;
  readonly tls: "none" | "direct";
}

/** Settings shared by every gateway connection. */
export interface GatewayConnectionOptions {
  readonly config: GatewayConfig;
  readonly resolve: (domain: string) => Promise<readonly UpstreamTarget[]>;
  readonly caCerts: readonly string[] | undefined;
  /** Name verified in the upstream certificate (default: the XMPP domain). */
  readonly serverName: string | undefined;
  readonly connectTimeoutMs: number;
  readonly proxyProtocol: "off" | "v1" | "v2";
  readonly secure: boolean;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Opens the upstream TCP connection (the runtime binding's connector). */
  readonly connect: TcpConnector;
  /** The runtime's effects (clock, timers, random ids). */
  readonly runtime: Runtime;
}

const HIGH_WATER_BYTES = 1 << 20;
/** `WebSocket.OPEN` and `WebSocket.CLOSED`, spelled out: the core names no runtime class. */
const OPEN = 1;
const CLOSED = 3;

/** The driver of one gateway connection (both runtime bindings attach it to their sockets). */
export class GatewayConnection implements AttachedSocket {
  readonly id: string;
  /** Resolves when both transports are closed. */
  readonly ended: Promise<void>;
  readonly #socket: SocketLike;
  readonly #runtime: Runtime;
  readonly #options: GatewayConnectionOptions;
  readonly #client: Endpoint;
  readonly #control: ConnectionControl | undefined;
  #authenticated = false;
  readonly #timers: TimerTable<GatewayTimerKey>;
  readonly #queue: GatewayOutput[] = [];
  #gateway: Gateway;
  #tcp: TcpConnection | undefined;
  #draining = false;
  #markEnded: () => void = () => {};

  constructor(
    socket: SocketLike,
    options: GatewayConnectionOptions,
    client: Endpoint,
    control?: ConnectionControl,
  ) {
    this.#socket = socket;
    this.#runtime = options.runtime;
    this.#timers = new TimerTable<GatewayTimerKey>(options.runtime);
    this.id = options.runtime.randomId().slice(0, 8);
    this.#control = control;
    this.#options = options;
    this.#client = client;
    this.#gateway = createGateway(options.config);
    this.ended = new Promise((resolve) => this.#markEnded = resolve);
    options.metrics.connectionOpened();
    options.log("info", "connection opened", {
      conn: this.id,
      client: `${client.hostname}:${client.port}`,
    });
    socket.onopen = () =>
      this.#client_({
        type: "transport-opened",
        now: this.#runtime.now(),
        secure: options.secure,
        streamId: this.#runtime.randomId(),
      });
    socket.onmessage = (event) => {
      const now = this.#runtime.now();
      if (typeof event.data === "string") {
        this.#client_({ type: "text-received", now, data: event.data });
      } else this.#client_({ type: "binary-received", now, byteLength: byteLength(event.data) });
    };
    socket.onclose = (event) => {
      this.#client_({
        type: "transport-closed",
        now: this.#runtime.now(),
        code: event.code,
        reason: event.reason,
      });
      this.#checkEnded();
    };
  }

  /** Ends the session for a shutdown (system-shutdown, or a redirect). */
  shutdown(seeOtherUri?: string): void {
    this.#run({
      type: "shutdown",
      now: this.#runtime.now(),
      ...(seeOtherUri ? { seeOtherUri } : {}),
    });
  }

  /** Ends the session for a limit of the endpoint (the pre-authentication deadline). */
  expire(condition: "connection-timeout", text: string): void {
    this.#run({ type: "client-limit", now: this.#runtime.now(), condition, text });
  }

  #client_(input: Extract<GatewayInput, { type: "client" }>["input"]): void {
    this.#run({ type: "client", input });
  }

  #upstream(input: Extract<GatewayInput, { type: "upstream" }>["input"]): void {
    this.#run({ type: "upstream", input });
  }

  #run(input: GatewayInput): void {
    const { state: gateway, outputs } = gatewayStep(this.#gateway, input);
    this.#gateway = gateway;
    if (gateway.authenticated && !this.#authenticated) {
      this.#authenticated = true;
      this.#control?.authenticated();
    }
    this.#queue.push(...outputs);
    if (this.#draining) return;
    this.#draining = true;
    try {
      for (let o = this.#queue.shift(); o; o = this.#queue.shift()) this.#execute(o);
    } finally {
      this.#draining = false;
    }
  }

  #execute(o: GatewayOutput): void {
    const { log, metrics } = this.#options;
    switch (o.type) {
      case "connect-upstream":
        return void this.#connect(o.domain);
      case "notice": {
        if (o.event.endsWith("stream-failed") && o.condition) {
          metrics.streamError(o.event.startsWith("client") ? "client" : "upstream", o.condition);
        }
        if (o.event === "legacy-framing") metrics.legacyConnection();
        return log(o.level, o.event, {
          conn: this.id,
          ...(o.text ? { detail: o.text } : {}),
        });
      }
      case "set-timer":
        return this.#timers.set(
          o.timer,
          o.at,
          (timer) => this.#run({ type: "timer-fired", now: this.#runtime.now(), timer }),
        );
      case "clear-timer":
        return this.#timers.clear(o.timer);
      case "client":
      case "upstream": {
        const out = o.output;
        const side = o.type;
        if (side === "client") return this.#toClient(out);
        return this.#toUpstream(out);
      }
    }
  }

  #toClient(out: Extract<GatewayOutput, { type: "client" }>["output"]): void {
    const socket = this.#socket;
    if (out.type === "send-text") {
      if (socket.readyState !== OPEN) return;
      this.#options.metrics.relayed("to_client", out.text.length);
      return quietly(() => socket.send(out.text));
    }
    if (out.type === "close-transport" && socket.readyState <= OPEN) {
      this.#options.metrics.closeCode(out.code);
      quietly(() => socket.close(out.code, out.reason));
    }
  }

  #toUpstream(out: Extract<GatewayOutput, { type: "upstream" }>["output"]): void {
    const tcp = this.#tcp;
    if (tcp === undefined) return;
    switch (out.type) {
      case "send-text":
        this.#options.metrics.relayed("to_server", out.text.length);
        try {
          tcp.write(out.text);
        } catch (error) {
          // The bounded write queue is full; any other failure is a closing socket, whose close
          // event follows.
          if (error instanceof Error && error.name === "WriteQueueFull") {
            void Promise.resolve().then(() =>
              this.#run({ type: "upstream-backlogged", now: this.#runtime.now() })
            );
          }
        }
        return;
      case "close-transport":
        return void tcp.close();
      case "start-tls":
        tcp.startTls({ ...this.#tlsOptions() }).then(
          () => this.#upstream({ type: "transport-secured", now: this.#runtime.now() }),
          (error) =>
            this.#options.log("warn", "upstream STARTTLS failed", {
              conn: this.id,
              error: String(error),
            }),
        );
        return;
    }
  }

  #tlsOptions(): { caCerts?: readonly string[]; serverName?: string } {
    const { caCerts, serverName } = this.#options;
    const domain = this.#gateway.upstream?.config.to;
    const name = serverName ?? domain;
    return { ...(caCerts ? { caCerts } : {}), ...(name ? { serverName: name } : {}) };
  }

  async #connect(domain: string): Promise<void> {
    const { log, metrics, connectTimeoutMs, connect } = this.#options;
    const started = this.#runtime.now();
    let lastError: unknown = "no upstream address";
    const targets = await this.#options.resolve(domain).catch((error) => {
      lastError = error;
      return [] as UpstreamTarget[];
    });
    for (const target of targets) {
      try {
        const tcp = await withTimeout(
          connect({
            hostname: target.hostname,
            port: target.port,
            tls: target.tls,
            ...this.#tlsOptions(),
          }, {
            onChunk: (chunk, connection) => {
              this.#tcp ??= connection;
              this.#upstream({ type: "text-received", now: this.#runtime.now(), data: chunk });
              return this.#socket.bufferedAmount > this.#highWater() ? this.#drained() : undefined;
            },
            onClosed: () => {
              this.#upstream({ type: "transport-closed", now: this.#runtime.now() });
              this.#checkEnded();
            },
          }),
          connectTimeoutMs,
          this.#runtime,
        );
        if (this.#gateway.phase !== "connecting") {
          await tcp.close(); // the client went away meanwhile
          return this.#checkEnded();
        }
        this.#tcp = tcp;
        metrics.upstreamConnected((this.#runtime.now() - started) / 1000);
        this.#writeProxyHeader(tcp, target);
        log("info", "upstream connected", {
          conn: this.id,
          upstream: `${target.hostname}:${target.port}`,
          tls: target.tls,
        });
        return this.#upstream({
          type: "transport-opened",
          now: this.#runtime.now(),
          secure: tcp.secure,
        });
      } catch (error) {
        lastError = error;
      }
    }
    metrics.upstreamConnectFailed();
    log("warn", "upstream connect failed", { conn: this.id, domain, error: String(lastError) });
    this.#run({ type: "upstream-failed", now: this.#runtime.now(), reason: String(lastError) });
  }

  #writeProxyHeader(tcp: TcpConnection, target: UpstreamTarget): void {
    const mode = this.#options.proxyProtocol;
    if (mode === "off") return;
    const destination = { hostname: target.hostname, port: target.port };
    tcp.write(
      mode === "v1"
        ? proxyHeaderV1(this.#client, destination)
        : proxyHeaderV2(this.#client, destination),
    );
  }

  #highWater(): number {
    return Math.min(HIGH_WATER_BYTES, this.#control?.maxBufferedBytes ?? HIGH_WATER_BYTES);
  }

  /**
   * Backpressure: pause upstream reads until the browser has taken what is buffered; a browser
   * that does not within the grace period is a slow reader, and its session ends.
   */
  async #drained(): Promise<void> {
    const since = this.#runtime.now();
    const grace = this.#control?.slowReaderGraceMs ?? Infinity;
    while (
      this.#socket.readyState === OPEN &&
      this.#socket.bufferedAmount > this.#highWater() / 2
    ) {
      if (this.#runtime.now() - since > grace) {
        this.#control?.slowReader();
        return this.#run({
          type: "client-limit",
          now: this.#runtime.now(),
          condition: "resource-constraint",
          text: "The client does not read fast enough",
        });
      }
      await new Promise<void>((resolve) => this.#runtime.setTimer(resolve, 10));
    }
  }

  #checkEnded(): void {
    const tcpOpen = this.#gateway.upstream?.transportOpen ?? false;
    if (this.#socket.readyState === CLOSED && !tcpOpen) {
      this.#timers.clearAll();
      this.#options.metrics.connectionClosed();
      this.#options.log("info", "connection closed", { conn: this.id });
      this.#markEnded();
      this.#markEnded = () => {};
    }
  }
}

function withTimeout<T extends { close(): Promise<void> }>(
  promise: Promise<T>,
  ms: number,
  runtime: Runtime,
): Promise<T> {
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = runtime.setTimer(() => {
      done = true;
      reject(new Error(`connect timed out after ${ms} ms`));
    }, ms);
    promise.then((value) => {
      runtime.clearTimer(timer);
      if (done) void value.close();
      else resolve(value);
    }, (error) => {
      runtime.clearTimer(timer);
      if (!done) reject(error);
    });
  });
}

function byteLength(data: unknown): number {
  if (data instanceof ArrayBuffer) return data.byteLength;
  const size = (data as { readonly size?: unknown } | null)?.size; // a Blob
  if (typeof size === "number") return size;
  return ArrayBuffer.isView(data) ? data.byteLength : 0;
}

function quietly(action: () => unknown): void {
  try {
    action();
  } catch {
    // The transport is closing; its close event follows.
  }
}
