/**
 * Runs the transcript vectors of `tests/vectors/`: one JSON file per checked behaviour, named
 * after the rule of §1 of the RFC 7395 digest it checks (`11-wrong-framing-namespace.json`).
 * Each file is one `Deno.test` that feeds its inputs to a fresh session of the file's role and
 * compares every step's outputs with the expected ones, exactly and in order.
 *
 * File format:
 *
 * ```jsonc
 * {
 *   "rule": 11, "section": "7395 §3.3.2", "role": "server", "description": "...",
 *   "config": { "domains": ["example.com"] },           // SessionConfig without `role`
 *   "steps": [
 *     { "input": { "type": "transport-opened", "now": 0, "secure": true, "streamId": "s1" },
 *       "expect": [{ "type": "set-timer", "timer": "open", "at": 30000 }] },
 *     { "input": { "type": "send-element", "now": 1, "xml": "<message xmlns='jabber:client'/>" },
 *       "expect": ["<message xmlns='jabber:client'/>"] },
 *     { "input": { "type": "restart-stream", "now": 2 }, "throws": "XmppUsageError" }
 *   ]
 * }
 * ```
 *
 * - Inputs are core `Input` objects, except that `send-element` takes its element and
 *   `accept-stream` its features as an XML string in `xml`, and `text-received` may give raw
 *   UTF-8 as hex in `bytes` (`"c3 28"`) instead of a string in `data`.
 * - An expected `send-text` is written as a bare XML string (or `{ "type": "send-text",
 *   "text": "..." }`); an expected `element-received` as `{ "type": "element-received",
 *   "xml": "..." }`. Both are compared namespace-aware: prefixes and attribute order do not
 *   matter. Every other output is compared by deep equality.
 * - `"*"` matches any value: an attribute value or text node in expected XML, or a property
 *   value of an expected output. It never matches a missing attribute, node or property.
 * - Besides the expected outputs, every transcript must keep three invariants: each
 *   `send-text` begins with `<` and carries no XML declaration (#13, #14) and parses on its own
 *   (#12, #16); nothing is sent after `close-transport` (#28, RFC 6455 §5.5.1); and at most one
 *   terminal notice is emitted.
 *
 * The hub, the client and the gateway have vectors too, in `tests/vectors/hub/`,
 * `tests/vectors/client-core/` and `tests/vectors/gateway/` (at least 8 each), named after the
 * RFC, XEP or digest section they check (`6120-7.7-bind-requested-resource.json`,
 * `xep-0198-5-resume-after-drop.json`, `digest-2.2-close-becomes-footer.json`); their format
 * is described at {@link loadReducerVector}. Each runs against a fresh state of its reducer,
 * with the same exact, in-order comparison and the invariants that apply to it.
 *
 * Needs `--allow-read` (as `deno task test` grants).
 *
 * @module
 */

import { assert, assertEquals, AssertionError, assertThrows } from "@std/assert";
import {
  type ClientConfig,
  type ClientInput,
  clientStep,
  createClient,
  createGateway,
  createHub,
  createSession,
  createStoredAccount,
  DocumentParser,
  type GatewayConfig,
  type GatewayInput,
  gatewayStep,
  type HubConfig,
  type HubInput,
  hubStep,
  step,
} from "../core/mod.ts";
import type {
  Input,
  Output,
  Role,
  Session,
  SessionConfig,
  XmlElement,
  XmlNode,
} from "../core/mod.ts";

/** Where the vector files live. */
export const VECTOR_DIR: URL = new URL("./vectors/", import.meta.url);

/** A JSON value as read from a vector file. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** One step of a vector: an input, and either the exact outputs or the error it must throw. */
export interface VectorStep {
  readonly input: { readonly [key: string]: Json };
  readonly expect?: readonly Json[];
  /** The `name` of the error `step` must throw (e.g. `XmppUsageError`). */
  readonly throws?: string;
}

/** A parsed vector file. */
export interface VectorFile {
  readonly rule: number;
  readonly section: string;
  readonly role: Role;
  readonly description: string;
  readonly config: { readonly [key: string]: Json };
  readonly steps: readonly VectorStep[];
}

const WILDCARD = "*";
const TERMINAL: ReadonlySet<string> = new Set([
  "stream-closed",
  "stream-failed",
  "stream-redirected",
]);
const parser = new DocumentParser();

/**
 * Lists the vector files (`*.json` except `ELSEWHERE.json`), sorted by rule number, then name.
 *
 * @example
 * ```ts
 * const names = listVectorFiles();
 * console.log(names[0]); // e.g. "4-client-refuses-missing-subprotocol.json"
 * ```
 */
