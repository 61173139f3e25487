/**
 * The serializer's round-trip guarantee (issue 8): whatever it emits re-parses, as exactly one
 * element, to the tree that was meant. Property-tested with random element names, prefixes,
 * namespace URIs and attribute values built from every XML-special character, and the sender
 * forgery of issue 8 finding 1 (a namespace URI containing `}`) as a fixed regression.
 *
 * The seed is `ROUNDTRIP_SEED` when set, else random per run; it is printed, and a failure
 * names it.
 */

import { assert, assertEquals, assertThrows } from "@std/assert";
import {
  DocumentParser,
  element,
  escapeAttribute,
  serialize,
  StreamParser,
  type XmlElement,
  type XmlNode,
} from "../../core/mod.ts";
import { XmlNameError } from "../../core/xml/serialize.ts";
import { isNcName } from "../../core/xml/names.ts";
import { Rng } from "../_support/fuzz_gen.ts";

const SEED = Number(Deno.env.get("ROUNDTRIP_SEED") ?? Math.floor(Math.random() * 2 ** 32));
console.log(`serialize round trip: ROUNDTRIP_SEED=${SEED}`);

const parser = new DocumentParser({ maxBytes: 4_000_000, maxAttributes: 400 });

function reparse(text: string): XmlElement {
  const result = parser.parse(text);
  if (!result.ok) throw new Error(`did not re-parse (${result.error.text}): ${text}`);
  return result.element;
}

/** The forgery payload of issue 8, finding 1, exactly as reported. */
const FORGERY = `<message xmlns='jabber:client' to='bob@localhost/phone' ` +
  `xmlns:p="a}x='1'/&gt;&lt;message from='admin@localhost' to='bob@localhost/phone'&gt;` +
  `&lt;body&gt;forged&lt;/body&gt;&lt;/message&gt;&lt;a b" p:z='v'><body>hi</body></message>`;

Deno.test("issue 8 #1: a namespace URI with '}' cannot inject markup (sender forgery)", () => {
  const parsed = reparse(FORGERY);
  const again = reparse(serialize(parsed));
  assertEquals(again, parsed);
  assertEquals(again.name, "message");
  assertEquals(again.attrs["from"], undefined);
  assertEquals(again.children.length, 1);
  // Inside an RFC 6120 stream too: exactly one first-level element, no forged <message>.
  const stream = new StreamParser();
  const events = stream.push(
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>" +
      serialize(parsed, { defaultNs: "jabber:client" }),
  );
  const elements = events.filter((e) => e.type === "element");
  assertEquals(elements.length, 1);
  assertEquals(events.filter((e) => e.type === "error"), []);
});

Deno.test("serializer refuses names that are not NCNames instead of writing them", () => {
  assertThrows(() => serialize(element("a'b", "")), XmlNameError);
  assertThrows(() => serialize(element("a", "", { "x='1' y": "v" })), XmlNameError);
  assertThrows(() => serialize(element("a", "", { "{urn:x}a b": "v" })), XmlNameError);
  assertThrows(
    () => serialize(element("a", "urn:x"), { prefixes: { "urn:x": "p q" } }),
    XmlNameError,
  );
  // A URI may hold any character: it is escaped, inside quotes.
  const el = element("a", "", { "{u}r}n}name": "v" });
  assertEquals(reparse(serialize(el)), el);
});

// ---- generators --------------------------------------------------------------------------

const SPECIAL = ["}", "{", "<", ">", "&", "'", '"', "]]>", "\t", "\n", "\r", "\r\n", " ", ":"];
const LEGAL_CONTROL = ["\t", "\n", "\r"];
const ASTRAL = ["😀", "𝄞", "\u{10FFFD}", "\u{1F600}\u{1F601}"];
const BMP = ["é", "ß", "中", "\u00B7", "\uFFFD", "\u200C", "\u3001"];
const NAME_START = ["a", "Z", "_", "é", "中", "\u00C0", "\u0370", "\u2C00", "\uF900"];
const NAME_BODY = [...NAME_START, "-", ".", "0", "9", "\u00B7", "\u0300", "\u203F"];

function name(rng: Rng): string {
  let s = rng.pick(NAME_START);
  const n = rng.int(8);
  for (let i = 0; i < n; i++) s += rng.pick(NAME_BODY);
  return s;
}

function text(rng: Rng, max = 12): string {
  let s = "";
  const n = rng.int(max);
  for (let i = 0; i < n; i++) {
    s += rng.weighted<() => string>([
      [4, () => String.fromCharCode(0x20 + rng.int(95))],
      [3, () => rng.pick(SPECIAL)],
      [1, () => rng.pick(LEGAL_CONTROL)],
      [1, () => rng.pick(ASTRAL)],
      [1, () => rng.pick(BMP)],
    ])();
  }
  return s;
}

function uri(rng: Rng): string {
  // Non-empty (an empty URI is "no namespace"), any characters at all.
  return rng.pick(["urn:", "http://x/", "a", "}"]) + text(rng, 10);
}

