/**
 * Seeded generators for the fuzz tests: a PRNG, corpora of valid RFC 7395 messages for each
 * peer, mutations of them, application elements, and RFC 6120 streams.
 *
 * Everything here is deterministic for a given seed: the same seed gives the same inputs.
 *
 * @module
 */

import { element, NS, type XmlElement } from "../../core/mod.ts";

/** mulberry32: a small, fast 32-bit PRNG. */
export class Rng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One item of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** An item chosen by weight. */
  weighted<T>(items: readonly (readonly [number, T])[]): T {
    let total = 0;
    for (const [w] of items) total += w;
    let r = this.next() * total;
    for (const [w, item] of items) {
      r -= w;
      if (r < 0) return item;
    }
    return items[items.length - 1]![1];
  }
}

/** Derives a well-mixed 32-bit seed from a base seed and an index. */
export function deriveSeed(base: number, index: number): number {
  let h = (base ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

const F = NS.FRAMING;
const ST = NS.STREAMS;
const XS = NS.STREAM_ERRORS;
const FX = `xmlns='${F}'`;

/** The service domain used by the fuzz sessions. */
export const DOMAIN = "example.com";

// ---- corpora --------------------------------------------------------------------------

/** Messages a client may send (valid, or at least plausible). */
export const CLIENT_MESSAGES: readonly string[] = [
  `<open ${FX} to='${DOMAIN}' version='1.0'/>`,
  `<open ${FX} to='${DOMAIN}' version='1.0' xml:lang='de' from='juliet@example.com'/>`,
  `<open xmlns="${F}" to="EXAMPLE.com." version="1.0"/>`,
  `<f:open xmlns:f='${F}' to='${DOMAIN}' version='1.0'/>`,
  `<open ${FX} to='${DOMAIN}'/>`,
  `<open ${FX} to='${DOMAIN}' version='2.3'/>`,
  `<open ${FX} to='${DOMAIN}' version='0.9'/>`,
  `<open ${FX} to='other.example' version='1.0'/>`,
  `<open ${FX} version='1.0'/>`,
  `<open ${FX} to='${DOMAIN}' version='1.0' id='client-chose-this'/>`,
  `<open xmlns='${ST}' to='${DOMAIN}' version='1.0'/>`,
  `<open ${FX} to='${DOMAIN}' version='1.0'><x/></open>`,
  `<close ${FX}/>`,
  `<close ${FX} see-other-uri='wss://elsewhere.example/'/>`,
  `<close xmlns='jabber:client'/>`,
  `<bogus ${FX}/>`,
  `<auth xmlns='${NS.SASL}' mechanism='PLAIN'>AGp1bGlldAByMG0zMG15cjBtMzA=</auth>`,
  `<auth xmlns='${NS.SASL}' mechanism='SCRAM-SHA-1'>biwsbj1qdWxpZXQscj1vTXNUQUF3QUFBQU1BQUFBTlAwVEFBQUFBQUJQVTBBQQ==</auth>`,
  `<response xmlns='${NS.SASL}'>Yz1iaXdzLHI9b01zVEFBd0FBQUFNQUFBQU5QMFRBQUFBQUFCUFUwQUEzcmZ1VE==</response>`,
  `<abort xmlns='${NS.SASL}'/>`,
  `<iq xmlns='jabber:client' type='set' id='bind1'><bind xmlns='${NS.BIND}'><resource>balcony</resource></bind></iq>`,
  `<message xmlns='jabber:client' to='romeo@example.net' type='chat'><body>Wherefore art thou, Romeo?</body></message>`,
  `<message xmlns='jabber:client' to='romeo@example.net'><body>&lt;3 &amp; caf\u00e9 \u{1F600} &#x263A; &#65;</body></message>`,
  `<message xmlns='jabber:client'><body><![CDATA[<!-- not a comment --> & <b>]]></body></message>`,
  `<presence xmlns='jabber:client'/>`,
  `<presence xmlns='jabber:client'><show>away</show><status xml:lang='fr'>parti</status></presence>`,
  `<presence xmlns='jabber:client'/>\n`,
  `<?xml version='1.0'?><presence xmlns='jabber:client'/>`,
  `<?xml version="1.0" encoding="UTF-8"?><presence xmlns='jabber:client'/>`,
  `<iq xmlns='jabber:client' type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`,
  `<iq xmlns='jabber:client' type='get' id='x'><query xmlns='jabber:iq:roster' xmlns:e='urn:e' e:v='1'/></iq>`,
  `<message xmlns='jabber:server'/>`,
  `<message/>`,
  `<c:message xmlns:c='jabber:client'/>`,
  `<enable xmlns='${NS.SM}' resume='true'/>`,
  `<r xmlns='${NS.SM}'/>`,
  `<a xmlns='${NS.SM}' h='3'/>`,
  `<starttls xmlns='${NS.TLS}'/>`,
  `<error xmlns='${ST}'><not-well-formed xmlns='${XS}'/></error>`,
  `<stream:error xmlns:stream='${ST}'><policy-violation xmlns='${XS}'/><text xmlns='${XS}'>too big</text></stream:error>`,
];

/** Messages a server may send (valid, or at least plausible). */
export const SERVER_MESSAGES: readonly string[] = [
  `<open ${FX} from='${DOMAIN}' id='srv-1' version='1.0' xml:lang='en'/>`,
  `<open ${FX} from='${DOMAIN}' id='srv-2' version='1.0' xml:lang='en' to='juliet@example.com'/>`,
  `<open ${FX} from='${DOMAIN}' version='1.0'/>`,
  `<open xmlns='${ST}' from='${DOMAIN}' id='x' version='1.0'/>`,
  `<stream:features xmlns:stream='${ST}'><mechanisms xmlns='${NS.SASL}'><mechanism>PLAIN</mechanism><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>`,
  `<features xmlns='${ST}'><starttls xmlns='${NS.TLS}'><required/></starttls><mechanisms xmlns='${NS.SASL}'><mechanism>PLAIN</mechanism></mechanisms></features>`,
  `<stream:features xmlns:stream='${ST}'><bind xmlns='${NS.BIND}'/><sm xmlns='${NS.SM}'/></stream:features>`,
  `<stream:features xmlns:stream='${ST}'/>`,
  `<success xmlns='${NS.SASL}'/>`,
  `<success xmlns='${NS.SASL}'>dj1ybUY5cHFWOFM3c3VBb1pXamE0ZEpSa0ZzS1E9</success>`,
  `<success xmlns='${NS.SASL2}'><authorization-identifier>juliet@example.com</authorization-identifier></success>`,
  `<failure xmlns='${NS.SASL}'><not-authorized/></failure>`,
  `<challenge xmlns='${NS.SASL}'>cj1vTXNUQUF3QUFBQU1BQUFBTlAwVEFBQUFBQUJQVTBBQQ==</challenge>`,
  `<proceed xmlns='${NS.TLS}'/>`,
  `<iq xmlns='jabber:client' type='result' id='bind1'><bind xmlns='${NS.BIND}'><jid>juliet@example.com/balcony</jid></bind></iq>`,
  `<message xmlns='jabber:client' from='romeo@example.net/orchard' type='chat'><body>Neither, fair saint.</body></message>`,
  `<presence xmlns='jabber:client' from='romeo@example.net/orchard'/>`,
  `<iq xmlns='jabber:client' type='get' id='s2c1'><ping xmlns='urn:xmpp:ping'/></iq>`,
  `<message from='x@y'/>`,
  `<enabled xmlns='${NS.SM}' id='sm-1' resume='true'/>`,
  `<a xmlns='${NS.SM}' h='0'/>`,
  `<close ${FX}/>`,
  `<close ${FX} see-other-uri='wss://b.example.com/xmpp'/>`,
  `<close ${FX} see-other-uri='ws://insecure.example.com/xmpp'/>`,
  `<close ${FX} see-other-uri='https://b.example.com/http-bind'/>`,
  `<close ${FX} see-other-uri='not a uri'/>`,
  `<error xmlns='${ST}'><host-unknown xmlns='${XS}'/></error>`,
  `<stream:error xmlns:stream='${ST}'><see-other-host xmlns='${XS}'>[2001:db8::1]:5222</see-other-host></stream:error>`,
  `<stream:error xmlns:stream='${ST}'><xml-not-well-formed xmlns='${XS}'/><text xmlns='${XS}' xml:lang='en'>old</text></stream:error>`,
  `<error xmlns='${ST}'><made-up-condition xmlns='${XS}'/><app xmlns='urn:app'/></error>`,
];

/** Snippets inserted by the `insert` mutation. */
const INSERTS: readonly string[] = [
  "<!--x-->",
  "<!--",
  "-->",
  "<!DOCTYPE x>",
  "<!DOCTYPE x [<!ENTITY e 'boom'>]>",
  "<!ENTITY e 'x'>",
  "<!ELEMENT x ANY>",
  "<?pi x?>",
  "<?xml version='1.0'?>",
  "<?xml version='1.0' standalone='yes'?>",
  "<?xml version='1.0' encoding='ISO-8859-1'?>",
  "&foo;",
  "&e;",
  "&#0;",
  "&#1;",
  "&#x110000;",
  "&#xD800;",
  "&#xFFFE;",
  "&#x1F600;",
  "&amp;",
  "&lt;",
  "&",
  "&#",
  "<![CDATA[<!-- ok -->]]>",
  "<![CDATA[",
  "]]>",
  "\u0000",
  "\u0001",
  "\u000B",
  "\uFFFE",
  "\uFFFF",
  "\uD800",
  "\uDC00",
  "\uFEFF",
  " ",
  "\n",
  "\r\n",
  "\t",
  "<",
  ">",
  "/>",
  "'",
  '"',
  "=",
  ":",
  "<a>",
  "</a>",
  "<x:y/>",
  " xmlns:x='urn:x'",
  " xmlns=''",
  " xmlns:p=''",
  " a='1'",
  " a='1' a='2'",
  " xml:lang='en'",
  "\u00e9",
  "\u{1F600}",
  `<open ${FX} to='${DOMAIN}' version='1.0'/>`,
  `<close ${FX}/>`,
];

/** Invalid UTF-8 byte sequences. */
const BAD_UTF8: readonly (readonly number[])[] = [
  [0xc3, 0x28],
  [0x80],
  [0xbf],
  [0xc0, 0xaf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xff],
  [0xfe],
  [0xe2, 0x82],
  [0xf0, 0x9f, 0x98],
];

const encoder = new TextEncoder();

/** A peer message: text, or raw bytes that may not be UTF-8. */
export type Payload = string | Uint8Array;

function insertAt(s: string, index: number, snippet: string): string {
  return s.slice(0, index) + snippet + s.slice(index);
}

/** Nests `depth` elements inside the first element of `s` (or builds a stanza). */
function nested(rng: Rng, depth: number): string {
  const name = rng.pick(["a", "x:b", "c"]);
  const decl = name.startsWith("x:") ? " xmlns:x='urn:x'" : "";
  let inner = "";
  for (let i = 0; i < depth; i++) inner = `<${name}${i === 0 ? decl : ""}>` + inner;
  let outer = inner;
  for (let i = 0; i < depth; i++) outer += `</${name}>`;
  return `<message xmlns='jabber:client'>${outer}</message>`;
}

function manyAttributes(rng: Rng, count: number): string {
  let attrs = "";
  for (let i = 0; i < count; i++) attrs += ` a${i}='${i}'`;
  if (rng.chance(0.2)) attrs += " a0='dup'";
  return `<presence xmlns='jabber:client'${attrs}/>`;
}

function bigMessage(rng: Rng, bytes: number): string {
  const unit = rng.pick(["a", "\u00e9", "\u20ac", "\u{1F600}", "<b/>"]);
  const unitBytes = encoder.encode(unit).length;
  const body = unit.repeat(Math.max(1, Math.ceil(bytes / unitBytes)));
  return `<message xmlns='jabber:client'><body>${body}</body></message>`;
}

/** The limits a fuzz session may run with (mutations aim at their edges). */
export interface FuzzLimits {
  readonly maxBytes: number;
  readonly maxDepth: number;
  readonly maxAttributes: number;
  readonly maxNameLength: number;
  readonly maxAttributeValueLength: number;
}

/** Applies one random mutation to a message. */
export function mutate(
  rng: Rng,
  message: string,
  corpus: readonly string[],
  limits: FuzzLimits,
): Payload {
  const len = message.length;
  switch (rng.int(16)) {
    case 0: {
      // Byte flips, delivered as raw bytes (often invalid UTF-8).
      const bytes = encoder.encode(message);
      const flips = rng.range(1, 3);
      for (let i = 0; i < flips && bytes.length > 0; i++) {
        bytes[rng.int(bytes.length)]! ^= 1 << rng.int(8);
      }
      return bytes;
    }
    case 1:
      return message.slice(0, rng.int(len + 1));
    case 2:
      return message + (rng.chance(0.5) ? "" : rng.pick(["", " ", "\n"])) + message;
    case 3: {
      const other = rng.pick(corpus);
      return message.slice(0, rng.int(len + 1)) + other.slice(rng.int(other.length + 1));
    }
    case 4:
    case 5:
    case 6:
      return insertAt(message, rng.int(len + 1), rng.pick(INSERTS));
    case 7:
      return nested(rng, rng.range(Math.max(1, limits.maxDepth - 3), limits.maxDepth + 3));
    case 8:
      return manyAttributes(
        rng,
        rng.range(Math.max(0, limits.maxAttributes - 3), limits.maxAttributes + 3),
      );
    case 9: {
      // Long names and values around the limits.
      const name = "n".repeat(rng.range(limits.maxNameLength - 2, limits.maxNameLength + 2));
      const value = "v".repeat(
        rng.range(limits.maxAttributeValueLength - 2, limits.maxAttributeValueLength + 2),
      );
      return rng.chance(0.5)
        ? `<${name} xmlns='urn:x'/>`
        : `<presence xmlns='jabber:client' ${rng.chance(0.5) ? name : "v"}='${value}'/>`;
    }
    case 10:
      return bigMessage(rng, rng.range(limits.maxBytes - 64, limits.maxBytes + 64));
    case 11:
      return rng.pick(["", " ", "\n", "\uFEFF", "\t", "<?xml version='1.0'?>", "x"]) + message +
        rng.pick(["", " ", "\n", "x", "<", "<!--x-->"]);
    case 12: {
      // Swap one namespace for another.
      const from = rng.pick([F, ST, "jabber:client", NS.SASL]);
      const to = rng.pick([F, ST, "jabber:client", "jabber:server", "", "urn:other"]);
      return message.split(from).join(to);
    }
    case 13: {
      // Raw invalid UTF-8 inside or around the message.
      const bytes = encoder.encode(message);
      const bad = rng.pick(BAD_UTF8);
      const at = rng.int(bytes.length + 1);
      const out = new Uint8Array(bytes.length + bad.length);
      out.set(bytes.subarray(0, at), 0);
      out.set(bad, at);
      out.set(bytes.subarray(at), at + bad.length);
      return out;
    }
    case 14: {
      // Delete or replace one character.
      const at = rng.int(Math.max(1, len));
      const replacement = rng.chance(0.5) ? "" : String.fromCharCode(rng.int(128));
      return message.slice(0, at) + replacement + message.slice(at + 1);
    }
    default: {
      // Random ASCII soup that starts like markup.
      let soup = "<";
      const n = rng.range(0, 40);
      for (let i = 0; i < n; i++) {
        soup += rng.pick(["<", ">", "/", "a", " ", "'", "=", "x:", "&", ";"]);
      }
      return soup;
    }
  }
}

/** Mutates a message one or more times (the result may be raw bytes). */
export function mutateMany(
  rng: Rng,
  message: string,
  corpus: readonly string[],
  limits: FuzzLimits,
): Payload {
  let payload: Payload = mutate(rng, message, corpus, limits);
  while (typeof payload === "string" && rng.chance(0.25)) {
    payload = mutate(rng, payload, corpus, limits);
  }
  return payload;
}

/** The UTF-8 bytes of a string (valid input delivered the way an adapter may pass it). */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

// ---- application elements -----------------------------------------------------------

const TEXTS: readonly string[] = [
  "hello",
  "",
  "1 < 2 & 3 > 2",
  "]]>",
  "<!-- not a comment -->",
  "quotes ' and \"",
  "tab\there\nnewline\r\ncarriage",
  "caf\u00e9 \u20ac \u{1F600} \u4e2d\u6587",
  "&amp; literally",
  "  leading and trailing  ",
];

const ATTR_VALUES: readonly string[] = [
  "romeo@example.net",
  "",
  "a'b\"c",
  "x < y",
  "&lt;",
  "tab\tnl\ncr\r",
  "\u{1F600}",
  "]]>",
];

/** A random element an application may send (always a valid XML element). */
export function appElement(rng: Rng): XmlElement {
  switch (rng.int(9)) {
    case 0:
      return element("message", NS.CLIENT, { to: rng.pick(ATTR_VALUES), type: "chat" }, [
        element("body", NS.CLIENT, {}, [rng.pick(TEXTS)]),
      ]);
    case 1:
      return element("presence", NS.CLIENT, rng.chance(0.5) ? {} : { "xml:lang": "en" });
    case 2:
      return element("iq", NS.CLIENT, { type: "get", id: "q" + rng.int(100) }, [
        element("query", "jabber:iq:roster", { "{urn:example:attr}v": rng.pick(ATTR_VALUES) }),
      ]);
    case 3:
      return element("auth", NS.SASL, { mechanism: "PLAIN" }, ["AGp1bGlldAByMG0zMG15cjBtMzA="]);
    case 4:
      return element("success", NS.SASL);
    case 5:
      return element("features", NS.STREAMS, {}, [
        element("starttls", NS.TLS, {}, [element("required", NS.TLS)]),
        element("bind", NS.BIND),
      ]);
    case 6:
      return element("r", NS.SM);
    case 7:
      return element("x", "urn:example:deep", {
        "{urn:a}a": rng.pick(ATTR_VALUES),
        "{urn:b}a": "2",
      }, [
        element("y", "urn:example:other", {}, [rng.pick(TEXTS), element("z", "urn:example:deep")]),
        rng.pick(TEXTS),
      ]);
    default:
      return element("message", NS.CLIENT, {}, [
        element("body", NS.CLIENT, { "xml:lang": "de" }, [rng.pick(TEXTS), rng.pick(TEXTS)]),
      ]);
  }
}

/** An element that `send-element` documents as invalid. */
export function forbiddenElement(rng: Rng): XmlElement {
  switch (rng.int(3)) {
    case 0:
      return element("error", NS.STREAMS, {}, [element("conflict", NS.STREAM_ERRORS)]);
    case 1:
      return element(rng.pick(["open", "close"]), NS.FRAMING);
    default:
      // Forbidden over WebSocket only (RFC 7395 §3.9); <failure/> is the allowed answer.
      return element(rng.pick(["starttls", "proceed", "failure"]), NS.TLS);
  }
}

// ---- RFC 6120 streams ------------------------------------------------------------------

/** A valid RFC 6120 stream, as the server side of a session would send it. */
export function tcpServerStream(rng: Rng): string {
  const prefixed = rng.chance(0.8);
  let out = rng.chance(0.5) ? "<?xml version='1.0'?>" : "";
  out += prefixed
    ? `<stream:stream xmlns='jabber:client' xmlns:stream='${ST}' from='${DOMAIN}' id='t${
      rng.int(1000)
    }' version='1.0' xml:lang='en'>`
    : `<stream xmlns='${ST}' xmlns:stream='${ST}' from='${DOMAIN}' id='t' version='1.0'>`;
  const n = rng.range(0, 8);
  for (let i = 0; i < n; i++) {
    if (rng.chance(0.3)) out += rng.pick([" ", "\n", "\r\n\t "]);
    out += rng.pick(TCP_ELEMENTS);
  }
  if (rng.chance(0.8)) out += prefixed ? "</stream:stream>" : "</stream>";
  return out;
}

const TCP_ELEMENTS: readonly string[] = [
  `<stream:features><mechanisms xmlns='${NS.SASL}'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`,
  `<message from='romeo@example.net' to='juliet@example.com'><body>caf\u00e9 \u20ac \u{1F600} \u4e2d &lt;&amp;&gt; &#x263A;</body></message>`,
  `<presence/>`,
  `<iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>`,
  `<message><body><![CDATA[<!-- fine --> ]]]]><![CDATA[> \u00e9]]></body></message>`,
  `<message xml:lang='fr'><x:thing xmlns:x='urn:x' x:a='1' b='&apos;&quot;'/></message>`,
  `<r xmlns='${NS.SM}'/>`,
  `<message>${"\u00e9\u{1F600}".repeat(40)}</message>`,
];

/** Splits `bytes` into random chunks (including empty ones). */
export function randomChunks(rng: Rng, bytes: Uint8Array): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    const size = rng.chance(0.3) ? rng.range(0, 3) : rng.range(1, 64);
    chunks.push(bytes.subarray(at, Math.min(bytes.length, at + size)));
    at += size;
  }
  return chunks;
}
