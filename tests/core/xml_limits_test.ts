/**
 * Limits counted while scanning (issue 8, finding 2): the raw scanner refuses a start tag over
 * the attribute, namespace-declaration or name-length limits before `sax-ts` sees a byte of it
 * (its attribute handling is quadratic), across chunk boundaries too; the element count bounds
 * messages of tiny elements. The cost side is measured by `bench/adversarial.ts`.
 */

import { assert, assertEquals } from "@std/assert";
import { DocumentParser, StreamParser } from "../../core/mod.ts";
import { RawScanner } from "../../core/xml/restricted.ts";

const LIMITS = { maxAttributes: 4, maxNamespaceDeclarations: 2, maxNameLength: 8 };

function scanError(text: string, chunk = text.length) {
  const scanner = new RawScanner(LIMITS);
  for (let i = 0; i < text.length; i += chunk) {
    const { error } = scanner.scan(text.slice(i, i + chunk), i + chunk >= text.length);
    if (error !== undefined) return error;
  }
  return undefined;
}

Deno.test("scanner: attributes, declarations and names are counted before parsing, in any chunking", () => {
  for (const chunk of [1, 2, 3, 7, 1000]) {
    assertEquals(scanError("<a b='1' c='2' d='3' e='4'/>", chunk), undefined);
    assertEquals(
      scanError("<a b='1' c='2' d='3' e='4' f='5'/>", chunk)?.text,
      "More than 4 attributes",
    );
    assertEquals(scanError("<a xmlns='u' xmlns:p='v'/>", chunk), undefined);
    assertEquals(
      scanError("<a xmlns='u' xmlns:p='v' xmlns:q='w'/>", chunk)?.text,
      "More than 2 namespace declarations",
    );
    // Names that only start like a declaration, and the element name itself, are not declarations.
    assertEquals(scanError("<xmlns:a xmlnsx='1' xmlnx='2' x:xmlns='3'/>", chunk), undefined);
    assertEquals(scanError("<abcdefgh abcdefgh='1'></abcdefgh>", chunk), undefined);
    assertEquals(scanError("<abcdefghi/>", chunk)?.condition, "policy-violation");
    assertEquals(scanError("<a abcdefghi='1'/>", chunk)?.tooBig, true);
    assertEquals(scanError("<a></abcdefghi>", chunk)?.condition, "policy-violation");
    // Counters are per tag: many tags under the limit each are fine.
    assertEquals(
      scanError("<a>" + "<b x='1' y='2' z='3' w='4'/>".repeat(50) + "</a>", chunk),
      undefined,
    );
    // Attribute values are not names, however long or whatever they hold.
    assertEquals(scanError(`<a b='${"xmlns ".repeat(40)}'/>`, chunk), undefined);
  }
});

Deno.test("document and stream parsers refuse over-limit tags with policy-violation (close 1009)", () => {
  let many = "<message xmlns='jabber:client'";
  for (let i = 0; i < 32_000; i++) many += ` a${i}=''`;
  many += "/>";
  const result = new DocumentParser({ maxBytes: 1_000_000 }).parse(many);
  if (result.ok) throw new Error("32 000 attributes were accepted");
  assertEquals([result.error.condition, result.error.tooBig], ["policy-violation", true]);
  assertEquals(result.error.text, "More than 64 attributes");

  const stream = new StreamParser({ limits: { maxBytes: 1_000_000 } });
  stream.push(
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
  );
  const decls = "<message" + Array.from({ length: 40 }, (_, i) => ` xmlns:p${i}='u'`).join("") +
    "/>";
  const events = stream.push(decls);
  assertEquals(events.map((e) => e.type), ["error"]);
  const error = events[0]!.type === "error" ? events[0]!.error : undefined;
  assertEquals(error?.text, "More than 32 namespace declarations");
});

Deno.test("maxElements bounds one message (document) and one first-level element (stream)", () => {
  const parser = new DocumentParser({ maxElements: 5 });
  assert(parser.parse("<a><b/><b/><b/><b/></a>").ok);
  const refused = parser.parse("<a><b/><b/><b/><b/><b/></a>");
  if (refused.ok) throw new Error("6 elements were accepted");
  assertEquals([refused.error.condition, refused.error.tooBig], ["policy-violation", true]);

  const stream = new StreamParser({ limits: { maxElements: 3 } });
  stream.push(
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
  );
  // The count restarts with each first-level element.
  const ok = stream.push("<a><b/><c/></a><a><b/><c/></a>");
  assertEquals(ok.map((e) => e.type), ["element", "element"]);
  const over = stream.push("<a><b/><c/><d/></a>");
  assertEquals(over.map((e) => e.type), ["error"]);
  // The default admits a large roster-like message and refuses a message of 65 000 tiny ones.
  const roster = "<iq xmlns='jabber:client'><query xmlns='jabber:iq:roster'>" +
    "<item jid='a@b' subscription='both'><group>g</group></item>".repeat(2_000) + "</query></iq>";
  assert(new DocumentParser().parse(roster).ok);
  const tiny = new DocumentParser().parse("<a>" + "<b/>".repeat(65_000) + "</a>");
  assert(!tiny.ok && tiny.error.text === "More than 10000 elements");
});

Deno.test("Namespaces in XML 1.0 §3: the reserved prefixes and namespaces cannot be misused", () => {
  const parser = new DocumentParser();
  for (
    const bad of [
      "<a xmlns:x='http://www.w3.org/XML/1998/namespace'/>", // another prefix for xml's namespace
      "<a xmlns:xml='urn:other'/>", // xml rebound
      "<a xmlns:xmlns='urn:x'/>", // xmlns declared
      "<a xmlns:x='http://www.w3.org/2000/xmlns/'/>", // a prefix for the xmlns namespace
      "<a xmlns='http://www.w3.org/2000/xmlns/'/>", // default: the xmlns namespace
      "<a xmlns='http://www.w3.org/XML/1998/namespace'/>", // default: the xml namespace
      "<message xmlns='jabber:client'><xmlns:x/></message>", // element with the xmlns prefix
    ]
  ) {
    const result = parser.parse(bad);
    assert(!result.ok, bad);
    assertEquals(result.ok ? "" : result.error.condition, "not-well-formed", bad);
  }
  // What is allowed: declaring xml to its own namespace, and using xml: attributes.
  assert(parser.parse("<a xmlns:xml='http://www.w3.org/XML/1998/namespace' xml:lang='en'/>").ok);
});
