/**
 * The gateway bridge: `gatewayStep(gateway, input) -> { state, outputs }` (the reducer contract
 * of `core/reducer.ts`), a deterministic reducer joining an RFC 7395 server session (toward the
 * browser) and an RFC 6120 client session (toward the XMPP server), per digest §2. Notices of
 * one side become commands for the other; orders for the transports pass through to the
 * adapter, timers as the gateway's own (keyed by side), log lines as `notice`s.
 *
 * The state is linear, not a pure value: it holds two core sessions, whose codecs keep their
 * parsers (the upstream one holds the unfinished element between TCP chunks). A step spends
 * the gateway it is given; step only the one the last step returned. Stepping a spent gateway
 * throws `XmppUsageError` (phase `spent`) before anything changes.
 *
 * @example
 * ```ts
 * import { createGateway, gatewayStep } from "@xmpp-websocket/xmpp-websocket/gateway";
 * import { assertEquals } from "@std/assert";
 * let gw = createGateway({ domains: ["localhost"] });
 * ({ state: gw } = gatewayStep(gw, { type: "client", input: { type: "transport-opened", now: 0, secure: true, streamId: "c1" } }));
 * const { outputs } = gatewayStep(gw, { type: "client", input: {
 *   type: "text-received", now: 1,
 *   data: "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>",
 * } });
 * assertEquals(outputs.some((o) => o.type === "connect-upstream"), true);
 * ```
 * @module
 */

import { canSend, createSession, step } from "../session/step.ts";
import type { Input, Output, Session } from "../session/types.ts";
import { element, type XmlElement } from "../xml/element.ts";
import { RawElement } from "../xml/raw_element.ts";
import { DocumentParser } from "../xml/document_parser.ts";
import { sharedPerLimits } from "../xml/limits.ts";
import { NS } from "../xmpp/namespaces.ts";
import { CLOSE_CODES } from "../close_codes.ts";
import { filterFeaturesForWebSocket, startTlsOffer } from "./features.ts";
import type {
  Gateway,
  GatewayConfig,
  GatewayInput,
  GatewayOutput,
  GatewayPhase,
  GatewayStepResult,
  ResolvedGatewayConfig,
} from "./types.ts";
import type { NoticeLevel } from "../reducer.ts";
import { SpentStates } from "../session/linear.ts";
import { checkTransition } from "../session/transitions.ts";
import { GATEWAY_TRANSITIONS } from "./transitions.ts";

type Side = "client" | "upstream";
type Draft = { -readonly [K in keyof Gateway]: Gateway[K] };

/**
 * Creates a gateway connection whose client side awaits the browser's transport.
 *
 * @example
 * ```ts
 * import { createGateway } from "@xmpp-websocket/xmpp-websocket/gateway";
 * import { assertEquals } from "@std/assert";
 * assertEquals(createGateway({ domains: ["localhost"] }).phase, "waiting-open");
 * ```
 */
export function createGateway(config: GatewayConfig): Gateway {
  const resolved: ResolvedGatewayConfig = {
    domains: config.domains,
    upstreamTls: config.upstreamTls ?? "optional",
    clientLimits: config.clientLimits ?? {},
    upstreamLimits: { maxBytes: 1_048_576, maxElements: 100_000, ...config.upstreamLimits },
    maxBufferedElements: config.maxBufferedElements ?? 64,
    openTimeoutMs: config.openTimeoutMs ?? 30_000,
    closeTimeoutMs: config.closeTimeoutMs ?? 5_000,
    // Looked up with upstream text: a Map, so "constructor" or "__proto__" find nothing.
    seeOtherHost: new Map(Object.entries(config.seeOtherHost ?? {})),
    upstreamFailureCondition: config.upstreamFailureCondition ?? "remote-connection-failed",
    legacyFraming: config.legacyFraming ?? false,
    maxAuthFailures: config.maxAuthFailures ?? 3,
  };
  if (!Number.isInteger(resolved.maxAuthFailures) || resolved.maxAuthFailures < 1) {
    throw new RangeError(
      `Invalid maxAuthFailures: expected a positive integer, got ${resolved.maxAuthFailures}`,
    );
  }
  if (resolved.domains.length === 0) throw new RangeError("A gateway needs at least one domain");
  return {
    config: resolved,
    phase: "waiting-open",
    client: createSession({
      role: "server",
      domains: resolved.domains,
      limits: resolved.clientLimits,
      openTimeoutMs: resolved.openTimeoutMs,
      closeTimeoutMs: resolved.closeTimeoutMs,
      autoReplyClose: false,
      legacyFraming: resolved.legacyFraming,
      relay: relayFromClient,
    }),
    upstream: undefined,
    upstreamId: undefined,
    awaitingFeatures: false,
    buffer: [],
    authenticated: false,
    registrationOffered: false,
    authFailures: 0,
    authAttempts: 0,
  };
}

