/**
 * The client's SASL negotiation (RFC 6120 §6) as a pure reducer over `core/sasl`: choose the
 * best mechanism the server offers (SCRAM-SHA-256, then SCRAM-SHA-1, then PLAIN only on `wss`
 * or loopback unless explicitly allowed; ANONYMOUS only when asked for), then answer each
 * `<challenge/>` until `<success/>`, whose SCRAM server signature must verify: a server that
 * cannot prove it knows the password is refused (`server-signature-mismatch`).
 *
 * @example
 * ```ts
 * import { chooseMechanism } from "./auth.ts";
 * import { assertEquals } from "@std/assert";
 * const offered = ["PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256"];
 * assertEquals(chooseMechanism(offered, { username: "u", password: "p", secure: false, loopback: false }), "SCRAM-SHA-256");
 * assertEquals(chooseMechanism(["PLAIN"], { username: "u", password: "p", secure: false, loopback: false }), undefined); // PLAIN in clear text is refused
 * ```
 * @module
 */

import { childElement, childElements, element, textOf, type XmlElement } from "../xml/element.ts";
import { NS } from "../xmpp/namespaces.ts";
import type {
  SaslClientFailureReason,
  SaslFailureCondition,
  SaslMechanismName,
  ScramMechanism,
} from "../sasl/types.ts";
import {
  scramClientContinue,
  type ScramClientFinalState,
  scramClientFinish,
  type ScramClientFirstState,
  scramClientStart,
} from "../sasl/scram_client.ts";
import { plainClientMessage } from "../sasl/plain.ts";
import { anonymousClientMessage } from "../sasl/anonymous.ts";

/** Credentials and the channel's security, which decide the mechanism. */
export interface AuthOptions {
  readonly username?: string;
  readonly password?: string;
  /** Log in anonymously (ANONYMOUS, RFC 4505); only then is ANONYMOUS used. */
  readonly anonymous?: boolean;
  /** The channel is encrypted (`wss:`). */
  readonly secure: boolean;
  /** The server is on a loopback address. */
  readonly loopback: boolean;
  /** Allow PLAIN over an unencrypted, non-loopback channel (default false). */
  readonly allowPlain?: boolean;
}

/** Where an exchange stands. */
export type AuthState =
  | {
    readonly step: "server-first";
    readonly mechanism: ScramMechanism;
    readonly scram: ScramClientFirstState;
  }
  | {
    readonly step: "server-final";
    readonly mechanism: ScramMechanism;
    readonly scram: ScramClientFinalState;
  }
  /** SCRAM server-final came in a `<challenge/>` and verified: only `<success/>` may follow. */
  | { readonly step: "verified"; readonly mechanism: ScramMechanism }
  /** PLAIN or ANONYMOUS sent: only `<success/>` or `<failure/>` may follow. */
  | { readonly step: "outcome"; readonly mechanism: "PLAIN" | "ANONYMOUS" }
  | { readonly step: "done"; readonly mechanism: SaslMechanismName };

/** Why authentication failed. */
export type AuthFailureCondition = SaslFailureCondition | SaslClientFailureReason | "no-mechanism";

/** The result of one negotiation step. */
export type AuthStep =
  /** Send `element` and wait in `state`. */
  | { readonly type: "send"; readonly element: XmlElement; readonly state: AuthState }
  /** Authenticated (and the server verified, for SCRAM): restart the stream. */
  | { readonly type: "success"; readonly state: AuthState }
  /** `by: "server"`: a `<failure/>`; `by: "client"`: we refused the server or found no mechanism. */
  | {
    readonly type: "failure";
    readonly by: "server" | "client";
    readonly condition: AuthFailureCondition;
    readonly text?: string;
  };

/** Mechanisms in order of preference. */
const PREFERENCE: readonly SaslMechanismName[] = ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"];

/**
 * The mechanism names a features element offers (`<mechanisms/>` of RFC 6120 §6.4.1).
 *
 * @example
 * ```ts
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { featureMechanisms } from "./auth.ts";
 * import { assertEquals } from "@std/assert";
 * const sasl = "urn:ietf:params:xml:ns:xmpp-sasl";
 * const features = element("features", "http://etherx.jabber.org/streams", {}, [
 *   element("mechanisms", sasl, {}, [element("mechanism", sasl, {}, [" PLAIN "])]),
 * ]);
 * assertEquals(featureMechanisms(features), ["PLAIN"]);
 * ```
 */
export function featureMechanisms(features: XmlElement): string[] {
  const mechanisms = childElement(features, "mechanisms", NS.SASL);
  if (!mechanisms) return [];
  return childElements(mechanisms, "mechanism", NS.SASL).map((m) => textOf(m).trim());
}

/**
 * The best offered mechanism the options allow; `undefined` when there is none.
 *
 * @example
 * ```ts
 * import { chooseMechanism } from "./auth.ts";
 * import { assertEquals } from "@std/assert";
 * assertEquals(chooseMechanism(["PLAIN", "ANONYMOUS"], { anonymous: true, secure: true, loopback: false }), "ANONYMOUS");
 * assertEquals(chooseMechanism(["PLAIN"], { username: "u", password: "p", secure: true, loopback: false }), "PLAIN");
 * ```
 */
export function chooseMechanism(
  offered: readonly string[],
  options: AuthOptions,
): SaslMechanismName | undefined {
  const set = new Set(offered.map((name) => name.toUpperCase()));
  if (options.anonymous) return set.has("ANONYMOUS") ? "ANONYMOUS" : undefined;
  if (!options.username || !options.password) return undefined;
  const plainAllowed = options.secure || options.loopback || options.allowPlain === true;
  return PREFERENCE.find((name) => set.has(name) && (name !== "PLAIN" || plainAllowed));
}

