/**
 * Deprecated location of {@link NS}, kept because the root `mod.ts` and a few core modules
 * import it from here: the definition lives in `core/xmpp/namespaces.ts` (import `NS` from
 * `@xmpp-websocket/xmpp-websocket/xmpp`, or from `/session` as before).
 *
 * @example
 * ```ts
 * import { NS } from "@xmpp-websocket/xmpp-websocket/session";
 * import { assertEquals } from "@std/assert";
 * assertEquals(NS.FRAMING, "urn:ietf:params:xml:ns:xmpp-framing");
 * ```
 * @module
 */
export { NS } from "./xmpp/namespaces.ts";
