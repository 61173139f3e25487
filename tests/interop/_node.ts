/**
 * Test support: runs a Node script from `tests/interop/node_clients/` (real client libraries
 * from npm) with a time limit and returns its last JSON line.
 *
 * @module
 */

const DIR = new URL("./node_clients/", import.meta.url).pathname;

/** Runs `node <script> ...args` in the node_clients folder; parses the last stdout line. */
export async function runNodeClient(
  script: string,
  args: readonly string[],
  timeoutMs = 30_000,
): Promise<Record<string, unknown>> {
  const command = new Deno.Command("node", {
    args: [script, ...args],
    cwd: DIR,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  });
  const { stdout, stderr, code } = await command.output();
  const out = new TextDecoder().decode(stdout).trim().split("\n").at(-1) ?? "";
  try {
    return { exitCode: code, ...JSON.parse(out) };
  } catch {
    throw new Error(`node ${script} exited ${code}: ${out}\n${new TextDecoder().decode(stderr)}`);
  }
}
