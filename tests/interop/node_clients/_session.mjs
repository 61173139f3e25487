// Shared by the *_session.mjs scripts: arguments, the report, the wire transcript, time limits.
// Usage of a script: node <lib>_session.mjs <ws-url> <domain> <user1> <pass1> <user2> <pass2>
// Each prints exactly one JSON line on stdout (the report); the transcript of every frame sent
// and received goes to stderr as it happens, and its last lines into the report on failure.

export const [url, domain, user1, pass1, user2, pass2] = process.argv.slice(2);
export const report = { library: "", steps: [] };
export const transcript = [];
export const BODY_CHAT = "hello from the second account";
export const BODY_MISSED = "sent while you were cut off";

/** Records one frame; `who` is "1" or "2" (the account), `dir` "<<" (received) or ">>" (sent). */
export function wire(who, dir, data) {
  const line = `${who} ${dir} ${String(data)}`;
  transcript.push(line);
  process.stderr.write(line + "\n");
}

/** The mechanism of the first `<auth/>` account `who` sent on the wire. */
export function wireMechanism(who) {
  for (const line of transcript) {
    if (!line.startsWith(`${who} >> `)) continue;
    const match = /<auth\b[^>]*\bmechanism=["']([^"']+)["']/.exec(line);
    if (match) return match[1];
  }
  return null;
}

/** Counts the stanzas account `who` received whose text contains `needle`. */
export function received(who, needle) {
  return transcript.filter((l) => l.startsWith(`${who} << `) && l.includes(needle)).length;
}

/** Stanzas of type `error` account `who` received (bounces, stanza errors). */
export function errorsReceived(who) {
  const error = new RegExp(`^${who} << <(message|presence|iq)\\s[^>]*\\btype=["']error["']`);
  return transcript.filter((line) => error.test(line)).length;
}

/**
 * Stanzas (message, presence, iq) account `who` received from transcript line `from` on: what
 * its XEP-0198 `h` should count. Each WebSocket message holds one element (RFC 7395 §3.3.3).
 */
export function stanzasReceived(who, from = 0) {
  const stanza = new RegExp(`^${who} << <(message|presence|iq)[\\s/>]`);
  return transcript.slice(from).filter((line) => stanza.test(line)).length;
}

/** Attribute `attr` of the last `<name/>` account `who` sent, as a number when numeric. */
export function wireAttr(who, name, attr) {
  for (const line of transcript.toReversed()) {
    if (!line.startsWith(`${who} >> <${name} `)) continue;
    const match = new RegExp(`\\s${attr}=["']([^"']*)["']`).exec(line);
    if (match) return /^\d+$/.test(match[1]) ? Number(match[1]) : match[1];
  }
  return null;
}

/** Rejects after `ms` with a message naming what was awaited. */
export function within(ms, what, promise) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/** Polls `test` every 20 ms; rejects after `ms` with a message naming what was awaited. */
export function until(what, test, ms = 5000) {
  return within(ms, what, (async () => {
    while (!test()) await sleep(20);
  })());
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Facts from the harness (the Deno test watching the server's log), one per stdin line: a
// script waits for "hibernated" instead of sleeping while the server notices a cut.
const harnessLines = [];
const harnessWaiters = [];
let listening = false;

/** Resolves when the harness has written `line` on stdin (now or earlier). */
export function fromHarness(line) {
  if (!listening) {
    listening = true;
    let buffer = "";
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (chunk) => {
      buffer += chunk;
      for (let at = buffer.indexOf("\n"); at >= 0; at = buffer.indexOf("\n")) {
        harnessLines.push(buffer.slice(0, at));
        buffer = buffer.slice(at + 1);
      }
      for (const waiter of harnessWaiters.splice(0)) waiter();
    });
  }
  return new Promise((resolve) => {
    const check = () => (harnessLines.includes(line) ? resolve() : harnessWaiters.push(check));
    check();
  });
}

/** Waits until no frame was sent or received for `ms` (no ack exchange in flight). */
export async function quiet(ms = 200) {
  for (let seen = -1; seen !== transcript.length;) {
    seen = transcript.length;
    await sleep(ms);
  }
}

/** Marks a step as done (the report lists them in order). */
export function step(name) {
  report.steps.push(name);
}

/** Runs the scenario; prints the report, with the error and the transcript's tail on failure. */
export async function run(library, scenario, limitMs = 25_000) {
  report.library = library;
  const started = Date.now();
  const guard = setTimeout(() => finish(new Error(`overall timeout after ${limitMs} ms`)), limitMs);
  const finish = (error) => {
    clearTimeout(guard);
    report.elapsedMs = Date.now() - started;
    if (error) {
      report.error = String(error?.stack ?? error);
      report.transcriptTail = transcript.slice(-30);
    }
    process.stdout.write(JSON.stringify(report) + "\n", () => process.exit(error ? 1 : 0));
  };
  try {
    await scenario();
    finish();
  } catch (error) {
    finish(error);
  }
}
