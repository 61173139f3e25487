/**
 * Unit tests of the RFC 6120 stream splitter: events, restarts, pauses, limits, encoding, and
 * restricted XML across chunk boundaries.
 */

import { assert, assertEquals } from "@std/assert";
import {
  element,
  NS,
  type StreamEvent,
  StreamParser,
  type StreamParserOptions,
  type XmlError,
} from "../../core/mod.ts";

const HEADER =
  `<stream:stream xmlns='jabber:client' xmlns:stream='${NS.STREAMS}' from='example.com' id='abc' version='1.0' xml:lang='en'>`;
const HEADER_ELEMENT = element("stream", NS.STREAMS, {
  from: "example.com",
  id: "abc",
  version: "1.0",
  "xml:lang": "en",
});
const encoder = new TextEncoder();

function feed(
  chunks: readonly (string | Uint8Array)[],
  options?: StreamParserOptions,
): StreamEvent[] {
  const parser = new StreamParser(options);
  return chunks.flatMap((chunk) => parser.push(chunk));
}

function types(events: readonly StreamEvent[]): string[] {
  return events.map((e) => e.type);
}

function errorOf(events: readonly StreamEvent[]): XmlError | undefined {
  const error = events.find((e) => e.type === "error");
  return error?.type === "error" ? error.error : undefined;
}

function assertError(events: readonly StreamEvent[], condition: string, tooBig = false): void {
  const error = errorOf(events);
  if (error === undefined) {
    throw new Error(`expected ${condition}, got ${JSON.stringify(types(events))}`);
  }
  assertEquals([error.condition, error.tooBig], [condition, tooBig], error.text);
}

function assertNoError(events: readonly StreamEvent[]): void {
  const error = errorOf(events);
  assert(error === undefined, `unexpected error: ${error?.condition} ${error?.text}`);
}

Deno.test("stream parser: header, whitespace, elements and footer", () => {
  const events = feed([
    "<?xml version='1.0'?>",
    HEADER,
    "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>",
    " \n\t",
    "<message to='juliet@example.com'><body>hi</body></message>",
    "<presence/>",
    "</stream:stream>",
  ]);
  assertEquals(events, [
    { type: "header", element: HEADER_ELEMENT },
    {
      type: "element",
      element: element("features", NS.STREAMS, {}, [element("bind", NS.BIND)]),
    },
    { type: "whitespace" },
    {
      type: "element",
      element: element("message", NS.CLIENT, { to: "juliet@example.com" }, [
        element("body", NS.CLIENT, {}, ["hi"]),
      ]),
    },
    { type: "element", element: element("presence", NS.CLIENT) },
    { type: "footer" },
  ]);
});

Deno.test("stream parser: the header arrives as soon as its start tag is complete", () => {
  const parser = new StreamParser();
  assertEquals(parser.push(HEADER.slice(0, 20)), []);
  assertEquals(parser.push(HEADER.slice(20)), [{ type: "header", element: HEADER_ELEMENT }]);
  // A first-level element is reported only once it is complete.
  assertEquals(parser.push("<message><body>h"), []);
  assertEquals(types(parser.push("i</body></message>")), ["element"]);
});

Deno.test("stream parser: the unprefixed header form is recognised by namespace", () => {
  const events = feed([
    `<stream xmlns='${NS.STREAMS}' to='example.com' version='1.0'><x xmlns='urn:x'/></stream>`,
  ]);
  assertEquals(events, [
    {
      type: "header",
      element: element("stream", NS.STREAMS, { to: "example.com", version: "1.0" }),
    },
    { type: "element", element: element("x", "urn:x") },
    { type: "footer" },
  ]);
});

Deno.test("stream parser: restart() begins a new document", () => {
  const parser = new StreamParser();
  assertEquals(types(parser.push(HEADER + "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")), [
    "header",
    "element",
  ]);
  parser.restart();
  // The new document may start with an XML declaration again.
  assertEquals(types(parser.push("<?xml version='1.0'?>" + HEADER + "<presence/>")), [
    "header",
    "element",
  ]);
  // Without restart() a second declaration is a processing instruction mid-stream.
  assertError(parser.push("<?xml version='1.0'?>"), "restricted-xml");
  // restart() also clears a failure.
  parser.restart();
  assertEquals(types(parser.push(HEADER)), ["header"]);
});

