/**
 * The long socket fuzz run (issue 8): the same run as tests/security/socket_fuzz_test.ts, with a
 * message count and a connection count of your choice.
 *
 *     deno run -A bench/fuzz_long.ts [messages=1000000] [connections=50]
 *     FUZZ_SEED=<n> deno run -A bench/fuzz_long.ts 2000000      # replay a seed
 *     HOSTILE_LAYER=native deno run -A bench/fuzz_long.ts        # Deno's own WebSocket layer
 *
 * Prints the seed first; exits 1 with the findings (each naming the seed) if any.
 *
 * @module
 */

import {
  describeFuzz,
  fuzzBoth,
  fuzzSeed,
  startFuzzTargets,
} from "../tests/security/socket_fuzz.ts";

if (import.meta.main) {
  const messages = Number(Deno.args[0] ?? 1_000_000);
  const connections = Number(Deno.args[1] ?? 50);
  if (
    !Number.isInteger(messages) || messages <= 0 || !Number.isInteger(connections) ||
    connections < 2
  ) {
    console.error("usage: deno run -A bench/fuzz_long.ts [messages] [connections >= 2]");
    Deno.exit(2);
  }
  const layer = (Deno.env.get("HOSTILE_LAYER") ?? "strict") as "strict" | "native";
  const seed = fuzzSeed();
  console.log(
    `fuzz_long: FUZZ_SEED=${seed}, ${messages} messages, ${connections} connections, ${layer} layer`,
  );
  const targets = await startFuzzTargets(layer);
  let failed = false;
  try {
    const result = await fuzzBoth(targets, seed, messages, connections);
    console.log(describeFuzz(result, targets.recorder));
    if (result.problems.length > 0) {
      failed = true;
      console.error(`FAILED (FUZZ_SEED=${seed}):\n${result.problems.join("\n")}`);
    } else console.log(`ok (FUZZ_SEED=${seed})`);
  } finally {
    await targets.stop();
  }
  if (failed) Deno.exit(1);
}
