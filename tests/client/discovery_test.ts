/**
 * XEP-0156 discovery over real HTTPS (a local `Deno.serve` with a throwaway certificate; the
 * test CA is given to `fetch` through `Deno.createHttpClient`), then the client connecting to
 * what it found: JRD and XRD fetched in parallel, HTTPS only (an http redirect is refused),
 * `wss:` only unless insecure endpoints are allowed, candidates tried in turn, the cache
 * honouring Cache-Control.
 */

import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import {
  discoverEndpoints,
  DiscoveryCache,
  DiscoveryError,
  type FetchLike,
  XmppClient,
} from "../../deno/client.ts";
import { makeCertificates, type TestCertificates } from "./_tls.ts";
import { recorder, startServer } from "../_support/client.ts";

const REL = "urn:xmpp:alt-connections:websocket";
const XRD_TYPE = "application/xrd+xml";

type Route = (request: Request, port: number) => Response | Promise<Response>;

let certificates: TestCertificates | undefined;

/** Runs `body` with an HTTPS server answering `routes` and a fetch that trusts it. */
async function withHostMeta(
  routes: Record<string, Route>,
  body: (fetch: FetchLike, hits: string[], port: number) => Promise<void>,
): Promise<void> {
  certificates ??= await makeCertificates();
  const hits: string[] = [];
  let port = 0;
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: certificates.cert,
    key: certificates.key,
    onListen() {},
  }, (request) => {
    const path = new URL(request.url).pathname;
    hits.push(path);
    const route = routes[path];
    return route ? route(request, port) : new Response("not found", { status: 404 });
  });
  port = server.addr.port;
  const client = Deno.createHttpClient({ caCerts: [certificates.ca] });
  // host-meta lives on the default port (RFC 6415 §2); the test server is elsewhere.
  const fetchWithCa: FetchLike = (url, init) =>
    fetch(url.replace(/^(https?):\/\/localhost\//, `$1://localhost:${port}/`), {
      ...init,
      client,
    } as RequestInit);
  try {
    await body(fetchWithCa, hits, port);
  } finally {
    client.close();
    await server.shutdown();
  }
}

function jrd(hrefs: readonly string[], headers: Record<string, string> = {}): Route {
  return () =>
    Response.json({ links: hrefs.map((href) => ({ rel: REL, href })) }, {
      headers: { "content-type": "application/json", ...headers },
    });
}

function xrd(hrefs: readonly string[], headers: Record<string, string> = {}): Route {
  const links = hrefs.map((href) => `  <Link rel='${REL}' href='${href}'/>`).join("\n");
  return () =>
    new Response(
      `<?xml version='1.0' encoding='UTF-8'?>\n<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>\n${links}\n</XRD>\n`,
      { headers: { "content-type": XRD_TYPE, ...headers } },
    );
}

/**
 * A barrier for `count` requests: each held response is released once all `count` requests have
 * arrived, so that all are in flight at the same time; or, bounded, after `ms`, and then
 * `overlapped` is false and the test fails on that, not on a clock reading.
 */
function barrier(count: number, ms = 5_000) {
  let arrived = 0;
  let release: () => void = () => {};
  const all = new Promise<void>((resolve) => release = resolve);
  const state = { overlapped: true };
  const hold = (route: Route): Route => async (request, port) => {
    if (++arrived === count) release();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms));
    const together = await Promise.race([all.then(() => true), bound]);
    clearTimeout(timer);
    if (!together) state.overlapped = false;
    return route(request, port);
  };
  return { hold, state };
}

Deno.test("discovery: JRD and XRD fetched in parallel; links of both; wss only by default", async () => {
  const both = barrier(2);
  await withHostMeta({
    "/.well-known/host-meta.json": both.hold(jrd(["wss://a.example/ws", "ws://a.example/ws"])),
    "/.well-known/host-meta": both.hold(xrd(["wss://b.example/ws", "https://b.example/bosh"])),
  }, async (fetch, hits) => {
    const endpoints = await discoverEndpoints("localhost", { fetch });
    assertEquals(endpoints, ["wss://a.example/ws", "wss://b.example/ws"]);
    assertEquals(hits.toSorted(), ["/.well-known/host-meta", "/.well-known/host-meta.json"]);
    // Each response was held until the other request had arrived: fetched one after the other,
    // the first would have waited for the barrier's bound alone.
    assert(both.state.overlapped, "the two documents were fetched one after the other");
    const insecure = await discoverEndpoints("localhost", { fetch, allowInsecure: true });
    assertEquals(insecure, ["wss://a.example/ws", "ws://a.example/ws", "wss://b.example/ws"]);
  });
});