Deno.test("stream parser: pauseAfter keeps the rest of the chunk for the next document", () => {
  const parser = new StreamParser({
    pauseAfter: (el) => el.name === "success" && el.ns === NS.SASL,
  });
  const events = parser.push(
    HEADER + "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/><?xml version='1.0'?>" + HEADER +
      "<presence/>",
  );
  assertEquals(types(events), ["header", "element"]);
  assertEquals(events[1], { type: "element", element: element("success", NS.SASL) });
  // While paused, input is kept, not parsed.
  assertEquals(parser.push("<message/>"), []);
  const remainder = parser.takeRemainder();
  assertEquals(remainder, "<?xml version='1.0'?>" + HEADER + "<presence/><message/>");
  assertEquals(parser.takeRemainder(), "");
  parser.restart();
  assertEquals(parser.push(remainder), [
    { type: "header", element: HEADER_ELEMENT },
    { type: "element", element: element("presence", NS.CLIENT) },
    { type: "element", element: element("message", NS.CLIENT) },
  ]);
});

Deno.test("stream parser: pauseAfter with nothing after the element", () => {
  const parser = new StreamParser({ pauseAfter: (el) => el.name === "proceed" });
  assertEquals(types(parser.push(HEADER + `<proceed xmlns='${NS.TLS}'/>`)), ["header", "element"]);
  assertEquals(parser.takeRemainder(), "");
  parser.restart();
  assertEquals(types(parser.push(HEADER)), ["header"]);
});

Deno.test("stream parser: maxBytes bounds each first-level element, across chunks", () => {
  const options = { limits: { maxBytes: 200 } };
  const parser = new StreamParser(options);
  assertEquals(types(parser.push(HEADER)), ["header"]);
  assertEquals(types(parser.push(`<message><body>${"x".repeat(150)}</body></message>`)), [
    "element",
  ]);
  let events: StreamEvent[] = parser.push("<message><body>");
  for (let i = 0; i < 30 && errorOf(events) === undefined; i++) {
    events = parser.push("x".repeat(10));
  }
  assertError(events, "policy-violation", true);
  // Once failed, the parser stays failed until restart().
  assertError(parser.push("<presence/>"), "policy-violation", true);
});

Deno.test("stream parser: maxBytes also holds when the oversized element arrives in one chunk", () => {
  const options = { limits: { maxBytes: 200 } };
  // Many small children: no single text run or attribute is long.
  const big = `<message>${"<b/>".repeat(100)}</message>`;
  assertError(feed([HEADER + big], options), "policy-violation", true);
  assertError(feed([HEADER, big], options), "policy-violation", true);
  assertError(
    feed([HEADER, `<message><body>${"x".repeat(300)}</body></message>`], options),
    "policy-violation",
    true,
  );
});

Deno.test("stream parser: a start tag that never ends is bounded too", () => {
  const options = { limits: { maxBytes: 1_000 } };
  // A first-level start tag with ever more attributes, never closed.
  const parser = new StreamParser(options);
  let events = parser.push(HEADER + "<message");
  for (let i = 0; i < 5_000 && errorOf(events) === undefined; i++) {
    events = parser.push(` a${i}='1'`);
  }
  assertError(events, "policy-violation", true);
  // The same for the stream header itself.
  const header = new StreamParser(options);
  events = header.push(`<stream:stream xmlns='jabber:client' xmlns:stream='${NS.STREAMS}'`);
  for (let i = 0; i < 5_000 && errorOf(events) === undefined; i++) {
    events = header.push(` a${i}='1'`);
  }
  assertError(events, "policy-violation", true);
});

Deno.test("stream parser: maxDepth counts a first-level element as 1 (not the header)", () => {
  const options = { limits: { maxDepth: 2 } };
  assertNoError(feed([HEADER, "<a><b/></a>"], options));
  assertError(feed([HEADER, "<a><b><c/></b></a>"], options), "policy-violation", true);
});

Deno.test("stream parser: maxAttributes and maxAttributeValueLength (the header counts too)", () => {
  const header = `<stream xmlns='${NS.STREAMS}'>`;
  const attributes = { limits: { maxAttributes: 2 } };
  assertNoError(feed([header, "<a x='1' y='2'/>"], attributes));
  assertError(feed([header, "<a x='1' y='2' z='3'/>"], attributes), "policy-violation", true);
  assertError(feed([HEADER], attributes), "policy-violation", true);
  const values = { limits: { maxAttributeValueLength: 40 } };
  assertNoError(feed([header, `<a x='${"v".repeat(40)}'/>`], values));
  assertError(feed([header, `<a x='${"v".repeat(41)}'/>`], values), "policy-violation", true);
});

