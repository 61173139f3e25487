/**
 * Unit tests of the pure modules of core/client: backoff, HTTP freshness, discovery documents,
 * endpoint policy, SASL negotiation, binding, iq correlation, XEP-0198 state, liveness, error
 * advice and stanza builders.
 */

import { assert, assertEquals, assertThrows } from "@std/assert";
import { element, NS, serialize } from "../../core/mod.ts";
import { chooseMechanism, continueAuth, startAuth } from "../../core/client/auth.ts";
import { backoffCeiling, backoffDelay, randomFraction } from "../../core/client/backoff.ts";
import { bindRequest, readBindResult, sessionRequired } from "../../core/client/bind.ts";
import {
  hostMetaUrls,
  parseJrd,
  parseXrd,
  readHostMeta,
  websocketEndpoints,
} from "../../core/client/discovery.ts";
import { checkEndpoint, isLoopbackHost } from "../../core/client/endpoint.ts";
import {
  authFailureAdvice,
  describeClientError,
  streamErrorAdvice,
} from "../../core/client/errors.ts";
import {
  freshnessLifetime,
  parseCacheControl,
  parseHttpDate,
} from "../../core/client/http_cache.ts";
import {
  createIqTracker,
  expireIqs,
  matchIqResponse,
  nextIqDeadline,
  trackIq,
} from "../../core/client/iq.ts";
import { checkLiveness } from "../../core/client/liveness.ts";
import {
  smAcknowledge,
  smAnswer,
  smCountInbound,
  smEnabled,
  smResume,
  smResumed,
  smResumeFailed,
  smSent,
} from "../../core/client/sm.ts";
import { iqErrorFor, iqStanza } from "../../core/client/stanzas.ts";
import {
  continueSaslServer,
  createStoredAccount,
  type SaslServerContext,
  startSaslServer,
} from "../../core/sasl/mod.ts";
import { parse } from "./_harness.ts";

Deno.test("backoff: capped exponential ceilings, full jitter, fraction from a random string", () => {
  assertEquals([0, 1, 2, 3, 4, 10].map((n) => backoffCeiling(n)), [
    1_000,
    2_000,
    4_000,
    8_000,
    16_000,
    60_000,
  ]);
  assertEquals(backoffDelay(3, 0.25, { baseMs: 100, maxMs: 500 }), 125);
  assertEquals(backoffDelay(0, 0), 0);
  assertThrows(() => backoffDelay(0, 1), RangeError);
  assertThrows(() => backoffDelay(-1, 0.5), RangeError);
  assertThrows(() => backoffCeiling(0, { baseMs: 10, maxMs: 5 }), RangeError);
  assertEquals(randomFraction("00000000-ffff"), 0);
  assertEquals(randomFraction("c0000000"), 0.75);
  assertEquals(randomFraction("g-8"), 0.5); // padded with zeros
  assert(randomFraction(crypto.randomUUID()) < 1);
});

Deno.test("http cache: no-store, max-age, Expires relative to Date, Age, bounds; HTTP dates", () => {
  assertEquals(freshnessLifetime({}, 0), 0);
  assertEquals(freshnessLifetime({}, 0, { defaultMs: 5_000 }), 5_000);
  assertEquals(freshnessLifetime({ cacheControl: "max-age=10, no-cache" }, 0), 0);
  assertEquals(freshnessLifetime({ cacheControl: "max-age=10", age: "4" }, 0), 6_000);
  assertEquals(freshnessLifetime({ cacheControl: "max-age=999999" }, 0), 86_400_000);
  assertEquals(freshnessLifetime({ cacheControl: "max-age=x", expires: "0" }, 0), 0);
  const date = "Wed, 21 Oct 2015 07:28:00 GMT";
  const expires = "Wed, 21 Oct 2015 08:28:00 GMT";
  assertEquals(freshnessLifetime({ date, expires }, 0), 3_600_000);
  const now = parseHttpDate(date)!;
  assertEquals(freshnessLifetime({ expires }, now + 600_000), 3_000_000);
  assertEquals(freshnessLifetime({ expires: date }, now + 1), 0);
  assertEquals(parseHttpDate(date), 1445412480000);
  assertEquals(parseHttpDate("Wed Oct 21 07:28:00 2015"), 1445412480000);
  assertEquals(parseHttpDate("Wednesday, 21-Oct-15 07:28:00 GMT"), 1445412480000);
  assertEquals(parseHttpDate("Wed, 29 Feb 2024 00:00:00 GMT"), 1709164800000);
  assertEquals(parseHttpDate("Wed, 21 Foo 2015 07:28:00 GMT"), undefined);
  assertEquals(parseHttpDate("Wed, 21 Oct 2015 25:28:00 GMT"), undefined);
  assertEquals([...parseCacheControl('no-cache="x", MAX-AGE=5, max-age=9')], [
    ["no-cache", "x"],
    ["max-age", "5"],
  ]);
});

