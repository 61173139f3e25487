/**
 * The hostile suite as data (issue 8): each case names where it is sent, the client messages,
 * and the one correct outcome (stream error condition or none, WebSocket close code, end state).
 * The same list runs against the pure core (`hostile_core_test.ts`), the embedded server over
 * real sockets (`hostile_embedded_test.ts`) and the gateway in front of Prosody
 * (`hostile_gateway_test.ts`). Expectations follow the RFCs and the README's table of choices
 * (rule numbers are those of tests/vectors/rfc7395-digest.md, "#N"); they are never lowered to
 * match today's behaviour: a case that fails because of an open finding of issue 8 is listed in
 * the runner's `PENDING_FINDINGS`.
 *
 * Stages (`at`): `connected` (WebSocket open, nothing sent), `opened` (after `<open/>` and the
 * features, before SASL), `authed` (after SASL `<success/>`, before the restart), `bound` (logged
 * in: restart and resource binding done). A case that keeps the stream `usable` names where it
 * `leaves` it (default: where it started); the runner then proves the stream works by finishing
 * the login from there and getting an answer to a ping iq.
 *
 * Placeholders in text messages: `{self}` (the attacker's full JID), `{bystander}` (the
 * bystander's full JID), `{domain}` (the served domain).
 *
 * @module
 */

/** Where a case is sent. */
export type Stage = "connected" | "opened" | "authed" | "bound";

/**
 * Where a usable case leaves the stream: a stage, or half-way through an open it sent itself
 * (`opening`: the features are still to come; `restarting`: the same after SASL success).
 */
export type Leaves = Stage | "opening" | "restarting";

/** One WebSocket message from the client. */
export type Message =
  /** A text frame with this text (UTF-8 encoded). */
  | string
  /** A text frame with exactly these bytes (may be invalid UTF-8). */
  | { readonly textBytes: Uint8Array }
  /** A binary frame. */
  | { readonly binary: Uint8Array };

/** The correct outcome of a case. */
export type Outcome =
  | { readonly end: "usable"; readonly leaves?: Leaves }
  | {
    readonly end: "closed";
    /** The stream error condition the server sends before closing; null: none. */
    readonly error: string | null;
    /** The code of the server's WebSocket Close frame. */
    readonly code: number;
  };

/** Who decides the outcome: the session reducer alone (`framing`), or the server behind it. */
export type DecidedBy = "framing" | "server";

/** The families of the suite. */
export type Family =
  | "broken-xml"
  | "several-elements"
  | "split-element"
  | "dtd-entities"
  | "comments-pis"
  | "namespace-tricks"
  | "framing-misuse"
  | "jabber-server"
  | "giant"
  | "deep-nesting"
  | "invalid-utf8"
  | "binary"
  | "out-of-order"
  | "whitespace"
  | "before-auth"
  | "flood"
  | "valid-edge";

/** One hostile case. */
export interface HostileCase {
  readonly name: string;
  readonly family: Family;
  readonly at: Stage;
  readonly send: readonly Message[];
  readonly expect: Outcome;
  /**
   * Other outcomes the RFCs allow (floods: a limit that ends the stream says so with
   * `policy-violation`, or the stream stays usable).
   */
  readonly alsoAllowed?: readonly Outcome[];
  readonly decidedBy: DecidedBy;
}

/** The XML limits every target of the suite runs with (small, so that edges are cheap). */
export const SUITE_LIMITS = {
  maxBytes: 24_000,
  maxDepth: 32,
  maxAttributes: 32,
  maxNameLength: 128,
  maxAttributeValueLength: 4_096,
} as const;

/** The domain every target serves. */
export const DOMAIN = "localhost";

export const NS_FRAMING = "urn:ietf:params:xml:ns:xmpp-framing";
export const NS_STREAMS = "http://etherx.jabber.org/streams";
export const NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl";
export const NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls";
export const NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind";

const FX = `xmlns='${NS_FRAMING}'`;
/** The `<open/>` every runner sends. */
export const OPEN = `<open ${FX} to='${DOMAIN}' version='1.0'/>`;
export const CLOSE = `<close ${FX}/>`;
const C = "xmlns='jabber:client'";

// ---- outcome helpers -------------------------------------------------------------------

const usable = (leaves?: Leaves): Outcome =>
  leaves === undefined ? { end: "usable" } : { end: "usable", leaves };
/** A stream error, `<close/>`, then a Close frame (1000 unless said otherwise). */
const fails = (error: string, code = 1000): Outcome => ({ end: "closed", error, code });
/** The transport closes with `code` and no stream error. */
const drops = (code: number): Outcome => ({ end: "closed", error: null, code });
/** A clean `<close/>` handshake (no error). */
const closes: Outcome = { end: "closed", error: null, code: 1000 };

const NWF = "not-well-formed";
const RXML = "restricted-xml";
const POLICY = "policy-violation";
/**
 * A message over a configured limit (size, depth, attributes, names): policy-violation (RFC 6120
 * §13.12) and close 1009, "too big to process" (RFC 6455 §7.4.1), the README's choice.
 */
const LIMIT: Outcome = { end: "closed", error: POLICY, code: 1009 };

const cases: HostileCase[] = [];

function add(
  family: Family,
  name: string,
  at: Stage,
  send: Message | readonly Message[],
  expect: Outcome,
  decidedBy: DecidedBy = "framing",
  alsoAllowed?: readonly Outcome[],
): void {
  cases.push({
    name: `${family}: ${name}`,
    family,
    at,
    send: Array.isArray(send) ? send : [send as Message],
    expect,
    decidedBy,
    ...(alsoAllowed ? { alsoAllowed } : {}),
  });
}

