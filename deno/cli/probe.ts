/**
 * `probe` (and the raw `send`): connect to an endpoint, given as a `ws:`/`wss:` URL or found by
 * XEP-0156 discovery from a domain, open the stream, optionally log in, bind and send a
 * message, then close; every step lands in a {@link Transcript} with SASL payloads redacted.
 *
 * @example
 * ```ts ignore
 * import { probe } from "./probe.ts";
 * const report = await probe({ target: "ws://127.0.0.1:5280/xmpp-websocket", domain: "localhost", timeoutMs: 3_000 });
 * console.log(report.exitCode); // 0
 * ```
 * @module
 */

import { escapeAttribute, escapeText } from "../../core/mod.ts";
import { discover } from "./_discovery.ts";
import { Transcript, type TranscriptEntry } from "./transcript.ts";
import { ConnectError, openWebSocket, type RawWebSocket } from "./_ws.ts";
import { type Bounce, readBounce, StreamStepError, XmppWire } from "./_xmpp.ts";

/** Options of {@link probe}. */
export interface ProbeOptions {
  /** A `ws:`/`wss:` URL, an `https:` origin or a bare domain (both: discovery). */
  readonly target: string;
  /**
   * The `to` of `<open/>`. Default: the domain of `user` when it is a bare JID, else the
   * discovered domain or the URL's host; if the server refuses that host with `host-unknown`
   * and names another domain in its `<open from>`, once more with that one.
   */
  readonly domain?: string;
  /** Log in as this user (local part, or a bare JID whose domain becomes the default `to`). */
  readonly user?: string;
  readonly password?: string;
  /** Resource to bind after login (default `probe-<random>`). */
  readonly resource?: string;
  /** Allow PLAIN over `ws:` to a non-loopback host (default false). */
  readonly allowPlain?: boolean;
  /** Accept `ws:` endpoints and `http:` host-meta from discovery (default false). */
  readonly allowInsecure?: boolean;
  /** After binding, send this message (the `send` command). */
  readonly message?: { readonly to: string; readonly body: string; readonly type?: string };
  /**
   * How long to wait, after sending `message`, for a `<message type='error'>` bouncing it
   * (default 1 000 ms; 0: do not wait, though a bounce arriving before the server's `<close/>`
   * still counts). A bounce makes the exit code 1.
   */
  readonly bounceWaitMs?: number;
  /** Bound on each wait (default 3 000 ms). */
  readonly timeoutMs?: number;
  /** `Origin` header to send. */
  readonly origin?: string;
  /** PEM CA certificates for `wss:`. */
  readonly caCerts?: readonly string[];
  /** Sees each transcript entry as it happens. */
  readonly onEntry?: (entry: TranscriptEntry) => void;
}

/** The outcome of {@link probe}. */
export interface ProbeReport {
  /** 0 all went well, 1 the XMPP exchange failed, 2 no endpoint could be reached. */
  readonly exitCode: 0 | 1 | 2;
  /** The endpoint used. */
  readonly url?: string;
  /** The `to` of the `<open/>` the server accepted. */
  readonly domain?: string;
  /** The error that bounced the message, if it did. */
  readonly bounce?: Bounce;
  readonly subprotocol?: string;
  readonly streamId?: string;
  readonly mechanism?: string;
  readonly jid?: string;
  /** What went wrong. */
  readonly error?: string;
  readonly transcript: readonly TranscriptEntry[];
}

