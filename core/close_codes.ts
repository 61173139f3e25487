/**
 * WebSocket close codes (RFC 6455 §7.4.1, and 1012-1014 from the IANA registry) used by the
 * core when it asks an adapter to close the transport.
 *
 * @example
 * ```ts
 * import { CLOSE_CODES } from "@xmpp-websocket/xmpp-websocket/session";
 * import { assertEquals } from "@std/assert";
 * assertEquals(CLOSE_CODES.MESSAGE_TOO_BIG, 1009);
 * ```
 * @module
 */

/** Close codes by meaning. */
export const CLOSE_CODES = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  UNSUPPORTED_DATA: 1003,
  INVALID_PAYLOAD: 1007,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  SERVICE_RESTART: 1012,
  TRY_AGAIN_LATER: 1013,
  BAD_GATEWAY: 1014,
} as const;

/** A close code the core can emit. */
export type CloseCode = typeof CLOSE_CODES[keyof typeof CLOSE_CODES];