function randomElement(rng: Rng, depth: number, namespaces: readonly string[]): XmlElement {
  const attrs: Record<string, string> = {};
  const count = rng.int(5);
  for (let i = 0; i < count; i++) {
    const kind = rng.int(4);
    const key = kind === 0
      ? "xml:" + rng.pick(["lang", "space", name(rng)])
      : kind === 1
      ? "{" + rng.pick(namespaces) + "}" + name(rng)
      : name(rng);
    attrs[key] = text(rng);
  }
  const children: XmlNode[] = [];
  const n = depth > 3 ? 0 : rng.int(4);
  for (let i = 0; i < n; i++) {
    if (rng.chance(0.4)) {
      const t = text(rng);
      // Adjacent text nodes merge when parsed, and empty ones vanish: build what a parser gives.
      if (t === "") continue;
      const last = children[children.length - 1];
      if (typeof last === "string") children[children.length - 1] = last + t;
      else children.push(t);
    } else {
      children.push(randomElement(rng, depth + 1, namespaces));
    }
  }
  const ns = rng.chance(0.2) ? "" : rng.pick(namespaces);
  return element(name(rng), ns, attrs, children);
}

Deno.test(`serializer round trip: 3000 random trees re-parse to themselves (seed ${SEED})`, () => {
  const rng = new Rng(SEED);
  for (let i = 0; i < 3000; i++) {
    const namespaces = [uri(rng), uri(rng), "jabber:client", uri(rng)];
    const tree = randomElement(rng, 0, namespaces);
    if (tree.ns === "" && rng.chance(0.5)) continue;
    const prefixes: Record<string, string> = rng.chance(0.3)
      ? { [rng.pick(namespaces)]: name(rng).replace(/[^A-Za-z_]/g, "p") || "p" }
      : {};
    const defaultNs = rng.chance(0.5) ? "" : rng.pick(namespaces);
    const out = serialize(tree, { defaultNs: "", prefixes });
    let again: XmlElement;
    try {
      again = reparse(out);
    } catch (error) {
      throw new Error(`ROUNDTRIP_SEED=${SEED} tree #${i}: ${(error as Error).message}`);
    }
    assertEquals(again, tree, `ROUNDTRIP_SEED=${SEED} tree #${i}: ${out}`);
    // Written for insertion into a stream with a default namespace, it parses there too.
    const inStream = serialize(tree, { defaultNs });
    const stream = new StreamParser({ limits: { maxBytes: 4_000_000, maxAttributes: 400 } });
    const events = stream.push(
      `<s:stream xmlns='${escapeAttribute(defaultNs)}' ` +
        `xmlns:s='http://etherx.jabber.org/streams'>` + inStream,
    );
    const errors = events.filter((e) => e.type === "error");
    assertEquals(errors, [], `ROUNDTRIP_SEED=${SEED} tree #${i} in a stream: ${inStream}`);
    const elements = events.flatMap((e) => e.type === "element" ? [e.element] : []);
    assertEquals(elements, [tree], `ROUNDTRIP_SEED=${SEED} tree #${i}`);
  }
});

Deno.test("isNcName agrees with the parser on names it accepts", () => {
  const rng = new Rng(SEED ^ 0x5bd1e995);
  for (let i = 0; i < 500; i++) {
    const n = name(rng);
    assert(isNcName(n), n);
    assert(parser.parse(`<${n}/>`).ok, n);
  }
  for (const bad of ["", "1a", "-a", "a:b", "a b", "a}", "a'", "😀"]) assert(!isNcName(bad), bad);
});

Deno.test("names and namespace URIs that are Object.prototype's keys are data like any other", () => {
  const inStream = {
    defaultNs: "jabber:client",
    prefixes: { "http://etherx.jabber.org/streams": "stream" },
  };
  for (
    const text of [
      "<a xmlns='constructor'/>",
      "<a xmlns='__proto__'><b xmlns='toString'/></a>",
      "<a xmlns='urn:a' xmlns:q='toString' q:b='1'/>",
      "<a xmlns='hasOwnProperty'><b xmlns:p='valueOf' p:c='2'/></a>",
      "<a hasOwnProperty='5' valueOf='6' constructor='7' __proto__='8'/>",
    ]
  ) {
    const parsed = reparse(text);
    assertEquals(reparse(serialize(parsed)), parsed, text);
    // Inside a stream too (the serializer's prefix table is consulted for every URI).
    const stream = new StreamParser();
    const events = stream.push(
      "<s:stream xmlns='jabber:client' xmlns:s='http://etherx.jabber.org/streams'>" +
        serialize(parsed, inStream),
    );
    assertEquals(events.filter((e) => e.type === "error"), [], text);
    assertEquals(events.flatMap((e) => e.type === "element" ? [e.element] : []), [parsed], text);
  }
  assertEquals(Object.keys(reparse("<a __proto__='8' b='1'/>").attrs), ["__proto__", "b"]);
});
