/**
 * The options of `deno task start` (the gateway or the embedded server): the table, `--help` and
 * the checks are `core/endpoint/options.ts`'s; this binding splits the arguments with
 * `@std/cli`'s `parseArgs`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseOptions } from "./options.ts";
 * const result = parseOptions(["--port", "5281", "--domain", "example.com"], {});
 * assertEquals(result.ok && [result.options.port, result.options.domains], [5281, ["example.com"]]);
 * ```
 * @module
 */

import { parseArgs } from "@std/cli";
import { parseOptions as parseWith, type ParseOutcome } from "../core/endpoint/options.ts";

export {
  endpointLimits,
  type GatewayOptions,
  helpText,
  OPTION_SPECS,
  type OptionSpec,
  type ParseOutcome,
  parsePairs,
} from "../core/endpoint/options.ts";

/**
 * Parses command-line arguments over environment variables over defaults. Never throws: bad
 * input gives a message naming the option.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseOptions } from "./options.ts";
 * const bad = parseOptions(["--port", "http"], {});
 * assertEquals(!bad.ok && !bad.help && bad.error, "--port: expected an integer, got 'http'");
 * ```
 */
export function parseOptions(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ParseOutcome {
  return parseWith(args, env, parseArgs);
}