Deno.test("discovery documents: URLs, responses (HTTPS only, redirects, types), XRD and JRD, endpoints", () => {
  assertEquals(hostMetaUrls("Example.org."), {
    xrd: "https://example.org/.well-known/host-meta",
    jrd: "https://example.org/.well-known/host-meta.json",
  });
  for (const bad of ["a/b", "user@x", "x:443", "", "a b", "[::1]"]) {
    assertThrows(() => hostMetaUrls(bad), RangeError, undefined, bad);
  }
  const base = { format: "xrd" as const, url: "https://example.org/.well-known/host-meta" };
  assertEquals(readHostMeta({ ...base, url: "http://example.org/x", status: 200 }).type, "refused");
  assertEquals(readHostMeta({ ...base, status: 307, location: "/other" }), {
    type: "redirect",
    url: "https://example.org/other",
  });
  assertEquals(readHostMeta({ ...base, status: 302 }).type, "refused");
  assertEquals(readHostMeta({ ...base, status: 404 }), { type: "none" });
  assertEquals(readHostMeta({ ...base, status: 500 }).type, "refused");
  assertEquals(readHostMeta({ ...base, status: 200, body: "<html/>" }).type, "refused");
  const json = JSON.stringify({ links: [{ rel: "r", href: "h" }] });
  assertEquals(
    readHostMeta({ ...base, format: "jrd", status: 200, contentType: "text/html", body: json })
      .type,
    "refused",
  );
  assertEquals(
    readHostMeta({
      ...base,
      format: "jrd",
      status: 200,
      contentType: "application/json; charset=utf-8",
      body: json,
    }),
    { type: "links", links: [{ rel: "r", href: "h" }] },
  );
  // XRD: BOM, declaration with standalone, comments tolerated; DTDs are not.
  const xrd = "\uFEFF<?xml version='1.0' standalone='yes'?>\n<!-- hi -->" +
    "<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'><Link rel='a' href='b'/>" +
    "<Link rel='no-href'/><Other rel='x' href='y'/></XRD>";
  assertEquals(parseXrd(xrd), [{ rel: "a", href: "b" }]);
  assertEquals(parseXrd("<XRD/>"), undefined);
  assertEquals(
    parseXrd(
      "<!DOCTYPE x [<!ENTITY a 'b'>]><XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'/>",
    ),
    undefined,
  );
  assertEquals(parseJrd("{}"), []);
  assertEquals(parseJrd("nope"), undefined);
  assertEquals(parseJrd('{"links":[{"rel":1,"href":"x"},null,{"rel":"a","href":"b"}]}'), [
    { rel: "a", href: "b" },
  ]);
  const rel = "urn:xmpp:alt-connections:websocket";
  const links = [
    { rel, href: " wss://A.example/ws#frag " },
    { rel, href: "ws://127.0.0.1/ws" },
    { rel, href: "https://a.example/bosh" },
    { rel: "urn:xmpp:alt-connections:xbosh", href: "wss://bosh.example/" },
    { rel, href: "wss://user:pw@a.example/" },
  ];
  assertEquals(websocketEndpoints(links), ["wss://a.example/ws"]);
  assertEquals(websocketEndpoints(links, { allowInsecure: true }), [
    "wss://a.example/ws",
    "ws://127.0.0.1/ws",
  ]);
});

Deno.test("endpoint policy: wss always, ws on loopback or when allowed, nothing else", () => {
  assertEquals(checkEndpoint("wss://x/ws"), {
    ok: true,
    url: "wss://x/ws",
    secure: true,
    loopback: false,
  });
  assertEquals(checkEndpoint("ws://localhost:5280/").ok, true);
  assertEquals(checkEndpoint("ws://127.0.0.1/", { allowLoopback: false }).ok, false);
  assertEquals(checkEndpoint("ws://x/").ok, false);
  assertEquals(checkEndpoint("ws://x/", { allowInsecure: true }).ok, true);
  assertEquals(checkEndpoint("http://x/").ok, false);
  assertEquals(checkEndpoint("not a url").ok, false);
  for (const host of ["localhost", "a.localhost", "127.0.0.1", "127.255.0.9", "[::1]"]) {
    assert(isLoopbackHost(host), host);
  }
  for (const host of ["example.com", "128.0.0.1", "localhost.example", "[::2]"]) {
    assert(!isLoopbackHost(host), host);
  }
});