/**
 * Applies one input to a gateway connection.
 *
 * @example
 * ```ts
 * import { createGateway, gatewayStep } from "@xmpp-websocket/xmpp-websocket/gateway";
 * import { assertEquals } from "@std/assert";
 * const gw = createGateway({ domains: ["localhost"] });
 * const { state: gateway } = gatewayStep(gw, { type: "upstream-failed", now: 0, reason: "no route" });
 * assertEquals(gateway.phase, "waiting-open"); // nothing was connecting
 * ```
 */
export function gatewayStep(gateway: Gateway, input: GatewayInput): GatewayStepResult {
  SPENT.check(gateway, input.type);
  const bridge = new Bridge({ ...gateway });
  bridge.handle(input);
  SPENT.spend(gateway); // only once the step succeeded
  return { state: bridge.g, outputs: bridge.out };
}

/** Gateway states already stepped (the state is linear: see the module documentation). */
const SPENT = new SpentStates<Gateway>("gateway");

class Bridge {
  readonly g: Draft;
  readonly out: GatewayOutput[] = [];
  #now = 0;

  constructor(g: Draft) {
    this.g = g;
  }

  handle(input: GatewayInput): void {
    switch (input.type) {
      case "client":
        this.#now = input.input.now;
        return this.feed("client", input.input);
      case "upstream":
        this.#now = input.input.now;
        if (this.g.upstream === undefined) return;
        return this.feed("upstream", input.input);
      case "timer-fired":
        this.#now = input.now;
        if (input.timer.side === "upstream" && this.g.upstream === undefined) return;
        return this.feed(input.timer.side, {
          type: "timer-fired",
          now: input.now,
          timer: input.timer.kind,
        });
      case "upstream-failed":
        this.#now = input.now;
        if (this.g.phase !== "connecting") return;
        this.event("warn", "upstream-connect-failed", input.reason);
        this.g.upstream = undefined;
        return this.failClient(
          this.g.config.upstreamFailureCondition,
          "The XMPP server cannot be reached",
        );
      case "upstream-backlogged":
        this.#now = input.now;
        this.event("info", "upstream-backlogged");
        return this.failClient("resource-constraint", "The XMPP server is not reading fast enough");
      case "client-limit":
        this.#now = input.now;
        this.event("info", "client-limit", input.condition);
        return this.failClient(input.condition, input.text);
      case "shutdown":
        this.#now = input.now;
        return this.shutdown(input.seeOtherUri);
    }
  }

  /** Moves the bridge to `phase`, as `GATEWAY_TRANSITIONS` allows (else a `TransitionError`). */
  move(phase: GatewayPhase): void {
    checkTransition("gateway", GATEWAY_TRANSITIONS, this.g.phase, phase);
    this.g.phase = phase;
  }

  /** Emits a `notice`; `condition` is the stream error condition of a `*-stream-failed`. */
  event(level: NoticeLevel, event: string, text?: string, condition?: string): void {
    this.out.push({
      type: "notice",
      level,
      event,
      ...(text === undefined ? {} : { text }),
      ...(condition === undefined ? {} : { condition }),
    });
  }

