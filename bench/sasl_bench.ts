/**
 * `deno bench` of the pure-TypeScript PBKDF2 that SCRAM relies on, beside WebCrypto's native
 * `crypto.subtle.deriveBits` in the same run (the `baseline` of each group), plus one whole
 * SCRAM-SHA-256 exchange (client and server sides, one PBKDF2 on the client).
 *
 * Run: `deno bench bench/sasl_bench.ts`.
 *
 * @module
 */

import {
  continueSaslServer,
  createStoredAccount,
  pbkdf2,
  scramClientContinue,
  scramClientStart,
  startSaslServer,
} from "../core/sasl/mod.ts";

const PASSWORD = new TextEncoder().encode("correct horse battery staple");
const SALT = Uint8Array.from({ length: 16 }, (_, i) => i * 31);
const ITERATIONS = 4096;

const webKey = await crypto.subtle.importKey("raw", PASSWORD, "PBKDF2", false, ["deriveBits"]);

for (const [hash, bits] of [["SHA-256", 256], ["SHA-1", 160]] as const) {
  Deno.bench({
    name: `WebCrypto PBKDF2-HMAC-${hash}, ${ITERATIONS} iterations`,
    group: `pbkdf2-${hash}`,
    baseline: true,
    fn: async () => {
      await crypto.subtle.deriveBits(
        { name: "PBKDF2", hash, salt: SALT, iterations: ITERATIONS },
        webKey,
        bits,
      );
    },
  });

  Deno.bench({
    name: `pure TS PBKDF2-HMAC-${hash}, ${ITERATIONS} iterations`,
    group: `pbkdf2-${hash}`,
    fn: () => {
      pbkdf2(hash, PASSWORD, SALT, ITERATIONS, bits / 8);
    },
  });
}

const account = createStoredAccount("juliet", "r0m30", SALT, ITERATIONS);
const ctx = {
  lookup: (name: string) => (name === "juliet" ? account : undefined),
  nonce: "server-nonce-0123456789",
  plainAllowed: false,
  anonymousAllowed: false,
};

Deno.bench({
  name: "SCRAM-SHA-256 exchange, client + server (4096 iterations)",
  group: "scram-exchange",
  fn: () => {
    const client = scramClientStart("SCRAM-SHA-256", "juliet", "r0m30", "client-nonce-abc");
    const challenge = startSaslServer("SCRAM-SHA-256", client.data, ctx);
    if (challenge.type !== "challenge") throw new Error("benchmark exchange failed");
    const response = scramClientContinue(client.state, challenge.data);
    if (response.type !== "response") throw new Error("benchmark exchange failed");
    const success = continueSaslServer(challenge.state, response.data, ctx);
    if (success.type !== "success") throw new Error("benchmark exchange failed");
  },
});