function saslServer(password: string) {
  const account = createStoredAccount("juliet", password, new Uint8Array(16).fill(3), 4096);
  const ctx: SaslServerContext = {
    lookup: (name) => name === "juliet" ? account : undefined,
    nonce: "server-nonce-0123456789",
    plainAllowed: true,
    anonymousAllowed: true,
  };
  return ctx;
}

const features = (...names: string[]) =>
  element("features", NS.STREAMS, {}, [
    element("mechanisms", NS.SASL, {}, names.map((n) => element("mechanism", NS.SASL, {}, [n]))),
  ]);

Deno.test("auth: preference order and policy", () => {
  const creds = { username: "u", password: "p", secure: false, loopback: false };
  assertEquals(chooseMechanism(["PLAIN", "SCRAM-SHA-1"], creds), "SCRAM-SHA-1");
  assertEquals(chooseMechanism(["scram-sha-256", "SCRAM-SHA-1"], creds), "SCRAM-SHA-256");
  assertEquals(chooseMechanism(["PLAIN", "ANONYMOUS"], creds), undefined);
  assertEquals(chooseMechanism(["PLAIN"], { ...creds, loopback: true }), "PLAIN");
  assertEquals(chooseMechanism(["PLAIN"], { ...creds, allowPlain: true }), "PLAIN");
  assertEquals(chooseMechanism(["SCRAM-SHA-1-PLUS", "EXTERNAL"], creds), undefined);
  assertEquals(
    chooseMechanism(["SCRAM-SHA-1"], { secure: true, loopback: false, anonymous: true }),
    undefined,
  );
  assertEquals(
    chooseMechanism(["ANONYMOUS"], { secure: true, loopback: false, anonymous: true }),
    "ANONYMOUS",
  );
  const none = startAuth(features("PLAIN"), creds, "n");
  assertEquals(none.type === "failure" && [none.by, none.condition], ["client", "no-mechanism"]);
});

for (const mechanism of ["SCRAM-SHA-256", "SCRAM-SHA-1"] as const) {
  Deno.test(`auth: ${mechanism} against the core's server, signature verified; tampering refused`, () => {
    const opts = { username: "juliet", password: "r0m30", secure: true, loopback: false };
    for (const tamper of [false, true]) {
      const ctx = saslServer("r0m30");
      const first = startAuth(features(mechanism), opts, "client-nonce-0123456789");
      if (first.type !== "send") throw new Error("no auth");
      assertEquals(first.element.attrs.mechanism, mechanism);
      const challenge = startSaslServer(mechanism, first.element.children[0] as string, ctx);
      if (challenge.type !== "challenge") throw new Error("no challenge");
      const response = continueAuth(
        first.state,
        element("challenge", NS.SASL, {}, [challenge.data]),
      );
      if (response.type !== "send") throw new Error("no response");
      const success = continueSaslServer(
        challenge.state,
        response.element.children[0] as string,
        ctx,
      );
      if (success.type !== "success") throw new Error("no success");
      const data = tamper
        ? btoa("v=" + btoa("x".repeat(mechanism === "SCRAM-SHA-1" ? 20 : 32)))
        : success.data;
      const done = continueAuth(response.state, element("success", NS.SASL, {}, [data]));
      if (tamper) {
        assertEquals(done.type === "failure" && done.condition, "server-signature-mismatch");
      } else assertEquals(done.type, "success");
      // Server-final in a last challenge, then an empty success.
      if (!tamper) {
        const viaChallenge = continueAuth(
          response.state,
          element("challenge", NS.SASL, {}, [success.data]),
        );
        assertEquals(
          viaChallenge.type === "send" && serialize(viaChallenge.element),
          `<response xmlns='${NS.SASL}'/>`,
        );
        if (viaChallenge.type === "send") {
          assertEquals(
            continueAuth(viaChallenge.state, element("success", NS.SASL)).type,
            "success",
          );
        }
      }
    }
  });
}

