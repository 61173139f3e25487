/**
 * Why a client connection ended, as typed values that say whether reconnecting makes sense:
 * `never` (reconnecting would fail the same way, or must not happen: bad credentials, a
 * conflict, a policy refusal, a downgrade), `backoff` (a transient failure: retry after a
 * capped, jittered delay, resuming the XEP-0198 session when possible) or `redirect` (follow
 * `see-other-uri` at once, within the redirect limit).
 *
 * @example
 * ```ts
 * import { streamErrorAdvice } from "@xmpp-websocket/xmpp-websocket/client-core";
 * import { assertEquals } from "@std/assert";
 * assertEquals(streamErrorAdvice("conflict"), "never");
 * assertEquals(streamErrorAdvice("system-shutdown"), "backoff");
 * ```
 * @module
 */

import type { StreamErrorCondition } from "../stream_errors.ts";
import type { SaslClientFailureReason, SaslFailureCondition } from "../sasl/types.ts";

/** Whether and how to reconnect after an error. */
export type ReconnectAdvice = "never" | "backoff" | "redirect";

/** Why the connection (not the stream) was lost. */
export type ConnectionFailure =
  /** The WebSocket closed (or never opened) without a stream close. */
  | "transport-lost"
  /** The server did not send its stream header in time. */
  | "open-timeout"
  /** Login (SASL, binding, XEP-0198) did not finish in time. */
  | "negotiation-timeout"
  /** The liveness probe went unanswered: the connection is considered dead. */
  | "liveness-timeout"
  /** The server did not answer our `<close/>` in time. */
  | "close-timeout"
  /** The server closed the stream without an error. */
  | "peer-closed"
  /** The server did not negotiate the `xmpp` subprotocol (RFC 7395 §3.1, #4). */
  | "subprotocol"
  /** The server broke XMPP rules (an unexpected element, a bad XEP-0198 count, ...). */
  | "protocol-violation";

/** A typed reason for the end of a connection. */
export type ClientError =
  /** A stream error: sent by the server (`by: "peer"`), or by us about the server's input. */
  | {
    readonly kind: "stream-error";
    readonly by: "peer" | "local";
    readonly condition: StreamErrorCondition;
    readonly text?: string;
    readonly reconnect: ReconnectAdvice;
  }
  /** SASL failed: the server refused (`SaslFailureCondition`), or we refused the server. */
  | {
    readonly kind: "auth-failed";
    readonly condition: SaslFailureCondition | SaslClientFailureReason | "no-mechanism";
    readonly text?: string;
    readonly reconnect: ReconnectAdvice;
  }
  /** Resource binding (or the legacy session) was refused, with the stanza error condition. */
  | {
    readonly kind: "bind-failed";
    readonly condition: string;
    readonly reconnect: ReconnectAdvice;
  }
  /** `<close see-other-uri/>` (RFC 7395 §3.6.1). */
  | {
    readonly kind: "redirect";
    readonly uri: string;
    /** `never` when the target is refused (a downgrade, another transport) or too many hops. */
    readonly reconnect: ReconnectAdvice;
    readonly text?: string;
  }
  | {
    readonly kind: "connection";
    readonly reason: ConnectionFailure;
    /** The WebSocket close code, when the transport closed. */
    readonly code?: number;
    readonly text?: string;
    readonly reconnect: ReconnectAdvice;
  };

/** Stream errors after which reconnecting may succeed (RFC 6120 §4.9.3). */
const TRANSIENT_STREAM_ERRORS: ReadonlySet<StreamErrorCondition> = new Set<StreamErrorCondition>([
  "connection-timeout",
  "internal-server-error",
  "remote-connection-failed",
  "reset",
  "resource-constraint",
  "system-shutdown",
  "undefined-condition",
]);

/**
 * Whether to reconnect after a stream error. Transient conditions (`system-shutdown`,
 * `connection-timeout`, `internal-server-error`, `remote-connection-failed`,
 * `resource-constraint`, `reset`, `undefined-condition`) advise `backoff`; the rest
 * (`conflict`, `not-authorized`, `host-unknown`, `host-gone`, `policy-violation`,
 * `see-other-host` which a WebSocket client cannot follow, the XML and namespace errors, ...)
 * advise `never`.
 *
 * @example
 * ```ts
 * import { streamErrorAdvice } from "@xmpp-websocket/xmpp-websocket/client-core";
 * import { assertEquals } from "@std/assert";
 * assertEquals(streamErrorAdvice("policy-violation"), "never");
 * assertEquals(streamErrorAdvice("connection-timeout"), "backoff");
 * ```
 */
export function streamErrorAdvice(condition: StreamErrorCondition): ReconnectAdvice {
  return TRANSIENT_STREAM_ERRORS.has(condition) ? "backoff" : "never";
}

/**
 * Whether to reconnect after an authentication failure: only `temporary-auth-failure` and
 * `aborted` advise `backoff`; wrong credentials, a weak or missing mechanism, or a server
 * that failed to prove it knows the password (`server-signature-mismatch`) advise `never`.
 *
 * @example
 * ```ts
 * import { authFailureAdvice } from "@xmpp-websocket/xmpp-websocket/client-core";
 * import { assertEquals } from "@std/assert";
 * assertEquals(authFailureAdvice("not-authorized"), "never");
 * assertEquals(authFailureAdvice("temporary-auth-failure"), "backoff");
 * ```
 */
export function authFailureAdvice(
  condition: SaslFailureCondition | SaslClientFailureReason | "no-mechanism",
): ReconnectAdvice {
  return condition === "temporary-auth-failure" || condition === "aborted" ? "backoff" : "never";
}

/**
 * A one-line description of an error, for logs and `Error` messages.
 *
 * @example
 * ```ts
 * import { describeClientError } from "@xmpp-websocket/xmpp-websocket/client-core";
 * import { assertEquals } from "@std/assert";
 * assertEquals(describeClientError({ kind: "stream-error", by: "peer", condition: "conflict", reconnect: "never" }), "stream error from the server: conflict");
 * ```
 */
export function describeClientError(error: ClientError): string {
  const text = "text" in error && error.text ? ` (${error.text})` : "";
  switch (error.kind) {
    case "stream-error":
      return `stream error ${
        error.by === "peer" ? "from the server" : "sent by the client"
      }: ${error.condition}${text}`;
    case "auth-failed":
      return `authentication failed: ${error.condition}${text}`;
    case "bind-failed":
      return `resource binding failed: ${error.condition}`;
    case "redirect":
      return `redirected to ${error.uri}${text}`;
    case "connection":
      return `connection ended: ${error.reason}${
        error.code !== undefined ? ` (code ${error.code})` : ""
      }${text}`;
  }
}
