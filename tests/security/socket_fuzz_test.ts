/**
 * Issue 8, fuzzing over real sockets in CI: a seeded, bounded run of at least 100 000 mutated
 * messages over 50 concurrent connections, half against the embedded server and half against
 * the gateway in front of Prosody through the validating recorder, each with a bystander (see
 * `socket_fuzz.ts` for the invariants). The seed is `FUZZ_SEED` or random, always printed;
 * every finding names it. A longer run: `deno run -A bench/fuzz_long.ts <messages>`.
 */

import { assert, assertEquals } from "@std/assert";
import { describeFuzz, fuzzBoth, fuzzSeed, startFuzzTargets } from "./socket_fuzz.ts";

const MESSAGES = 100_000;
const CONNECTIONS = 50;
const LAYER = (Deno.env.get("HOSTILE_LAYER") ?? "strict") as "strict" | "native";

Deno.test(`socket fuzz: ${MESSAGES} mutated messages over ${CONNECTIONS} connections, embedded server and gateway (${LAYER} layer)`, async () => {
  const seed = fuzzSeed();
  console.log(`socket fuzz: FUZZ_SEED=${seed}`);
  const targets = await startFuzzTargets(LAYER);
  try {
    const result = await fuzzBoth(targets, seed, MESSAGES, CONNECTIONS);
    console.log(describeFuzz(result, targets.recorder));
    assertEquals(result.problems, [], `FUZZ_SEED=${seed}`);
    const sent = result.embedded.sent + result.gateway.sent;
    assert(sent >= MESSAGES, `only ${sent} messages (FUZZ_SEED=${seed})`);
    assert(
      result.embedded.bystanderPings > 0 && result.gateway.bystanderPings > 0,
      `bystanders pinged (FUZZ_SEED=${seed})`,
    );
  } finally {
    await targets.stop();
  }
});
