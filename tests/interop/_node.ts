/**
 * Test support: runs a Node script from `tests/interop/node_clients/` (real client libraries
 * from npm) with a time limit and returns its last JSON line.
 *
 * @module
 */

const DIR = new URL("./node_clients/", import.meta.url).pathname;

/** Writes one line to the script's stdin (facts the script waits for, see `fromHarness`). */
export type TellScript = (line: string) => void;

/**
 * Runs `node <script> ...args` in the node_clients folder; parses the last stdout line.
 * `started` receives a function that writes a line to the script's stdin.
 */
export async function runNodeClient(
  script: string,
  args: readonly string[],
  timeoutMs = 30_000,
  started: (tell: TellScript) => void = () => {},
): Promise<Record<string, unknown>> {
  const child = new Deno.Command("node", {
    args: [script, ...args],
    cwd: DIR,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).spawn();
  const writer = child.stdin.getWriter();
  let open = true;
  started((line) => {
    if (open) writer.write(new TextEncoder().encode(line + "\n")).catch(() => {});
  });
  const { stdout, stderr, code } = await child.output();
  open = false;
  await writer.close().catch(() => {});
  const out = new TextDecoder().decode(stdout).trim().split("\n").at(-1) ?? "";
  try {
    return { exitCode: code, ...JSON.parse(out) };
  } catch {
    throw new Error(`node ${script} exited ${code}: ${out}\n${new TextDecoder().decode(stderr)}`);
  }
}
