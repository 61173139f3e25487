/**
 * The differential comparison of {@link ElementChecker} with DocumentParser (sax-ts), shared by
 * the checker's tests and the hostile corpus: the same verdict, root and condition, or a known,
 * documented difference found where the checker says.
 *
 * @module
 */

import { DocumentParser } from "../../core/xml/document_parser.ts";
import type { XmlLimits } from "../../core/xml/limits.ts";
import {
  DECLARATION_TEXT,
  type ElementCheck,
  ElementChecker,
} from "../../core/xml/element_check.ts";

// ---- known differences ------------------------------------------------------------------------

/** Object.prototype's members: sax-ts finds them through its prototype chains. */
const PROTO = new Set(Object.getOwnPropertyNames(Object.prototype));
const FIVE = new Set(["amp", "lt", "gt", "quot", "apos"]);

interface Known {
  readonly reason: string;
  /** Whether the construct is at `at`, where the checker refused the text. */
  readonly present: (text: string, at: number) => boolean;
}

/**
 * Where the checker is stricter than DocumentParser, on purpose. Each is a sax-ts leniency that
 * XML 1.0 (or Namespaces in XML) forbids, except `declaration`, which callers route to
 * DocumentParser.
 */
export const KNOWN: Readonly<Record<string, Known>> = {
  declaration: {
    reason: "a text starting with '<?' is left to DocumentParser (the caller routes it there)",
    present: (t) => t.startsWith("<?"),
  },
  entityName: {
    reason: "sax-ts resolves entity names case-insensitively and through Object.prototype " +
      "(&AMP;, &constructor;); XML 1.0 §4.1 knows only the five predefined names",
    present: (t, at) => {
      const m = /^&([^;&<>'"\s]+);/.exec(t.slice(at, at + 64));
      if (m === null) return false;
      const name = m[1]!;
      return !FIVE.has(name) &&
        (FIVE.has(name.toLowerCase()) || PROTO.has(name) || PROTO.has(name.toLowerCase()));
    },
  },
  hexX: {
    reason: "sax-ts accepts &#X41; (upper-case X); XML 1.0 §4.1 requires '&#x'",
    present: (t, at) => t.startsWith("&#X", at),
  },
  surrogateRef: {
    reason: "sax-ts decodes &#xD83D;&#xDE00; into a valid pair; XML 1.0 §4.1: a reference must " +
      "match Char, which excludes surrogates",
    present: (t, at) => {
      const m = /^&#(x[0-9a-fA-F]+|[0-9]+);/.exec(t.slice(at, at + 64));
      if (m === null) return false;
      const code = m[1]!.startsWith("x") ? parseInt(m[1]!.slice(1), 16) : parseInt(m[1]!, 10);
      return code >= 0xd800 && code <= 0xdfff;
    },
  },
  endTagSpace: {
    reason: "sax-ts skips whitespace after '</'; XML 1.0 §3.1: ETag ::= '</' Name S? '>'",
    present: (t, at) => t.startsWith("</", at) && /[ \t\r\n]/.test(t.charAt(at + 2)),
  },
  cdataOutside: {
    reason: "sax-ts ignores CDATA sections before or after the root; XML 1.0 §2.1 allows " +
      "only Misc (comments, PIs, whitespace) there",
    present: (t, at) =>
      t.startsWith("<![CDATA[", at) &&
      (/^\uFEFF?[ \t\r\n]*$/.test(t.slice(0, at)) ||
        new DocumentParser().parse(t.slice(0, at)).ok),
  },
  protoPrefix: {
    reason: "sax-ts finds undeclared prefixes named after Object.prototype members " +
      "(<constructor:a/>, ns = a function); Namespaces in XML 1.0 §5: a prefix must be declared",
    present: (t, at) => {
      const m = /^<?([^\s:<>/='"]+):/.exec(t.slice(at, at + 64));
      return m !== null && PROTO.has(m[1]!);
    },
  },
};

const OFFSET = / \(offset (\d+)\)$/;

/** Which known difference explains the checker's refusal (undefined: none). */
export function explain(text: string, result: ElementCheck): string | undefined {
  if (result.ok) return undefined;
  if (
    result.error.text === DECLARATION_TEXT && KNOWN.declaration!.present(text, 0)
  ) {
    return "declaration";
  }
  const m = OFFSET.exec(result.error.text);
  if (m === null) return undefined;
  const at = Number(m[1]);
  for (const [name, known] of Object.entries(KNOWN)) {
    if (name !== "declaration" && known.present(text, at)) return name;
  }
  return undefined;
}

// ---- comparison -------------------------------------------------------------------------------

export interface Pair {
  readonly checker: ElementChecker;
  readonly parser: DocumentParser;
}

export function pair(limits: Partial<XmlLimits> = {}): Pair {
  return { checker: new ElementChecker(limits), parser: new DocumentParser(limits) };
}

/** Compares one text; returns a disagreement or undefined, and counts known differences. */
export function compare(p: Pair, text: string, known: Map<string, number>): string | undefined {
  const mine = p.checker.check(text);
  const theirs = p.parser.parse(text);
  if (mine.ok && theirs.ok) {
    if (mine.name !== theirs.element.name || mine.ns !== theirs.element.ns) {
      return `root ${mine.ns}|${mine.name} vs ${String(theirs.element.ns)}|${theirs.element.name}`;
    }
    if (!/^[ \t\r\n]*$/.test(text.slice(mine.end))) return `text after end ${mine.end}`;
    return undefined;
  }
  if (!mine.ok && !theirs.ok) {
    if (
      mine.error.tooBig === theirs.error.tooBig && mine.error.condition === theirs.error.condition
    ) {
      return undefined;
    }
  }
  const why = mine.ok ? undefined : explain(text, mine);
  if (why !== undefined) {
    known.set(why, (known.get(why) ?? 0) + 1);
    return undefined;
  }
  const a = mine.ok ? "ok" : `${mine.error.condition}/${mine.error.tooBig} ${mine.error.text}`;
  const b = theirs.ok
    ? `ok ${String(theirs.element.ns)}`
    : `${theirs.error.condition}/${theirs.error.tooBig} ${theirs.error.text}`;
  return `checker: ${a}; DocumentParser: ${b}`;
}