  /** Steps one side and routes its outputs. */
  feed(side: Side, input: Input): void {
    const session = side === "client" ? this.g.client : this.g.upstream;
    if (session === undefined) return;
    const wasLegacy = session.codec.batchOpenError; // the codec is mutable: read it first
    const { state: next, outputs } = step(session, input);
    if (side === "client") {
      if (!wasLegacy && next.codec.batchOpenError) this.event("info", "legacy-framing");
      this.g.client = next;
    } else this.g.upstream = next;
    for (const output of outputs) this.route(side, output);
    if (
      this.g.client.phase === "closed" && !this.g.client.transportOpen &&
      (this.g.upstream === undefined || !this.g.upstream.transportOpen)
    ) {
      this.move("ended");
    }
  }

  /** Steps `side` with a command only if the session can take it now. */
  command(side: Side, input: Input, allowed: (s: Session) => boolean): void {
    const session = side === "client" ? this.g.client : this.g.upstream;
    if (session !== undefined && allowed(session)) this.feed(side, input);
  }

  route(side: Side, output: Output): void {
    switch (output.type) {
      case "set-timer":
        this.out.push({ type: "set-timer", timer: { side, kind: output.timer }, at: output.at });
        return;
      case "clear-timer":
        this.out.push({ type: "clear-timer", timer: { side, kind: output.timer } });
        return;
      case "send-text":
      case "close-transport":
      case "start-tls":
        this.out.push(
          side === "client" ? { type: "client", output } : { type: "upstream", output },
        );
        return;
      default:
        return side === "client" ? this.fromClient(output) : this.fromUpstream(output);
    }
  }

  // ---- notices of the client (browser) session --------------------------------------------