/**
 * Starts the exchange: picks the mechanism and builds `<auth/>`. `nonce` is a fresh random
 * string (printable ASCII without a comma) used as the SCRAM client nonce.
 *
 * @example
 * ```ts
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { startAuth } from "./auth.ts";
 * import { assertEquals } from "@std/assert";
 * const sasl = "urn:ietf:params:xml:ns:xmpp-sasl";
 * const features = element("features", "http://etherx.jabber.org/streams", {}, [
 *   element("mechanisms", sasl, {}, [element("mechanism", sasl, {}, ["SCRAM-SHA-1"])]),
 * ]);
 * const first = startAuth(features, { username: "user", password: "pencil", secure: true, loopback: false }, "fyko+d2lbbFgONRv9qkxdawL");
 * assertEquals(first.type === "send" && first.element.attrs.mechanism, "SCRAM-SHA-1");
 * ```
 */
export function startAuth(features: XmlElement, options: AuthOptions, nonce: string): AuthStep {
  const offered = featureMechanisms(features);
  const mechanism = chooseMechanism(offered, options);
  if (mechanism === undefined) {
    return {
      type: "failure",
      by: "client",
      condition: "no-mechanism",
      text: `no acceptable mechanism among [${offered.join(", ")}]` +
        (offered.includes("PLAIN") && !options.secure && !options.loopback
          ? " (PLAIN is refused over an unencrypted connection)"
          : ""),
    };
  }
  const auth = (data: string) => element("auth", NS.SASL, { mechanism }, [data]);
  switch (mechanism) {
    case "SCRAM-SHA-256":
    case "SCRAM-SHA-1": {
      const start = scramClientStart(mechanism, options.username!, options.password!, nonce);
      return {
        type: "send",
        element: auth(start.data),
        state: { step: "server-first", mechanism, scram: start.state },
      };
    }
    case "PLAIN":
      return {
        type: "send",
        element: auth(plainClientMessage(options.username!, options.password!)),
        state: { step: "outcome", mechanism },
      };
    case "ANONYMOUS":
      return {
        type: "send",
        element: auth(anonymousClientMessage()),
        state: { step: "outcome", mechanism },
      };
  }
}

/**
 * Answers one element of the SASL namespace from the server (`<challenge/>`, `<success/>`,
 * `<failure/>`). Never throws on server input.
 *
 * @example
 * ```ts
 * import { element } from "@xmpp-websocket/xmpp-websocket/xml";
 * import { continueAuth } from "./auth.ts";
 * import { assertEquals } from "@std/assert";
 * const sasl = "urn:ietf:params:xml:ns:xmpp-sasl";
 * const failure = element("failure", sasl, {}, [element("not-authorized", sasl)]);
 * assertEquals(continueAuth({ step: "outcome", mechanism: "PLAIN" }, failure), { type: "failure", by: "server", condition: "not-authorized" });
 * ```
 */
export function continueAuth(state: AuthState, el: XmlElement): AuthStep {
  if (el.ns !== NS.SASL) return refuse("malformed-challenge", `unexpected <${el.name}/>`);
  if (el.name === "failure") return serverFailure(el);
  const data = textOf(el).trim();
  if (el.name === "challenge") {
    if (state.step === "server-first") {
      const next = scramClientContinue(state.scram, data);
      if (next.type === "failure") return refuse(next.reason, next.text);
      return {
        type: "send",
        element: element("response", NS.SASL, {}, [next.data]),
        state: { step: "server-final", mechanism: state.mechanism, scram: next.state },
      };
    }
    if (state.step === "server-final") {
      // Some servers send server-final in a last challenge, answered by an empty response.
      const verified = scramClientFinish(state.scram, data);
      if (verified.type === "failure") return refuse(verified.reason, verified.text);
      return {
        type: "send",
        element: element("response", NS.SASL),
        state: { step: "verified", mechanism: state.mechanism },
      };
    }
    return refuse("malformed-challenge", `unexpected challenge during ${state.mechanism}`);
  }
  if (el.name === "success") {
    const done = { step: "done", mechanism: state.mechanism } as const;
    if (state.step === "server-final") {
      if (data === "" || data === "=") {
        return refuse("server-signature-mismatch", "success without the SCRAM server signature");
      }
      const verified = scramClientFinish(state.scram, data);
      if (verified.type === "failure") return refuse(verified.reason, verified.text);
      return { type: "success", state: done };
    }
    if (state.step === "verified" || state.step === "outcome") {
      return { type: "success", state: done };
    }
    return refuse("malformed-challenge", "success before the exchange was complete");
  }
  return refuse("malformed-challenge", `unexpected <${el.name}/>`);
}

function refuse(condition: AuthFailureCondition, text: string): AuthStep {
  return { type: "failure", by: "client", condition, text };
}

const SERVER_CONDITIONS: ReadonlySet<string> = new Set<SaslFailureCondition>([
  "aborted",
  "account-disabled",
  "credentials-expired",
  "encryption-required",
  "incorrect-encoding",
  "invalid-authzid",
  "invalid-mechanism",
  "malformed-request",
  "mechanism-too-weak",
  "not-authorized",
  "temporary-auth-failure",
]);

function serverFailure(el: XmlElement): AuthStep {
  let condition: SaslFailureCondition = "not-authorized";
  let text: string | undefined;
  for (const child of childElements(el, undefined, NS.SASL)) {
    if (child.name === "text") text = textOf(child);
    else if (SERVER_CONDITIONS.has(child.name)) condition = child.name as SaslFailureCondition;
  }
  return { type: "failure", by: "server", condition, ...(text !== undefined ? { text } : {}) };
}