Deno.test("stream parser: UTF-8 split inside characters, and invalid UTF-8", () => {
  const bytes = encoder.encode(HEADER + "<message><body>\u00e9\u20ac\u{1F600}</body></message>");
  // Feed one byte at a time: every multi-byte character is split.
  const events = feed(Array.from(bytes, (b) => new Uint8Array([b])));
  assertEquals(events[1], {
    type: "element",
    element: element("message", NS.CLIENT, {}, [
      element("body", NS.CLIENT, {}, ["\u00e9\u20ac\u{1F600}"]),
    ]),
  });
  for (
    const bad of [[0xc3, 0x28], [0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xff], [
      0xc0,
      0xaf,
    ]]
  ) {
    const head = encoder.encode(HEADER + "<message><body>");
    assertError(feed([head, new Uint8Array(bad)]), "unsupported-encoding");
    // Also when the bad sequence is split across chunks.
    assertError(
      feed([head, ...bad.map((b) => new Uint8Array([b])), encoder.encode("</body>")]),
      "unsupported-encoding",
    );
  }
});

Deno.test("stream parser: forbidden markup is found across chunk boundaries", () => {
  const splits: readonly (readonly string[])[] = [
    ["<a><", "!-- x --></a>"],
    ["<a><!", "-- x --></a>"],
    ["<a><!-", "- x --></a>"],
    ["<a><!", "-", "- x --></a>"],
    ["<", "!", "-", "-", " x --></a>"],
    ["<a><![CDATA[x]", "]><", "!-- y --></a>"],
    ["<a><![CDATA[x]]", "><!-- y --></a>"],
    ["<!DOC", "TYPE x>"],
    ["<a><!", "DOCTYPE x></a>"],
    ["<a><!", "[CDATX[ x ]]></a>"],
    ["<a><!", "ENTITY x 'y'></a>"],
  ];
  for (const chunks of splits) {
    const events = feed([HEADER, ...chunks]);
    assertError(events, "restricted-xml");
  }
  // CDATA may hold '<!--', whatever the chunking.
  for (
    const chunks of [["<a><![CDA", "TA[<!", "-- x -->]", "]><b/></a>"], [
      "<a><![CDATA[<!--",
      "-->]]></a>",
    ]]
  ) {
    const events = feed([HEADER, ...chunks]);
    assertNoError(events);
    assertEquals(types(events), ["header", "element"]);
  }
});

Deno.test("stream parser: a character reference split across chunks is still checked", () => {
  assertError(feed([HEADER, "<message><body>a&#1;b</body></message>"]), "not-well-formed");
  assertError(feed([HEADER, "<message><body>a&", "#1;b</body></message>"]), "not-well-formed");
  assertError(feed([HEADER, "<message><body>a&#", "x1;b</body></message>"]), "not-well-formed");
  assertError(feed([HEADER, "<message x='&", "#1;'/>"]), "not-well-formed");
});

Deno.test("stream parser: restricted XML, entities, and stray text in a stream", () => {
  assertError(feed([HEADER, "<a>&foo;</a>"]), "restricted-xml");
  assertError(feed([HEADER, "<?pi x?>"]), "restricted-xml");
  assertError(feed([HEADER, "<?xml version='1.0'?>"]), "restricted-xml");
  assertError(feed([HEADER, "<a><?pi?></a>"]), "restricted-xml");
  assertError(feed([HEADER, "hello<presence/>"]), "bad-format");
  assertError(feed([HEADER, "<a>\u0001</a>"]), "not-well-formed");
  assertError(feed([HEADER, "<a>&#0;</a>"]), "not-well-formed");
  assertError(feed([HEADER, "<a x='1' x='2'/>"]), "not-well-formed");
  assertError(feed([HEADER, "<p:a/>"]), "not-well-formed");
  assertError(feed(["<?xml version='1.0' standalone='yes'?>"]), "restricted-xml");
  assertError(feed(["<?xml version='1.0' encoding='ISO-8859-1'?>"]), "unsupported-encoding");
  // After the footer, nothing more may follow.
  assertError(feed([HEADER, "</stream:stream>", "<presence/>"]), "not-well-formed");
});

Deno.test("stream parser: an XML declaration must come first (XML 1.0 §2.8)", () => {
  assertNoError(feed(["<?xml version='1.0'?>", HEADER]));
  assert(errorOf(feed([" <?xml version='1.0'?>" + HEADER])) !== undefined);
});
