/**
 * Test support: `deno/main.ts` as an operator runs it, in a subprocess with JSON logs on
 * stderr, on a free loopback port. Reads what it prints (demo accounts, the demo page's URL, log
 * events), sends it signals, and stops it (SIGTERM, then SIGKILL if it does not exit in time).
 * Every wait is bounded.
 *
 * @module
 */

const MAIN = new URL("../../deno/main.ts", import.meta.url).pathname;
const START_MS = 20_000;
const STOP_MS = 10_000;

/** One JSON log line of the process. */
// deno-lint-ignore no-explicit-any
export type LogLine = Record<string, any>;

/** A running `deno/main.ts`. */
export class MainProcess {
  readonly #child: Deno.ChildProcess;
  readonly #pumps: Promise<unknown>;
  readonly #exited: Promise<Deno.CommandStatus>;
  #stdout = "";
  #stderr = "";
  #listening: LogLine | undefined;

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#exited = child.status;
    const pump = (stream: ReadableStream<Uint8Array>, add: (text: string) => void) =>
      stream.pipeThrough(new TextDecoderStream()).pipeTo(new WritableStream({ write: add }));
    this.#pumps = Promise.all([
      pump(child.stdout, (t) => void (this.#stdout += t)),
      pump(child.stderr, (t) => void (this.#stderr += t)),
    ]).catch(() => {});
  }

  /**
   * Starts `deno run -A deno/main.ts --host 127.0.0.1 --port 0 --log-format json --drain 200
   * ...args` and
   * resolves once it listens.
   */
  static async start(
    args: readonly string[],
    env: Record<string, string> = {},
  ): Promise<MainProcess> {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        MAIN,
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--log-format",
        "json",
        // SIGTERM spreads session ends over --drain ms: short, so that stop() is quick.
        "--drain",
        "200",
        ...args,
      ],
      env: { NO_COLOR: "1", ...env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const process = new MainProcess(child);
    try {
      process.#listening = await process.waitForLog(
        (l) => /listening$/.test(l.message),
        "the server to listen",
        START_MS,
      );
    } catch (error) {
      await process.stop();
      throw error;
    }
    return process;
  }

  /** The WebSocket URL it listens on. */
  get url(): string {
    return this.#listening!.url;
  }

  /** Its port. */
  get port(): number {
    return Number(new URL(this.url).port);
  }

  get stdout(): string {
    return this.#stdout;
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** The JSON log lines so far. */
  logs(): LogLine[] {
    return this.#stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
  }

  /** The demo accounts it prints at start-up (alice and bob): username → password. */
  async demoAccounts(): Promise<Map<string, string>> {
    await this.waitFor(() => this.#demo().size === 2, "the demo accounts on stdout");
    return this.#demo();
  }

  #demo(): Map<string, string> {
    const accounts = new Map<string, string>();
    for (const match of this.#stdout.matchAll(/^demo account: (\S+)@\S+ {2}password: (\S+)$/gm)) {
      accounts.set(match[1]!, match[2]!);
    }
    return accounts;
  }

  /** Resolves once `condition()` holds, polled every 20 ms, within `ms`. */
  async waitFor(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
    const deadline = performance.now() + ms;
    while (!condition()) {
      if (performance.now() > deadline) {
        throw new Error(
          `timed out after ${ms} ms waiting for ${what}\n--- stderr ---\n${
            this.#stderr.slice(-3000)
          }`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Resolves with the first log line matching `test`, within `ms`. */
  async waitForLog(test: (line: LogLine) => boolean, what: string, ms = 10_000): Promise<LogLine> {
    let found: LogLine | undefined;
    await this.waitFor(() => (found = this.logs().find(test)) !== undefined, what, ms);
    return found!;
  }

  /** Sends a signal. */
  signal(signal: Deno.Signal): void {
    this.#child.kill(signal);
  }

  /** Stops it (SIGTERM, SIGKILL after STOP_MS); resolves with its exit status. */
  async stop(): Promise<Deno.CommandStatus> {
    try {
      this.#child.kill("SIGTERM");
    } catch { /* already gone */ }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        try {
          this.#child.kill("SIGKILL");
        } catch { /* already gone */ }
        resolve();
      }, STOP_MS);
    });
    const status = await Promise.race([this.#exited, killed.then(() => this.#exited)]);
    clearTimeout(timer);
    await this.#pumps;
    return status;
  }
}
