/**
 * The error thrown when the SASL API is misused (a programming error, such as a server nonce
 * with a comma or a password SASLprep prohibits on the client side). Peer input never throws:
 * it yields a failure result.
 *
 * @example
 * ```ts
 * import { SaslUsageError } from "@xmpp-websocket/xmpp-websocket/sasl";
 * import { assertEquals } from "@std/assert";
 * const error = new SaslUsageError("start SCRAM", "the nonce contains a comma");
 * assertEquals(error.message, "Cannot start SCRAM: the nonce contains a comma");
 * ```
 * @module
 */

/**
 * The caller passed something the SASL layer cannot use.
 *
 * @example
 * ```ts
 * import { SaslUsageError } from "@xmpp-websocket/xmpp-websocket/sasl";
 * import { assertEquals } from "@std/assert";
 * try {
 *   throw new SaslUsageError("start SCRAM", "the nonce is empty");
 * } catch (error) {
 *   assertEquals(error instanceof SaslUsageError && error.reason, "the nonce is empty");
 * }
 * ```
 */
export class SaslUsageError extends Error {
  /** What was being attempted, e.g. `"start SCRAM"`. */
  readonly operation: string;
  /** Why it was refused. */
  readonly reason: string;

  /** Builds the message `Cannot <operation>: <reason>`. */
  constructor(operation: string, reason: string) {
    super(`Cannot ${operation}: ${reason}`);
    this.name = "SaslUsageError";
    this.operation = operation;
    this.reason = reason;
  }
}