const enc = new TextEncoder();
function bytes(...parts: (string | readonly number[])[]): Uint8Array {
  const chunks = parts.map((p) => typeof p === "string" ? enc.encode(p) : Uint8Array.from(p));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** A message to oneself with `inner` inside (a stanza that the server delivers back). */
const selfMsg = (inner: string, attrs = "") =>
  `<message ${C} to='{self}' type='chat'${attrs}>${inner}</message>`;
const ping = (id: string) =>
  `<iq ${C} type='get' id='${id}' to='{domain}'><ping xmlns='urn:xmpp:ping'/></iq>`;

// ---- broken XML (RFC 6120 §4.9.3.13 not-well-formed; digest #26) -----------------------

const broken: readonly [string, string][] = [
  ["mismatched end tag", `<message ${C}><body>x</message>`],
  ["unclosed root", `<message ${C}>`],
  ["unclosed child", `<message ${C}><body>x</message>`.replace("</message>", "")],
  ["truncated start tag", `<message ${C}`],
  ["truncated empty-element tag", `<presence ${C}/`],
  ["unquoted attribute value", `<presence ${C} type=unavailable/>`],
  ["attribute without value", `<presence ${C} type/>`],
  ["mixed quotes", `<presence ${C} type='unavailable"/>`],
  ["duplicate attribute", `<presence ${C} type='a' type='b'/>`],
  [
    "duplicate expanded attribute name",
    `<presence ${C} xmlns:a='urn:same' xmlns:b='urn:same' a:t='1' b:t='2'/>`,
  ],
  ["'<' in an attribute value", `<presence ${C} id='a<b'/>`],
  ["bare '&' in text", selfMsg("<body>fish & chips</body>")],
  ["bare '&' in an attribute", `<presence ${C} id='a&b'/>`],
  ["'&#0;' character reference", selfMsg("<body>&#0;</body>")],
  ["surrogate character reference", selfMsg("<body>&#xD800;</body>")],
  ["character reference above U+10FFFF", selfMsg("<body>&#x110000;</body>")],
  ["U+FFFE character reference", selfMsg("<body>&#xFFFE;</body>")],
  ["empty character reference", selfMsg("<body>&#;</body>")],
  ["raw U+0001 in text", selfMsg("<body>a\u0001b</body>")],
  ["raw U+000B in an attribute", `<presence ${C} id='a\u000Bb'/>`],
  ["raw U+FFFF in text", selfMsg("<body>\uFFFF</body>")],
  ["raw NUL in text", selfMsg("<body>\u0000</body>")],
  ["text after the root", `<presence ${C}/>junk`],
  ["'<' after the root", `<presence ${C}/><`],
  ["end tag only", `</message>`],
  ["empty tag name", `<>`],
  ["space before the name", `< presence ${C}/>`],
  ["name starting with a digit", `<1x xmlns='urn:x'/>`],
  ["two colons in a name", `<message ${C}><a:b:c xmlns:a='urn:a'/></message>`],
  ["unterminated CDATA", selfMsg("<body><![CDATA[x</body>")],
  ["']]>' in text", selfMsg("<body>a ]]> b</body>")],
  ["end tag with attributes", `<message ${C}></message id='x'>`],
  ["missing whitespace between attributes", `<presence ${C} id='a'type='b'/>`],
];
for (const [name, text] of broken) add("broken-xml", name, "bound", text, fails(NWF));
add("broken-xml", "mismatched tags as the first message", "connected", `<open ${FX}>`, fails(NWF));
add("broken-xml", "unclosed stanza before auth", "opened", `<auth xmlns='${NS_SASL}'`, fails(NWF));
// Markup that is neither a DTD nor a PI by XML's grammar, but looks like one: either answer.
add("broken-xml", "lowercase doctype keyword", "bound", `<!doctype x><x/>`, fails(NWF), "framing", [
  fails(RXML),
]);

// ---- several elements in one message (#15) --------------------------------------------

const several: readonly [string, Stage, string][] = [
  ["two presences", "bound", `<presence ${C}/><presence ${C}/>`],
  ["two presences with a newline between", "bound", `<presence ${C}/>\n<presence ${C}/>`],
  ["a stanza then a ping", "bound", selfMsg("<body>1</body>") + ping("p2")],
  ["three pings", "bound", ping("a") + ping("b") + ping("c")],
  ["a stanza then <close/>", "bound", `<presence ${C}/>${CLOSE}`],
  ["<close/> then a stanza", "bound", `${CLOSE}<presence ${C}/>`],
  ["two <close/>", "bound", CLOSE + CLOSE],
  ["<open/> then a stanza", "connected", OPEN + `<presence ${C}/>`],
  ["two <open/>", "connected", OPEN + OPEN],
  ["<open/> then <close/>", "connected", OPEN + CLOSE],
  ["two <auth/>", "opened", `<auth xmlns='${NS_SASL}' mechanism='PLAIN'/>`.repeat(2)],
  ["restart <open/> then bind", "authed", OPEN + `<iq ${C} type='set' id='b'/>`],
  ["a stanza then a text node", "bound", `<presence ${C}/>tail`],
];
for (const [name, at, text] of several) add("several-elements", name, at, text, fails(NWF));

// ---- one element split over messages (#15) --------------------------------------------

const split: readonly [string, Stage, readonly string[]][] = [
  ["inside the body", "bound", [`<message ${C} to='{self}'><body>a`, `</body></message>`]],
  ["inside the name", "bound", [`<mess`, `age ${C}/>`]],
  ["inside an attribute value", "bound", [`<presence ${C} id='ab`, `cd'/>`]],
  ["after the start tag", "bound", [`<presence ${C}>`, `</presence>`]],
  ["the <open/> header", "connected", [`<open ${FX} to='${DOMAIN}'`, ` version='1.0'/>`]],
  ["the <close/>", "bound", [`<close ${FX}`, `/>`]],
  ["an <auth/> over three messages", "opened", [
    `<auth xmlns='${NS_SASL}' `,
    `mechanism='PLAIN'>`,
    `</auth>`,
  ]],
];
for (const [name, at, parts] of split) add("split-element", name, at, parts, fails(NWF));
add("split-element", "inside a multi-byte character", "bound", [
  { textBytes: bytes(`<message ${C} to='{self}'><body>`, [0xe2, 0x82]) },
  { textBytes: bytes([0xac], "</body></message>") },
], drops(1007));

// ---- DTDs and entities (RFC 6120 §11.1: restricted-xml) -------------------------------

const lol = (() => {
  let dtd = `<!ENTITY lol0 'lol'>`;
  for (let i = 1; i <= 9; i++) {
    dtd += `<!ENTITY lol${i} '${`&lol${i - 1};`.repeat(10)}'>`;
  }
  return `<!DOCTYPE message [${dtd}]>` + selfMsg("<body>&lol9;</body>");
})();
const quadratic = `<!DOCTYPE message [<!ENTITY a '${"a".repeat(8_000)}'>]>` +
  selfMsg(`<body>${"&a;".repeat(4_000)}</body>`);
const dtds: readonly [string, Stage, string][] = [
  ["bare DOCTYPE", "bound", `<!DOCTYPE message>` + selfMsg("<body>x</body>")],
  [
    "internal entity used in text",
    "bound",
    `<!DOCTYPE m [<!ENTITY e 'x'>]>` + selfMsg("<body>&e;</body>"),
  ],
  [
    "internal entity in an attribute",
    "bound",
    `<!DOCTYPE m [<!ENTITY e 'x'>]><presence ${C} id='&e;'/>`,
  ],
  [
    "external SYSTEM entity (XXE)",
    "bound",
    `<!DOCTYPE m [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>` + selfMsg("<body>&e;</body>"),
  ],
  [
    "external DTD over http",
    "bound",
    `<!DOCTYPE message SYSTEM 'http://127.0.0.1:9/x.dtd'>` + selfMsg("<body>x</body>"),
  ],
  [
    "PUBLIC DTD",
    "bound",
    `<!DOCTYPE message PUBLIC '-//X//EN' 'http://127.0.0.1:9/x.dtd'>` + `<presence ${C}/>`,
  ],
  [
    "parameter entity",
    "bound",
    `<!DOCTYPE m [<!ENTITY % p '<!ENTITY e "x">'> %p;]>` + selfMsg("<body>&e;</body>"),
  ],
  [
    "external parameter entity",
    "bound",
    `<!DOCTYPE m [<!ENTITY % p SYSTEM 'file:///etc/passwd'> %p;]><presence ${C}/>`,
  ],
  ["billion laughs", "bound", lol],
  ["quadratic blowup", "bound", quadratic],
  ["DOCTYPE after the root", "bound", `<presence ${C}/><!DOCTYPE x>`],
  ["DOCTYPE before <open/>", "connected", `<!DOCTYPE open>` + OPEN],
  [
    "entity declared in <open/>'s DTD",
    "connected",
    `<!DOCTYPE open [<!ENTITY d '${DOMAIN}'>]><open ${FX} to='&d;' version='1.0'/>`,
  ],
  ["billion laughs before auth", "opened", lol],
  ["ELEMENT declaration alone", "bound", `<!ELEMENT message ANY><presence ${C}/>`],
  ["ATTLIST declaration alone", "bound", `<!ATTLIST presence type CDATA 'x'><presence ${C}/>`],
];
for (const [name, at, text] of dtds) add("dtd-entities", name, at, text, fails(RXML));
// An entity reference without any DTD: an undeclared entity (restricted XML, RFC 6120 §11.1).
add(
  "dtd-entities",
  "undeclared entity in text",
  "bound",
  selfMsg("<body>&nbsp;</body>"),
  fails(RXML),
);
add(
  "dtd-entities",
  "undeclared entity in an attribute",
  "bound",
  `<presence ${C} id='&e;'/>`,
  fails(RXML),
);
add(
  "dtd-entities",
  "undeclared entity in <open/>",
  "connected",
  `<open ${FX} to='&host;' version='1.0'/>`,
  fails(RXML),
);
// Not entities at all: relayed as data.
add(
  "dtd-entities",
  "XInclude element is only data",
  "bound",
  selfMsg(
    `<body>x</body><xi:include xmlns:xi='http://www.w3.org/2001/XInclude' href='file:///etc/passwd' parse='text'/>`,
  ),
  usable(),
);
add(
  "dtd-entities",
  "the five predefined entities",
  "bound",
  selfMsg("<body>&lt;&gt;&amp;&apos;&quot;</body>"),
  usable(),
);
add(
  "dtd-entities",
  "DOCTYPE text inside CDATA",
  "bound",
  selfMsg("<body><![CDATA[<!DOCTYPE x [<!ENTITY e 'x'>]>&e;]]></body>"),
  usable(),
);

// ---- comments and processing instructions (RFC 6120 §11.1) ----------------------------

const commentsPis: readonly [string, Stage, string][] = [
  ["comment inside a stanza", "bound", selfMsg("<body>x</body><!-- hi -->")],
  ["comment before the root", "bound", `<!-- hi --><presence ${C}/>`],
  ["comment after the root", "bound", `<presence ${C}/><!-- hi -->`],
  ["empty comment", "bound", selfMsg("<!---->")],
  ["comment in the <open/> message", "connected", `<!-- x -->` + OPEN],
  [
    "comment inside <auth/>",
    "opened",
    `<auth xmlns='${NS_SASL}' mechanism='PLAIN'><!-- x --></auth>`,
  ],
  ["comment in the restart <open/>", "authed", OPEN + `<!-- x -->`],
  ["PI before the root", "bound", `<?foo bar?><presence ${C}/>`],
  ["PI inside a stanza", "bound", selfMsg("<?foo bar?><body>x</body>")],
  ["PI after the root", "bound", `<presence ${C}/><?foo?>`],
  [
    "xml-stylesheet PI",
    "bound",
    `<?xml-stylesheet href='http://127.0.0.1:9/x.xsl'?><presence ${C}/>`,
  ],
  ["PI before <open/>", "connected", `<?foo?>` + OPEN],
];
for (const [name, at, text] of commentsPis) add("comments-pis", name, at, text, fails(RXML));
add(
  "comments-pis",
  "comment containing '--'",
  "bound",
  selfMsg("<!-- a -- b -->"),
  fails(RXML),
  "framing",
);
add("comments-pis", "unterminated comment", "bound", selfMsg("<!-- x"), fails(RXML));
// A misplaced XML declaration is a PI with a reserved target: not well-formed, or restricted.
add(
  "comments-pis",
  "XML declaration inside a stanza",
  "bound",
  selfMsg("<?xml version='1.0'?><body>x</body>"),
  fails(NWF),
  "framing",
  [fails(RXML)],
);
add(
  "comments-pis",
  "two XML declarations",
  "bound",
  `<?xml version='1.0'?><?xml version='1.0'?><presence ${C}/>`,
  fails(NWF),
  "framing",
  [fails(RXML)],
);
add(
  "comments-pis",
  "XML declaration with a foreign encoding",
  "bound",
  `<?xml version='1.0' encoding='ISO-8859-1'?><presence ${C}/>`,
  fails("unsupported-encoding"),
);
add(
  "comments-pis",
  "XML declaration (#13, tolerated)",
  "bound",
  `<?xml version='1.0'?>` + selfMsg("<body>x</body>"),
  usable(),
);
add(
  "comments-pis",
  "comment text inside CDATA",
  "bound",
  selfMsg("<body><![CDATA[<!-- x --><?pi?>]]></body>"),
  usable(),
);
add(
  "comments-pis",
  "comment-like text escaped",
  "bound",
  selfMsg("<body>&lt;!-- x --&gt;</body>"),
  usable(),
);

// ---- namespace tricks ------------------------------------------------------------------

/** The forgery payload of issue 8 finding 1, aimed at the bystander. */
export const FORGERY =
  `<message xmlns='jabber:client' to='{bystander}' xmlns:p="a}x='1'/&gt;&lt;message from='admin@localhost' to='{bystander}'&gt;&lt;body&gt;forged&lt;/body&gt;&lt;/message&gt;&lt;a b" p:z='v'><body>hi</body></message>`;
const special = ["}", "{", "'", '"', "&lt;", "&gt;", "&amp;", "]]&gt;", "&#x9;", "&#xA;", " "];
add(
  "namespace-tricks",
  "issue 8 forgery: '}' in an attribute's namespace URI",
  "bound",
  FORGERY,
  usable(),
);
add(
  "namespace-tricks",
  "forgery on the element's own namespace",
  "bound",
  `<message ${C} to='{bystander}'><x xmlns="a}y/&gt;&lt;message from='admin@localhost'&gt;&lt;body&gt;forged&lt;/body&gt;&lt;/message&gt;&lt;z"/></message>`,
  usable(),
);
add(
  "namespace-tricks",
  "forgery through a prefixed child",
  "bound",
  `<message ${C} to='{bystander}' xmlns:q="b}c&gt;&lt;/message&gt;&lt;message from='admin@localhost' to='{bystander}'&gt;&lt;body&gt;forged"><q:x/><body>hi</body></message>`,
  usable(),
);
for (const key of ["constructor", "toString", "__proto__", "valueOf", "hasOwnProperty"]) {
  // Peer text that names Object.prototype's members, as namespace URIs and attribute names.
  add(
    "namespace-tricks",
    `'${key}' as a namespace URI and an attribute name`,
    "bound",
    `<message ${C} to='{bystander}' xmlns:q='${key}' q:a='1' id='x' ${key}='2'><x xmlns='${key}'/><body>hi</body></message>`,
    usable(),
  );
}
for (const ch of special) {
  const label = ch.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    .replace("&#x9;", "tab").replace("&#xA;", "newline").replace(" ", "space");
  const quoted = ch === '"' ? `'urn:a${ch}b'` : `"urn:a${ch}b"`;
  add(
    "namespace-tricks",
    `'${label}' in a namespace URI`,
    "bound",
    `<message ${C} to='{bystander}' xmlns:p=${quoted} p:a='1'><p:x/><body>hi</body></message>`,
    usable(),
  );
}
const nsCases: readonly [string, Stage, string, Outcome][] = [
  [
    "prefixed jabber:client stanza",
    "bound",
    `<c:message xmlns:c='jabber:client' to='{self}'><c:body>x</c:body></c:message>`,
    usable(),
  ],
  [
    "prefix rebound in a child",
    "bound",
    `<message ${C} to='{self}' xmlns:p='urn:a'><p:x xmlns:p='urn:b'><p:y/></p:x></message>`,
    usable(),
  ],
  ["default namespace undeclared in a child", "bound", selfMsg(`<x xmlns=''><y/></x>`), usable()],
  [
    "'stream' prefix bound elsewhere in a stanza",
    "bound",
    selfMsg(`<stream:error xmlns:stream='urn:evil'/>`),
    usable(),
  ],
  [
    "'jabber:client' prefix on an attribute",
    "bound",
    `<message ${C} xmlns:c='jabber:client' c:to='x@y' to='{self}'/>`,
    usable(),
  ],
  [
    "namespaced 'from' attribute is not 'from'",
    "bound",
    `<message ${C} to='{bystander}' xmlns:p='urn:p' p:from='admin@localhost'><body>hi</body></message>`,
    usable(),
  ],
  [
    "xml prefix declared correctly",
    "bound",
    `<message ${C} to='{self}' xmlns:xml='http://www.w3.org/XML/1998/namespace' xml:lang='en'/>`,
    usable(),
  ],
  [
    "xml:lang and xml:space",
    "bound",
    `<message ${C} to='{self}' xml:lang='de' xml:space='preserve'><body>x</body></message>`,
    usable(),
  ],
  ["long namespace URI", "bound", selfMsg(`<x xmlns='urn:${"n".repeat(3_000)}'/>`), usable()],
  [
    "stanza in no namespace (xmlns='')",
    "bound",
    `<message xmlns='' to='{self}'/>`,
    fails("invalid-namespace"),
  ],
  ["stanza without xmlns", "bound", `<message to='{self}'/>`, fails("invalid-namespace")],
  [
    "stanza in the streams namespace",
    "bound",
    `<stream:message xmlns:stream='${NS_STREAMS}'/>`,
    fails("invalid-namespace"),
  ],
  [
    "stanza in an unknown namespace",
    "bound",
    `<iq xmlns='urn:evil' type='get' id='x'/>`,
    fails("invalid-namespace"),
  ],
  ["undeclared element prefix (#12)", "bound", `<p:message xmlns:c='jabber:client'/>`, fails(NWF)],
  ["undeclared child prefix", "bound", selfMsg(`<x:data/>`), fails(NWF)],
  ["undeclared attribute prefix", "bound", `<presence ${C} p:a='1'/>`, fails(NWF)],
  ["'stream' prefix used without declaration", "bound", `<stream:features/>`, fails(NWF)],
  ["empty prefix declaration (xmlns:p='')", "bound", `<presence ${C} xmlns:p=''/>`, fails(NWF)],
  [
    "xml prefix bound to another URI",
    "bound",
    `<presence ${C} xmlns:xml='urn:other'/>`,
    fails(NWF),
  ],
  [
    "another prefix bound to the xml namespace",
    "bound",
    `<presence ${C} xmlns:p='http://www.w3.org/XML/1998/namespace'/>`,
    fails(NWF),
  ],
  [
    "xmlns prefix declared",
    "bound",
    `<presence ${C} xmlns:xmlns='http://www.w3.org/2000/xmlns/'/>`,
    fails(NWF),
  ],
  [
    "a prefix bound to the xmlns namespace",
    "bound",
    `<presence ${C} xmlns:p='http://www.w3.org/2000/xmlns/'/>`,
    fails(NWF),
  ],
  [
    "default namespace set to the xmlns namespace",
    "bound",
    selfMsg(`<x xmlns='http://www.w3.org/2000/xmlns/'/>`),
    fails(NWF),
  ],
  ["element with the xmlns prefix", "bound", selfMsg(`<xmlns:x/>`), fails(NWF)],
  [
    "two default namespace declarations",
    "bound",
    `<presence ${C} xmlns='jabber:client'/>`,
    fails(NWF),
  ],
  ["empty local name after xmlns:", "bound", `<presence ${C} xmlns:='urn:x'/>`, fails(NWF)],
  [
    "prefix with an empty local name",
    "bound",
    `<message ${C} xmlns:p='urn:p'><p:/></message>`,
    fails(NWF),
  ],
];
for (const [name, at, text, expect] of nsCases) add("namespace-tricks", name, at, text, expect);
// Elements that are well-formed and in the right namespace but unknown to the server.
add(
  "namespace-tricks",
  "unknown top-level element",
  "bound",
  `<x xmlns='urn:unknown'/>`,
  fails("unsupported-stanza-type"),
  "server",
);
// Prosody 0.12 answers a client's <features/> with unsupported-feature: a stream error too.
add(
  "namespace-tricks",
  "client-sent <features/> (streams namespace)",
  "bound",
  `<s:features xmlns:s='${NS_STREAMS}'/>`,
  fails("unsupported-stanza-type"),
  "server",
  [fails("unsupported-feature")],
);

// ---- framing-namespace misuse (#9, #11, #18-#22, #51) ---------------------------------

const framing: readonly [string, Stage, string, Outcome][] = [
  [
    "<open/> in jabber:client",
    "connected",
    `<open ${C} to='${DOMAIN}' version='1.0'/>`,
    fails("invalid-namespace"),
  ],
  [
    "<open/> in the streams namespace",
    "connected",
    `<open xmlns='${NS_STREAMS}' to='${DOMAIN}' version='1.0'/>`,
    fails("invalid-namespace"),
  ],
  [
    "<open/> in no namespace",
    "connected",
    `<open to='${DOMAIN}' version='1.0'/>`,
    fails("invalid-namespace"),
  ],
  [
    "<open/> with the framing namespace in capitals",
    "connected",
    `<open xmlns='${NS_FRAMING.toUpperCase()}' to='${DOMAIN}' version='1.0'/>`,
    fails("invalid-namespace"),
  ],
  [
    "<open/> with a trailing slash on the namespace",
    "connected",
    `<open xmlns='${NS_FRAMING}/' to='${DOMAIN}' version='1.0'/>`,
    fails("invalid-namespace"),
  ],
  [
    "closed <stream:stream/> header",
    "connected",
    `<stream:stream xmlns='jabber:client' xmlns:stream='${NS_STREAMS}' to='${DOMAIN}' version='1.0'/>`,
    fails("invalid-namespace"),
  ],
  [
    "open <stream:stream> header (legacy framing off)",
    "connected",
    `<stream:stream xmlns='jabber:client' xmlns:stream='${NS_STREAMS}' to='${DOMAIN}' version='1.0'>`,
    fails(NWF),
  ],
  [
    "<open/> with a child",
    "connected",
    `<open ${FX} to='${DOMAIN}' version='1.0'><x/></open>`,
    fails("invalid-xml"),
  ],
  [
    "<open/> with text",
    "connected",
    `<open ${FX} to='${DOMAIN}' version='1.0'>hi</open>`,
    fails("invalid-xml"),
  ],
  ["unknown framing element", "connected", `<bogus ${FX}/>`, fails("unsupported-stanza-type")],
  [
    "unknown framing element after login",
    "bound",
    `<bogus ${FX}/>`,
    fails("unsupported-stanza-type"),
  ],
  [
    "<open/> without version (#21)",
    "connected",
    `<open ${FX} to='${DOMAIN}'/>`,
    fails("unsupported-version"),
  ],
  [
    "<open/> version 0.9",
    "connected",
    `<open ${FX} to='${DOMAIN}' version='0.9'/>`,
    fails("unsupported-version"),
  ],
  [
    "<open/> to another domain",
    "connected",
    `<open ${FX} to='example.org' version='1.0'/>`,
    fails("host-unknown"),
  ],
  [
    "<open/> with an empty to",
    "connected",
    `<open ${FX} to='' version='1.0'/>`,
    fails("host-unknown"),
  ],
  ["<open/> without to", "connected", `<open ${FX} version='1.0'/>`, fails("host-unknown")],
  ["second <open/> before auth (#22)", "opened", OPEN, fails(POLICY)],
  ["second <open/> after login (#22)", "bound", OPEN, fails(POLICY)],
  ["<close/> with a child (#9)", "bound", `<close ${FX}><x/></close>`, fails("invalid-xml")],
  ["<close/> in jabber:client (#11)", "bound", `<close ${C}/>`, fails("invalid-namespace")],
  ["<close/> in no namespace", "bound", `<close/>`, fails("invalid-namespace")],
  [
    "framing <open/> inside a stanza is data",
    "bound",
    selfMsg(`<open ${FX} to='x' version='1.0'/>`),
    usable(),
  ],
  [
    "prefixed <open/> (f:open)",
    "connected",
    `<f:open xmlns:f='${NS_FRAMING}' to='${DOMAIN}' version='1.0'/>`,
    usable("opening"),
  ],
  [
    "<open/> declaring extra namespaces",
    "connected",
    `<open ${FX} xmlns:stream='${NS_STREAMS}' xmlns:x='urn:x' to='${DOMAIN}' version='1.0' x:y='z'/>`,
    usable("opening"),
  ],
  [
    "<open/> version 2.0 (#21: answered with 1.0)",
    "connected",
    `<open ${FX} to='${DOMAIN}' version='2.0'/>`,
    usable("opening"),
  ],
  [
    "<open/> to the domain in capitals with a dot",
    "connected",
    `<open ${FX} to='LOCALHOST.' version='1.0'/>`,
    usable("opening"),
  ],
  [
    "<open/> with a client-chosen id (#19)",
    "connected",
    `<open ${FX} to='${DOMAIN}' version='1.0' id='mine'/>`,
    usable("opening"),
  ],
  [
    "<open/> with an XML declaration (#13)",
    "connected",
    `<?xml version='1.0'?>` + OPEN,
    usable("opening"),
  ],
  ["<close/> as the first message", "connected", CLOSE, closes],
  ["<close/> before auth", "opened", CLOSE, closes],
  ["<close/> after login", "bound", CLOSE, closes],
  [
    "<close/> with see-other-uri from the client",
    "bound",
    `<close ${FX} see-other-uri='wss://evil.example/'/>`,
    closes,
  ],
  [
    "client stream error after login",
    "bound",
    `<stream:error xmlns:stream='${NS_STREAMS}'><undefined-condition xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>`,
    closes,
  ],
  [
    "client stream error before auth",
    "opened",
    `<error xmlns='${NS_STREAMS}'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></error>`,
    closes,
  ],
];
for (const [name, at, text, expect] of framing) add("framing-misuse", name, at, text, expect);

// ---- jabber:server (#12) ---------------------------------------------------------------

const server: readonly [string, Stage, string, Outcome][] = [
  [
    "message",
    "bound",
    `<message xmlns='jabber:server' from='admin@localhost' to='{bystander}'><body>x</body></message>`,
    fails("invalid-namespace"),
  ],
  ["presence", "bound", `<presence xmlns='jabber:server'/>`, fails("invalid-namespace")],
  [
    "iq",
    "bound",
    `<iq xmlns='jabber:server' type='get' id='s'><ping xmlns='urn:xmpp:ping'/></iq>`,
    fails("invalid-namespace"),
  ],
  [
    "prefixed message",
    "bound",
    `<s:message xmlns:s='jabber:server' to='{bystander}'/>`,
    fails("invalid-namespace"),
  ],
  [
    "message before auth",
    "opened",
    `<message xmlns='jabber:server' to='{bystander}'/>`,
    fails("invalid-namespace"),
  ],
  [
    "dialback result",
    "opened",
    `<db:result xmlns:db='jabber:server:dialback' from='evil.example' to='${DOMAIN}'>key</db:result>`,
    fails("not-authorized"),
  ],
  [
    "jabber:server child inside a stanza is data",
    "bound",
    selfMsg(`<x xmlns='jabber:server'/>`),
    usable(),
  ],
];
for (const [name, at, text, expect] of server) {
  add("jabber-server", name, at, text, expect, name === "dialback result" ? "server" : "framing");
}

// ---- giant attributes and text (RFC 6120 §13.12; limits counted before building) -------

const L = SUITE_LIMITS;
const bodyOf = (total: number, unit = "a") => {
  const shell = selfMsg("<body></body>").replace(
    "{self}",
    "alice@localhost/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  );
  const room = total - enc.encode(shell).length;
  return selfMsg(`<body>${unit.repeat(Math.floor(room / enc.encode(unit).length))}</body>`);
};
const attrs = (n: number, prefix = "a") =>
  Array.from({ length: n }, (_, i) => ` ${prefix}${i}='${i}'`).join("");
const nsDecls = (n: number) =>
  Array.from({ length: n }, (_, i) => ` xmlns:n${i}='urn:n${i}'`).join("");
const giant: readonly [string, Stage, string, Outcome][] = [
  ["text well under the size limit", "bound", bodyOf(L.maxBytes - 2_000), usable()],
  ["text over the size limit", "bound", bodyOf(L.maxBytes + 500), fails(POLICY, 1009)],
  [
    "three-byte text over the size limit (bytes, not characters)",
    "bound",
    bodyOf(L.maxBytes + 500, "\u20ac"),
    fails(POLICY, 1009),
  ],
  ["four-byte text under the limit", "bound", bodyOf(L.maxBytes - 2_000, "\u{1F600}"), usable()],
  ["ten times the size limit", "bound", bodyOf(L.maxBytes * 10), fails(POLICY, 1009)],
  [
    "oversized <open/>",
    "connected",
    `<open ${FX} to='${DOMAIN}' version='1.0' x='${"x".repeat(L.maxBytes)}'/>`,
    fails(POLICY, 1009),
  ],
  [
    "oversized message before auth",
    "opened",
    `<auth xmlns='${NS_SASL}' mechanism='PLAIN'>${"A".repeat(L.maxBytes + 10)}</auth>`,
    fails(POLICY, 1009),
  ],
  [
    "attribute value at the limit",
    "bound",
    `<message ${C} to='{self}' id='${"v".repeat(L.maxAttributeValueLength)}'/>`,
    usable(),
  ],
  [
    "attribute value over the limit",
    "bound",
    `<message ${C} to='{self}' id='${"v".repeat(L.maxAttributeValueLength + 1)}'/>`,
    LIMIT,
  ],
  [
    "attribute value of character references over the limit",
    "bound",
    `<presence ${C} id='${"&#65;".repeat(L.maxAttributeValueLength + 1)}'/>`,
    LIMIT,
  ],
  [
    "attributes at the limit",
    "bound",
    `<message ${C} to='{self}'${attrs(L.maxAttributes - 2)}/>`,
    usable(),
  ],
  [
    "attributes over the limit",
    "bound",
    `<message ${C} to='{self}'${attrs(L.maxAttributes + 1)}/>`,
    LIMIT,
  ],
  [
    "many empty attributes",
    "bound",
    `<message ${C}${Array.from({ length: 2_000 }, (_, i) => ` a${i}=''`).join("")}/>`,
    LIMIT,
  ],
  [
    "many empty attributes on <open/>",
    "connected",
    `<open ${FX} to='${DOMAIN}' version='1.0'${
      Array.from({ length: 2_000 }, (_, i) => ` a${i}=''`).join("")
    }/>`,
    LIMIT,
  ],
  [
    "namespace declarations over the limit",
    "bound",
    `<message ${C} to='{self}'${nsDecls(L.maxAttributes + 1)}/>`,
    LIMIT,
  ],
  [
    "element name at the limit",
    "bound",
    selfMsg(`<${"n".repeat(L.maxNameLength)} xmlns='urn:x'/>`),
    usable(),
  ],
  [
    "element name over the limit",
    "bound",
    selfMsg(`<${"n".repeat(L.maxNameLength + 1)} xmlns='urn:x'/>`),
    LIMIT,
  ],
  [
    "attribute name over the limit",
    "bound",
    `<presence ${C} ${"a".repeat(L.maxNameLength + 1)}='1'/>`,
    LIMIT,
  ],
  [
    "prefix over the name limit",
    "bound",
    `<presence ${C} xmlns:${"p".repeat(L.maxNameLength + 1)}='urn:x'/>`,
    LIMIT,
  ],
  [
    "many tiny elements",
    "bound",
    selfMsg("<x xmlns='urn:x'>" + "<y/>".repeat(4_000) + "</x>"),
    usable(),
  ],
  [
    "many character references",
    "bound",
    selfMsg(`<body>${"&#x263A;".repeat(2_500)}</body>`),
    usable(),
  ],
  ["long text of '&lt;'", "bound", selfMsg(`<body>${"&lt;".repeat(5_000)}</body>`), usable()],
];
for (const [name, at, text, expect] of giant) add("giant", name, at, text, expect);

// ---- deep nesting ----------------------------------------------------------------------

const nest = (depth: number, name = "x") =>
  `${`<${name}>`.repeat(depth)}${`</${name}>`.repeat(depth)}`;
const deep: readonly [string, Stage, string, Outcome][] = [
  // The stanza is depth 1: a child chain of maxDepth - 1 reaches the limit exactly.
  [
    "nesting at the limit",
    "bound",
    selfMsg(`<x xmlns='urn:x'>${nest(L.maxDepth - 2)}</x>`),
    usable(),
  ],
  [
    "nesting one over the limit",
    "bound",
    selfMsg(`<x xmlns='urn:x'>${nest(L.maxDepth - 1)}</x>`),
    LIMIT,
  ],
  ["nesting far over the limit", "bound", selfMsg(`<x xmlns='urn:x'>${nest(2_000)}</x>`), LIMIT],
  ["deep unclosed nesting", "bound", `<message ${C}>` + "<x>".repeat(3_000), LIMIT],
  ["deep nesting before auth", "opened", `<auth xmlns='${NS_SASL}'>${nest(500)}</auth>`, LIMIT],
  [
    "deep nesting in <open/>",
    "connected",
    `<open ${FX} to='${DOMAIN}' version='1.0'>${nest(500)}</open>`,
    LIMIT,
  ],
];
for (const [name, at, text, expect] of deep) add("deep-nesting", name, at, text, expect);

// ---- invalid UTF-8 in text frames (#7: close 1007, no stream error) --------------------

const badUtf8: readonly [string, readonly number[]][] = [
  ["lone continuation byte", [0x80]],
  ["truncated two-byte sequence", [0xc3, 0x28]],
  ["overlong '/'", [0xc0, 0xaf]],
  ["overlong '<'", [0xc0, 0xbc]],
  ["overlong three-byte", [0xe0, 0x80, 0xaf]],
  ["UTF-16 surrogate (CESU-8)", [0xed, 0xa0, 0x80]],
  ["code point above U+10FFFF", [0xf4, 0x90, 0x80, 0x80]],
  ["five-byte form", [0xf8, 0x88, 0x80, 0x80, 0x80]],
  ["0xFF byte", [0xff]],
  ["0xFE byte", [0xfe]],
  ["truncated three-byte at the end", [0xe2, 0x82]],
  ["truncated four-byte at the end", [0xf0, 0x9f, 0x98]],
];
for (const [name, seq] of badUtf8) {
  add("invalid-utf8", `${name} in a body`, "bound", {
    textBytes: bytes(`<message ${C} to='{self}'><body>`, seq, "</body></message>"),
  }, drops(1007));
}
add("invalid-utf8", "invalid byte in an attribute value", "bound", {
  textBytes: bytes(`<presence ${C} id='`, [0xff], "'/>"),
}, drops(1007));
add("invalid-utf8", "invalid byte in the <open/>", "connected", {
  textBytes: bytes(`<open ${FX} to='`, [0xc0, 0xaf], `' version='1.0'/>`),
}, drops(1007));
add("invalid-utf8", "invalid byte before auth", "opened", {
  textBytes: bytes(`<auth xmlns='${NS_SASL}'>`, [0x80], "</auth>"),
}, drops(1007));
add("invalid-utf8", "invalid byte as the whole message", "bound", {
  textBytes: bytes([0xff, 0xfe]),
}, drops(1007));
add("invalid-utf8", "valid U+10FFFF is accepted", "bound", {
  textBytes: bytes(
    `<message ${C} to='{self}'><body>`,
    [0xf4, 0x8f, 0xbf, 0xbd],
    "</body></message>",
  ),
}, usable());

// ---- binary frames (#6: close 1003, no stream error) -----------------------------------

add(
  "binary",
  "binary as the first message",
  "connected",
  { binary: enc.encode(OPEN) },
  drops(1003),
);
add(
  "binary",
  "binary before auth",
  "opened",
  { binary: enc.encode(`<auth xmlns='${NS_SASL}'/>`) },
  drops(1003),
);
add("binary", "binary after SASL success", "authed", { binary: enc.encode(OPEN) }, drops(1003));
add(
  "binary",
  "binary stanza after login",
  "bound",
  { binary: enc.encode(`<presence ${C}/>`) },
  drops(1003),
);
add("binary", "empty binary message", "bound", { binary: new Uint8Array(0) }, drops(1003));
add(
  "binary",
  "binary garbage",
  "bound",
  { binary: Uint8Array.from([0, 1, 2, 0xff, 0xfe]) },
  drops(1003),
);

// ---- out of order: open, close, restart, STARTTLS, SASL --------------------------------

const plainAuth = (user: string, password: string) =>
  `<auth xmlns='${NS_SASL}' mechanism='PLAIN'>${btoa(`\0${user}\0${password}`)}</auth>`;
const order: readonly [string, Stage, Message | readonly Message[], Outcome, DecidedBy][] = [
  [
    "restart <open/> (due) in capitals",
    "authed",
    `<open ${FX} to='LOCALHOST' version='1.0'/>`,
    usable("restarting"),
    "framing",
  ],
  [
    "restart <open/> to another domain",
    "authed",
    `<open ${FX} to='example.org' version='1.0'/>`,
    fails("host-unknown"),
    "framing",
  ],
  [
    "restart <open/> without version",
    "authed",
    `<open ${FX} to='${DOMAIN}'/>`,
    fails("unsupported-version"),
    "framing",
  ],
  ["<close/> after SASL success (#37)", "authed", CLOSE, closes, "framing"],
  [
    "stream error after SASL success",
    "authed",
    `<error xmlns='${NS_STREAMS}'><reset xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></error>`,
    closes,
    "framing",
  ],
  [
    "stanza after SASL success, no restart (#35)",
    "authed",
    `<presence ${C}/>`,
    fails("not-authorized"),
    "framing",
  ],
  [
    "ping after SASL success, no restart (#35)",
    "authed",
    ping("early"),
    fails("not-authorized"),
    "framing",
  ],
  [
    "bind after SASL success, no restart (#35)",
    "authed",
    `<iq ${C} type='set' id='b'><bind xmlns='${NS_BIND}'/></iq>`,
    fails("not-authorized"),
    "framing",
  ],
  [
    "<auth/> again after SASL success (#35)",
    "authed",
    plainAuth("alice", "x"),
    fails("not-authorized"),
    "framing",
  ],
  [
    "<starttls/> after SASL success (#35)",
    "authed",
    `<starttls xmlns='${NS_TLS}'/>`,
    fails("not-authorized"),
    "framing",
  ],
  [
    "<proceed/> from the client",
    "opened",
    `<proceed xmlns='${NS_TLS}'/>`,
    fails("not-authorized"),
    "server",
  ],
  [
    "SASL <response/> without <auth/>",
    "opened",
    `<response xmlns='${NS_SASL}'>eA==</response>`,
    usable(),
    "server",
  ],
  ["SASL <abort/> without <auth/>", "opened", `<abort xmlns='${NS_SASL}'/>`, usable(), "server"],
  [
    "unknown SASL mechanism",
    "opened",
    `<auth xmlns='${NS_SASL}' mechanism='X-EVIL'/>`,
    usable(),
    "server",
  ],
  [
    "PLAIN with invalid base64",
    "opened",
    `<auth xmlns='${NS_SASL}' mechanism='PLAIN'>!!!not base64!!!</auth>`,
    usable(),
    "server",
  ],
  ["PLAIN with a wrong password", "opened", plainAuth("alice", "wrong"), usable(), "server"],
  [
    "PLAIN authorizing as someone else",
    "opened",
    `<auth xmlns='${NS_SASL}' mechanism='PLAIN'>${btoa("admin@localhost\0alice\0wrong")}</auth>`,
    usable(),
    "server",
  ],
  [
    "<open/> pipelined before the features",
    "connected",
    [OPEN, `<presence ${C}/>`],
    fails("not-authorized"),
    "server",
  ],
];
for (const [name, at, send, expect, by] of order) add("out-of-order", name, at, send, expect, by);
// SASL elements out of place: a stream error for an unsupported element, or (before auth) a SASL
// <failure/> that keeps the stream.
add(
  "out-of-order",
  "<auth/> again after login",
  "bound",
  plainAuth("alice", "x"),
  fails(POLICY),
  "server",
  [fails("unsupported-stanza-type")],
);
add(
  "out-of-order",
  "<success/> sent by the client",
  "opened",
  `<success xmlns='${NS_SASL}'/>`,
  usable(),
  "server",
  [fails("unsupported-stanza-type")],
);
// STARTTLS is never offered over WebSocket (#43) and the RFCs do not say how to answer one sent
// anyway: RFC 6120 §5.4.2.2's <failure/> and close, or the stream error for data out of place.
add(
  "out-of-order",
  "STARTTLS before auth (#43)",
  "opened",
  `<starttls xmlns='${NS_TLS}'/>`,
  closes,
  "server",
  [fails("not-authorized")],
);
add(
  "out-of-order",
  "STARTTLS after login (#43)",
  "bound",
  `<starttls xmlns='${NS_TLS}'/>`,
  closes,
  "server",
  [fails("unsupported-stanza-type")],
);

// ---- whitespace (#14, #39) -------------------------------------------------------------

const ws: readonly [string, Stage, string, Outcome][] = [
  ["single space keepalive", "bound", " ", fails("bad-format")],
  ["newline keepalive", "bound", "\n", fails("bad-format")],
  ["empty message", "bound", "", fails("bad-format")],
  ["whitespace as the first message", "connected", "\r\n", fails("bad-format")],
  ["leading newline before a stanza", "bound", `\n<presence ${C}/>`, fails("bad-format")],
  ["leading tab before <open/>", "connected", `\t${OPEN}`, fails("bad-format")],
  ["leading byte order mark", "bound", `\uFEFF<presence ${C}/>`, fails("bad-format")],
  ["trailing whitespace (tolerated)", "bound", selfMsg("<body>x</body>") + " \r\n\t", usable()],
  [
    "whitespace inside tags",
    "bound",
    `<message\n\t${C}\r\n to = '{self}' ><body>x</body\n></message\t>`,
    usable(),
  ],
];
for (const [name, at, text, expect] of ws) add("whitespace", name, at, text, expect);

// ---- stanzas before auth (RFC 6120 §4.9.3.12 not-authorized; #18) ----------------------

const early: readonly [string, Stage, string, DecidedBy][] = [
  [
    "message as the first message (#18)",
    "connected",
    `<message ${C} to='{bystander}'><body>x</body></message>`,
    "framing",
  ],
  ["presence as the first message (#18)", "connected", `<presence ${C}/>`, "framing"],
  ["ping as the first message (#18)", "connected", ping("first"), "framing"],
  ["<auth/> as the first message (#18)", "connected", plainAuth("alice", "x"), "framing"],
  [
    "message before auth",
    "opened",
    `<message ${C} to='{bystander}'><body>x</body></message>`,
    "server",
  ],
  [
    "message from a forged sender before auth",
    "opened",
    `<message ${C} from='admin@localhost' to='{bystander}'><body>x</body></message>`,
    "server",
  ],
  ["presence before auth", "opened", `<presence ${C}/>`, "server"],
  [
    "directed presence before auth",
    "opened",
    `<presence ${C} to='{bystander}' type='subscribe'/>`,
    "server",
  ],
  ["ping before auth", "opened", ping("early"), "server"],
  [
    "roster get before auth",
    "opened",
    `<iq ${C} type='get' id='r'><query xmlns='jabber:iq:roster'/></iq>`,
    "server",
  ],
  [
    "bind before auth",
    "opened",
    `<iq ${C} type='set' id='b'><bind xmlns='${NS_BIND}'><resource>x</resource></bind></iq>`,
    "server",
  ],
  ["iq result before auth", "opened", `<iq ${C} type='result' id='x'/>`, "server"],
  ["XEP-0198 enable before auth", "opened", `<enable xmlns='urn:xmpp:sm:3'/>`, "server"],
  [
    "XEP-0198 resume before auth",
    "opened",
    `<resume xmlns='urn:xmpp:sm:3' previd='x' h='0'/>`,
    "server",
  ],
  ["unknown element before auth", "opened", `<x xmlns='urn:x'/>`, "server"],
];
for (const [name, at, text, by] of early) {
  add("before-auth", name, at, text, fails("not-authorized"), by);
}

// ---- floods (issue 8 finding 6: a limit that ends the stream says so) ------------------

const flood = (n: number, make: (i: number) => string) =>
  Array.from({ length: n }, (_, i) => make(i));
const limited: readonly Outcome[] = [fails(POLICY)];
add(
  "flood",
  "2000 presences back to back",
  "bound",
  flood(2_000, () => `<presence ${C}/>`),
  usable(),
  "server",
  limited,
);
add(
  "flood",
  "2000 pings back to back",
  "bound",
  flood(2_000, (i) => ping(`f${i}`)),
  usable(),
  "server",
  limited,
);
add(
  "flood",
  "500 messages to the bystander",
  "bound",
  flood(500, (i) => `<message ${C} to='{bystander}' type='chat'><body>${i}</body></message>`),
  usable(),
  "server",
  limited,
);
add(
  "flood",
  "100 messages near the size limit",
  "bound",
  flood(100, () => bodyOf(L.maxBytes - 2_000)),
  usable(),
  "server",
  limited,
);
add(
  "flood",
  "300 failed SASL attempts",
  "opened",
  flood(300, () => `<auth xmlns='${NS_SASL}' mechanism='X-EVIL'/>`),
  fails(POLICY),
  "server",
);
add(
  "flood",
  "1000 <open/> after the first",
  "connected",
  flood(1_000, () => OPEN),
  fails(POLICY),
  "framing",
);
add(
  "flood",
  "1000 malformed messages",
  "bound",
  flood(1_000, () => `<presence`),
  fails(NWF),
  "framing",
);

// ---- valid edges the server must not refuse ------------------------------------------

const valid: readonly [string, string][] = [
  ["attribute value containing '>'", `<message ${C} to='{self}' id='a>b'><body>x</body></message>`],
  [
    "double-quoted attributes",
    `<message xmlns="jabber:client" to="{self}" id="q'q"><body>"'</body></message>`,
  ],
  ["astral characters", selfMsg("<body>\u{1F600}\u{10000}&#x1F600;</body>")],
  ["CDATA with ']]' inside", selfMsg("<body><![CDATA[a]]]]><![CDATA[>b]]></body>")],
  ["empty body", selfMsg("<body/>")],
  ["end tag with trailing space", `<message ${C} to='{self}'><body>x</body ></message >`],
  ["tab, newline and carriage return references", selfMsg("<body>&#9;&#10;&#13;</body>")],
  ["iq error to the server", `<iq ${C} type='error' id='e' to='{domain}'/>`],
];
for (const [name, text] of valid) add("valid-edge", name, "bound", text, usable());

/** Every case, in a stable order; names are unique. */
export const CASES: readonly HostileCase[] = cases;

/** The number of cases per family. */
export function casesPerFamily(list: readonly HostileCase[] = CASES): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of list) out[c.family] = (out[c.family] ?? 0) + 1;
  return out;
}

/** Replaces the placeholders of a text message. */
export function fill(
  text: string,
  jids: { readonly self: string; readonly bystander: string; readonly domain?: string },
): string {
  return text.replaceAll("{self}", jids.self).replaceAll("{bystander}", jids.bystander)
    .replaceAll("{domain}", jids.domain ?? DOMAIN);
}

/** The credentials the runners log in with. */
export const ATTACKER = { username: "alice", password: "alice-secret" } as const;
export const BYSTANDER = { username: "bob", password: "bob-secret" } as const;

/** PLAIN `<auth/>` for a user (every runner's login allows PLAIN: loopback or Prosody's setting). */
export function plainAuthFor(user: { username: string; password: string }): string {
  return plainAuth(user.username, user.password);
}

/** The outcomes accepted for a case. */
export function allowedOutcomes(c: HostileCase): readonly Outcome[] {
  return [c.expect, ...(c.alsoAllowed ?? [])];
}

/** A short text form of an outcome, for reports. */
export function describeOutcome(o: Outcome): string {
  return o.end === "usable"
    ? "usable"
    : `closed ${o.code}${o.error ? ` after <${o.error}/>` : " (no stream error)"}`;
}