export function listVectorFiles(dir: URL = VECTOR_DIR): string[] {
  const names: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    if (entry.isFile && entry.name.endsWith(".json") && entry.name !== "ELSEWHERE.json") {
      names.push(entry.name);
    }
  }
  return names.sort((a, b) => ruleOf(a) - ruleOf(b) || a.localeCompare(b));
}

function ruleOf(name: string): number {
  const n = Number.parseInt(name, 10);
  return Number.isNaN(n) ? Infinity : n;
}

/**
 * Reads and checks the shape of one vector file. Throws an `Error` naming the file and the
 * problem when the file is malformed.
 *
 * @example
 * ```ts
 * const vector = loadVector("11-wrong-framing-namespace-server.json");
 * console.log(vector.rule, vector.role); // 11 "server"
 * ```
 */
export function loadVector(name: string, dir: URL = VECTOR_DIR): VectorFile {
  const fail = (problem: string): never => {
    throw new Error(`Malformed vector ${name}: ${problem}`);
  };
  let data: unknown;
  try {
    data = JSON.parse(Deno.readTextFileSync(new URL(name, dir)));
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
  if (!isObject(data)) return fail("the file must hold a JSON object");
  const { rule, section, role, description, config, steps } = data;
  if (typeof rule !== "number" || !Number.isInteger(rule)) return fail("'rule' must be an integer");
  if (!name.startsWith(`${rule}-`)) {
    return fail(`the file name must start with '${rule}-' (its rule)`);
  }
  if (typeof section !== "string" || section === "") return fail("'section' must be a string");
  if (role !== "client" && role !== "server") return fail("'role' must be 'client' or 'server'");
  if (typeof description !== "string" || description === "") {
    return fail("'description' is missing");
  }
  if (!isObject(config)) return fail("'config' must be an object");
  if (config.role !== undefined && config.role !== role) {
    return fail("'config.role' differs from 'role'");
  }
  if (config.transport !== undefined && config.transport !== "websocket") {
    return fail("the loader compares RFC 7395 messages: 'config.transport' must be 'websocket'");
  }
  if (!Array.isArray(steps) || steps.length === 0) return fail("'steps' must be a non-empty array");
  steps.forEach((s, i) => {
    if (!isObject(s) || !isObject(s.input) || typeof s.input.type !== "string") {
      fail(`step ${i}: 'input' must be an object with a 'type'`);
    } else if (typeof s.input.now !== "number") {
      fail(`step ${i}: 'input.now' must be a number`);
    } else if ((s.expect === undefined) === (s.throws === undefined)) {
      fail(`step ${i}: give exactly one of 'expect' and 'throws'`);
    } else if (s.expect !== undefined && !Array.isArray(s.expect)) {
      fail(`step ${i}: 'expect' must be an array`);
    } else if (s.throws !== undefined && typeof s.throws !== "string") {
      fail(`step ${i}: 'throws' must be an error name`);
    }
  });
  return data as unknown as VectorFile;
}

/**
 * Parses one XML document with the core's parser; throws when it is not one well-formed
 * element.
 *
 * @example
 * ```ts
 * console.log(parseXml("<presence xmlns='jabber:client'/>").ns); // "jabber:client"
 * ```
 */
export function parseXml(xml: string): XmlElement {
  const result = parser.parse(xml);
  if (!result.ok) {
    throw new Error(`Cannot parse XML (${result.error.condition}: ${result.error.text}): ${xml}`);
  }
  return result.element;
}

/**
 * Turns the JSON input of a vector step into a core `Input` (`xml` becomes the element or
 * features, `bytes` becomes UTF-8 `data`).
 *
 * @example
 * ```ts
 * const input = toInput({ type: "send-element", now: 1, xml: "<presence xmlns='jabber:client'/>" });
 * console.log(input.type); // "send-element"
 * ```
 */
export function toInput(json: { readonly [key: string]: Json }): Input {
  const { xml, bytes, ...rest } = json;
  const input: Record<string, unknown> = { ...rest };
  if (typeof xml === "string") {
    if (json.type === "accept-stream") input.features = parseXml(xml);
    else if (json.type === "send-element") input.element = parseXml(xml);
    else throw new Error(`'xml' is not allowed on a ${String(json.type)} input`);
  }
  if (typeof bytes === "string") {
    const hex = bytes.split(/\s+/).filter((b) => b !== "");
    if (hex.some((b) => !/^[0-9a-fA-F]{2}$/.test(b))) {
      throw new Error(`Bad hex in 'bytes': ${bytes}`);
    }
    input.data = new Uint8Array(hex.map((b) => Number.parseInt(b, 16)));
  }
  return input as unknown as Input;
}

/**
 * Renders an element as canonical, readable text: `xmlns` written wherever the namespace
 * changes, no prefixes, attributes sorted, adjacent text merged. Two elements are equal as
 * namespace-aware trees exactly when their renderings are equal.
 *
 * @example
 * ```ts
 * console.log(canonicalXml(parseXml("<s:a xmlns:s='u' y='2' x='1'/>"))); // <a xmlns="u" x="1" y="2"/>
 * ```
 */
export function canonicalXml(el: XmlElement, parentNs = ""): string {
  let out = "<" + el.name;
  if (el.ns !== parentNs) out += ` xmlns="${escape(el.ns)}"`;
  for (const key of Object.keys(el.attrs).sort()) out += ` ${key}="${escape(el.attrs[key]!)}"`;
  const children = mergeText(el.children);
  if (children.length === 0) return out + "/>";
  out += ">";
  for (const child of children) {
    out += typeof child === "string" ? escape(child) : canonicalXml(child, el.ns);
  }
  return out + `</${el.name}>`;
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  );
}

