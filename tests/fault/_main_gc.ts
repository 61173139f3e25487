/**
 * Fault-test support: `deno/main.ts` as is (same arguments, same environment), plus a full GC
 * on request so that resident memory can be compared after garbage collection. Run it with
 * `deno run -A --v8-flags=--expose-gc tests/fault/_main_gc.ts <main.ts arguments>`; each line
 * `gc` on stdin runs three full GCs, then prints `gc-done` and `Deno.memoryUsage()` as JSON on
 * one line of stdout.
 *
 * @module
 */

import { main } from "../../deno/main.ts";

const gc = (globalThis as { gc?: () => void }).gc;

async function serveGc(): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of Deno.stdin.readable) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let i = buffer.indexOf("\n"); i >= 0; i = buffer.indexOf("\n")) {
      const line = buffer.slice(0, i).trim();
      buffer = buffer.slice(i + 1);
      if (line !== "gc") continue;
      for (let n = 0; n < 3; n++) {
        gc?.();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      if (!gc) console.error("_main_gc.ts: no gc(): run with --v8-flags=--expose-gc");
      console.log(`gc-done ${JSON.stringify(Deno.memoryUsage())}`);
    }
  }
}

if (import.meta.main) {
  void serveGc();
  Deno.exit(await main(Deno.args, Deno.env.toObject()));
}
