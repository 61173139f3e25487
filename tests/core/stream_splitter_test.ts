/**
 * The stream splitter (core/xml/stream_splitter.ts): the relay path's cutting of an RFC 6120
 * stream by position (issue 10). Every chunking gives the same parts, a character may straddle
 * chunks, and what cannot be split is refused with the condition the tree parser gives.
 */

import { assertEquals } from "@std/assert";
import { type SplitEvent, StreamSplitter } from "../../core/xml/stream_splitter.ts";

const HEADER =
  "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s1' version='1.0'>";
const ELEMENTS = [
  "<presence/>",
  "<message to='a@b' id=\"x>y\"><body>1 &lt; 2 &amp; 3 > 2</body></message>",
  "<iq type='get' id='q'><query xmlns='jabber:iq:roster'><item jid='a@b' name='/&gt;'/></query></iq>",
  "<message><body><![CDATA[</message><presence/>]]></body></message>",
  "<message><body>ümlaut 😀 ∑</body><x xmlns='urn:x' a='&apos;'/></message>",
  "<r xmlns='urn:xmpp:sm:3'/>",
];
const STREAM = "<?xml version='1.0'?>" + HEADER + " " + ELEMENTS.join("\n") + "\t</stream:stream>";

function drain(splitter: StreamSplitter): SplitEvent[] {
  const events: SplitEvent[] = [];
  for (let guard = 0; guard < 10_000; guard++) {
    const event = splitter.next();
    if (event === undefined) return events;
    events.push(event);
    if (event.type === "error") return events;
  }
  throw new Error("the splitter did not stop");
}

function split(chunks: readonly (string | Uint8Array)[], maxChars?: number): SplitEvent[] {
  const splitter = new StreamSplitter(maxChars === undefined ? {} : { maxChars });
  const events: SplitEvent[] = [];
  for (const chunk of chunks) {
    splitter.push(chunk);
    events.push(...drain(splitter));
  }
  return events;
}

/** Consecutive whitespace events are one run cut by chunking: compare them as one. */
function normalise(events: readonly SplitEvent[]): SplitEvent[] {
  return events.filter((e, i) =>
    !(e.type === "whitespace" && events[i - 1]?.type === "whitespace")
  );
}

const EXPECTED: SplitEvent[] = [
  { type: "header", text: HEADER, declaration: "<?xml version='1.0'?>" },
  { type: "whitespace" },
  ...ELEMENTS.flatMap((text, i): SplitEvent[] =>
    i === 0 ? [{ type: "element", text }] : [{ type: "whitespace" }, { type: "element", text }]
  ),
  { type: "whitespace" },
  { type: "footer", text: "</stream:stream>" },
];

Deno.test("splitter: a whole stream in one chunk", () => {
  assertEquals(split([STREAM]), EXPECTED);
});

Deno.test("splitter: every two-chunk cut of the text gives the same parts", () => {
  for (let at = 0; at <= STREAM.length; at++) {
    assertEquals(
      normalise(split([STREAM.slice(0, at), STREAM.slice(at)])),
      EXPECTED,
      `cut at ${at}`,
    );
  }
});

Deno.test("splitter: every byte-level cut (inside multi-byte characters too)", () => {
  const bytes = new TextEncoder().encode(STREAM);
  for (let at = 0; at <= bytes.length; at += 1) {
    assertEquals(
      normalise(split([bytes.subarray(0, at), bytes.subarray(at)])),
      EXPECTED,
      `cut at byte ${at}`,
    );
  }
});

Deno.test("splitter: one character at a time", () => {
  assertEquals(normalise(split([...STREAM])), EXPECTED);
});

Deno.test("splitter: restart after SASL success keeps the unread input for the new document", () => {
  const splitter = new StreamSplitter();
  splitter.push(
    HEADER + "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/><?xml version='1.0'?>" + HEADER +
      "<presence/>",
  );
  assertEquals(splitter.next()?.type, "header");
  assertEquals(splitter.next(), {
    type: "element",
    text: "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
  });
  // Without a restart, a second declaration is a processing instruction: refused.
  splitter.restart();
  assertEquals(splitter.next(), {
    type: "header",
    text: HEADER,
    declaration: "<?xml version='1.0'?>",
  });
  assertEquals(splitter.next(), { type: "element", text: "<presence/>" });
});