function mergeText(children: readonly XmlNode[]): XmlNode[] {
  const out: XmlNode[] = [];
  for (const child of children) {
    const last = out[out.length - 1];
    if (typeof child === "string" && typeof last === "string") out[out.length - 1] = last + child;
    else out.push(child);
  }
  return out;
}

/** Replaces `"*"` in an expected element by the actual values at the same places. */
function fillXmlWildcards(expected: XmlElement, actual: XmlElement | undefined): XmlElement {
  if (actual === undefined || actual.name !== expected.name || actual.ns !== expected.ns) {
    return expected;
  }
  const attrs: Record<string, string> = { ...expected.attrs };
  for (const key in attrs) {
    if (attrs[key] === WILDCARD && actual.attrs[key] !== undefined) attrs[key] = actual.attrs[key]!;
  }
  const actualChildren = mergeText(actual.children);
  const children = mergeText(expected.children).map((child, i) => {
    const other = actualChildren[i];
    if (typeof child === "string") {
      return child === WILDCARD && typeof other === "string" ? other : child;
    }
    return fillXmlWildcards(child, typeof other === "string" ? undefined : other);
  });
  return { name: expected.name, ns: expected.ns, attrs, children };
}

/** Replaces `"*"` in an expected JSON value by the actual values at the same places. */
function fillWildcards(expected: Json, actual: unknown): Json {
  if (expected === WILDCARD && actual !== undefined) return actual as Json;
  if (Array.isArray(expected)) {
    return expected.map((e, i) => fillWildcards(e, Array.isArray(actual) ? actual[i] : undefined));
  }
  if (isObject(expected)) {
    const out: { [key: string]: Json } = {};
    for (const key in expected) {
      out[key] = fillWildcards(expected[key]!, isObject(actual) ? actual[key] : undefined);
    }
    return out;
  }
  return expected;
}

/** What the comparison sees of one output: XML as canonical text, the rest as plain data. */
type View = Json;

/**
 * The comparable view of an actual output: `send-text` and `element-received` become
 * `{ type, xml }` with canonical XML (an unparsable `send-text` shows as `UNPARSABLE: ...`).
 *
 * @example
 * ```ts
 * console.log(actualView({ type: "send-text", text: "<a xmlns='u'/>" }));
 * // { type: "send-text", xml: '<a xmlns="u"/>' }
 * ```
 */
export function actualView(output: Output): View {
  if (output.type === "send-text") {
    const result = parser.parse(output.text);
    return {
      type: "send-text",
      xml: result.ok ? canonicalXml(result.element) : `UNPARSABLE: ${output.text}`,
    };
  }
  if (output.type === "element-received") {
    return { type: "element-received", xml: canonicalXml(output.element) };
  }
  return JSON.parse(JSON.stringify(output)) as Json;
}

/**
 * The comparable view of an expected output, with its wildcards filled from `actual` (the
 * actual output at the same position, if any).
 *
 * @example
 * ```ts
 * const actual = { type: "send-text", text: "<a xmlns='u' id='x1'/>" } as const;
 * console.log(expectedView("<a xmlns='u' id='*'/>", actual));
 * // { type: "send-text", xml: '<a xmlns="u" id="x1"/>' }
 * ```
 */
