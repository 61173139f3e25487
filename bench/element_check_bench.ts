/**
 * `deno bench` of the single-pass element checker (issue 10) against `DocumentParser` (sax-ts
 * and the tree builder, the `baseline` of each group) on the same text: a typical 170-byte chat
 * message, a 4 KB message, and two hostile shapes near the default size limit (many tiny
 * elements; a long run of `]` and references) to show the cost stays linear. `deno bench`
 * prints each group's ratio ("x faster than").
 *
 * Run: `npx -y deno@2.9.6 bench bench/element_check_bench.ts`
 *
 * @module
 */

import { DocumentParser } from "../core/xml/document_parser.ts";
import { ElementChecker } from "../core/xml/element_check.ts";

/** A typical chat message (170 bytes). */
const SMALL = "<message xmlns='jabber:client' to='romeo@example.net' id='ktx72v49' type='chat'>" +
  "<body>Art thou not Romeo, and a Montague? Neither, fair saint.</body></message>";

/** A 4 KB message: attributes, namespaces, nested elements, references, non-ASCII text. */
const LARGE = "<message xmlns='jabber:client' from='juliet@example.com/balcony' " +
  "to='romeo@example.net' type='groupchat' id='de305d54-75b4-431b' xml:lang='en'>" +
  "<body>" + "Deny thy father &amp; refuse thy name; or, if thou wilt not, be but sworn my love. "
  .repeat(30) + "Ça va ? 😀</body>" +
  "<x xmlns='jabber:x:data' type='form'><field var='a' type='text-single'><value>1</value>" +
  "</field><field var='b'><value>&lt;two&gt;</value></field></x>" +
  "<active xmlns='http://jabber.org/protocol/chatstates'/>" +
  "<origin-id xmlns='urn:xmpp:sid:0' id='de305d54-75b4-431b-adb2'/></message>";

/** About 250 KB of tiny elements (limited by maxElements: raise it for this shape). */
const TINY = "<r>" + "<a/>".repeat(60_000) + "</r>";
/** About 250 KB of `]` runs and references in text. */
const BRACKETS = "<r>" + "]]]]]]]]&amp;&#65;".repeat(14_000) + "</r>";

for (const text of [SMALL, LARGE, TINY, BRACKETS]) {
  const checker = new ElementChecker({ maxElements: 100_000 });
  const parser = new DocumentParser({ maxElements: 100_000 });
  if (!checker.check(text).ok || !parser.parse(text).ok) {
    throw new Error(`benchmark input refused: ${text.slice(0, 60)}`);
  }
}

function group(name: string, text: string): void {
  const checker = new ElementChecker({ maxElements: 100_000 });
  const parser = new DocumentParser({ maxElements: 100_000 });
  const bytes = new TextEncoder().encode(text).length;
  Deno.bench({
    name: `DocumentParser.parse (${bytes} bytes)`,
    group: name,
    baseline: true,
    fn: () => {
      if (!parser.parse(text).ok) throw new Error("refused");
    },
  });
  Deno.bench({
    name: `ElementChecker.check (${bytes} bytes)`,
    group: name,
    fn: () => {
      if (!checker.check(text).ok) throw new Error("refused");
    },
  });
}

group("170-byte message", SMALL);
group("4 KB message", LARGE);
group("250 KB of tiny elements", TINY);
group("250 KB of ']' and references", BRACKETS);
