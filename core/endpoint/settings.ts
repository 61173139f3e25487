/**
 * The endpoint settings every runtime derives the same way from its options, validated before
 * anything listens: path, ping interval, security, the sessions' configuration, the Origin
 * policy and the trusted proxies with their forwarded-address header.
 *
 * @example
 * ```ts
 * import { endpointSettings } from "./settings.ts";
 * const settings = endpointSettings({ session: { domains: ["localhost"] } });
 * console.log(settings.path, settings.pingIntervalMs, settings.secure); // "/xmpp-websocket" 25000 false
 * ```
 * @module
 */

import { createSession, type SessionConfig } from "../session/mod.ts";
import { type TrustPolicy, trustPolicy } from "../http/forwarded.ts";
import { Admission } from "../http/admission.ts";
import { normalizeOrigins, type OriginPolicy } from "../http/upgrade.ts";
import type { EndpointOptions, XmppApplication } from "./types.ts";

/** The derived settings. */
export interface EndpointSettings {
  readonly path: string;
  readonly pingIntervalMs: number;
  readonly secure: boolean;
  readonly config: SessionConfig;
  readonly policy: OriginPolicy;
  readonly application: XmppApplication;
  /** The trusted proxies and the forwarded-address header believed from them. */
  readonly trusted: TrustPolicy;
  /** Admission control of upgrades. */
  readonly admission: Admission;
  /** The outbound byte budget of each connection. */
  readonly outbound: { readonly maxBufferedBytes: number; readonly slowReaderGraceMs: number };
}

/** The default outbound byte budget of a connection (see `OutboundLimits`). */
export const OUTBOUND_DEFAULTS = { maxBufferedBytes: 4 << 20, slowReaderGraceMs: 10_000 } as const;

/**
 * Validates the options and derives the settings. Throws `RangeError` on invalid options.
 *
 * @example
 * ```ts
 * import { endpointSettings } from "./settings.ts";
 * try { endpointSettings({ pingIntervalMs: 90_000 }); } catch (e) { console.log((e as Error).name); } // "RangeError"
 * ```
 */
export function endpointSettings(options: Omit<EndpointOptions, "attach">): EndpointSettings {
  const pingIntervalMs = options.pingIntervalMs ?? 25_000;
  if (!(pingIntervalMs >= 0 && pingIntervalMs < 60_000)) {
    throw new RangeError(
      `Invalid pingIntervalMs ${pingIntervalMs}: expected 0 (off) or a positive number of ms below 60 000`,
    );
  }
  if ((options.cert === undefined) !== (options.key === undefined)) {
    throw new RangeError("Invalid TLS options: give both 'cert' and 'key', or neither");
  }
  const outbound = { ...OUTBOUND_DEFAULTS, ...withoutUndefined(options.outbound ?? {}) };
  if (
    !(Number.isInteger(outbound.maxBufferedBytes) && outbound.maxBufferedBytes >= 1) ||
    !(outbound.slowReaderGraceMs >= 0 && Number.isFinite(outbound.slowReaderGraceMs))
  ) {
    throw new RangeError(
      `Invalid outbound limits: maxBufferedBytes ${outbound.maxBufferedBytes}, slowReaderGraceMs ${outbound.slowReaderGraceMs}`,
    );
  }
  const config: SessionConfig = { ...options.session, role: "server", transport: "websocket" };
  createSession(config); // throws RangeError on a bad session configuration, before listening
  return {
    path: options.path ?? "/xmpp-websocket",
    pingIntervalMs,
    secure: options.secure ?? options.cert !== undefined,
    config,
    policy: {
      allowedOrigins: options.allowedOrigins && normalizeOrigins(options.allowedOrigins),
      allowMissingOrigin: options.allowMissingOrigin ?? true,
    },
    application: options.application ?? {},
    // Throws RangeError on a bad proxy address or header name, before listening.
    trusted: trustPolicy(options.trustedProxies ?? [], options.forwardedHeader),
    // Throws RangeError on a bad limit, before listening.
    admission: options.admission instanceof Admission
      ? options.admission
      : new Admission(options.admission ?? {}),
    outbound,
  };
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => v !== undefined),
  ) as Partial<T>;
}