export function expectedView(expected: Json, actual: Output | undefined): View {
  const xmlOf = (type: "send-text" | "element-received", xml: string): View => {
    const actualElement = actual?.type === type
      ? (actual.type === "send-text"
        ? tryParse(actual.text)
        : actual.type === "element-received"
        ? actual.element
        : undefined)
      : undefined;
    return { type, xml: canonicalXml(fillXmlWildcards(parseXml(xml), actualElement)) };
  };
  if (typeof expected === "string") return xmlOf("send-text", expected);
  if (isObject(expected) && expected.type === "send-text" && typeof expected.text === "string") {
    return xmlOf("send-text", expected.text);
  }
  if (
    isObject(expected) && expected.type === "element-received" && typeof expected.xml === "string"
  ) {
    return xmlOf("element-received", expected.xml);
  }
  return fillWildcards(
    expected,
    actual === undefined ? undefined : JSON.parse(JSON.stringify(actual)),
  );
}

function tryParse(text: string): XmlElement | undefined {
  const result = parser.parse(text);
  return result.ok ? result.element : undefined;
}

/**
 * Transcript-wide invariants, checked on every step's actual outputs: each `send-text` begins
 * with `<`, has no XML declaration and parses on its own; nothing is sent after
 * `close-transport`; at most one terminal notice. Throws an `AssertionError` naming `where`.
 *
 * @example
 * ```ts
 * const invariants = new TranscriptInvariants();
 * invariants.check([{ type: "send-text", text: "<a xmlns='u'/>" }], "step 0"); // fine
 * ```
 */
export class TranscriptInvariants {
  #transportClosed = false;
  #terminals = 0;

  /** Checks the outputs of one step (in order, after those of the earlier steps). */
  check(outputs: readonly Output[], where: string): void {
    for (const output of outputs) {
      if (output.type === "send-text") {
        const text = output.text;
        if (text.charCodeAt(0) !== 60) violated(where, "#14: a message must begin with '<'", text);
        if (text.startsWith("<?xml")) violated(where, "#13: no XML declaration in messages", text);
        if (tryParse(text) === undefined) {
          violated(where, "#12/#16: a message must parse on its own", text);
        }
        if (this.#transportClosed) {
          violated(where, "#28: nothing may be sent after close-transport", text);
        }
      } else if (output.type === "close-transport") {
        this.#transportClosed = true;
      } else if (TERMINAL.has(output.type) && ++this.#terminals > 1) {
        violated(where, "exactly one terminal notice per session", JSON.stringify(output));
      }
    }
  }
}

function violated(where: string, rule: string, detail: string): never {
  throw new AssertionError(`${where}: invariant broken (${rule}):\n  ${detail}`);
}

/**
 * Runs one vector against a fresh session; throws an `AssertionError` naming the step on the
 * first mismatch, with a diff of the expected and actual outputs.
 *
 * @example
 * ```ts
 * runVector(loadVector("17-server-speaks-only-after-open.json"), "17-server-speaks-only-after-open.json");
 * ```
 */
export function runVector(vector: VectorFile, name: string): void {
  let session: Session = createSession(
    { ...vector.config, role: vector.role } as unknown as SessionConfig,
  );
  const invariants = new TranscriptInvariants();
  vector.steps.forEach((s, index) => {
    const where = `${name}, step ${index} (${String(s.input.type)})`;
    const input = toInput(s.input);
    let outputs: readonly Output[];
    try {
      const result = step(session, input);
      session = result.state;
      outputs = result.outputs;
    } catch (error) {
      const thrown = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      if (s.throws !== undefined && error instanceof Error && error.name === s.throws) return;
      throw new AssertionError(
        `${where}: step() threw ${thrown}\n  ${
          s.throws ? `expected a ${s.throws}` : "expected outputs, not a throw"
        }` +
          `\n  input: ${JSON.stringify(s.input)}`,
      );
    }
    if (s.throws !== undefined) {
      throw new AssertionError(
        `${where}: expected step() to throw ${s.throws}, but it returned:\n` +
          outputs.map((o) => "  " + JSON.stringify(actualView(o))).join("\n"),
      );
    }
    invariants.check(outputs, where);
    const expected = s.expect!;
    const actualViews = outputs.map(actualView);
    const expectedViews = expected.map((e, i) => expectedView(e, outputs[i]));
    assertEquals(
      actualViews,
      expectedViews,
      `${where}: outputs differ (- actual, + expected)\n  input: ${JSON.stringify(s.input)}`,
    );
  });
}