  fromClient(notice: Output): void {
    const g = this.g;
    switch (notice.type) {
      case "stream-open-requested": {
        if (notice.restart) {
          // Digest §2.8: the client's new <open/> becomes a new upstream header.
          g.awaitingFeatures = true;
          return this.command(
            "upstream",
            { type: "restart-stream", now: this.#now },
            (s) => s.restartPending && !s.tlsPending,
          );
        }
        const a = notice.attributes;
        g.upstream = createSession({
          role: "client",
          transport: "tcp",
          to: a.to!,
          ...(a.from !== undefined ? { from: a.from } : {}),
          ...(a.lang !== undefined ? { lang: a.lang } : {}),
          limits: g.config.upstreamLimits,
          openTimeoutMs: g.config.openTimeoutMs,
          closeTimeoutMs: g.config.closeTimeoutMs,
          autoReplyClose: false,
          relay: relayFromUpstream,
        });
        this.move("connecting");
        g.awaitingFeatures = true;
        this.out.push({ type: "connect-upstream", domain: a.to!, now: this.#now });
        return;
      }
      case "element-received":
        return this.clientElement(notice.element);
      case "raw-received":
        return this.clientRaw(notice.element);
      case "close-requested":
        // Digest §2.2: <close/> becomes the stream footer; the client's <close/> is answered
        // when the server's footer arrives (stanzas in flight are still relayed).
        if (g.upstream !== undefined && canSendOrClose(g.upstream)) {
          return this.command("upstream", { type: "close-stream", now: this.#now }, canSendOrClose);
        }
        this.abortUpstream();
        return this.command("client", { type: "close-stream", now: this.#now }, canReplyClose);
      case "stream-failed":
        this.event(
          "warn",
          "client-stream-failed",
          `${notice.reason}${notice.condition ? " " + notice.condition : ""}`,
          notice.condition,
        );
        if (notice.reason === "stream-error" && notice.condition !== undefined) {
          // A stream error (from the client, or found in its input) ends the XMPP session.
          return this.command("upstream", {
            type: "fail-stream",
            now: this.#now,
            condition: notice.condition,
            ...(notice.text ? { text: notice.text } : {}),
          }, isLive);
        }
        // Digest §2.2: a WebSocket that drops without <close/> closes TCP without the footer,
        // so the server keeps an XEP-0198 session resumable.
        return this.abortUpstream();
      case "stream-closed":
      case "stream-redirected":
        // The client's stream is over: end the server's stream cleanly too, if still open.
        return this.command("upstream", { type: "close-stream", now: this.#now }, canSendOrClose);
      default:
        return;
    }
  }

  /**
   * An ordinary element from the client, validated and kept as text (never SASL or STARTTLS:
   * the relay policy keeps those as trees). Relayed as received once the stream is
   * authenticated; before that, only XEP-0077 registration may pass, which needs the tree.
   */
  clientRaw(raw: RawElement): void {
    const g = this.g;
    if (!g.authenticated) {
      const parsed = g.registrationOffered && raw.name === "iq" && raw.ns === NS.CLIENT
        ? treeParser(g.config.clientLimits).parse(raw.text)
        : undefined;
      if (parsed?.ok) return this.clientElement(parsed.element);
      return this.refuseUnauthenticated(`{${raw.ns}}${raw.name}`);
    }
    this.toUpstream(raw);
  }

  /** Relays a client element upstream, or keeps it until the upstream stream is ready. */
  toUpstream(el: XmlElement | RawElement): void {
    const g = this.g;
    if (g.upstream !== undefined && canSend(g.upstream) && !g.awaitingFeatures) {
      return this.feed("upstream", sendInput(this.#now, el));
    }
    if (g.buffer.length >= g.config.maxBufferedElements) {
      return this.failClient(
        "resource-constraint",
        "Too much data before the XMPP server was ready",
      );
    }
    g.buffer = [...g.buffer, el];
  }

  refuseUnauthenticated(what: string): void {
    // RFC 6120 §4.9.3.12: data other than authentication before SASL success is not
    // processed; the stream ends with <not-authorized/>, whatever the upstream would do.
    this.event("info", "unauthenticated-data", what);
    return this.failClient(
      "not-authorized",
      "RFC 6120 §4.9.3.12: only authentication is allowed before SASL success",
    );
  }

  clientElement(el: XmlElement): void {
    const g = this.g;
    if (el.name === "starttls" && el.ns === NS.TLS) {
      // Digest §2.2: never forwarded; answered like a server that did not offer it.
      this.command("client", {
        type: "send-element",
        now: this.#now,
        element: element("failure", NS.TLS),
      }, canSend);
      this.command("client", { type: "close-stream", now: this.#now }, isLive);
      return this.command("upstream", { type: "close-stream", now: this.#now }, canSendOrClose);
    }
    if (!g.authenticated && !allowedBeforeAuth(el, g.registrationOffered)) {
      return this.refuseUnauthenticated(`{${el.ns}}${el.name}`);
    }
    if (
      (el.name === "auth" && el.ns === NS.SASL) ||
      (el.name === "authenticate" && el.ns === NS.SASL2)
    ) {
      // Attempts are bounded before they are relayed, so pipelined guesses cannot outrun the
      // failures counted below.
      g.authAttempts += 1;
      if (g.authAttempts > g.config.maxAuthFailures) {
        this.event("info", "auth-attempts", String(g.authAttempts));
        return this.failClient("policy-violation", "Too many authentication attempts");
      }
    }
    this.toUpstream(el);
  }

  // ---- notices of the upstream (server) session -------------------------------------------

  fromUpstream(notice: Output): void {
    const g = this.g;
    switch (notice.type) {
      case "stream-opened":
        g.upstreamId = notice.id;
        this.move("negotiating");
        return;
      case "element-received":
        return this.upstreamElement(notice.element);
      case "raw-received":
        // An ordinary upstream element: relayed as it came, its start tag completed with the
        // stream's namespace (digest §2.3).
        return this.command(
          "client",
          { type: "send-raw", now: this.#now, element: notice.element },
          canSend,
        );
      case "close-requested":
        // The server closed its stream: relay the close to the client and answer the server.
        this.command("upstream", { type: "close-stream", now: this.#now }, canReplyClose);
        return this.command("client", { type: "close-stream", now: this.#now }, isLive);
      case "stream-closed":
        // Our footer was answered: now answer the client's <close/>.
        return this.command("client", { type: "close-stream", now: this.#now }, canReplyClose);
      case "stream-failed":
        this.event(
          "warn",
          "upstream-stream-failed",
          `${notice.reason}${notice.condition ? " " + notice.condition : ""}`,
          notice.condition,
        );
        if (notice.by === "peer" && notice.condition !== undefined) {
          if (notice.condition === "see-other-host" && notice.content !== undefined) {
            const uri = g.config.seeOtherHost.get(notice.content);
            if (uri !== undefined) {
              return this.command("client", {
                type: "close-stream",
                now: this.#now,
                seeOtherUri: uri,
              }, isLive);
            }
            this.event("info", "unmapped-see-other-host", notice.content);
          }
          return this.failClient(notice.condition, notice.text);
        }
        if (notice.reason === "transport-lost" || notice.reason === "close-timeout") {
          // Digest §2.3: a transport failure, not a stream error: no <close/>, so the client
          // may resume (XEP-0198). 1011 rather than 1014: 1014 is only IANA-registered, and
          // common stacks (Deno's among them) refuse to send it.
          return this.command("client", {
            type: "abort-transport",
            now: this.#now,
            code: CLOSE_CODES.INTERNAL_ERROR,
            reason: "The XMPP server connection was lost",
          }, isLive);
        }
        if (notice.reason === "aborted") return;
        return this.failClient(
          notice.reason === "open-timeout"
            ? g.config.upstreamFailureCondition
            : "internal-server-error",
          notice.text ?? "The XMPP server stream failed",
        );
      default:
        return;
    }
  }

  upstreamElement(el: XmlElement): void {
    const g = this.g;
    if (g.awaitingFeatures && el.name === "features" && el.ns === NS.STREAMS) {
      return this.upstreamFeatures(el);
    }
    if (el.name === "failure" && el.ns === NS.TLS) {
      return this.failClient("internal-server-error", "STARTTLS with the XMPP server failed");
    }
    if (el.name === "proceed" && el.ns === NS.TLS) return; // the session asked for start-tls
    if (el.ns === NS.FRAMING || el.ns === NS.TLS) {
      // Never relayed: the browser would read <open/> or <close/> as the gateway's own framing,
      // and STARTTLS is the gateway's business (digest §2.2). The server is misbehaving.
      this.event("warn", "upstream-unrelayable", `{${el.ns}}${el.name}`);
      return this.failClient(
        "internal-server-error",
        "The XMPP server sent an element the gateway cannot relay",
      );
    }
    if (el.name === "success" && (el.ns === NS.SASL || el.ns === NS.SASL2)) g.authenticated = true;
    if (el.name === "failure" && (el.ns === NS.SASL || el.ns === NS.SASL2)) {
      this.command("client", { type: "send-element", now: this.#now, element: el }, canSend);
      g.authFailures += 1;
      if (g.authFailures >= g.config.maxAuthFailures) {
        // RFC 6120 §6.4.5: retries are bounded here, even when the server allows more.
        this.event("info", "auth-failures", String(g.authFailures));
        this.failClient("policy-violation", "Too many failed authentication attempts");
      }
      return;
    }
    // Everything else is relayed as one standalone message (digest §2.3).
    this.command("client", { type: "send-element", now: this.#now, element: el }, canSend);
  }

  upstreamFeatures(features: XmlElement): void {
    const g = this.g;
    const upstream = g.upstream!;
    const offer = startTlsOffer(features);
    const policy = g.config.upstreamTls;
    if (!upstream.secure && offer !== "none" && (policy === "optional" || policy === "required")) {
      // Digest §2.8: STARTTLS is the gateway's own business; the client never sees it.
      this.event("info", "upstream-starttls");
      return this.feed("upstream", {
        type: "send-element",
        now: this.#now,
        element: element("starttls", NS.TLS),
      });
    }
    if (!upstream.secure && policy === "required") {
      return this.failClient(
        "internal-server-error",
        "The XMPP server does not offer the required STARTTLS",
      );
    }
    if (offer === "required" && !upstream.secure) {
      return this.failClient(
        "internal-server-error",
        "The XMPP server requires STARTTLS, which the gateway is configured not to use",
      );
    }
    g.awaitingFeatures = false;
    this.move("relaying");
    if (!g.authenticated) g.registrationOffered = offersRegistration(features);
    this.command("client", {
      type: "accept-stream",
      now: this.#now,
      features: filterFeaturesForWebSocket(features),
      ...(g.upstreamId !== undefined ? { id: g.upstreamId } : {}),
    }, (s) => s.phase === "opening");
    const buffered = g.buffer;
    g.buffer = [];
    for (const el of buffered) this.command("upstream", sendInput(this.#now, el), canSend);
  }

  // ---- helpers -------------------------------------------------------------------------

  failClient(condition: Parameters<typeof failInput>[1], text: string | undefined): void {
    this.command("client", failInput(this.#now, condition, text), isLive);
    this.abortUpstream();
  }

  abortUpstream(): void {
    this.command("upstream", {
      type: "abort-transport",
      now: this.#now,
      code: CLOSE_CODES.NORMAL,
      reason: "client gone",
    }, (s) => s.transportOpen);
  }

  shutdown(seeOtherUri: string | undefined): void {
    if (seeOtherUri !== undefined && this.g.client.phase !== "idle") {
      this.command("client", { type: "close-stream", now: this.#now, seeOtherUri }, isLive);
    } else {
      this.command(
        "client",
        failInput(this.#now, "system-shutdown", "The gateway is shutting down"),
        isLive,
      );
    }
    // The server may keep the session for resumption (no footer), as for a dropped client.
    this.abortUpstream();
  }
}

function failInput(
  now: number,
  condition: import("../stream_errors.ts").StreamErrorCondition,
  text: string | undefined,
): Input {
  return { type: "fail-stream", now, condition, ...(text !== undefined ? { text } : {}) };
}

function sendInput(now: number, el: XmlElement | RawElement): Input {
  return el instanceof RawElement
    ? { type: "send-raw", now, element: el }
    : { type: "send-element", now, element: el };
}

/**
 * What the client may send as validated text (relayed as received): everything but SASL and
 * STARTTLS, which the bridge inspects (the codec keeps framing elements as trees itself).
 */
function relayFromClient(_name: string, ns: string): boolean {
  return ns !== NS.SASL && ns !== NS.SASL2 && ns !== NS.TLS;
}

/**
 * What the server's stream may hand on as validated text: everything but stream-level elements
 * (features, stream errors), SASL and STARTTLS, which the bridge and the session inspect, and the
 * RFC 7395 framing namespace, which the bridge refuses.
 */
function relayFromUpstream(_name: string, ns: string): boolean {
  return ns !== NS.STREAMS && ns !== NS.SASL && ns !== NS.SASL2 && ns !== NS.TLS &&
    ns !== NS.FRAMING;
}

/**
 * Parsers for the rare client element that must be looked into (registration before login),
 * one per set of client limits (the element was validated under those limits).
 */
const TREE_PARSERS = new Map<string, DocumentParser>();
function treeParser(limits: GatewayConfig["clientLimits"]): DocumentParser {
  return sharedPerLimits(TREE_PARSERS, limits, (resolved) => new DocumentParser(resolved));
}

const IQ_REGISTER_FEATURE = "http://jabber.org/features/iq-register";
const IQ_REGISTER = "jabber:iq:register";

/**
 * What a client may send before its stream is authenticated: SASL and SASL2 negotiation, and
 * XEP-0077 registration iqs when the server offered registration in its features.
 */
function allowedBeforeAuth(el: XmlElement, registrationOffered: boolean): boolean {
  if (el.ns === NS.SASL || el.ns === NS.SASL2) return true;
  if (!registrationOffered || el.name !== "iq" || el.ns !== NS.CLIENT) return false;
  let payloads = 0;
  for (const child of el.children) {
    if (typeof child === "string") continue;
    if (child.name !== "query" || child.ns !== IQ_REGISTER) return false;
    payloads++;
  }
  return payloads === 1;
}

function offersRegistration(features: XmlElement): boolean {
  for (const child of features.children) {
    if (
      typeof child !== "string" && child.name === "register" && child.ns === IQ_REGISTER_FEATURE
    ) {
      return true;
    }
  }
  return false;
}

function isLive(s: Session): boolean {
  return s.transportOpen && s.phase !== "closed";
}

function canSendOrClose(s: Session): boolean {
  return s.transportOpen && (s.phase === "open" || s.phase === "opening");
}

function canReplyClose(s: Session): boolean {
  return s.transportOpen && s.phase === "closing" && s.closeReceived && !s.closeSent;
}
