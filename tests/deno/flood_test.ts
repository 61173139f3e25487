/**
 * Issue 8, finding 6: a client that sends 2 000 stanzas back to back to the embedded server once
 * saw its TCP connection dropped with no stream error and no Close frame (the rate limit ended
 * the stream, and closing a socket with unread input resets it). Now every stanza over the limit
 * is answered with a `resource-constraint` error and the session stays usable, on both
 * WebSocket layers; a flood that never stops ends with `policy-violation`, `<close/>` and a Close
 * frame on the strict layer (which keeps reading until the peer's Close, RFC 6455 §7.1.1).
 */

import { assert, assertEquals } from "@std/assert";
import { embeddedServer, loadAccounts } from "../../deno/embedded.ts";
import { serveXmpp } from "../../deno/serve.ts";
import { deadline, OPEN } from "../_support/endpoint.ts";

type Layer = "native" | "strict";

async function session(
  layer: Layer,
  maxThrottled: number | undefined,
  flood: number,
): Promise<{ received: string[]; close: CloseEvent }> {
  const { accounts, demo } = await loadAccounts({ demoUsers: ["alice"] });
  const password = demo[0]!.password;
  const app = embeddedServer({
    accounts,
    ...(maxThrottled !== undefined ? { maxThrottled } : {}),
  });
  const xmpp = serveXmpp({
    hostname: "127.0.0.1",
    port: 0,
    session: { domains: ["localhost"] },
    application: app,
    websocketLayer: layer,
  });
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${xmpp.addr.port}/xmpp-websocket`, "xmpp");
    const received: string[] = [];
    let stage = 0;
    let errors = 0;
    const closed = new Promise<CloseEvent>((resolve) => ws.onclose = resolve);
    ws.onopen = () => ws.send(OPEN);
    ws.onmessage = (event) => {
      const text = String(event.data);
      received.push(text);
      if (stage === 0 && text.includes("<mechanisms")) {
        stage = 1;
        const plain = btoa("\0alice\0" + password);
        ws.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plain}</auth>`);
      } else if (stage === 1 && text.includes("<success")) {
        stage = 2;
        ws.send(OPEN);
      } else if (stage === 2 && text.includes("<bind")) {
        stage = 3;
        ws.send(
          "<iq xmlns='jabber:client' type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>",
        );
      } else if (stage === 3 && text.includes("id='bind'")) {
        stage = 4;
        for (let i = 0; i < flood; i++) {
          ws.send(
            `<message xmlns='jabber:client' to='alice@localhost/nowhere' id='m${i}'><body>${i}</body></message>`,
          );
        }
      } else if (stage === 4 && text.includes("type='error'")) {
        // Once every message was answered, a ping proves the session is still usable.
        if (++errors === flood) {
          stage = 5;
          setTimeout(() => {
            ws.send(
              "<iq xmlns='jabber:client' type='get' id='ping' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>",
            );
          }, 1_100); // past the bucket's refill of one token at 20/s
        }
      } else if (stage === 5 && text.includes("id='ping'")) {
        stage = 6;
        ws.send("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>");
      }
    };
    const close = await deadline(closed, `the ${layer} session to end`, 30_000);
    return { received, close };
  } finally {
    await xmpp.shutdown();
  }
}

for (const layer of ["native", "strict"] as const) {
  Deno.test(`issue 8 #6 (${layer}): 2 000 stanzas back to back are each answered; the session stays usable`, async () => {
    const { received, close } = await session(layer, undefined, 2_000);
    const errors = received.filter((t) => t.startsWith("<message") && t.includes("type='error'"));
    assertEquals(errors.length, 2_000, "every message is answered (offline or slow down)");
    const throttled = errors.filter((t) => t.includes("<resource-constraint"));
    assert(throttled.length >= 1_800, `${throttled.length} refused for the rate`);
    assert(received.some((t) => t.includes("id='ping'") && t.includes("type='result'")));
    assert(!received.some((t) => t.includes("<stream:error")), "no stream error");
    assertEquals(received.at(-1), "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>");
    assertEquals(close.code, 1000);
  });
}

Deno.test("issue 8 #6 (strict): a flood that does not stop ends with policy-violation, <close/> and a Close frame", async () => {
  const { received, close } = await session("strict", 50, 2_000);
  const error = received.findIndex((t) => t.includes("<stream:error"));
  assert(error >= 0, "a stream error arrives");
  assert(received[error]!.includes("<policy-violation"));
  assertEquals(received[error + 1], "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>");
  assert(close.code === 1000 || close.code === 1008, `close code ${close.code}`);
});