function isObject(value: unknown): value is { [key: string]: Json } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

Deno.test("vector loader: XML compares namespace-aware, wildcards fill only what exists", () => {
  const sent = (text: string): Output => ({ type: "send-text", text });
  const same = (expected: Json, actual: Output) =>
    JSON.stringify(expectedView(expected, actual)) === JSON.stringify(actualView(actual));
  const error =
    "<stream:error xmlns:stream='http://etherx.jabber.org/streams'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>";
  assert(
    same(
      "<error xmlns='http://etherx.jabber.org/streams'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></error>",
      sent(error),
    ),
  );
  assert(
    same("<open xmlns='u' b='2' a='1'/>", sent("<open a='1' xmlns='u' b='2'/>")),
    "attribute order must not matter",
  );
  assert(
    !same("<open xmlns='v' a='1'/>", sent("<open xmlns='u' a='1'/>")),
    "namespaces must matter",
  );
  assert(same("<open xmlns='u' id='*'/>", sent("<open xmlns='u' id='x9'/>")));
  assert(
    !same("<open xmlns='u' id='*'/>", sent("<open xmlns='u'/>")),
    "a wildcard never matches a missing attribute",
  );
  assert(same("<t xmlns='u'>*</t>", sent("<t xmlns='u'>any text</t>")));
  assert(
    !same("<t xmlns='u'>*</t>", sent("<t xmlns='u'/>")),
    "a wildcard never matches missing text",
  );
  const closing: Output = { type: "close-transport", code: 1000, reason: "bye" };
  assert(same({ type: "close-transport", code: 1000, reason: "*" }, closing));
  assert(!same({ type: "close-transport", code: 1002, reason: "*" }, closing));
  assert(
    !same({ type: "stream-failed", reason: "stream-error", by: "local", text: "*" }, {
      type: "stream-failed",
      reason: "stream-error",
      by: "local",
    }),
  );
});

Deno.test("vector loader: transcript invariants catch broken transcripts", () => {
  const cases: [string, Output[]][] = [
    ["#14", [{ type: "send-text", text: " <a xmlns='u'/>" }]],
    ["#13", [{ type: "send-text", text: "<?xml version='1.0'?><a xmlns='u'/>" }]],
    ["#12/#16", [{ type: "send-text", text: "<x:a/>" }]],
    ["#28", [{ type: "close-transport", code: 1000, reason: "" }, {
      type: "send-text",
      text: "<a xmlns='u'/>",
    }]],
    ["terminal notice", [{ type: "stream-closed", initiator: "local" }, {
      type: "stream-failed",
      reason: "transport-lost",
      by: "transport",
    }]],
  ];
  for (const [rule, outputs] of cases) {
    assertThrows(() => new TranscriptInvariants().check(outputs, "test"), AssertionError, rule);
  }
});

// ---- vectors of the other reducers: hub, client, gateway ------------------------------------

/** The reducers other than the session that have transcript vectors, by folder name. */
export type ReducerName = "hub" | "client-core" | "gateway";

/** The folders of their vectors (`tests/vectors/<reducer>/`). */
export const REDUCER_NAMES: readonly ReducerName[] = ["hub", "client-core", "gateway"];

/** A parsed vector of the hub, the client or the gateway. */
export interface ReducerVectorFile {
  /** The rule checked, as `<document> §<section>`: `6120 §7.7`, `XEP-0198 §5`, `digest §2.2`. */
  readonly rule: string;
  readonly reducer: ReducerName;
  readonly description: string;
  readonly config: { readonly [key: string]: Json };
  readonly steps: readonly VectorStep[];
}

/**
 * The file-name prefix of a rule: `6120 §7.7` -> `6120-7.7`, `XEP-0198 §5` -> `xep-0198-5`.
 *
 * @example
 * ```ts
 * console.log(ruleSlug("XEP-0198 §5")); // "xep-0198-5"
 * ```
 */
export function ruleSlug(rule: string): string {
  return rule.toLowerCase().replace(/\s*§\s*/g, "-").replace(/[^a-z0-9.]+/g, "-");
}

/**
 * Lists the vector files of one reducer (`tests/vectors/<reducer>/*.json`), sorted by name.
 *
 * @example
 * ```ts
 * console.log(listReducerVectorFiles("hub")[0]); // e.g. "6120-4.9.3.12-stanza-before-auth.json"
 * ```
 */
