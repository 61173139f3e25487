/**
 * The gateway's relay path (issue 10): ordinary elements cross the bridge as the text they came
 * in, validated, with no tree built and nothing serialized again; what the bridge must read
 * (SASL, features, stream errors, STARTTLS, framing) still goes through trees. Every relayed
 * text must re-parse to the tree the element had where it came from (issue 8's round-trip
 * guarantee, digest §2.3).
 */

import { assert, assertEquals, assertThrows } from "@std/assert";
import { DocumentParser, StreamParser, type XmlElement } from "../../core/xml/mod.ts";
import { createSession, step } from "../../core/session/mod.ts";
import { XmppUsageError } from "../../core/errors.ts";
import { Harness, HEADER } from "./_gateway_harness.ts";

/** The element as it reads inside the upstream stream (the oracle: sax-ts via StreamParser). */
function inStream(text: string): XmlElement {
  const events = new StreamParser().push(HEADER + text);
  for (const event of events) if (event.type === "element") return event.element;
  throw new Error(`no element in ${text}`);
}

function standalone(text: string): XmlElement {
  const parsed = new DocumentParser().parse(text);
  if (!parsed.ok) throw new Error(`not a standalone element: ${text}: ${parsed.error.text}`);
  return parsed.element;
}

const UPSTREAM_STANZAS = [
  "<message from='a@localhost/x' to='b@localhost/y' type='chat' id=\"q'1\"><body>1 &lt; 2 &amp;&#x1F600; ]]&gt;</body></message>",
  "<message\n  to='b@localhost'\tfrom='a@localhost'><body><![CDATA[<not-a-tag/> & ]]></body><x xmlns='jabber:x:data'><field var='a&#10;b'/></x></message>",
  "<presence from='a@localhost/x'><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='v='/></presence>",
  "<iq type='result' id='r1' to='a@localhost/x'><query xmlns='jabber:iq:roster'><item jid='c@localhost' name='&quot;C&quot;'/></query></iq>",
  "<r xmlns='urn:xmpp:sm:3'/>",
  "<message xmlns='jabber:client' to='a@localhost'><p:x xmlns:p='urn:p' p:a='1'/></message>",
  "<message to='a@localhost'><body xml:lang='de'>Grüße</body></message>",
];

Deno.test("relay: an upstream stanza reaches the browser as its own text, re-parsing to the same tree (digest §2.3)", () => {
  const h = new Harness({ upstreamTls: "off" });
  h.open();
  h.login();
  for (const stanza of UPSTREAM_STANZAS) {
    const before = h.toClient.length;
    h.upstream(stanza);
    assertEquals(h.toClient.length, before + 1, stanza);
    const sent = h.toClient.at(-1)!;
    assertEquals(standalone(sent), inStream(stanza), sent);
    // The same text, only the stream's default namespace declared on the root when it relied on it.
    assertEquals(
      sent.replace(" xmlns='jabber:client'", "").replace(/^<(\S+) xmlns='jabber:client'/, "<$1"),
      stanza.replace(" xmlns='jabber:client'", ""),
    );
  }
});

Deno.test("relay: an upstream element that uses the stream header's prefix goes through the tree, in the stream's context", () => {
  const h = new Harness({ upstreamTls: "off" });
  h.open();
  h.login();
  const stanza = "<message to='a@localhost'><stream:x/><body>hi</body></message>";
  h.upstream(stanza);
  assertEquals(standalone(h.toClient.at(-1)!), inStream(stanza));
});

Deno.test("relay: a validated client message goes upstream exactly as received", () => {
  const h = new Harness({ upstreamTls: "off" });
  h.open();
  h.login();
  const messages = [
    "<message xmlns='jabber:client' to='b@localhost' id=\"m'1\"><body>a &amp; b &#60; c</body></message>",
    "<iq xmlns='jabber:client' type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>",
    "<r xmlns='urn:xmpp:sm:3'/>",
  ];
  for (const message of messages) {
    const before = h.toUpstream.length;
    h.client(message + " \n");
    assertEquals(
      h.toUpstream.slice(before),
      [message],
      "trailing whitespace dropped, nothing else",
    );
  }
});

Deno.test("relay: a client message with an XML declaration or in no namespace takes the tree path", () => {
  const h = new Harness({ upstreamTls: "off" });
  h.open();
  h.login();
  h.client("<?xml version='1.0'?><presence xmlns='jabber:client'/>");
  assertEquals(h.toUpstream.at(-1), "<presence/>");
});

Deno.test("relay: malformed input is refused on both sides as the tree parser would", () => {
  const h = new Harness({ upstreamTls: "off" });
  h.open();
  h.login();
  h.client("<message xmlns='jabber:client'><body>unclosed</message>");
  assert(h.toClient.at(-2)!.includes("not-well-formed"), h.toClient.at(-2));
  const u = new Harness({ upstreamTls: "off" });
  u.open();
  u.login();
  u.upstream("<message to='a@localhost'><p:x/></message>");
  assert(
    u.toClient.some((t) => t.includes("internal-server-error") || t.includes("not-well-formed")),
  );
  assert(!u.toClient.some((t) => t.includes("p:x")), "nothing of it reached the browser");
});

