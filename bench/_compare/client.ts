/**
 * The load client: a separate Deno process driven by bench/compare.ts over stdin/stdout (one
 * JSON request a line, see protocol.ts). It holds groups of logged-in {@link Link}s, runs timed
 * self-message loops over them (one message in flight per connection, round trips bucketed in
 * a histogram), and runs login bursts. Requests are served concurrently.
 *
 * Run: `deno run -A bench/_compare/client.ts` (bench/compare.ts starts it; never by hand).
 *
 * @module
 */

import { BODY, type Mechanism, type Reply, type Request } from "./protocol.ts";
import { Link, withClientNs } from "./link.ts";
import { Histogram } from "./stats.ts";

const groups = new Map<string, Link[]>();
const encoder = new TextEncoder();

function reply(r: Reply): void {
  const bytes = encoder.encode(JSON.stringify(r) + "\n");
  for (let off = 0; off < bytes.length;) off += Deno.stdout.writeSync(bytes.subarray(off));
}

async function pool<T>(items: readonly T[], width: number, task: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(width, items.length)) }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

function selfMessage(link: Link, k: number): string {
  const stanza = `<message to='${link.jid}' type='chat' id='m${k}'><body>${BODY}</body></message>`;
  return link.endpoint.kind === "ws" ? withClientNs(stanza) : stanza;
}

async function login(r: Extract<Request, { op: "login" }>): Promise<Reply> {
  const start = performance.now();
  const made: Link[] = [];
  let failure: unknown;
  let retries = 0;
  await pool(r.users, r.width, async (user) => {
    // A failed login is retried twice on a new connection (counted): under bursts of
    // thousands, ejabberd 23.01's WebSocket handler now and then drops one mid-login.
    for (let attempt = 0; failure === undefined; attempt++) {
      const link = await Link.open(r.endpoint).catch((error) => error as Error);
      try {
        if (link instanceof Error) throw link;
        await link.login(user, r.password, r.mechanism);
        made.push(link);
        link.message = selfMessage(link, made.length);
        return;
      } catch (error) {
        if (!(link instanceof Error)) link.close();
        if (attempt >= 2) failure ??= error;
        else retries++;
      }
    }
  });
  if (failure !== undefined) {
    for (const link of made) link.close();
    throw failure;
  }
  const list = groups.get(r.group) ?? [];
  list.push(...made);
  groups.set(r.group, list);
  return { id: r.id, elapsedMs: performance.now() - start, count: list.length, errors: retries };
}

async function run(r: Extract<Request, { op: "run" }>): Promise<Reply> {
  const all = groups.get(r.group) ?? [];
  if (all.length < r.connections) {
    throw new Error(`group ${r.group}: ${all.length} connections, ${r.connections} asked`);
  }
  const links = all.slice(0, r.connections);
  const closed = links.filter((l) => l.ended).length;
  if (closed > 0) throw new Error(`group ${r.group}: ${closed} connections closed by the server`);
  const histogram = new Histogram();
  let running = true;
  let inFlight = links.length;
  let count = 0;
  let errors = 0;
  let drained: () => void = () => {};
  const done = new Promise<void>((resolve) => drained = resolve);
  const onMessage = (link: Link, isError: boolean) => {
    const now = performance.now();
    histogram.add(now - link.sentAt);
    count++;
    if (isError) errors++;
    if (running) {
      link.sentAt = now;
      link.write(link.message);
    } else if (--inFlight === 0) drained();
  };
  const start = performance.now();
  for (const link of links) {
    link.onMessage = onMessage;
    link.sentAt = performance.now();
    link.write(link.message);
  }
  await new Promise((resolve) => setTimeout(resolve, r.ms));
  running = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([done, new Promise((resolve) => timer = setTimeout(resolve, 10_000))]);
  clearTimeout(timer);
  const elapsedMs = performance.now() - start;
  for (const link of links) link.onMessage = undefined;
  if (inFlight !== 0) throw new Error(`${inFlight} messages did not come back within 10 s`);
  return { id: r.id, count, errors, elapsedMs, histogram: histogram.toPairs() };
}

async function logins(r: Extract<Request, { op: "logins" }>): Promise<Reply> {
  const start = performance.now();
  const until = start + r.ms;
  let count = 0;
  let errors = 0;
  let firstError = "";
  let next = 0;
  await Promise.all(Array.from({ length: r.width }, async () => {
    while (performance.now() < until) {
      const user = r.users[next++ % r.users.length]!;
      let link: Link | undefined;
      try {
        link = await Link.open(r.endpoint);
        await link.login(user, r.password, r.mechanism as Mechanism);
        count++;
      } catch (error) {
        errors++;
        firstError ||= error instanceof Error ? error.message : String(error);
        await new Promise((resolve) => setTimeout(resolve, 20));
      } finally {
        link?.close();
      }
    }
  }));
  if (count === 0 && errors > 0) throw new Error(`every login failed: ${firstError}`);
  return { id: r.id, count, errors, elapsedMs: performance.now() - start };
}

async function serve(request: Request): Promise<Reply> {
  switch (request.op) {
    case "login":
      return await login(request);
    case "run":
      return await run(request);
    case "logins":
      return await logins(request);
    case "close": {
      for (const link of groups.get(request.group) ?? []) link.close();
      groups.delete(request.group);
      await new Promise((resolve) => setTimeout(resolve, 100));
      return { id: request.id };
    }
    case "exit":
      for (const links of groups.values()) for (const link of links) link.close();
      return { id: request.id };
  }
}

async function main(): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = "";
  let exiting = false;
  for await (const chunk of Deno.stdin.readable) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let i = buffer.indexOf("\n"); i >= 0; i = buffer.indexOf("\n")) {
      const request = JSON.parse(buffer.slice(0, i)) as Request;
      buffer = buffer.slice(i + 1);
      if (request.op === "exit") exiting = true;
      serve(request).then(reply, (error) =>
        reply({
          id: request.id,
          error: error instanceof Error ? error.message : String(error),
        }));
    }
    if (exiting) break;
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  Deno.exit(0);
}

if (import.meta.main) await main();
