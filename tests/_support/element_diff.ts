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

interface Known {
  readonly reason: string;
  /** Whether the construct is at `at`, where the checker refused the text. */
  readonly present: (text: string, at: number) => boolean;
}

/**
 * Where the checker and DocumentParser may differ. The six sax-ts leniencies once listed here
 * (entity names, `&#X`, references to surrogates, whitespace after `</`, CDATA outside the root,
 * prefixes found on Object.prototype) are refused by the tree path too (RawScanner and
 * TreeBuilder), so the comparison demands agreement on them. Only `declaration` is left: callers
 * route such texts to DocumentParser.
 */
export const KNOWN: Readonly<Record<string, Known>> = {
  declaration: {
    reason: "a text starting with '<?' is left to DocumentParser (the caller routes it there)",
    present: (t) => t.startsWith("<?"),
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