Deno.test("auth: a SCRAM success without a server signature, and failures from the server", () => {
  const opts = { username: "juliet", password: "r0m30", secure: true, loopback: false };
  const first = startAuth(features("SCRAM-SHA-256"), opts, "client-nonce-0123456789");
  if (first.type !== "send") throw new Error();
  const ctx = saslServer("r0m30");
  const challenge = startSaslServer("SCRAM-SHA-256", first.element.children[0] as string, ctx);
  if (challenge.type !== "challenge") throw new Error();
  const response = continueAuth(first.state, element("challenge", NS.SASL, {}, [challenge.data]));
  if (response.type !== "send") throw new Error();
  const bare = continueAuth(response.state, element("success", NS.SASL));
  assertEquals(bare.type === "failure" && bare.condition, "server-signature-mismatch");
  const failure = continueAuth(
    response.state,
    parse(`<failure xmlns='${NS.SASL}'><account-disabled/><text>gone</text></failure>`),
  );
  assertEquals(failure, {
    type: "failure",
    by: "server",
    condition: "account-disabled",
    text: "gone",
  });
  const wrongNonce = continueAuth(
    first.state,
    element("challenge", NS.SASL, {}, [btoa("r=x,s=QSXCR+Q6sek8bf92,i=4096")]),
  );
  assertEquals(wrongNonce.type === "failure" && wrongNonce.condition, "nonce-mismatch");
  const plain = startAuth(features("PLAIN"), opts, "n");
  assertEquals(
    plain.type === "send" && atob(plain.element.children[0] as string),
    "\0juliet\0r0m30",
  );
  if (plain.type === "send") {
    assertEquals(continueAuth(plain.state, element("success", NS.SASL)).type, "success");
    assertEquals(
      continueAuth(plain.state, element("challenge", NS.SASL)).type,
      "failure",
    );
  }
  const anonymous = startAuth(features("ANONYMOUS"), {
    secure: false,
    loopback: false,
    anonymous: true,
  }, "n");
  assertEquals(
    anonymous.type === "send" && serialize(anonymous.element),
    `<auth xmlns='${NS.SASL}' mechanism='ANONYMOUS'>=</auth>`,
  );
});

