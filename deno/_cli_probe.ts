/**
 * `probe` (and the raw `send`): connect to an endpoint, given as a `ws:`/`wss:` URL or found by
 * XEP-0156 discovery from a domain, open the stream, optionally log in, bind and send a
 * message, then close; every step lands in a {@link Transcript} with SASL payloads redacted.
 *
 * @example
 * ```ts ignore
 * import { probe } from "./_cli_probe.ts";
 * const report = await probe({ target: "ws://127.0.0.1:5280/xmpp-websocket", domain: "localhost", timeoutMs: 3_000 });
 * console.log(report.exitCode); // 0
 * ```
 * @module
 */

import { escapeAttribute, escapeText } from "../core/mod.ts";
import { discover } from "./_cli_discovery.ts";
import { Transcript, type TranscriptEntry } from "./_cli_transcript.ts";
import { ConnectError, openWebSocket, type RawWebSocket } from "./_cli_ws.ts";
import { StreamStepError, XmppWire } from "./_cli_xmpp.ts";

/** Options of {@link probe}. */
export interface ProbeOptions {
  /** A `ws:`/`wss:` URL, an `https:` origin or a bare domain (both: discovery). */
  readonly target: string;
  /** The `to` of `<open/>` (default: the domain, or the URL's host). */
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
  const domain = options.domain ?? (userAt >= 0 ? options.user!.slice(userAt + 1) : target.domain);
  let socket: RawWebSocket | undefined;
  let protocols: string[] = [];
  let lastError = "no endpoint to try";
  for (const url of target.urls) {
    try {
      const result = await openWebSocket(new URL(url), {
        protocols: ["xmpp"],
        timeoutMs,
        observer: transcript.observer,
        ...(options.origin ? { headers: { Origin: options.origin } } : {}),
        ...(options.caCerts ? { caCerts: options.caCerts } : {}),
      });
      if (result.socket) {
        socket = result.socket;
        protocols = result.headers.filter(([name]) => name === "sec-websocket-protocol")
          .flatMap(([, value]) => value.split(",").map((token) => token.trim()));
        report.url = url;
        break;
      }
      lastError = result.problem ?? `HTTP ${result.status}: not a WebSocket upgrade` +
          (result.body ? ` (${result.body.trim().slice(0, 200)})` : "");
    } catch (error) {
      if (!(error instanceof ConnectError)) throw error;
      lastError = error.message;
    }
    transcript.note(lastError);
  }
  if (!socket) return done(2, lastError);

  if (protocols.length > 0) report.subprotocol = protocols.join(", ");
  try {
    if (protocols.length !== 1 || protocols[0] !== "xmpp") {
      throw new StreamStepError(
        `The server did not select the xmpp subprotocol (${protocols.join(", ") || "none"}): ` +
          "a client must close (RFC 7395 §3.1, digest #4)",
      );
    }
    transcript.note(`subprotocol: xmpp; opening the stream to ${domain}`);
    const wire = new XmppWire(socket, timeoutMs);
    const opened = await wire.openStream(domain);
    if (opened.open.attrs.id) report.streamId = opened.open.attrs.id;
    if (options.user !== undefined && options.password !== undefined) {
      const username = userAt >= 0 ? options.user.slice(0, userAt) : options.user;
      const secure = report.url!.startsWith("wss:") || isLoopback(new URL(report.url!).hostname);
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
        await wire.send(
          `<message xmlns='jabber:client' to='${escapeAttribute(to)}' type='${
            escapeAttribute(type)
          }' id='${randomHex(6)}'><body>${escapeText(body)}</body></message>`,
        );
      }
    }
    const code = await wire.closeStream();
    transcript.note(`closed (WebSocket close code ${code ?? "none"})`);
    return done(0);
  } catch (error) {
    if (!(error instanceof StreamStepError)) throw error;
    return done(1, error.message);
  } finally {
    await socket.shutdown(Math.min(timeoutMs, 1_000));
  }
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
 * import { isLoopback } from "./_cli_probe.ts";
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