Deno.test("relay: before SASL success a relayed client element is refused with not-authorized (RFC 6120 §4.9.3.12)", () => {
  const h = new Harness({ upstreamTls: "off" });
  h.open();
  h.client("<message xmlns='jabber:client' to='b@localhost'><body>x</body></message>");
  assert(h.toClient.some((t) => t.includes("not-authorized")));
  assertEquals(h.toUpstream.filter((t) => t.includes("<body>")), []);
});

Deno.test("relay: send-raw takes only a RawElement made by a codec", () => {
  let session = createSession({ role: "client", to: "localhost" });
  ({ state: session } = step(session, {
    type: "transport-opened",
    now: 0,
    secure: true,
    protocol: "xmpp",
  }));
  ({ state: session } = step(session, {
    type: "text-received",
    now: 1,
    data:
      "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='localhost' id='s' version='1.0'/>",
  }));
  const forged = { name: "message", ns: "jabber:client", text: "<message/><evil/>" };
  assertThrows(
    // deno-lint-ignore no-explicit-any
    () => step(session, { type: "send-raw", now: 2, element: forged as any }),
    XmppUsageError,
  );
});

Deno.test("relay: framing or STARTTLS elements from the server never reach the browser, and never throw", () => {
  for (
    const bad of [
      "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='evil'/>",
      "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing' see-other-uri='wss://evil/'/>",
      "<f:open xmlns:f='urn:ietf:params:xml:ns:xmpp-framing'/>",
      "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
    ]
  ) {
    const h = new Harness({ upstreamTls: "off" });
    h.open();
    h.login();
    const before = h.toClient.length;
    h.upstream(bad); // before the fix: XmppUsageError out of gatewayStep
    const sent = h.toClient.slice(before);
    assert(sent[0]!.includes("internal-server-error"), `${bad}: ${sent[0]}`);
    assert(!sent.some((t) => t.includes("evil") || t.includes("starttls")), bad);
    assert(h.all.some((o) => o.type === "notice" && o.event === "upstream-unrelayable"), bad);
  }
});

Deno.test("relay: random element sequences from a hostile server, at three stages, never throw and never put framing in front of the browser", () => {
  const seed = Number(Deno.env.get("UPSTREAM_FUZZ_SEED") ?? (Math.random() * 2 ** 31) >>> 0);
  console.log(`UPSTREAM_FUZZ_SEED=${seed}`);
  let state = seed || 1;
  const pick = <T>(list: readonly T[]): T => {
    state = (Math.imul(state, 1103515245) + 12345) & 0x7fffffff;
    return list[state % list.length]!;
  };
  const namespaces = [
    "urn:ietf:params:xml:ns:xmpp-framing",
    "urn:ietf:params:xml:ns:xmpp-tls",
    "urn:ietf:params:xml:ns:xmpp-sasl",
    "urn:xmpp:sasl:2",
    "http://etherx.jabber.org/streams",
    "urn:xmpp:sm:3",
    "jabber:client",
    "urn:ietf:params:xml:ns:xmpp-streams",
  ];
  const names = ["open", "close", "success", "failure", "proceed", "starttls", "features"]
    .concat(["error", "message", "iq", "a", "r", "enabled", "challenge", "stream"]);
  for (let run = 0; run < 1500; run++) {
    const h = new Harness({ upstreamTls: "off" });
    const stage = pick([0, 1, 2]);
    const script: string[] = [];
    try {
      if (stage === 0) {
        h.run({
          type: "client",
          input: { type: "transport-opened", now: ++h.now, secure: true, streamId: "w" },
        });
        h.client(
          "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>",
        );
        h.run({
          type: "upstream",
          input: { type: "transport-opened", now: ++h.now, secure: false },
        });
        h.upstream(HEADER);
      } else {
        h.open();
        if (stage === 2) h.login();
      }
      const before = h.toClient.length;
      for (let k = 0; k < 3; k++) {
        const ns = pick(namespaces);
        const name = pick(names);
        const el = pick([true, false])
          ? `<${name} xmlns='${ns}'/>`
          : `<p:${name} xmlns:p='${ns}'/>`;
        script.push(el);
        h.upstream(el);
      }
      // Only the gateway's own framing reaches the browser: the response <open/> first (while
      // the browser's stream was still opening), the <close/> that ends a failed session last.
      const sent = h.toClient.slice(before).map(standalone);
      sent.forEach((root, i) => {
        if (root.ns !== "urn:ietf:params:xml:ns:xmpp-framing") return;
        const own = (root.name === "open" && i === 0 && stage === 0) ||
          (root.name === "close" && i === sent.length - 1 &&
            root.attrs["see-other-uri"] === undefined);
        assert(own, `framing <${root.name}/> at ${i} of ${sent.length}`);
      });
    } catch (error) {
      throw new Error(`UPSTREAM_FUZZ_SEED=${seed}, stage ${stage}: ${script.join(" ")}: ${error}`);
    }
  }
});
