/**
 * Line-delimited JSON between a benchmark and its load-client subprocess: one request line in,
 * one reply line out. Shared by `load.ts`, `ws_layers.ts` and `soak.ts`.
 *
 * @example
 * ```ts ignore
 * import { JsonChild } from "./_json_child.ts";
 * const child = new JsonChild(new Deno.Command(Deno.execPath(), {
 *   args: ["run", "-A", "bench/load.ts", "--client"], stdin: "piped", stdout: "piped",
 * }).spawn());
 * await child.call({ op: "exit" });
 * ```
 * @module
 */

/** The lines of a byte stream (UTF-8), without their line feeds. */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of stream) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let i = buffer.indexOf("\n"); i >= 0; i = buffer.indexOf("\n")) {
      yield buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
    }
  }
}

/** A subprocess spoken to in line-delimited JSON (stdin and stdout piped). */
export class JsonChild<Req extends { readonly op: string }, Rep extends { error?: string }> {
  readonly child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #replies: AsyncGenerator<string>;
  readonly #stderr: Promise<string> | undefined;

  /** `stderr`: the child's error output when piped (named when the child exits early). */
  constructor(child: Deno.ChildProcess, stderr?: Promise<string>) {
    this.child = child;
    this.#writer = child.stdin.getWriter();
    this.#replies = lines(child.stdout);
    this.#stderr = stderr;
  }

  /** Sends one request and reads its reply; a reply with `error` rejects. */
  async call(request: Req): Promise<Rep> {
    await this.#writer.write(new TextEncoder().encode(JSON.stringify(request) + "\n"));
    const { value, done } = await this.#replies.next();
    if (done) {
      throw new Error(`the load client exited${this.#stderr ? `: ${await this.#stderr}` : ""}`);
    }
    const reply = JSON.parse(value) as Rep;
    if (reply.error !== undefined) throw new Error(`load client (${request.op}): ${reply.error}`);
    return reply;
  }

  /** Asks the child to exit (`{ op: "exit" }`), killing it if that fails; waits for it. */
  async exit(): Promise<void> {
    try {
      await this.call({ op: "exit" } as Req);
      await this.#writer.close();
    } catch {
      try {
        this.child.kill("SIGKILL");
      } catch { /* gone */ }
    }
    await this.child.status;
    await this.#stderr;
  }
}