Deno.test("bind and session: requests and answers", () => {
  assertEquals(
    serialize(bindRequest("b", "res")),
    `<iq xmlns='jabber:client' type='set' id='b'><bind xmlns='${NS.BIND}'><resource>res</resource></bind></iq>`,
  );
  assertEquals(readBindResult(parse("<iq xmlns='jabber:client' type='result' id='b'/>")), {
    ok: false,
    condition: "bad-request",
  });
  assertEquals(
    readBindResult(
      parse(
        `<iq xmlns='jabber:client' type='error' id='b'><error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
      ),
    ),
    { ok: false, condition: "conflict" },
  );
  assertEquals(sessionRequired(element("features", NS.STREAMS)), false);
});

Deno.test("iq tracking: ids, senders, deadlines", () => {
  const ask = (id: string, to?: string) => iqStanza("get", id, element("q", "urn:x"), to);
  let tracker = trackIq(createIqTracker(), ask("own"), 50);
  tracker = trackIq(tracker, ask("srv", "Example.com"), 10);
  assertEquals(nextIqDeadline(tracker), 10);
  const answer = (id: string, from?: string) =>
    element("iq", NS.CLIENT, { type: "result", id, from });
  // A request to our own account may be answered without from, or from our bare or full JID.
  assert(matchIqResponse(tracker, answer("own"), "a@example.com/r"));
  assert(matchIqResponse(tracker, answer("own", "A@example.com"), "a@example.com/r"));
  assertEquals(
    matchIqResponse(tracker, answer("own", "b@example.com"), "a@example.com/r"),
    undefined,
  );
  assert(matchIqResponse(tracker, answer("srv", "example.com"), "a@example.com/r"));
  assertEquals(matchIqResponse(tracker, answer("srv"), "a@example.com/r"), undefined);
  assertEquals(matchIqResponse(tracker, answer("nope", "example.com"), undefined), undefined);
  assertEquals(
    matchIqResponse(tracker, element("iq", NS.CLIENT, { type: "get", id: "srv" }), undefined),
    undefined,
  );
  const { tracker: rest, expired } = expireIqs(tracker, 10);
  assertEquals([expired.map((p) => p.id), rest.pending.map((p) => p.id)], [["srv"], ["own"]]);
  assertThrows(
    () => trackIq(tracker, element("iq", NS.CLIENT, { type: "result", id: "x" }), 1),
    TypeError,
  );
  assertThrows(() => trackIq(tracker, element("iq", NS.CLIENT, { type: "get" }), 1), TypeError);
  assertThrows(() => iqStanza("set", "x"), TypeError);
  assertEquals(
    serialize(
      iqErrorFor(
        element("iq", NS.CLIENT, { type: "set", id: "z", from: "x@y/z" }),
        "bad-request",
        "modify",
      ),
    ),
    "<iq xmlns='jabber:client' type='error' id='z' to='x@y/z'><error type='modify'><bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
  );
});

Deno.test("XEP-0198: counters wrap at 2^32; acks, resumption and its failure", () => {
  let sm = smEnabled(element("enabled", NS.SM, { id: "i", resume: "true" }));
  sm = { ...sm, inbound: 0xffff_ffff, acked: 0xffff_fffe };
  sm = smCountInbound(sm);
  assertEquals(smAnswer(sm).attrs.h, "0");
  for (const id of ["1", "2", "3"]) sm = smSent(sm, element("message", NS.CLIENT, { id }));
  const ack = smAcknowledge(sm, "0"); // 0xfffffffe + 2 wraps to 0
  if (!ack.ok) throw new Error(ack.text);
  assertEquals(ack.acked.map((e) => e.attrs.id), ["1", "2"]);
  assertEquals(smAcknowledge(sm, "-1").ok, false);
  assertEquals(smAcknowledge(sm, "4294967296").ok, false);
  assertEquals(smAcknowledge(sm, undefined).ok, false);
  assertEquals(smResume(sm).attrs, { previd: "i", h: "0" });
  const resumed = smResumed(sm, element("resumed", NS.SM, { h: "4294967295" }));
  assertEquals(resumed.ok && resumed.resend.map((e) => e.attrs.id), ["2", "3"]);
  assertEquals(smResumed(sm, element("resumed", NS.SM, { h: "7" })).ok, false);
  assertEquals(smResumeFailed(sm, element("failed", NS.SM)).lost.length, 3);
  assertEquals(smResumeFailed(sm, element("failed", NS.SM, { h: "99" })).lost.length, 3);
  assertThrows(() => smResume(smEnabled(element("enabled", NS.SM))), TypeError);
  assertEquals(smEnabled(element("enabled", NS.SM, { resume: "true" })).resumable, false);
});

Deno.test("liveness: wait, probe, answered, dead", () => {
  const options = { probeAfterMs: 100, probeTimeoutMs: 50 };
  assertEquals(checkLiveness({ lastInbound: 0, probeSentAt: undefined }, 60, options).decision, {
    type: "wait",
    until: 100,
  });
  const probed = checkLiveness({ lastInbound: 0, probeSentAt: undefined }, 100, options);
  assertEquals(probed.state.probeSentAt, 100);
  assertEquals(checkLiveness({ lastInbound: 0, probeSentAt: 100 }, 120, options).decision, {
    type: "wait",
    until: 150,
  });
  assertEquals(
    checkLiveness({ lastInbound: 0, probeSentAt: 100 }, 150, options).decision.type,
    "dead",
  );
  const answered = checkLiveness({ lastInbound: 130, probeSentAt: 100 }, 150, options);
  assertEquals([answered.decision, answered.state.probeSentAt], [
    { type: "wait", until: 230 },
    undefined,
  ]);
});

Deno.test("errors: reconnection advice and descriptions", () => {
  for (
    const c of [
      "conflict",
      "not-authorized",
      "host-unknown",
      "policy-violation",
      "see-other-host",
    ] as const
  ) {
    assertEquals(streamErrorAdvice(c), "never", c);
  }
  for (
    const c of ["system-shutdown", "connection-timeout", "internal-server-error", "reset"] as const
  ) {
    assertEquals(streamErrorAdvice(c), "backoff", c);
  }
  assertEquals(authFailureAdvice("server-signature-mismatch"), "never");
  assertEquals(authFailureAdvice("aborted"), "backoff");
  assertEquals(
    describeClientError({
      kind: "connection",
      reason: "transport-lost",
      code: 1006,
      reconnect: "backoff",
    }),
    "connection ended: transport-lost (code 1006)",
  );
  assertEquals(
    describeClientError({
      kind: "redirect",
      uri: "ws://x/",
      text: "downgrade",
      reconnect: "never",
    }),
    "redirected to ws://x/ (downgrade)",
  );
});
