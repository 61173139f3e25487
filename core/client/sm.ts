/**
 * The client side of XEP-0198 stream management, as pure functions on {@link SmState}:
 * enabling, counting inbound stanzas and answering `<r/>`, keeping the stanzas sent but not yet
 * acknowledged, applying `<a h/>`, resuming (then resending what the server did not get), and
 * telling which stanzas were lost when resumption fails. Counters wrap at 2^32.
 *
 * @example
 * ```ts
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { smAcknowledge, smEnabled, smSent } from "./sm.ts";
 * import { assertEquals } from "@std/assert";
 * let sm = smEnabled(element("enabled", "urn:xmpp:sm:3", { id: "s1", resume: "true" }));
 * sm = smSent(sm, element("message", "jabber:client", { id: "1" }));
 * sm = smSent(sm, element("message", "jabber:client", { id: "2" }));
 * const result = smAcknowledge(sm, "1");
 * assertEquals(result.ok && result.sm.unacked.map((s) => s.attrs.id), ["2"]);
 * ```
 * @module
 */

import { childElement, element, type XmlElement } from "../xml/element.ts";
import { NS } from "../xmpp/namespaces.ts";

/** Stream management state of one session (it outlives connections when resumable). */
export interface SmState {
  /** The resumption id (`<enabled id/>`), when resumption was granted. */
  readonly id: string | undefined;
  /** Whether the server granted resumption. */
  readonly resumable: boolean;
  /** The server's longest resumption time in seconds, if it said. */
  readonly max: number | undefined;
  /** Stanzas received and handled since enabling (the `h` we report). */
  readonly inbound: number;
  /** The server's latest `h`: how many of our stanzas it handled. */
  readonly acked: number;
  /** Stanzas sent but not yet acknowledged, oldest first. */
  readonly unacked: readonly XmlElement[];
  /** Whether our `<r/>` is waiting for its `<a/>`. */
  readonly requested: boolean;
}

/** The result of applying a handled count. */
export type SmAckResult =
  | { readonly ok: true; readonly sm: SmState; readonly acked: readonly XmlElement[] }
  /** The count is not a number, or acknowledges more than was sent. */
  | { readonly ok: false; readonly text: string };

const MOD = 0x1_0000_0000;

/**
 * Whether the features offer XEP-0198 (`<sm xmlns='urn:xmpp:sm:3'/>`).
 *
 * @example
 * ```ts
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { smOffered } from "./sm.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(smOffered(element("features", "http://etherx.jabber.org/streams", {}, [element("sm", "urn:xmpp:sm:3")])), true);
 * ```
 */
export function smOffered(features: XmlElement): boolean {
  return childElement(features, "sm", NS.SM) !== undefined;
}

/**
 * `<enable/>`, asking for resumption when `resume` is set.
 *
 * @example
 * ```ts
 * import { smEnable } from "./sm.ts";
 * import { serialize } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { assertEquals } from "@std/assert";
 * assertEquals(serialize(smEnable(true)), "<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
 * ```
 */
export function smEnable(resume: boolean): XmlElement {
  return element("enable", NS.SM, resume ? { resume: "true" } : {});
}

/**
 * The state after `<enabled/>`: counting starts at zero both ways.
 *
 * @example
 * ```ts
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { smEnabled } from "./sm.ts";
 * import { assertEquals } from "@std/assert";
 * const sm = smEnabled(element("enabled", "urn:xmpp:sm:3", { id: "x", resume: "1", max: "300" }));
 * assertEquals(sm.resumable, true);
 * assertEquals(sm.max, 300);
 * ```
 */
export function smEnabled(enabled: XmlElement): SmState {
  const resume = enabled.attrs.resume === "true" || enabled.attrs.resume === "1";
  const id = enabled.attrs.id;
  const max = /^[0-9]{1,9}$/.test(enabled.attrs.max ?? "") ? Number(enabled.attrs.max) : undefined;
  return {
    id,
    resumable: resume && id !== undefined && id !== "",
    max,
    inbound: 0,
    acked: 0,
    unacked: [],
    requested: false,
  };
}

/**
 * Counts one handled inbound stanza.
 *
 * @example
 * ```ts
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { smCountInbound, smEnabled } from "./sm.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(smCountInbound(smEnabled(element("enabled", "urn:xmpp:sm:3"))).inbound, 1);
 * ```
 */
export function smCountInbound(sm: SmState): SmState {
  return { ...sm, inbound: (sm.inbound + 1) % MOD };
}

/**
 * The answer to the server's `<r/>`: `<a h='inbound'/>`.
 *
 * @example
 * ```ts
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { smAnswer, smEnabled } from "./sm.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(smAnswer(smEnabled(element("enabled", "urn:xmpp:sm:3"))).attrs.h, "0");
 * ```
 */
export function smAnswer(sm: SmState): XmlElement {
  return element("a", NS.SM, { h: String(sm.inbound) });
}

/**
 * `<r/>`: asks the server how many stanzas it handled (also a liveness probe).
 *
 * @example
 * ```ts
 * import { smRequest } from "./sm.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(smRequest().name, "r");
 * ```
 */
