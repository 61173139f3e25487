/**
 * Starts the embedded XMPP server behind the WebSocket endpoint (the default of `deno task
 * start` when no `--upstream` is given).
 *
 * @module
 */

import type { GatewayOptions } from "./options.ts";
import type { Logger } from "./_log.ts";
import type { XmppServer } from "./_types.ts";

/** Starts the embedded server; see the README. */
export function startEmbedded(_options: GatewayOptions, _log: Logger): Promise<XmppServer> {
  return Promise.reject(
    new Error("the embedded server is not available in this build yet: give --upstream host:port"),
  );
}
