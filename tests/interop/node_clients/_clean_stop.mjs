// Shared by the *_clean_stop.mjs scripts: arguments, the report, the wire transcript, the stream
// errors and XEP-0198 acks seen on it, time limits.
// Usage of a script: node <lib>_clean_stop.mjs <ws-url> <domain> <username> <password>
// Each prints exactly one JSON line on stdout (the report); the transcript of every frame sent
// and received goes to stderr as it happens, and into the report when anything went wrong.

export const [url, domain, user, pass] = process.argv.slice(2);
export const report = { library: "", steps: [] };
export const transcript = [];

/** Records one frame or event: `dir` is "<<" (received), ">>" (sent) or "--"/"!!" (events). */
export function wire(dir, data) {
  const line = `${dir} ${String(data)}`;
  transcript.push(line);
  process.stderr.write(line + "\n");
}

const STREAMS = "urn:ietf:params:xml:ns:xmpp-streams";

/**
 * Stream errors received, as `{ condition, text }`: an `<error/>` (or `<stream:error/>`) in the
 * streams namespace; its condition is the first child in `urn:ietf:params:xml:ns:xmpp-streams`
 * other than `<text/>`.
 */
export function streamErrors() {
  const errors = [];
  for (const line of transcript) {
    if (!line.startsWith("<< ")) continue;
    if (!/<(stream:)?error[\s>]/.test(line) || !line.includes("http://etherx.jabber.org/streams")) {
      continue;
    }
    const conditions = [...line.matchAll(/<([a-z-]+)\s[^>]*?xmlns=["']([^"']+)["']/g)]
      .filter((m) => m[2] === STREAMS && m[1] !== "text");
    const text = /<text\b[^>]*>([^<]*)<\/text>/.exec(line);
    errors.push({ condition: conditions[0]?.[1] ?? null, text: text?.[1] ?? null });
  }
  return errors;
}

/** The `h` of every XEP-0198 `<a/>` sent, in order. */
export function acksSent() {
  const acks = [];
  for (const line of transcript) {
    if (!line.startsWith(">> ")) continue;
    if (!/^>> <a[\s/]/.test(line) || !line.includes("urn:xmpp:sm:3")) continue;
    const h = /\bh=["'](\d+)["']/.exec(line);
    if (h) acks.push(Number(h[1]));
  }
  return acks;
}

/** Whether the server's `<close/>` (RFC 7395 §3.6) was received. */
export function closeReceived() {
  return transcript.some((line) => /^<< <close[\s/>]/.test(line));
}

/** Rejects after `ms` with a message naming what was awaited. */
export function within(ms, what, promise) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/** Marks a step as done (the report lists them in order). */
export function step(name) {
  report.steps.push(name);
}

/** Runs the scenario; prints the report, with the transcript when anything went wrong. */
export async function run(library, scenario, limitMs = 25_000) {
  report.library = library;
  const started = Date.now();
  const guard = setTimeout(() => finish(new Error(`overall timeout after ${limitMs} ms`)), limitMs);
  const finish = (error) => {
    clearTimeout(guard);
    report.elapsedMs = Date.now() - started;
    report.streamErrors = streamErrors();
    report.acks = acksSent();
    report.closeReceived ??= closeReceived(); // a script may know better (xmpp.js)
    if (error) report.error = String(error?.stack ?? error);
    if (error || report.streamErrors.length > 0) report.transcript = transcript.slice(-40);
    process.stdout.write(JSON.stringify(report) + "\n", () => process.exit(error ? 1 : 0));
  };
  try {
    await scenario();
    finish();
  } catch (error) {
    finish(error);
  }
}
