/**
 * Issue 9, findings 5 and 6: trust only what is configured. The client's address comes from one
 * forwarded-address header chosen by the operator, believed only from `--trusted-proxy` peers and
 * read from the right (a client's own `Forwarded: for=127.0.0.1` never wins, and never makes
 * PLAIN count as loopback); discovery advertises `--public-url`, or answers with `Vary: Host`;
 * `/metrics` is served to `--metrics-allow` addresses only (loopback by default). Real sockets
 * on loopback; a non-local client is simulated by a trusted proxy's header, or by connecting
 * from the loopback alias 127.0.0.2.
 */

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import net from "node:net";
import { Buffer } from "node:buffer";
import { childElement, childElements, DocumentParser, NS, textOf } from "../../core/mod.ts";
import {
  forwardedFor,
  resolveClientAddress,
  trustPolicy,
  UNKNOWN_CLIENT,
} from "../../core/http/forwarded.ts";
import { addressList, matchesAddress, parseIp } from "../../core/http/ip.ts";
import { embeddedServer, loadAccounts } from "../../deno/embedded.ts";
import { serveGateway } from "../../deno/gateway.ts";
import { serveXmpp } from "../../deno/serve.ts";
import { createLogger } from "../../deno/mod.ts";
import { parseOptions } from "../../deno/options.ts";
import { startEmbedded } from "../../deno/embedded.ts";

const OPEN = `<open xmlns='${NS.FRAMING}' to='localhost' version='1.0'/>`;
const WAIT_MS = 5_000;
const quiet = createLogger("error", "text");

/** Rejects after `WAIT_MS` unless `promise` settles first. */
async function within<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Timed out waiting for ${what}`)), WAIT_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A WebSocket to `port` with extra handshake headers. */
function socketWith(port: number, headers: Record<string, string>): WebSocket {
  // deno-lint-ignore no-explicit-any
  const options: any = { protocols: ["xmpp"], headers };
  return new WebSocket(`ws://127.0.0.1:${port}/xmpp-websocket`, options);
}

/** The first line the upstream receives (the PROXY v1 header) when a client opens a stream. */
async function proxyLine(
  gatewayOptions: { trustedProxies?: string[]; forwardedHeader?: "forwarded" | "none" },
  headers: Record<string, string>,
): Promise<string> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const gateway = serveGateway({
    hostname: "127.0.0.1",
    port: 0,
    domains: ["localhost"],
    upstream: { hostname: "127.0.0.1", port: (listener.addr as Deno.NetAddr).port },
    upstreamTls: "off",
    proxyProtocol: "v1",
    log: quiet,
    ...gatewayOptions,
  });
  try {
    const socket = socketWith(gateway.addr.port, headers);
    const closed = new Promise((resolve) => socket.onclose = resolve);
    await within("the WebSocket", new Promise((resolve) => socket.onopen = resolve));
    socket.send(OPEN);
    const conn = await within("the upstream connection", listener.accept());
    let text = "";
    const buffer = new Uint8Array(4096);
    for (let i = 0; i < 100 && !text.includes("\r\n"); i++) {
      const n = await within("upstream bytes", conn.read(buffer));
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    conn.close();
    await within("the WebSocket close", closed);
    return text.slice(0, text.indexOf("\r\n"));
  } finally {
    listener.close();
    await gateway.shutdown();
  }
}

/** The SASL mechanisms the embedded server offers to a connection with these headers. */
async function mechanismsWith(port: number, headers: Record<string, string>): Promise<string[]> {
  const socket = socketWith(port, headers);
  const messages: string[] = [];
  let wake = () => {};
  socket.onmessage = (event) => {
    messages.push(String(event.data));
    wake();
  };
  const closed = new Promise((resolve) => socket.onclose = resolve);
  await within("the WebSocket", new Promise((resolve) => socket.onopen = resolve));
  socket.send(OPEN);
  while (!messages.some((m) => m.includes("features"))) {
    await within("the stream features", new Promise<void>((resolve) => wake = resolve));
  }
  socket.close();
  await within("the close", closed);
  const parsed = new DocumentParser().parse(messages.find((m) => m.includes("features"))!);
  if (!parsed.ok) throw new Error("features did not parse");
  const mechanisms = childElement(parsed.element, "mechanisms", NS.SASL);
  return mechanisms ? childElements(mechanisms, "mechanism", NS.SASL).map(textOf) : [];
}