Deno.test("discovery: ws: links are refused unless insecure endpoints are allowed", async () => {
  await withHostMeta({
    "/.well-known/host-meta.json": jrd(["ws://127.0.0.1:1/ws"]),
    "/.well-known/host-meta": xrd(["ws://127.0.0.1:1/ws", "http://127.0.0.1:1/bosh"]),
  }, async (fetch) => {
    const error = await assertRejects(
      () => discoverEndpoints("localhost", { fetch }),
      DiscoveryError,
    );
    assertStringIncludes(error.message, "no wss: link");
    await assertRejects(
      () =>
        XmppClient.connect({ service: "localhost", fetch, username: "bob", password: "bob-pw" }),
      DiscoveryError,
    );
  });
});

Deno.test("discovery: host-meta over http (a redirect to http:) is refused; https redirects are followed", async () => {
  await withHostMeta({
    "/.well-known/host-meta.json": (_, port) =>
      Response.redirect(`http://localhost:${port}/plain.json`, 301),
    "/.well-known/host-meta": (_, port) =>
      Response.redirect(`https://localhost:${port}/moved-xrd`, 302),
    "/moved-xrd": xrd(["wss://moved.example/ws"]),
    "/plain.json": jrd(["wss://never.example/ws"]),
  }, async (fetch, hits) => {
    assertEquals(await discoverEndpoints("localhost", { fetch }), ["wss://moved.example/ws"]);
    assert(!hits.includes("/plain.json"), "the http: URL was never fetched");
  });
  await withHostMeta({
    "/.well-known/host-meta.json": (_, port) =>
      Response.redirect(`http://localhost:${port}/x`, 307),
    "/.well-known/host-meta": (_, port) => Response.redirect(`http://localhost:${port}/x`, 301),
  }, async (fetch) => {
    const error = await assertRejects(
      () => discoverEndpoints("localhost", { fetch }),
      DiscoveryError,
    );
    assertEquals(error.reasons.length, 2);
    for (const reason of error.reasons) assertStringIncludes(reason, "non-HTTPS");
  });
  // A domain served only over http: the https fetch fails, http is never tried.
  const plain = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    throw new Error("http must not be used");
  });
  try {
    const port = plain.addr.port;
    const error = await assertRejects(
      () =>
        discoverEndpoints("localhost", {
          fetch: (url, init) =>
            fetch(url.replace("https://localhost/", `https://localhost:${port}/`), init),
        }),
      DiscoveryError,
    );
    assertEquals(error.reasons.length, 2);
  } finally {
    await plain.shutdown();
  }
});

Deno.test("discovery: a JRD with another content type is ignored; the XRD still counts", async () => {
  await withHostMeta({
    "/.well-known/host-meta.json": () =>
      new Response(JSON.stringify({ links: [{ rel: REL, href: "wss://json.example/ws" }] }), {
        headers: { "content-type": "text/plain" },
      }),
    "/.well-known/host-meta": xrd(["wss://xrd.example/ws"]),
  }, async (fetch) => {
    assertEquals(await discoverEndpoints("localhost", { fetch }), ["wss://xrd.example/ws"]);
  });
});

Deno.test("discovery: results are cached as long as Cache-Control allows, not at all with no-store", async () => {
  await withHostMeta({
    "/.well-known/host-meta.json": jrd(["wss://a.example/ws"], { "cache-control": "max-age=60" }),
    "/.well-known/host-meta": xrd(["wss://a.example/ws"], { "cache-control": "max-age=120" }),
  }, async (fetch, hits) => {
    const cache = new DiscoveryCache();
    await discoverEndpoints("localhost", { fetch, cache });
    await discoverEndpoints("localhost", { fetch, cache });
    assertEquals(hits.length, 2);
  });
  await withHostMeta({
    "/.well-known/host-meta.json": jrd(["wss://a.example/ws"], { "cache-control": "no-store" }),
    "/.well-known/host-meta": xrd(["wss://a.example/ws"], { "cache-control": "max-age=120" }),
  }, async (fetch, hits) => {
    const cache = new DiscoveryCache();
    await discoverEndpoints("localhost", { fetch, cache });
    await discoverEndpoints("localhost", { fetch, cache });
    assertEquals(hits.length, 4);
  });
});

Deno.test("discovery then connect: candidates are tried in turn (insecure endpoints allowed)", async () => {
  await using server = await startServer(["bob:bob-pw"]);
  const dead = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deadPort = (dead.addr as Deno.NetAddr).port;
  dead.close(); // nothing listens there any more
  await withHostMeta({
    "/.well-known/host-meta.json": jrd([`ws://127.0.0.1:${deadPort}/xmpp-websocket`]),
    "/.well-known/host-meta": xrd([server.url]),
  }, async (fetch) => {
    const rec = recorder();
    const bob = await XmppClient.connect({
      service: "localhost",
      fetch,
      allowInsecure: true,
      username: "bob",
      password: "bob-pw",
      webSocket: rec.factory,
      discoveryCache: new DiscoveryCache(),
    });
    try {
      assertEquals(bob.jid?.startsWith("bob@localhost/"), true);
      assertEquals(rec.opened.map((o) => o.url), [
        `ws://127.0.0.1:${deadPort}/xmpp-websocket`,
        server.url,
      ]);
    } finally {
      await bob.close();
    }
  });
});
