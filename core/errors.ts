/**
 * Errors thrown for misuse of the core's API (a programming error). Misbehaving peers never
 * cause a throw; they produce outputs.
 *
 * @example
 * ```ts
 * import { XmppUsageError } from "@xmpp-websocket/xmpp-websocket/session";
 * import { assertEquals } from "@std/assert";
 * const error = new XmppUsageError("send-element", "open", "the stream is closing");
 * assertEquals(error.message, "Cannot send-element while the session is open: the stream is closing");
 * ```
 * @module
 */

/** The application asked the core for something the current state does not allow. */
export class XmppUsageError extends Error {
  /** The input that was refused. */
  readonly input: string;
  /** The session phase at the time. */
  readonly phase: string;

  /** Reports `input`, refused in `phase` for `reason`. */
  constructor(input: string, phase: string, reason: string) {
    super(`Cannot ${input} while the session is ${phase}: ${reason}`);
    this.name = "XmppUsageError";
    this.input = input;
    this.phase = phase;
  }
}