/** A raw HTTP/1.1 GET from a chosen loopback source address (node:net's `localAddress`). */
function httpGet(
  port: number,
  path: string,
  options: { source?: string; host?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Map<string, string>; body: string }> {
  return within(
    `GET ${path}`,
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = net.connect({
        host: "127.0.0.1",
        port,
        localAddress: options.source ?? "127.0.0.1",
      });
      socket.on("error", reject);
      socket.on("data", (chunk: Buffer) => chunks.push(chunk));
      socket.on("end", () => {
        socket.destroy();
        const text = Buffer.concat(chunks).toString("latin1");
        const [head = "", body = ""] = text.split("\r\n\r\n", 2);
        const [statusLine = "", ...lines] = head.split("\r\n");
        const headers = new Map<string, string>();
        for (const line of lines) {
          const colon = line.indexOf(":");
          headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
        }
        resolve({ status: Number(statusLine.split(" ")[1]), headers, body });
      });
      const extra = Object.entries(options.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`);
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${options.host ?? `127.0.0.1:${port}`}\r\n` +
          `${extra.join("")}Connection: close\r\n\r\n`,
      );
    }),
  );
}

/** A gateway whose upstream is never reached (HTTP resources only). */
function httpGateway(options: Partial<Parameters<typeof serveGateway>[0]> = {}) {
  return serveGateway({
    hostname: "127.0.0.1",
    port: 0,
    domains: ["localhost"],
    upstream: { hostname: "127.0.0.1", port: 9 },
    upstreamTls: "off",
    log: quiet,
    ...options,
  });
}

Deno.test("core: one chosen header, read right to left, believed only from trusted proxies", () => {
  const peer = { hostname: "127.0.0.1", port: 41000 };
  const headers = (entries: Record<string, string>) => (name: string) => entries[name] ?? null;
  const xff = trustPolicy(["127.0.0.1", "10.0.0.0/8"]);
  const both = headers({
    "x-forwarded-for": "127.0.0.1, 203.0.113.9, 10.1.2.3",
    forwarded: "for=127.0.0.1",
  });
  // The right-most hop that is not a trusted proxy; Forwarded (not chosen) is never read.
  assertEquals(resolveClientAddress(peer, both, xff).address, { hostname: "203.0.113.9", port: 0 });
  // From a peer that is not a trusted proxy: the peer, and the headers are flagged.
  const outsider = { hostname: "198.51.100.4", port: 5000 };
  assertEquals(resolveClientAddress(outsider, both, xff), {
    address: outsider,
    source: "peer",
    untrustedForwarding: true,
  });
  // Forwarded chosen: only Forwarded, with quotes, brackets and ports.
  const rfc7239 = trustPolicy(["127.0.0.1"], "forwarded");
  const mixed = headers({
    "x-forwarded-for": "192.0.2.1",
    forwarded: 'for=127.0.0.1, for="[2001:db8::7]:4711";proto=https',
  });
  assertEquals(resolveClientAddress(peer, mixed, rfc7239).address, {
    hostname: "2001:db8::7",
    port: 4711,
  });
  // `none`: no header believed, even from a trusted proxy.
  assertEquals(resolveClientAddress(peer, both, trustPolicy(["127.0.0.1"], "none")).address, peer);
  // A hop that is not an address makes the client unknown, never the (loopback) proxy.
  for (const value of ["unknown", "_hidden", "evil.example", "1.2.3.4.5", "999.1.1.1"]) {
    const client = resolveClientAddress(peer, headers({ "x-forwarded-for": value }), xff);
    assertEquals(client.address.hostname, UNKNOWN_CLIENT, value);
  }
  // Every hop trusted: the left-most. No header at all: the peer.
  assertEquals(
    resolveClientAddress(peer, headers({ "x-forwarded-for": "10.0.0.5, 10.0.0.6" }), xff).address,
    { hostname: "10.0.0.5", port: 0 },
  );
  assertEquals(resolveClientAddress(peer, headers({}), xff).address, peer);
  assertEquals(forwardedFor('for="_x";by=a, proto=http, for=192.0.2.1:80'), [
    undefined,
    undefined,
    { ip: parseIp("192.0.2.1")!, port: 80 },
  ]);
  // Ranges, IPv4-mapped peers, and configuration errors caught at start-up.
  assert(matchesAddress(addressList(["10.0.0.0/8"]), "::ffff:10.9.8.7"));
  assert(!matchesAddress(addressList(["10.0.0.0/8"]), "11.0.0.1"));
  assert(matchesAddress(addressList(["2001:db8::/32"]), "2001:db8:1::1"));
  for (const bad of ["localhost", "10.0.0.0/40", "10.0.0.1/", "::1/129"]) {
    let error: unknown;
    try {
      trustPolicy([bad]);
    } catch (e) {
      error = e;
    }
    assert(error instanceof RangeError, bad);
  }
});

