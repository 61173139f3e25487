/**
 * Logins per second under a burst of wrong passwords, and what it costs a user who chats
 * meanwhile (issue 9, finding 4).
 *
 * The embedded server runs in its own process (`deno/main.ts`, two accounts). This process
 * logs `alice` in (PLAIN, on loopback), then runs `--attackers` connections that each send
 * three wrong PLAIN passwords for `bob` and reconnect, for `--seconds`, while `alice` sends
 * XEP-0199 pings to the server one at a time. It prints the SASL answers per second
 * (`<failure/>` of any condition; `temporary-auth-failure` counted apart: refused before any
 * PBKDF2 work) and alice's ping round trips (p50, p99, max), then the same without the burst.
 *
 * Reproduce: `npx -y deno@2.9.6 run -A bench/login_burst.ts [--attackers 20] [--seconds 10]
 * [-- <server flags>]`, e.g. `-- --auth-failures-per-address 1000000` to see the PBKDF2 cost
 * with the failed-login back-off out of the way.
 *
 * @module
 */

import { parseArgs } from "@std/cli";

const FRAMING = "urn:ietf:params:xml:ns:xmpp-framing";
const OPEN = `<open xmlns='${FRAMING}' to='localhost' version='1.0'/>`;
const SASL = "urn:ietf:params:xml:ns:xmpp-sasl";
const PASSWORD = "login-burst-secret";

const args = parseArgs(Deno.args, { string: ["attackers", "seconds"], "--": true });
const attackers = Number(args.attackers ?? 20);
const seconds = Number(args.seconds ?? 10);
const serverFlags = (args["--"] ?? []).map(String);

/** A WebSocket whose messages are read in order with `next`. */
class Socket {
  readonly ws: WebSocket;
  readonly #queue: string[] = [];
  #wake: (() => void) | undefined;
  closed = false;

  constructor(url: string) {
    this.ws = new WebSocket(url, "xmpp");
    this.ws.onmessage = (event) => {
      this.#queue.push(String(event.data));
      this.#wake?.();
    };
    this.ws.onclose = () => {
      this.closed = true;
      this.#wake?.();
    };
    this.ws.onerror = () => {};
  }

  opened(): Promise<boolean> {
    return new Promise((resolve) => {
      this.ws.onopen = () => resolve(true);
      this.ws.addEventListener("close", () => resolve(false));
    });
  }

  /** The next message containing `marker`, or undefined once the socket has closed. */
  async until(marker: string): Promise<string | undefined> {
    for (;;) {
      const message = this.#queue.shift();
      if (message !== undefined) {
        if (message.includes(marker)) return message;
        continue;
      }
      if (this.closed) return undefined;
      await new Promise<void>((resolve) => this.#wake = resolve);
      this.#wake = undefined;
    }
  }

  send(text: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
  }
}

function plain(user: string, password: string): string {
  return `<auth xmlns='${SASL}' mechanism='PLAIN'>${btoa(`\0${user}\0${password}`)}</auth>`;
}

async function login(url: string): Promise<Socket> {
  const socket = new Socket(url);
  if (!await socket.opened()) throw new Error("alice: connection refused");
  socket.send(OPEN);
  await socket.until("<mechanisms");
  socket.send(plain("alice", PASSWORD));
  const answer = await socket.until(SASL);
  if (!answer?.includes("<success")) throw new Error(`alice: login failed: ${answer}`);
  socket.send(OPEN);
  await socket.until("<bind");
  socket.send(
    "<iq xmlns='jabber:client' type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>",
  );
  await socket.until("id='bind'");
  return socket;
}

interface Counts {
  failures: number;
  temporary: number;
  connections: number;
}

async function attacker(url: string, until: number, counts: Counts): Promise<void> {
  while (performance.now() < until) {
    const socket = new Socket(url);
    counts.connections++;
    if (!await socket.opened()) continue;
    socket.send(OPEN);
    if (await socket.until("<mechanisms") === undefined) continue;
    for (let attempt = 0; attempt < 3 && performance.now() < until; attempt++) {
      socket.send(plain("bob", `wrong-${attempt}`));
      const answer = await socket.until(SASL);
      if (answer === undefined) break;
      counts.failures++;
      if (answer.includes("temporary-auth-failure")) counts.temporary++;
    }
    socket.ws.close();
    await socket.until("\u0000never");
  }
}

async function pings(socket: Socket, until: number): Promise<number[]> {
  const rtts: number[] = [];
  for (let n = 0; performance.now() < until && !socket.closed; n++) {
    const started = performance.now();
    socket.send(
      `<iq xmlns='jabber:client' type='get' id='p${n}' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`,
    );
    if (await socket.until(`id='p${n}'`) === undefined) break;
    rtts.push(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return rtts;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted.length === 0
    ? NaN
    : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function describe(rtts: readonly number[]): string {
  const sorted = [...rtts].sort((a, b) => a - b);
  const f = (n: number) => n.toFixed(1);
  return `${sorted.length} pings: p50 ${f(quantile(sorted, 0.5))} ms, p99 ${
    f(quantile(sorted, 0.99))
  } ms, max ${f(sorted.at(-1) ?? NaN)} ms`;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function main(): Promise<void> {
  const port = freePort();
  const server = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../deno/main.ts", import.meta.url).pathname,
      "--port",
      String(port),
      "--account",
      `alice:${PASSWORD},bob:${PASSWORD}`,
      "--log-level",
      "error",
      "--drain",
      "0",
      ...serverFlags,
    ],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const url = `ws://127.0.0.1:${port}/xmpp-websocket`;
  try {
    for (let tries = 0; tries < 100; tries++) {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    const alice = await login(url);
    await pings(alice, performance.now() + 1_000); // warm-up
    const quiet = await pings(alice, performance.now() + 2_000);
    const counts: Counts = { failures: 0, temporary: 0, connections: 0 };
    const started = performance.now();
    const until = started + seconds * 1_000;
    const [rtts] = await Promise.all([
      pings(alice, until),
      ...Array.from({ length: attackers }, () => attacker(url, until, counts)),
    ]);
    const elapsed = (performance.now() - started) / 1_000;
    const loginStarted = performance.now();
    const late = await login(url).then(() => performance.now() - loginStarted, (e) => String(e));
    console.log(`server flags: ${serverFlags.join(" ") || "(defaults)"}`);
    console.log(
      `burst: ${attackers} attackers, ${elapsed.toFixed(1)} s: ${
        (counts.failures / elapsed).toFixed(0)
      } failed logins/s (${counts.temporary} of ${counts.failures} temporary-auth-failure), ${counts.connections} connections`,
    );
    console.log(`alice during the burst: ${describe(rtts)}`);
    console.log(`alice without the burst: ${describe(quiet)}`);
    console.log(
      `a new login for alice after the burst: ${
        typeof late === "number" ? `${late.toFixed(0)} ms` : late
      }`,
    );
    alice.ws.close();
  } finally {
    server.kill("SIGTERM");
    await server.status;
  }
}

await main();