export function listReducerVectorFiles(reducer: ReducerName, dir: URL = VECTOR_DIR): string[] {
  const names: string[] = [];
  for (const entry of Deno.readDirSync(new URL(`${reducer}/`, dir))) {
    if (entry.isFile && entry.name.endsWith(".json")) names.push(entry.name);
  }
  return names.sort();
}

/**
 * Reads and checks one vector of the hub, the client or the gateway. The format is the
 * session's (module documentation) with these differences:
 *
 * - `rule` is a string naming the rule (`6120 §7.7`) and the file name starts with its
 *   {@link ruleSlug}; `reducer` names the folder; there is no `role` nor `section`.
 * - `config` is the reducer's configuration (`HubConfig`, `ClientConfig`, `GatewayConfig`);
 *   hub accounts are written `{ "username", "password" }` and get SCRAM credentials.
 * - Inputs are the reducer's inputs. `random` defaults to `0123456789abcdefghij`; `xml` gives
 *   the element of a hub `element-received` or a client `send`/`send-iq`; a gateway input for a
 *   side nests a session input in `input`.
 * - Expected outputs are the reducer's outputs written in full (no bare-string shorthand).
 *   Wherever the actual output holds an element, and for the `text` of a `send-text` that
 *   parses on its own, the expected value is an XML string compared namespace-aware, with
 *   `"*"` wildcards; other values compare by deep equality (`"*"` matches any present value).
 *   The upstream side of the gateway (RFC 6120 over TCP) is compared as exact text.
 *
 * @example
 * ```ts
 * const vector = loadReducerVector("hub", "6120-7.4-bind-generated-resource.json");
 * console.log(vector.reducer); // "hub"
 * ```
 */