Deno.test("gateway: forwarding headers from a peer that is not a trusted proxy are ignored", async () => {
  const spoofed = {
    forwarded: "for=198.51.100.77",
    "x-forwarded-for": "198.51.100.78",
    "x-real-ip": "198.51.100.79",
  };
  for (const trustedProxies of [[], ["10.0.0.1"]]) {
    const line = await proxyLine({ trustedProxies }, spoofed);
    assert(/^PROXY TCP4 127\.0\.0\.1 127\.0\.0\.1 \d+ \d+$/.test(line), line);
  }
});

Deno.test("gateway: from a trusted proxy, only the chosen header is believed (a client's Forwarded never wins)", async () => {
  const headers = {
    "x-forwarded-for": "127.0.0.1, 203.0.113.9", // the client wrote 127.0.0.1, the proxy appended
    forwarded: "for=127.0.0.1", // the client's own, passed through by the proxy
  };
  const xff = await proxyLine({ trustedProxies: ["127.0.0.1"] }, headers);
  assert(/^PROXY TCP4 203\.0\.113\.9 127\.0\.0\.1 0 \d+$/.test(xff), xff);
  const rfc7239 = await proxyLine(
    { trustedProxies: ["127.0.0.1"], forwardedHeader: "forwarded" },
    { "x-forwarded-for": "127.0.0.1", forwarded: 'for=127.0.0.1, for="192.0.2.33:5555"' },
  );
  assert(/^PROXY TCP4 192\.0\.2\.33 127\.0\.0\.1 5555 \d+$/.test(rfc7239), rfc7239);
  const none = await proxyLine(
    { trustedProxies: ["127.0.0.1"], forwardedHeader: "none" },
    { "x-forwarded-for": "203.0.113.9" },
  );
  assert(/^PROXY TCP4 127\.0\.0\.1 127\.0\.0\.1 \d+ \d+$/.test(none), none);
});

Deno.test("embedded server: a spoofed for=127.0.0.1 never makes PLAIN count as loopback", async () => {
  const { accounts } = await loadAccounts({ users: ["alice:wonderland"] });
  const app = embeddedServer({ accounts });
  const xmpp = serveXmpp({
    hostname: "127.0.0.1",
    port: 0,
    trustedProxies: ["127.0.0.1"],
    session: { domains: ["localhost"] },
    application: app,
  });
  try {
    const port = xmpp.addr.port;
    // The control: a direct loopback client may use PLAIN.
    assert((await mechanismsWith(port, {})).includes("PLAIN"));
    for (
      const headers of [
        { "x-forwarded-for": "203.0.113.9", forwarded: "for=127.0.0.1" },
        { "x-forwarded-for": "127.0.0.1, 203.0.113.9" },
        { "x-forwarded-for": "unknown" },
      ]
    ) {
      const mechanisms = await mechanismsWith(port, headers);
      assert(mechanisms.includes("SCRAM-SHA-256"), mechanisms.join());
      assert(!mechanisms.includes("PLAIN"), `${JSON.stringify(headers)}: ${mechanisms.join()}`);
    }
  } finally {
    await xmpp.shutdown();
    app.stop();
  }
});