Deno.test("splitter: a header written as an empty tag opens and ends the stream", () => {
  const events = split([
    "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'/><presence/>",
  ]);
  assertEquals(events.map((e) => e.type), ["header"]);
});

Deno.test("splitter: what cannot be split is refused with the tree parser's condition", () => {
  const cases: [string, string, boolean?][] = [
    [HEADER + "hello", "bad-format"],
    [HEADER + "<!-- c --><presence/>", "restricted-xml"],
    [HEADER + "<?pi x?>", "restricted-xml"],
    [HEADER + "<![CDATA[x]]>", "not-well-formed"],
    [HEADER + "<message><!-- c --></message>", "restricted-xml"],
    [HEADER + "<message><?pi?></message>", "restricted-xml"],
    ["<!DOCTYPE x>" + HEADER, "restricted-xml"],
    ["text" + HEADER, "not-well-formed"],
    ["</stream:stream>", "not-well-formed"],
    [" <?xml version='1.0'?>" + HEADER, "restricted-xml"],
    [HEADER + "<message <body/>", "not-well-formed"],
  ];
  for (const [text, condition] of cases) {
    const events = split([text]);
    const last = events.at(-1);
    assertEquals(last?.type === "error" && last.error.condition, condition, text);
  }
});

Deno.test("splitter: sizes are bounded while scanning, before an element completes", () => {
  const over = split([HEADER + "<message><body>" + "x".repeat(200)], 100);
  const last = over.at(-1);
  assertEquals(last?.type === "error" && [last.error.condition, last.error.tooBig], [
    "policy-violation",
    true,
  ]);
  // The header itself is bounded too, and so is an unfinished CDATA section.
  const header = split(["<stream:stream " + "a".repeat(200)], 100).at(-1);
  assertEquals(header?.type === "error" && header.error.tooBig, true);
  const cdata = split([HEADER + "<m><![CDATA[" + "x".repeat(200)], 100).at(-1);
  assertEquals(cdata?.type === "error" && cdata.error.tooBig, true);
  // Whitespace between elements is consumed, not accumulated.
  const spaces = split([HEADER, " ".repeat(500), "<presence/>"], 100);
  assertEquals(spaces.at(-1), { type: "element", text: "<presence/>" });
});

Deno.test("splitter: invalid UTF-8 is refused", () => {
  const events = split([new TextEncoder().encode(HEADER), new Uint8Array([0xc3, 0x28])]);
  const last = events.at(-1);
  assertEquals(last?.type === "error" && last.error.condition, "unsupported-encoding");
});

Deno.test("splitter: nothing after the footer is reported", () => {
  assertEquals(split([HEADER + "</stream:stream><presence/>"]).map((e) => e.type), [
    "header",
    "footer",
  ]);
});

Deno.test("splitter: a byte order mark may open the byte stream, and only there", () => {
  const bom = new Uint8Array([0xef, 0xbb, 0xbf]);
  const encode = (text: string) => new TextEncoder().encode(text);
  // Split inside the mark too: the mark is recognised once whole.
  assertEquals(split([bom.subarray(0, 2), bom.subarray(2), encode(HEADER + "<presence/>")]), [
    { type: "header", text: HEADER, declaration: "" },
    { type: "element", text: "<presence/>" },
  ]);
  const later = split([encode(HEADER), bom, encode("<presence/>")]).at(-1);
  assertEquals(later?.type === "error" && later.error.condition, "bad-format");
});

Deno.test("splitter: a sequence that turns out invalid across chunks is refused", () => {
  // E2 82 announces a three-byte character; 41 is not a continuation byte.
  const events = split([
    new TextEncoder().encode(HEADER + "<message><body>"),
    new Uint8Array([0xe2, 0x82]),
    new Uint8Array([0x41]),
  ]);
  const last = events.at(-1);
  assertEquals(last?.type === "error" && last.error.condition, "unsupported-encoding");
  // A lone continuation byte, and a lead byte that can never start a character.
  for (const bad of [[0x80], [0xff]]) {
    const error = split([new TextEncoder().encode(HEADER), new Uint8Array(bad)]).at(-1);
    assertEquals(
      error?.type === "error" && error.error.condition,
      "unsupported-encoding",
      `${bad}`,
    );
  }
});