/** Runs the probe; never rejects on network or peer trouble (see `exitCode`). */
export async function probe(options: ProbeOptions): Promise<ProbeReport> {
  const start = performance.now();
  const transcript = new Transcript(() => performance.now() - start, options.onEntry);
  const timeoutMs = options.timeoutMs ?? 3_000;
  const report: { -readonly [K in keyof ProbeReport]?: ProbeReport[K] } = {};
  const done = (exitCode: 0 | 1 | 2, error?: string): ProbeReport => {
    if (error) transcript.note(`error: ${error}`);
    return {
      ...report,
      exitCode,
      ...(error ? { error } : {}),
      transcript: transcript.entries,
    };
  };

  let target: { urls: string[]; domain: string };
  try {
    target = await resolveTarget(options, timeoutMs, transcript);
  } catch (error) {
    return done(2, (error as Error).message);
  }
  const userAt = options.user?.indexOf("@") ?? -1;
  const given = options.domain ?? (userAt >= 0 ? options.user!.slice(userAt + 1) : undefined);
  let domain = given ?? target.domain;
  const connected = await connectFirst(target.urls, options, timeoutMs, transcript);
  if ("error" in connected) return done(2, connected.error);
  let { socket, protocols } = connected;
  report.url = connected.url;

  if (protocols.length > 0) report.subprotocol = protocols.join(", ");
  try {
    if (protocols.length !== 1 || protocols[0] !== "xmpp") {
      throw new StreamStepError(
        `The server did not select the xmpp subprotocol (${protocols.join(", ") || "none"}): ` +
          "a client must close (RFC 7395 §3.1, digest #4)",
      );
    }
    transcript.note(`subprotocol: xmpp; opening the stream to ${domain}`);
    let wire = new XmppWire(socket, timeoutMs);
    let opened: Awaited<ReturnType<XmppWire["openStream"]>>;
    try {
      opened = await wire.openStream(domain);
    } catch (error) {
      const hint = domainHint(error, domain);
      if (hint === undefined || given !== undefined) throw explained(error, domain, given);
      // The domain came from the URL's host and the server names another one (RFC 6120
      // §4.9.3.6): open a new connection once, to that domain.
      transcript.note(`the server does not serve ${domain} and names itself ${hint}: retrying`);
      await socket.shutdown(Math.min(timeoutMs, 1_000));
      const again = await connectFirst([report.url], options, timeoutMs, transcript);
      if ("error" in again) return done(2, again.error);
      ({ socket, protocols } = again);
      domain = hint;
      wire = new XmppWire(socket, timeoutMs);
      transcript.note(`opening the stream to ${domain}`);
      opened = await wire.openStream(domain);
    }
    report.domain = domain;
    if (opened.open.attrs.id) report.streamId = opened.open.attrs.id;
    let bounce: Bounce | undefined;
    let messageId: string | undefined;
    if (options.user !== undefined && options.password !== undefined) {
      const username = userAt >= 0 ? options.user.slice(0, userAt) : options.user;
      const secure = report.url.startsWith("wss:") || isLoopback(new URL(report.url).hostname);
      const login = await wire.login(opened.features, {
        username,
        password: options.password,
        allowPlain: secure || options.allowPlain === true,
      });
      report.mechanism = login.mechanism;
      transcript.note(`authenticated with ${login.mechanism}; stream restarted`);
      report.jid = await wire.bind(options.resource ?? `probe-${randomHex(4)}`);
      transcript.note(`bound ${report.jid}`);
      if (options.message) {
        const { to, body, type = "chat" } = options.message;
        messageId = randomHex(6);
        await wire.send(
          `<message xmlns='jabber:client' to='${escapeAttribute(to)}' type='${
            escapeAttribute(type)
          }' id='${messageId}'><body>${escapeText(body)}</body></message>`,
        );
        const waitMs = options.bounceWaitMs ?? 1_000;
        if (waitMs > 0) {
          transcript.note(`waiting up to ${waitMs} ms for a bounce`);
          bounce = await wire.waitForBounce(messageId, waitMs);
        }
      }
    }
    const code = await wire.closeStream((el) => {
      if (messageId !== undefined) bounce ??= readBounce(el, messageId);
    });
    transcript.note(`closed (WebSocket close code ${code ?? "none"})`);
    if (bounce) {
      report.bounce = bounce;
      return done(1, `the message bounced: ${describeBounce(bounce)}`);
    }
    return done(0);
  } catch (error) {
    if (!(error instanceof StreamStepError)) throw error;
    return done(1, error.message);
  } finally {
    await socket.shutdown(Math.min(timeoutMs, 1_000));
  }
}

/** Opens the first of `urls` that upgrades; the error of the last one otherwise. */
async function connectFirst(
  urls: readonly string[],
  options: ProbeOptions,
  timeoutMs: number,
  transcript: Transcript,
): Promise<{ socket: RawWebSocket; protocols: string[]; url: string } | { error: string }> {
  let lastError = "no endpoint to try";
  for (const url of urls) {
    try {
      const result = await openWebSocket(new URL(url), {
        protocols: ["xmpp"],
        timeoutMs,
        observer: transcript.observer,
        ...(options.origin ? { headers: { Origin: options.origin } } : {}),
        ...(options.caCerts ? { caCerts: options.caCerts } : {}),
      });
      if (result.socket) {
        const protocols = result.headers.filter(([name]) => name === "sec-websocket-protocol")
          .flatMap(([, value]) => value.split(",").map((token) => token.trim()));
        return { socket: result.socket, protocols, url };
      }
      lastError = result.problem ?? `HTTP ${result.status}: not a WebSocket upgrade` +
          (result.body ? ` (${result.body.trim().slice(0, 200)})` : "");
    } catch (error) {
      if (!(error instanceof ConnectError)) throw error;
      lastError = error.message;
    }
    transcript.note(lastError);
  }
  return { error: lastError };
}

