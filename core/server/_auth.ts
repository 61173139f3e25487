/**
 * SASL authentication (RFC 6120 §6) on a connection, through the pure mechanisms of
 * `core/sasl/`: `<auth/>`, `<response/>` and `<abort/>` in, `<challenge/>`, `<success/>` and
 * `<failure/>` out. Mechanisms outside the offer get `invalid-mechanism` (PLAIN on an insecure,
 * non-loopback connection: `encryption-required`). After `maxAuthAttempts` failures the stream
 * ends with `policy-violation`. On `<success/>` the client restarts the stream (the session
 * reducer enforces it) and gets the post-authentication features.
 *
 * @example
 * ```ts
 * import { saslFailure } from "./_auth.ts";
 * console.log(saslFailure("not-authorized").children.length); // 1
 * ```
 * @module
 */

import { element, textOf, type XmlElement } from "../xml/element.ts";
import { NS } from "../namespaces.ts";
import { continueSaslServer, startSaslServer } from "../sasl/mod.ts";
import type { SaslFailureCondition, SaslServerContext, SaslServerResult } from "../sasl/types.ts";
import type { Context } from "./_context.ts";
import { offeredMechanisms } from "./features.ts";
import { teardown } from "./_lifecycle.ts";
import type { HubConnection } from "./types.ts";

/**
 * A SASL `<failure/>` element.
 *
 * @example
 * ```ts
 * import { saslFailure } from "./_auth.ts";
 * console.log(saslFailure("aborted", "bye").children.length); // 2
 * ```
 */
export function saslFailure(condition: SaslFailureCondition, text?: string): XmlElement {
  const children = [element(condition, NS.SASL)];
  if (text) children.push(element("text", NS.SASL, { "xml:lang": "en" }, [text]));
  return element("failure", NS.SASL, {}, children);
}

/** Handles an element in the SASL namespace. */
export function saslElement(ctx: Context, conn: HubConnection, el: XmlElement): void {
  if (conn.stage !== "connected") {
    ctx.fail(conn.id, "policy-violation", "Already authenticated");
    return teardown(ctx, conn.id, false);
  }
  const plainAllowed = conn.secure || conn.loopback;
  const sasl: SaslServerContext = {
    lookup: (username) => ctx.accounts.get(username.toLowerCase()),
    nonce: ctx.random,
    plainAllowed,
    anonymousAllowed: false,
    secret: ctx.config.saslSecret,
    domain: ctx.domain,
  };
  const payload = textOf(el).trim();
  let result: SaslServerResult;
  if (el.name === "auth") {
    const mechanism = el.attrs.mechanism ?? "";
    if (!(offeredMechanisms(plainAllowed) as readonly string[]).includes(mechanism)) {
      const condition = mechanism === "PLAIN" ? "encryption-required" : "invalid-mechanism";
      return failed(ctx, conn, { type: "failure", condition }, mechanism);
    }
    result = startSaslServer(mechanism, payload, sasl);
  } else if (el.name === "response" && conn.sasl) {
    result = continueSaslServer(conn.sasl, payload, sasl);
  } else if (el.name === "abort") {
    result = { type: "failure", condition: "aborted" };
  } else {
    result = { type: "failure", condition: "malformed-request", text: `Unexpected <${el.name}/>` };
  }
  if (result.type === "challenge") {
    ctx.updateConnection(conn.id, { sasl: result.state });
    return ctx.send(conn.id, element("challenge", NS.SASL, {}, [result.data || "="]));
  }
  const account = result.type === "success" && result.username !== undefined
    ? ctx.accounts.get(result.username.toLowerCase())
    : undefined;
  if (result.type === "failure" || !account) {
    const failure = result.type === "failure"
      ? result
      : { type: "failure", condition: "not-authorized" } as const;
    return failed(ctx, conn, failure, conn.sasl?.mechanism ?? el.attrs.mechanism ?? "");
  }
  const mechanism = conn.sasl?.mechanism ?? el.attrs.mechanism ?? "";
  ctx.updateConnection(conn.id, {
    stage: "authenticated",
    username: account.username,
    sasl: undefined,
  });
  ctx.send(conn.id, element("success", NS.SASL, {}, result.data ? [result.data] : []));
  const jid = `${account.username}@${ctx.domain}`;
  ctx.log("info", "authenticated", { connId: conn.id, jid, text: mechanism });
}

function failed(
  ctx: Context,
  conn: HubConnection,
  failure: Extract<SaslServerResult, { type: "failure" }>,
  mechanism: string,
): void {
  const failures = conn.authFailures + 1;
  ctx.updateConnection(conn.id, { sasl: undefined, authFailures: failures });
  ctx.send(conn.id, saslFailure(failure.condition, failure.text));
  ctx.log("warn", "auth-failed", { connId: conn.id, text: `${mechanism}: ${failure.condition}` });
  if (failures >= ctx.config.maxAuthAttempts) {
    ctx.fail(conn.id, "policy-violation", "Too many failed authentication attempts");
    teardown(ctx, conn.id, false);
  }
}
