/**
 * What the client does with each element of the stream (private to the client reducer):
 * stream features drive the login (SASL, then after the restart either XEP-0198 resumption or
 * binding, the legacy session and XEP-0198 enabling); XEP-0198 nonzas update the counters;
 * stanzas are counted, matched with iq requests, answered (XEP-0199 ping) or handed to the
 * application.
 *
 * @module
 */

import { childElement, type XmlElement } from "../xml/element.ts";
import { NS } from "../xmpp/namespaces.ts";
import { type AuthStep, continueAuth, startAuth } from "./auth.ts";
import { bindRequest, readBindResult, sessionRequest, sessionRequired } from "./bind.ts";
import { authFailureAdvice, type ReconnectAdvice } from "./errors.ts";
import { matchIqResponse } from "./iq.ts";
import {
  smAcknowledge,
  smAnswer,
  smCountInbound,
  smEnable,
  smEnabled,
  smOffered,
  smRequest,
  smResume,
  smResumed,
  smResumeFailed,
} from "./sm.ts";
import { iqResultFor } from "./stanzas.ts";
import { isStanza } from "../xmpp/stanza.ts";
import { stanzaErrorCondition } from "../xmpp/stanza_errors.ts";
import type { Stepper } from "./_stepper.ts";

/** Handles one element from the server (the core session has already vetted it). */
export function streamElement(st: Stepper, el: XmlElement): void {
  if (el.name === "features" && el.ns === NS.STREAMS) return features(st, el);
  if (el.ns === NS.SASL) return sasl(st, el);
  if (el.ns === NS.SM) return streamManagement(st, el);
  if (isStanza(el)) return stanza(st, el);
  // Other first-level elements are ignored (RFC 6120 §4.8.4 allows it).
}

function violation(st: Stepper, text: string): void {
  st.endConnection(
    { kind: "connection", reason: "protocol-violation", text, reconnect: "backoff" },
    { type: "fail", condition: "undefined-condition", text },
  );
}

// ---- login ------------------------------------------------------------------------------

function features(st: Stepper, el: XmlElement): void {
  const c = st.c!;
  c.features = el;
  if (c.stage === "opening") {
    c.stage = "authenticating";
    const config = st.s.config;
    return authStep(
      st,
      startAuth(el, {
        ...(config.username !== undefined ? { username: config.username } : {}),
        ...(config.password !== undefined ? { password: config.password } : {}),
        anonymous: config.anonymous,
        secure: c.secure,
        loopback: c.loopback,
        allowPlain: config.allowPlain,
      }, st.random),
    );
  }
  if (c.stage === "restarting") return afterAuth(st, el);
  // Features at any other time are not meaningful to this client: ignored.
}

function sasl(st: Stepper, el: XmlElement): void {
  const c = st.c!;
  if (c.stage !== "authenticating" || c.auth === undefined) {
    return violation(st, `unexpected SASL <${el.name}/> outside authentication`);
  }
  authStep(st, continueAuth(c.auth, el));
}

function authStep(st: Stepper, next: AuthStep): void {
  const c = st.c!;
  switch (next.type) {
    case "send":
      c.auth = next.state;
      return st.sendRaw(next.element);
    case "success":
      // Verified (SCRAM server signature included): restart the stream (RFC 7395 §3.7).
      c.auth = next.state;
      c.stage = "restarting";
      return st.session({ type: "restart-stream", now: st.now });
    case "failure":
      return st.endConnection({
        kind: "auth-failed",
        condition: next.condition,
        ...(next.text !== undefined ? { text: next.text } : {}),
        reconnect: authFailureAdvice(next.condition),
      }, { type: "close" });
  }
}

function afterAuth(st: Stepper, el: XmlElement): void {
  const s = st.s;
  const sm = s.sm;
  const expired = sm?.max !== undefined && s.smLostAt !== undefined &&
    st.now - s.smLostAt > sm.max * 1000;
  if (sm?.resumable && s.config.streamManagement && smOffered(el) && !expired) {
    st.c!.stage = "resuming";
    return st.sendRaw(smResume(sm));
  }
  if (sm) {
    st.dropSm("resume-failed");
    st.failSentIqs("session-lost");
  }
  bind(st, el);
}

function bind(st: Stepper, features: XmlElement): void {
  const c = st.c!;
  if (!childElement(features, "bind", NS.BIND)) {
    return st.endConnection(
      { kind: "bind-failed", condition: "not-offered", reconnect: "never" },
      { type: "close" },
    );
  }
  c.pendingId = st.nextId();
  c.stage = "binding";
  st.sendRaw(bindRequest(c.pendingId, st.s.config.resource));
}