/**
 * The domain a `host-unknown` answer names (the `from` of the server's `<open/>`) when it is a
 * plausible domain other than the one asked for; `undefined` otherwise.
 *
 * @example
 * ```ts
 * import { domainHint } from "./probe.ts";
 * import { StreamStepError } from "./_xmpp.ts";
 * const refused = new StreamStepError("no", { condition: "host-unknown", serverDomain: "localhost" });
 * console.log(domainHint(refused, "127.0.0.1"), domainHint(refused, "localhost")); // "localhost" undefined
 * ```
 */
export function domainHint(error: unknown, asked: string): string | undefined {
  if (!(error instanceof StreamStepError) || error.condition !== "host-unknown") return undefined;
  const named = error.serverDomain?.trim().toLowerCase().replace(/\.$/, "");
  if (!named || named === asked.toLowerCase() || named.length > 253) return undefined;
  return /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(named)
    ? named
    : undefined;
}

/** A `host-unknown` failure, with what to do about it. */
function explained(error: unknown, domain: string, given: string | undefined): unknown {
  if (!(error instanceof StreamStepError) || error.condition !== "host-unknown") return error;
  const hint = domainHint(error, domain);
  const advice = hint !== undefined
    ? `the server names itself ${hint}: try --domain ${hint}`
    : given === undefined
    ? "give the domain with --domain or a bare JID (--user name@domain)"
    : "check --domain and the domain of --user";
  return new StreamStepError(`${error.message}; ${advice}`, { condition: "host-unknown" });
}

/**
 * One line for a bounce: condition, type, text and who sent it.
 *
 * @example
 * ```ts
 * import { describeBounce } from "./probe.ts";
 * console.log(describeBounce({ condition: "service-unavailable", type: "cancel", from: "bob@localhost" }));
 * // "<service-unavailable/> (cancel) from bob@localhost"
 * ```
 */
export function describeBounce(bounce: Bounce): string {
  return `<${bounce.condition}/>${bounce.type ? ` (${bounce.type})` : ""}${
    bounce.text ? ` "${bounce.text}"` : ""
  }${bounce.from ? ` from ${bounce.from}` : ""}`;
}

async function resolveTarget(
  options: ProbeOptions,
  timeoutMs: number,
  transcript: Transcript,
): Promise<{ urls: string[]; domain: string }> {
  const target = options.target.trim();
  if (/^wss?:\/\//i.test(target)) {
    const url = parseUrl(target);
    return { urls: [url.href], domain: url.hostname.replace(/^\[|\]$/g, "") };
  }
  let origin: URL;
  if (/^https?:\/\//i.test(target)) origin = parseUrl(target);
  else if (/^[A-Za-z0-9.-]+(?::\d{1,5})?$/.test(target)) origin = parseUrl(`https://${target}`);
  else throw new Error(`Not a ws:/wss: URL or a domain: '${target}'`);
  if (origin.protocol === "http:" && !options.allowInsecure) {
    throw new Error("Discovery over http: is refused (XEP-0156): use https: or --allow-insecure");
  }
  transcript.note(`discovering WebSocket endpoints of ${origin.origin} (XEP-0156)`);
  const { xrd, jrd, candidates } = await discover(origin.origin, timeoutMs, options.caCerts);
  for (const doc of [jrd, xrd]) {
    const what = doc.status === undefined ? `failed: ${doc.error}` : `HTTP ${doc.status}`;
    const links = doc.websocketLinks.length ? `; websocket: ${doc.websocketLinks.join(" ")}` : "";
    transcript.note(`GET ${doc.url}: ${what}${doc.problem ? ` (${doc.problem})` : ""}${links}`);
  }
  const usable = candidates.filter((url) =>
    url.startsWith("wss:") || (options.allowInsecure === true && url.startsWith("ws:"))
  );
  for (const url of candidates) {
    if (!usable.includes(url)) {
      transcript.note(`skipped ${url} (only wss: without --allow-insecure)`);
    }
  }
  if (usable.length === 0) throw new Error(`No usable WebSocket endpoint found for ${origin.host}`);
  return { urls: usable, domain: origin.hostname };
}

function parseUrl(text: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new Error(`Invalid URL: '${text}'`);
  }
}

/**
 * Whether `hostname` is a loopback name or address.
 *
 * @example
 * ```ts
 * import { isLoopback } from "./probe.ts";
 * console.log(isLoopback("127.0.0.1"), isLoopback("[::1]"), isLoopback("example.com")); // true true false
 * ```
 */
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return host === "localhost" || host === "::1" || /^127\./.test(host) ||
    /^::ffff:127\./.test(host);
}

function randomHex(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}