export function smRequest(): XmlElement {
  return element("r", NS.SM);
}

/**
 * Records a stanza just sent (it waits for acknowledgement).
 *
 * @example
 * ```ts
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { smEnabled, smSent } from "./sm.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(smSent(smEnabled(element("enabled", "urn:xmpp:sm:3")), element("presence", "jabber:client")).unacked.length, 1);
 * ```
 */
export function smSent(sm: SmState, stanza: XmlElement): SmState {
  return { ...sm, unacked: [...sm.unacked, stanza] };
}

/**
 * Applies a handled count `h` from `<a/>`, `<resumed/>` or `<failed/>`: the stanzas it covers
 * leave the queue. An `h` that is not a 32-bit number, or that counts more stanzas than were
 * sent, is refused (XEP-0198: `undefined-condition` with `<handled-count-too-high/>`).
 *
 * @example
 * ```ts
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { smAcknowledge, smEnabled, smSent } from "./sm.ts";
 * import { assertEquals } from "@std/assert";
 * const sm = smSent(smEnabled(element("enabled", "urn:xmpp:sm:3")), element("message", "jabber:client"));
 * assertEquals(smAcknowledge(sm, "2"), { ok: false, text: "h=2 acknowledges 2 stanzas, but only 1 are unacknowledged" });
 * ```
 */
export function smAcknowledge(sm: SmState, h: string | undefined): SmAckResult {
  if (h === undefined || !/^[0-9]{1,10}$/.test(h) || Number(h) >= MOD) {
    return { ok: false, text: `invalid handled count '${h ?? ""}'` };
  }
  const count = (Number(h) - sm.acked + MOD) % MOD;
  if (count > sm.unacked.length) {
    return {
      ok: false,
      text:
        `h=${h} acknowledges ${count} stanzas, but only ${sm.unacked.length} are unacknowledged`,
    };
  }
  return {
    ok: true,
    sm: { ...sm, acked: Number(h), unacked: sm.unacked.slice(count), requested: false },
    acked: sm.unacked.slice(0, count),
  };
}

/**
 * `<resume previd h/>` for a resumable state. Throws `TypeError` when it is not resumable.
 *
 * @example
 * ```ts
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { smEnabled, smResume } from "./sm.ts";
 * import { assertEquals } from "@std/assert";
 * const sm = smEnabled(element("enabled", "urn:xmpp:sm:3", { id: "abc", resume: "true" }));
 * assertEquals(smResume(sm).attrs, { previd: "abc", h: "0" });
 * ```
 */
export function smResume(sm: SmState): XmlElement {
  if (!sm.resumable || sm.id === undefined) {
    throw new TypeError("This stream management session is not resumable");
  }
  return element("resume", NS.SM, { previd: sm.id, h: String(sm.inbound) });
}

/**
 * Applies `<resumed h/>`: what the server acknowledged leaves the queue, and the rest must be
 * sent again, in order (they stay in the queue, the server counts them anew).
 *
 * @example
 * ```ts
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { smEnabled, smResumed, smSent } from "./sm.ts";
 * import { assertEquals } from "@std/assert";
 * let sm = smEnabled(element("enabled", "urn:xmpp:sm:3", { id: "abc", resume: "true" }));
 * for (const id of ["1", "2", "3"]) sm = smSent(sm, element("message", "jabber:client", { id }));
 * const result = smResumed(sm, element("resumed", "urn:xmpp:sm:3", { previd: "abc", h: "1" }));
 * assertEquals(result.ok && result.resend.map((s) => s.attrs.id), ["2", "3"]);
 * ```
 */
export function smResumed(
  sm: SmState,
  resumed: XmlElement,
):
  | { readonly ok: true; readonly sm: SmState; readonly resend: readonly XmlElement[] }
  | { readonly ok: false; readonly text: string } {
  const result = smAcknowledge(sm, resumed.attrs.h);
  if (!result.ok) return result;
  return { ok: true, sm: result.sm, resend: result.sm.unacked };
}

/**
 * After `<failed/>` in answer to `<resume/>`: the stanzas the server handled (when it gave an
 * `h`, XEP-0198 §4) and those lost, which the application must be told about.
 *
 * @example
 * ```ts
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { smEnabled, smResumeFailed, smSent } from "./sm.ts";
 * import { assertEquals } from "@std/assert";
 * let sm = smEnabled(element("enabled", "urn:xmpp:sm:3", { id: "abc", resume: "true" }));
 * for (const id of ["1", "2"]) sm = smSent(sm, element("message", "jabber:client", { id }));
 * const failed = element("failed", "urn:xmpp:sm:3", { h: "1" });
 * assertEquals(smResumeFailed(sm, failed).lost.map((s) => s.attrs.id), ["2"]);
 * ```
 */
export function smResumeFailed(
  sm: SmState,
  failed: XmlElement,
): { readonly delivered: readonly XmlElement[]; readonly lost: readonly XmlElement[] } {
  if (failed.attrs.h !== undefined) {
    const result = smAcknowledge(sm, failed.attrs.h);
    if (result.ok) return { delivered: result.acked, lost: result.sm.unacked };
  }
  return { delivered: [], lost: sm.unacked };
}