Deno.test("host-meta: --public-url is advertised whatever the Host; without it, Vary: Host", async () => {
  const fixed = httpGateway({ publicUrl: "wss://chat.example/xmpp-websocket" });
  const derived = httpGateway();
  try {
    for (const path of ["/.well-known/host-meta", "/.well-known/host-meta.json"]) {
      const response = await httpGet(fixed.addr.port, path, { host: "evil.example" });
      assertEquals(response.status, 200);
      assertStringIncludes(response.body, "wss://chat.example/xmpp-websocket");
      assert(!response.body.includes("evil.example"), response.body);
      assert(!/host/i.test(response.headers.get("vary") ?? ""), response.headers.get("vary"));
      assertEquals(response.headers.get("cache-control"), "max-age=3600");

      const echoed = await httpGet(derived.addr.port, path, { host: "chat.example:8443" });
      assertEquals(echoed.status, 200);
      assertStringIncludes(echoed.body, "ws://chat.example:8443/xmpp-websocket");
      assert(/(^|,\s*)Host(\s*,|$)/i.test(echoed.headers.get("vary") ?? ""), path);
      assertEquals(echoed.headers.get("cache-control"), "max-age=300");
    }
    // A Host that is not a name or an address is never reflected (400 by us, or by the runtime).
    for (const host of ["evil.example/x?", "a'b.example"]) {
      const injected = await httpGet(derived.addr.port, "/.well-known/host-meta", { host });
      assert(
        injected.status >= 400 && !injected.body.includes("evil"),
        `${host}: ${injected.status}`,
      );
    }
  } finally {
    await fixed.shutdown();
    await derived.shutdown();
  }
  let error: unknown;
  try {
    httpGateway({ publicUrl: "https://chat.example/" });
  } catch (e) {
    error = e;
  }
  assert(error instanceof RangeError);
});

Deno.test("gateway /metrics: loopback only by default; a proxied or non-allowed client gets 403", async () => {
  const plain = httpGateway();
  const proxied = httpGateway({ trustedProxies: ["127.0.0.1"] });
  const narrow = httpGateway({ metricsAllow: ["127.0.0.1"] });
  try {
    assertEquals((await httpGet(plain.addr.port, "/metrics")).status, 200);
    // Forwarded by a peer nobody said to trust (an unconfigured reverse proxy): refused.
    const viaUnknownProxy = await httpGet(plain.addr.port, "/metrics", {
      headers: { "x-forwarded-for": "203.0.113.9" },
    });
    assertEquals(viaUnknownProxy.status, 403);
    assert(!viaUnknownProxy.body.includes("xmpp_ws_"), viaUnknownProxy.body);
    // A remote client behind the trusted proxy: refused; the proxy's own request: served.
    const remote = await httpGet(proxied.addr.port, "/metrics", {
      headers: { "x-forwarded-for": "203.0.113.9" },
    });
    assertEquals(remote.status, 403);
    assertEquals((await httpGet(proxied.addr.port, "/metrics")).status, 200);
    // An allowlist of 127.0.0.1 only: the alias 127.0.0.2 is refused.
    assertEquals((await httpGet(narrow.addr.port, "/metrics")).status, 200);
    assertEquals(
      (await httpGet(narrow.addr.port, "/metrics", { source: "127.0.0.2" })).status,
      403,
    );
    // /healthz is for anyone: readiness as JSON (503 here, the upstream port 9 being closed).
    const health = await httpGet(narrow.addr.port, "/healthz", { source: "127.0.0.2" });
    assertEquals(health.status, 503);
    assertEquals(JSON.parse(health.body).status, "upstream-unreachable");
  } finally {
    await plain.shutdown();
    await proxied.shutdown();
    await narrow.shutdown();
  }
});

Deno.test("command line: --metrics-allow, --public-url and --forwarded-header reach the embedded server", async () => {
  const parsed = parseOptions([
    "--port",
    "0",
    "--account",
    "alice:wonderland",
    "--metrics-allow",
    "127.0.0.1",
    "--public-url",
    "wss://chat.example/ws",
    "--forwarded-header",
    "forwarded",
  ], {});
  if (!parsed.ok) throw new Error("options did not parse");
  const bad = parseOptions(["--forwarded-header", "x-real-ip"], {});
  assert(!bad.ok && !bad.help && bad.error.startsWith("--forwarded-header:"));
  const env = parseOptions([], { XMPP_WS_PUBLIC_URL: "wss://env.example/ws" });
  assert(env.ok && env.options.publicUrl === "wss://env.example/ws");
  assert(env.ok && env.options.forwardedHeader === "x-forwarded-for");
  const server = await startEmbedded(parsed.options, quiet);
  try {
    const port = server.addr.port;
    assertEquals((await httpGet(port, "/metrics")).status, 200);
    assertEquals((await httpGet(port, "/metrics", { source: "127.0.0.2" })).status, 403);
    const hostMeta = await httpGet(port, "/.well-known/host-meta.json", { host: "evil.example" });
    assertEquals(JSON.parse(hostMeta.body).links[0].href, "wss://chat.example/ws");
  } finally {
    await server.shutdown();
  }
});
