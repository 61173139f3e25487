/**
 * SASL authentication (RFC 6120 §6) on a connection, through the pure mechanisms of
 * `core/sasl/`: `<auth/>`, `<response/>` and `<abort/>` in, `<challenge/>`, `<success/>` and
 * `<failure/>` out. Mechanisms outside the offer get `invalid-mechanism` (PLAIN on an insecure,
 * non-loopback connection: `encryption-required`). After `maxAuthAttempts` failures the stream
 * ends with `policy-violation`. On `<success/>` the client restarts the stream (the session
 * reducer enforces it) and gets the post-authentication features.
 *
 * Failed logins are counted per client address and per account (`login_limits.ts`): while
 * either is in back-off, an attempt gets `temporary-auth-failure` before any password work
 * (checked at `<auth/>` for the address, and as soon as the username is known for the account:
 * PLAIN's message, SCRAM's client-first message). Only `not-authorized` counts as a failure.
 * PLAIN's PBKDF2 runs in the step (`plainDerivation: "inline"`) or in the adapter (`"adapter"`:
 * a `derive-key` output, answered by a `key-derived` input; nothing else SASL is accepted from
 * the connection meanwhile).
 *
 * @example
 * ```ts
 * import { saslFailure } from "./_auth.ts";
 * console.log(saslFailure("not-authorized").children.length); // 1
 * ```
 * @module
 */

import { element, textOf, type XmlElement } from "../xml/element.ts";
import { NS } from "../xmpp/namespaces.ts";
import {
  beginPlainServer,
  continueSaslServer,
  pbkdf2,
  plainServerFinish,
  startSaslServer,
} from "../sasl/mod.ts";
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
  if (conn.pendingPlain) {
    ctx.fail(conn.id, "policy-violation", "Wait for the outcome of the authentication");
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
    if (refused(ctx, conn, undefined, mechanism)) return;
    if (mechanism === "PLAIN" && payload !== "") return plain(ctx, conn, payload, sasl);
    result = startSaslServer(mechanism, payload, sasl);
  } else if (el.name === "response" && conn.sasl) {
    if (conn.sasl.mechanism === "PLAIN") return plain(ctx, conn, payload, sasl);
    result = continueSaslServer(conn.sasl, payload, sasl);
  } else if (el.name === "abort") {
    result = { type: "failure", condition: "aborted" };
  } else {
    result = { type: "failure", condition: "malformed-request", text: `Unexpected <${el.name}/>` };
  }
  const mechanism = conn.sasl?.mechanism ?? el.attrs.mechanism ?? "";
  if (result.type === "challenge") {
    // SCRAM's client-first message names the account: one in back-off is refused here.
    const username = result.state.data.username;
    if (username !== undefined && refused(ctx, conn, username, mechanism)) return;
    ctx.updateConnection(conn.id, { sasl: result.state });
    return ctx.send(conn.id, element("challenge", NS.SASL, {}, [result.data || "="]));
  }
  conclude(ctx, conn, result, mechanism, conn.sasl?.data.username);
}

/**
 * The adapter's answer to a `derive-key` output: finishes the PLAIN verification it was for
 * (ignored when the connection is gone or the id is not the one awaited).
 */
export function plainDerived(ctx: Context, connId: string, id: string, key: Uint8Array): void {
  const conn = ctx.connections.get(connId);
  const waiting = conn?.pendingPlain;
  if (!conn || waiting?.id !== id) return;
  ctx.updateConnection(connId, { pendingPlain: undefined });
  const current = ctx.connections.get(connId)!;
  const result = plainServerFinish(waiting.pending, key);
  conclude(ctx, current, result, "PLAIN", waiting.pending.username);
}

/** PLAIN from its message (in `<auth/>`, or the `<response/>` after an empty challenge). */
function plain(ctx: Context, conn: HubConnection, payload: string, sasl: SaslServerContext): void {
  const begun = beginPlainServer(payload, sasl);
  if (begun.type === "failure") return conclude(ctx, conn, begun, "PLAIN", undefined);
  const { pending, derivation } = begun;
  if (refused(ctx, conn, pending.username, "PLAIN")) return;
  if (ctx.config.plainDerivation === "inline") {
    const { hash, password, salt, iterations, length } = derivation;
    const key = pbkdf2(hash, password, salt, iterations, length);
    return conclude(ctx, conn, plainServerFinish(pending, key), "PLAIN", pending.username);
  }
  const id = ctx.random;
  ctx.updateConnection(conn.id, { sasl: undefined, pendingPlain: { id, pending } });
  ctx.outputs.push({ type: "derive-key", connId: conn.id, id, derivation });
}

/** Whether the failed-login limits refuse this attempt now (answered `temporary-auth-failure`). */
function refused(
  ctx: Context,
  conn: HubConnection,
  username: string | undefined,
  mechanism: string,
): boolean {
  const until = ctx.logins.refusedUntil(conn.address, username, ctx.now);
  if (until === undefined) return false;
  ctx.log("warn", "limit-auth", {
    connId: conn.id,
    text: `refused for ${Math.ceil((until - ctx.now) / 1000)} s more`,
  });
  failed(
    ctx,
    conn,
    {
      type: "failure",
      condition: "temporary-auth-failure",
      text: "Too many failed logins: try again later",
    },
    mechanism,
  );
  return true;
}

/** The outcome of an exchange: `<success/>`, or a failure (counted when `not-authorized`). */
function conclude(
  ctx: Context,
  conn: HubConnection,
  result: SaslServerResult,
  mechanism: string,
  username: string | undefined,
): void {
  const account = result.type === "success" && result.username !== undefined
    ? ctx.accounts.get(result.username.toLowerCase())
    : undefined;
  if (result.type !== "success" || !account) {
    const failure = result.type === "failure"
      ? result
      : { type: "failure", condition: "not-authorized" } as const;
    if (failure.condition === "not-authorized") ctx.logins.failed(conn.address, username, ctx.now);
    return failed(ctx, conn, failure, mechanism);
  }
  ctx.logins.succeeded(account.username);
  ctx.updateConnection(conn.id, {
    stage: "authenticated",
    username: account.username,
    sasl: undefined,
  });
  ctx.send(conn.id, element("success", NS.SASL, {}, result.data ? [result.data] : []));
  ctx.outputs.push({ type: "authenticated", connId: conn.id });
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
