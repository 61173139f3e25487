/**
 * A scripted gateway for the bridge tests: browser messages and upstream bytes in, the texts
 * sent each way collected.
 *
 * @module
 */

import { assert } from "@std/assert";
import {
  createGateway,
  type Gateway,
  type GatewayConfig,
  type GatewayOutput,
  gatewayStep,
} from "../../core/mod.ts";

export const F = "urn:ietf:params:xml:ns:xmpp-framing";
export const OPEN = `<open xmlns='${F}' to='localhost' version='1.0'/>`;
export const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' " +
  "xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='up-1' version='1.0' xml:lang='en'>";
export const FEATURES = "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" +
  "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1-PLUS</mechanism>" +
  "<mechanism>PLAIN</mechanism></mechanisms></stream:features>";

export class Harness {
  gw: Gateway;
  now = 0;
  toClient: string[] = [];
  toUpstream: string[] = [];
  all: GatewayOutput[] = [];
  constructor(config: Partial<GatewayConfig> = {}) {
    this.gw = createGateway({ domains: ["localhost"], ...config });
  }
  run(input: Parameters<typeof gatewayStep>[1]): GatewayOutput[] {
    const { state: gateway, outputs } = gatewayStep(this.gw, input);
    this.gw = gateway;
    this.all.push(...outputs);
    for (const o of outputs) {
      if (o.type === "client" && o.output.type === "send-text") this.toClient.push(o.output.text);
      if (o.type === "upstream" && o.output.type === "send-text") {
        this.toUpstream.push(o.output.text);
      }
    }
    return [...outputs];
  }
  client(data: string) {
    return this.run({ type: "client", input: { type: "text-received", now: ++this.now, data } });
  }
  upstream(data: string) {
    return this.run({
      type: "upstream",
      input: { type: "text-received", now: ++this.now, data: new TextEncoder().encode(data) },
    });
  }
  /** Browser connects, opens; upstream connects and answers with header + features. */
  open(upstreamFeatures = FEATURES, secure = false) {
    this.run({
      type: "client",
      input: { type: "transport-opened", now: ++this.now, secure: true, streamId: "ws-1" },
    });
    const out = this.client(OPEN);
    assert(out.some((o) => o.type === "connect-upstream" && o.domain === "localhost"));
    this.run({ type: "upstream", input: { type: "transport-opened", now: ++this.now, secure } });
    this.upstream(HEADER + upstreamFeatures);
  }
  /** SASL PLAIN through the gateway, then the restart: the stream is authenticated. */
  login() {
    this.client("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>");
    this.upstream("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    this.client(OPEN);
    this.upstream(
      HEADER.replace("up-1", "up-2") +
        "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>",
    );
    assert(this.gw.authenticated);
  }
}