function bindAdvice(condition: string): ReconnectAdvice {
  return ["resource-constraint", "internal-server-error", "remote-server-timeout"].includes(
      condition,
    )
    ? "backoff"
    : "never";
}

function ownAnswer(st: Stepper, iq: XmlElement): void {
  const c = st.c!;
  c.pendingId = undefined;
  if (c.stage === "binding") {
    const result = readBindResult(iq);
    if (!result.ok) {
      return st.endConnection(
        {
          kind: "bind-failed",
          condition: result.condition,
          reconnect: bindAdvice(result.condition),
        },
        { type: "close" },
      );
    }
    st.s.jid = result.jid;
    if (c.features && sessionRequired(c.features)) {
      c.pendingId = st.nextId();
      c.stage = "establishing";
      return st.sendRaw(sessionRequest(c.pendingId, st.s.config.domain));
    }
    return enable(st);
  }
  if (c.stage === "establishing") {
    if (iq.attrs.type === "error") {
      const condition = stanzaErrorCondition(iq) ?? "undefined-condition";
      return st.endConnection(
        { kind: "bind-failed", condition, reconnect: bindAdvice(condition) },
        { type: "close" },
      );
    }
    return enable(st);
  }
}

function enable(st: Stepper): void {
  const c = st.c!;
  if (st.s.config.streamManagement && c.features && smOffered(c.features)) {
    c.stage = "enabling";
    return st.sendRaw(smEnable(true));
  }
  st.goOnline(false);
}

// ---- XEP-0198 ---------------------------------------------------------------------------

function streamManagement(st: Stepper, el: XmlElement): void {
  const c = st.c!;
  const s = st.s;
  switch (el.name) {
    case "enabled":
      if (c.stage !== "enabling") return;
      s.sm = smEnabled(el);
      c.smActive = true;
      return st.goOnline(false);
    case "failed":
      if (c.stage === "enabling") return st.goOnline(false);
      if (c.stage === "resuming" && s.sm) {
        const { delivered, lost } = smResumeFailed(s.sm, el);
        if (delivered.length > 0) st.out.push({ type: "stanzas-acked", elements: delivered });
        s.sm = { ...s.sm, unacked: lost };
        st.dropSm("resume-failed");
        st.failSentIqs("session-lost");
        return bind(st, c.features!);
      }
      return;
    case "resumed": {
      if (c.stage !== "resuming" || !s.sm) return;
      const result = smResumed(s.sm, el);
      if (!result.ok) return violation(st, `XEP-0198 <resumed/>: ${result.text}`);
      const acked = s.sm.unacked.slice(0, s.sm.unacked.length - result.resend.length);
      if (acked.length > 0) st.out.push({ type: "stanzas-acked", elements: acked });
      s.sm = result.sm;
      c.smActive = true;
      // Resend what the server did not get; the stanzas stay queued until acknowledged.
      for (const stanza of result.resend) st.sendRaw(stanza);
      if (result.resend.length > 0 && st.c === c) {
        s.sm = { ...s.sm, requested: true };
        st.sendRaw(smRequest());
      }
      if (st.c === c) st.goOnline(true);
      return;
    }
    case "r":
      if (c.smActive && s.sm && st.streamWritable()) st.sendRaw(smAnswer(s.sm));
      return;
    case "a": {
      if (!c.smActive || !s.sm) return;
      const result = smAcknowledge(s.sm, el.attrs.h);
      if (!result.ok) return violation(st, `XEP-0198 handled-count-too-high: ${result.text}`);
      s.sm = result.sm;
      if (result.acked.length > 0) st.out.push({ type: "stanzas-acked", elements: result.acked });
      return;
    }
  }
}

// ---- stanzas ----------------------------------------------------------------------------

function stanza(st: Stepper, el: XmlElement): void {
  const c = st.c!;
  const s = st.s;
  if (c.smActive && s.sm) s.sm = smCountInbound(s.sm);
  if (el.name === "iq") {
    const { type, id } = el.attrs;
    if (type === "result" || type === "error") {
      if (id !== undefined && id === c.pendingId) return ownAnswer(st, el);
      if (id !== undefined && id.startsWith(`${c.idPrefix}-`)) return; // our liveness ping
      const matched = matchIqResponse(s.iqs, el, s.jid);
      if (matched) {
        s.iqs = matched.tracker;
        st.armIqTimer();
        st.out.push({ type: "iq-answered", id: matched.matched.id, element: el });
        return;
      }
    } else if (type === "get" && childElement(el, "ping", NS.PING)) {
      // XEP-0199 §4: answer pings (the server's liveness checks) ourselves.
      if (st.streamWritable()) st.transmit(iqResultFor(el));
      return;
    }
  }
  st.out.push({ type: "stanza-received", element: el });
}