export function loadReducerVector(
  reducer: ReducerName,
  name: string,
  dir: URL = VECTOR_DIR,
): ReducerVectorFile {
  const fail = (problem: string): never => {
    throw new Error(`Malformed vector ${reducer}/${name}: ${problem}`);
  };
  let data: unknown;
  try {
    data = JSON.parse(Deno.readTextFileSync(new URL(`${reducer}/${name}`, dir)));
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
  if (!isObject(data)) return fail("the file must hold a JSON object");
  const { rule, description, config, steps } = data;
  if (typeof rule !== "string" || !/§/.test(rule)) return fail("'rule' must be '<doc> §<section>'");
  if (!name.startsWith(`${ruleSlug(rule)}-`)) {
    return fail(`the file name must start with '${ruleSlug(rule)}-' (its rule)`);
  }
  if (data.reducer !== reducer) return fail(`'reducer' must be '${reducer}' (its folder)`);
  if (typeof description !== "string" || description === "") {
    return fail("'description' is missing");
  }
  if (!isObject(config)) return fail("'config' must be an object");
  if (!Array.isArray(steps) || steps.length === 0) return fail("'steps' must be a non-empty array");
  steps.forEach((s, i) => {
    if (!isObject(s) || !isObject(s.input) || typeof s.input.type !== "string") {
      fail(`step ${i}: 'input' must be an object with a 'type'`);
    } else if ((s.expect === undefined) === (s.throws === undefined)) {
      fail(`step ${i}: give exactly one of 'expect' and 'throws'`);
    } else if (s.expect !== undefined && !Array.isArray(s.expect)) {
      fail(`step ${i}: 'expect' must be an array`);
    }
  });
  return data as unknown as ReducerVectorFile;
}

const DEFAULT_RANDOM = "0123456789abcdefghij";
const SALT = new Uint8Array(16).fill(7);

/** One reducer behind a common face: a state, and a step that returns the next and outputs. */
interface Driver {
  step(input: { readonly [key: string]: Json }): readonly unknown[];
}

function elementInput(json: { readonly [key: string]: Json }): Record<string, unknown> {
  const { xml, ...rest } = json;
  const input: Record<string, unknown> = { random: DEFAULT_RANDOM, ...rest };
  if (typeof xml === "string") input.element = parseXml(xml);
  return input;
}

function driverOf(vector: ReducerVectorFile): Driver {
  const config = vector.config as Record<string, unknown>;
  switch (vector.reducer) {
    case "hub": {
      const accounts = (config.accounts as { username: string; password: string }[] | undefined) ??
        [];
      let hub = createHub({
        ...config,
        accounts: accounts.map((a) => createStoredAccount(a.username, a.password, SALT)),
      } as unknown as HubConfig);
      return {
        step(json) {
          const result = hubStep(hub, elementInput(json) as unknown as HubInput);
          hub = result.state;
          return result.outputs;
        },
      };
    }
    case "client-core": {
      let state = createClient(config as unknown as ClientConfig);
      return {
        step(json) {
          const result = clientStep(state, elementInput(json) as unknown as ClientInput);
          state = result.state;
          return result.outputs;
        },
      };
    }
    case "gateway": {
      let gateway = createGateway(config as unknown as GatewayConfig);
      return {
        step(json) {
          const input = json.type === "client" || json.type === "upstream"
            ? { type: json.type, input: toInput(json.input as { [key: string]: Json }) }
            : json;
          const result = gatewayStep(gateway, input as unknown as GatewayInput);
          gateway = result.state;
          return result.outputs;
        },
      };
    }
  }
}

function isXmlElement(value: unknown): value is XmlElement {
  return isObject(value) && typeof value.name === "string" && typeof value.ns === "string" &&
    isObject(value.attrs) && Array.isArray(value.children);
}

/** Whether a `send-text` at this place is an RFC 7395 message (compared as XML). */
function xmlText(node: unknown, upstream: boolean): XmlElement | undefined {
  if (upstream || !isObject(node) || node.type !== "send-text") return undefined;
  return typeof node.text === "string" ? tryParse(node.text) : undefined;
}

/**
 * The comparable view of an actual reducer output: elements as canonical XML, the `text` of a
 * parsable RFC 7395 `send-text` as canonical XML, the rest as plain data.
 *
 * @example
 * ```ts
 * console.log(reducerView({ type: "send-element", connId: "c1", element: parseXml("<r xmlns='urn:xmpp:sm:3'/>") }));
 * // { type: "send-element", connId: "c1", element: '<r xmlns="urn:xmpp:sm:3"/>' }
 * ```
 */
export function reducerView(actual: unknown, upstream = false): Json {
  if (isXmlElement(actual)) return canonicalXml(actual);
  if (actual instanceof Uint8Array) return `bytes:${actual.length}`;
  if (Array.isArray(actual)) return actual.map((a) => reducerView(a, upstream));
  if (isObject(actual)) {
    const parsed = xmlText(actual, upstream);
    const out: { [key: string]: Json } = {};
    for (const [key, value] of Object.entries(actual)) {
      if (value === undefined) continue;
      out[key] = key === "text" && parsed !== undefined
        ? canonicalXml(parsed)
        : reducerView(value, upstream || (key === "output" && actual.type === "upstream"));
    }
    return out;
  }
  return actual as Json;
}

/**
 * The comparable view of an expected reducer output, read beside the actual one: XML strings
 * where the actual holds an element (or a parsable `send-text`), `"*"` filled from the actual.
 *
 * @example
 * ```ts
 * const actual = { type: "send-element", connId: "c1", element: parseXml("<r xmlns='urn:xmpp:sm:3' id='x'/>") };
 * console.log(expectedReducerView({ type: "send-element", connId: "*", element: "<r xmlns='urn:xmpp:sm:3' id='*'/>" }, actual));
 * // { type: "send-element", connId: "c1", element: '<r id="x" xmlns="urn:xmpp:sm:3"/>' }
 * ```
 */
export function expectedReducerView(expected: Json, actual: unknown, upstream = false): Json {
  if (expected === WILDCARD && actual !== undefined) return reducerView(actual, upstream);
  if (typeof expected === "string" && isXmlElement(actual)) {
    return canonicalXml(fillXmlWildcards(parseXml(expected), actual));
  }
  if (Array.isArray(expected)) {
    return expected.map((e, i) =>
      expectedReducerView(e, Array.isArray(actual) ? actual[i] : undefined, upstream)
    );
  }
  if (isObject(expected)) {
    const act = isObject(actual) ? actual : {};
    const parsed = xmlText(act, upstream);
    const out: { [key: string]: Json } = {};
    for (const [key, value] of Object.entries(expected)) {
      if (key === "text" && parsed !== undefined && typeof value === "string") {
        out[key] = canonicalXml(fillXmlWildcards(parseXml(value), parsed));
      } else {
        out[key] = expectedReducerView(
          value,
          act[key],
          upstream || (key === "output" && expected.type === "upstream"),
        );
      }
    }
    return out;
  }
  return expected;
}

/**
 * Invariants of a reducer transcript: every RFC 7395 `send-text` (the client's, the gateway's
 * toward the browser) begins with `<`, has no XML declaration and parses alone (#12, #13, #14),
 * and nothing goes out on a WebSocket after its `close-transport` (#28); the hub sends nothing
 * to a connection after ending its stream (`fail-stream` or `close-stream`).
 */
class ReducerInvariants {
  #closed = new Set<string>();

  check(reducer: ReducerName, outputs: readonly unknown[], where: string): void {
    for (const output of outputs) {
      if (!isObject(output)) continue;
      if (reducer === "hub") {
        const connId = String(output.connId);
        if (
          (output.type === "send-element" || output.type === "accept-stream") &&
          this.#closed.has(connId)
        ) {
          violated(where, "nothing is sent after the stream ended", JSON.stringify(output));
        }
        if (output.type === "fail-stream" || output.type === "close-stream") {
          this.#closed.add(connId);
        }
        continue;
      }
      const side = reducer === "gateway" ? String(output.type) : "client";
      const inner = reducer === "gateway" ? output.output : output;
      if (!isObject(inner) || side === "upstream") continue;
      if (inner.type === "send-text") {
        const text = String(inner.text);
        if (text.charCodeAt(0) !== 60) violated(where, "#14: a message must begin with '<'", text);
        if (text.startsWith("<?xml")) violated(where, "#13: no XML declaration in messages", text);
        if (tryParse(text) === undefined) {
          violated(where, "#12/#16: a message must parse on its own", text);
        }
        if (this.#closed.has(side)) violated(where, "#28: nothing after close-transport", text);
      } else if (inner.type === "close-transport") {
        this.#closed.add(side);
      } else if (inner.type === "open-transport") {
        this.#closed.delete(side); // the client's next connection
      }
    }
  }
}

/**
 * Runs one vector of the hub, the client or the gateway against a fresh state; throws an
 * `AssertionError` naming the step on the first mismatch.
 *
 * @example
 * ```ts
 * const name = "6120-7.4-bind-generated-resource.json";
 * runReducerVector(loadReducerVector("hub", name), `hub/${name}`);
 * ```
 */
export function runReducerVector(vector: ReducerVectorFile, name: string): void {
  const driver = driverOf(vector);
  const invariants = new ReducerInvariants();
  vector.steps.forEach((s, index) => {
    const where = `${name}, step ${index} (${String(s.input.type)})`;
    let outputs: readonly unknown[];
    try {
      outputs = driver.step(s.input);
    } catch (error) {
      const thrown = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      if (s.throws !== undefined && error instanceof Error && error.name === s.throws) return;
      throw new AssertionError(
        `${where}: the step threw ${thrown}\n  ${
          s.throws ? `expected a ${s.throws}` : "expected outputs, not a throw"
        }\n  input: ${JSON.stringify(s.input)}`,
      );
    }
    if (s.throws !== undefined) {
      throw new AssertionError(
        `${where}: expected the step to throw ${s.throws}, but it returned:\n` +
          outputs.map((o) => "  " + JSON.stringify(reducerView(o))).join("\n"),
      );
    }
    invariants.check(vector.reducer, outputs, where);
    if (Deno.env.get("VECTOR_PRINT") === name) {
      console.log(`${where}:\n${JSON.stringify(outputs.map((o) => reducerView(o)), null, 1)}`);
    }
    assertEquals(
      outputs.map((o) => reducerView(o)),
      s.expect!.map((e, i) => expectedReducerView(e, outputs[i])),
      `${where}: outputs differ (- actual, + expected)\n  input: ${JSON.stringify(s.input)}`,
    );
  });
}

const readable = Deno.permissions.querySync({ name: "read", path: VECTOR_DIR }).state === "granted";
if (!readable) {
  Deno.test("vectors: read permission", () => {
    throw new Error(
      "The vector tests read tests/vectors/: run with --allow-read (as `deno task test` does)",
    );
  });
} else {
  const names = listVectorFiles();
  if (names.length === 0) {
    Deno.test("vectors: files present", () => {
      throw new Error(`No vector files found in ${VECTOR_DIR.pathname}`);
    });
  }
  for (const name of names) {
    Deno.test(name, () => runVector(loadVector(name), name));
  }
  for (const reducer of REDUCER_NAMES) {
    const files = listReducerVectorFiles(reducer);
    Deno.test(`vectors: ${reducer} has vectors`, () => {
      assert(files.length >= 8, `only ${files.length} vectors in tests/vectors/${reducer}/`);
    });
    for (const name of files) {
      Deno.test(`${reducer}/${name}`, () => {
        runReducerVector(loadReducerVector(reducer, name), `${reducer}/${name}`);
      });
    }
  }
}
