/**
 * SASL tests: the pure hashes, HMAC and PBKDF2 against published vectors and WebCrypto; the
 * RFC 5802 and RFC 7677 SCRAM examples byte for byte on both sides; round trips; and peer
 * misbehaviour, which must give the right failure and never throw.
 */

import { assert, assertEquals, assertThrows } from "@std/assert";
import {
  anonymousClientMessage,
  continueSaslServer,
  createStoredAccount,
  decodeBase64,
  deriveScramCredentials,
  encodeBase64,
  listSaslMechanisms,
  pbkdf2,
  plainClientMessage,
  saslprep,
  type SaslServerContext,
  type SaslServerResult,
  type SaslServerState,
  SaslUsageError,
  scramClientContinue,
  scramClientFinish,
  type ScramClientResponse,
  scramClientStart,
  type ScramMechanism,
  startSaslServer,
  type StoredAccount,
} from "../../core/sasl/mod.ts";
import { digest } from "../../core/sasl/hash.ts";
import { hmac } from "../../core/sasl/hmac.ts";

const utf8 = new TextEncoder();
const bytes = (text: string) => utf8.encode(text);
const hex = (data: Uint8Array) => Array.from(data, (b) => b.toString(16).padStart(2, "0")).join("");
const b64 = (text: string) => encodeBase64(bytes(text));
const unb64 = (data: string) => new TextDecoder().decode(decodeBase64(data));

/** The challenge of a server result, or a thrown assertion. */
function challengeOf(result: SaslServerResult): { data: string; state: SaslServerState } {
  if (result.type !== "challenge") {
    throw new Error(`expected a challenge: ${JSON.stringify(result)}`);
  }
  return result;
}

/** The response of a client step, or a thrown assertion. */
function responseOf(result: ReturnType<typeof scramClientContinue>): ScramClientResponse {
  if (result.type !== "response") throw new Error(`expected a response: ${JSON.stringify(result)}`);
  return result;
}

/** Deterministic pseudo-random bytes (xorshift32) for cross-checks and fuzzing. */
function prng(seed: number): (n: number) => Uint8Array<ArrayBuffer> {
  let x = seed | 0 || 1;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[i] = x & 255;
    }
    return out;
  };
}

// --- SHA-1 / SHA-256 -------------------------------------------------------------------------

const ABC_56 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

Deno.test("SHA-1 known vectors (FIPS 180 examples)", () => {
  assertEquals(hex(digest("SHA-1", bytes(""))), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  assertEquals(hex(digest("SHA-1", bytes("abc"))), "a9993e364706816aba3e25717850c26c9cd0d89d");
  assertEquals(hex(digest("SHA-1", bytes(ABC_56))), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  assertEquals(
    hex(digest("SHA-1", new Uint8Array(1_000_000).fill(0x61))),
    "34aa973cd4c4daa4f61eeb2bdbad27316534016f",
  );
});

Deno.test("SHA-256 known vectors (FIPS 180 examples)", () => {
  assertEquals(
    hex(digest("SHA-256", bytes(""))),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  assertEquals(
    hex(digest("SHA-256", bytes("abc"))),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assertEquals(
    hex(digest("SHA-256", bytes(ABC_56))),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
  assertEquals(
    hex(digest("SHA-256", new Uint8Array(1_000_000).fill(0x61))),
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
  );
});

Deno.test("SHA-1 and SHA-256 match WebCrypto for every length 0..300 (55/56/64 boundaries)", async () => {
  const random = prng(7);
  for (let length = 0; length <= 300; length++) {
    const data = random(length);
    for (const name of ["SHA-1", "SHA-256"] as const) {
      const expected = new Uint8Array(await crypto.subtle.digest(name, data));
      assertEquals(hex(digest(name, data)), hex(expected), `${name} of ${length} bytes`);
    }
  }
});

Deno.test("hashing a subarray only reads its view", () => {
  const buffer = bytes("xxabcxx");
  assertEquals(hex(digest("SHA-1", buffer.subarray(2, 5))), hex(digest("SHA-1", bytes("abc"))));
});

// --- HMAC ------------------------------------------------------------------------------------

Deno.test("HMAC-SHA-1: RFC 2202 test cases 1, 2, 3, 6, 7", () => {
  const cases: [Uint8Array, Uint8Array, string][] = [
    [new Uint8Array(20).fill(0x0b), bytes("Hi There"), "b617318655057264e28bc0b6fb378c8ef146be00"],
    [
      bytes("Jefe"),
      bytes("what do ya want for nothing?"),
      "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
    ],
    [
      new Uint8Array(20).fill(0xaa),
      new Uint8Array(50).fill(0xdd),
      "125d7342b9ac11cd91a39af48aa17b4f63f175d3",
    ],
    [
      new Uint8Array(80).fill(0xaa),
      bytes("Test Using Larger Than Block-Size Key - Hash Key First"),
      "aa4ae5e15272d00e95705637ce8a3b55ed402112",
    ],
    [
      new Uint8Array(80).fill(0xaa),
      bytes("Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data"),
      "e8e99d0f45237d786d6bbaa7965c7808bbff1a91",
    ],
  ];
  for (const [key, data, expected] of cases) assertEquals(hex(hmac("SHA-1", key, data)), expected);
});

Deno.test("HMAC-SHA-256: RFC 4231 test cases 1, 2, 3, 6, 7", () => {
  const cases: [Uint8Array, Uint8Array, string][] = [
    [
      new Uint8Array(20).fill(0x0b),
      bytes("Hi There"),
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    ],
    [
      bytes("Jefe"),
      bytes("what do ya want for nothing?"),
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    ],
    [
      new Uint8Array(20).fill(0xaa),
      new Uint8Array(50).fill(0xdd),
      "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
    ],
    [
      new Uint8Array(131).fill(0xaa),
      bytes("Test Using Larger Than Block-Size Key - Hash Key First"),
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    ],
    [
      new Uint8Array(131).fill(0xaa),
      bytes(
        "This is a test using a larger than block-size key and a larger than block-size data. " +
          "The key needs to be hashed before being used by the HMAC algorithm.",
      ),
      "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
    ],
  ];
  for (const [key, data, expected] of cases) {
    assertEquals(hex(hmac("SHA-256", key, data)), expected);
  }
});

Deno.test("HMAC matches WebCrypto for key lengths around the block size", async () => {
  const random = prng(11);
  for (const keyLength of [0, 1, 20, 32, 63, 64, 65, 128, 200]) {
    for (const dataLength of [0, 1, 55, 56, 64, 119, 120, 1000]) {
      const key = random(keyLength), data = random(dataLength);
      for (const name of ["SHA-1", "SHA-256"] as const) {
        // WebCrypto refuses empty HMAC keys; RFC 2104 allows them (zero-padded).
        const k = await crypto.subtle.importKey(
          "raw",
          keyLength === 0 ? new Uint8Array(64) : key,
          { name: "HMAC", hash: name },
          false,
          ["sign"],
        );
        const expected = new Uint8Array(await crypto.subtle.sign("HMAC", k, data));
        assertEquals(
          hex(hmac(name, key, data)),
          hex(expected),
          `${name} ${keyLength}/${dataLength}`,
        );
      }
    }
  }
});

// --- PBKDF2 ----------------------------------------------------------------------------------

Deno.test("PBKDF2-HMAC-SHA-1: RFC 6070 vectors (all but the 16777216-iteration one)", () => {
  const cases: [string, string, number, number, string][] = [
    ["password", "salt", 1, 20, "0c60c80f961f0e71f3a9b524af6012062fe037a6"],
    ["password", "salt", 2, 20, "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"],
    ["password", "salt", 4096, 20, "4b007901b765489abead49d926f721d065a429c1"],
    [
      "passwordPASSWORDpassword",
      "saltSALTsaltSALTsaltSALTsaltSALTsalt",
      4096,
      25,
      "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038",
    ],
    ["pass\0word", "sa\0lt", 4096, 16, "56fa6aa75548099dcc37d7f03425e0c3"],
  ];
  for (const [password, salt, iterations, length, expected] of cases) {
    assertEquals(hex(pbkdf2("SHA-1", bytes(password), bytes(salt), iterations, length)), expected);
  }
});

Deno.test("PBKDF2-HMAC-SHA-256: known vectors", () => {
  const cases: [string, string, number, number, string][] = [
    ["password", "salt", 1, 32, "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b"],
    ["password", "salt", 2, 32, "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43"],
    [
      "password",
      "salt",
      4096,
      32,
      "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a",
    ],
    [
      "passwordPASSWORDpassword",
      "saltSALTsaltSALTsaltSALTsaltSALTsalt",
      4096,
      40,
      "348c89dbcbd32b2f32d814b8116e84cf2b17347ebc1800181c4e2a1fb8dd53e1c635518c7dac47e9",
    ],
  ];
  for (const [password, salt, iterations, length, expected] of cases) {
    assertEquals(
      hex(pbkdf2("SHA-256", bytes(password), bytes(salt), iterations, length)),
      expected,
    );
  }
});

Deno.test("PBKDF2 matches WebCrypto, including multi-block and long-password outputs", async () => {
  const random = prng(13);
  for (const name of ["SHA-1", "SHA-256"] as const) {
    for (const [passwordLength, length, iterations] of [[8, 20, 3], [100, 70, 50], [0, 33, 1]]) {
      const password = random(passwordLength!), salt = random(16);
      const key = await crypto.subtle.importKey("raw", password, "PBKDF2", false, ["deriveBits"]);
      const expected = new Uint8Array(
        await crypto.subtle.deriveBits(
          { name: "PBKDF2", hash: name, salt, iterations: iterations! },
          key,
          length! * 8,
        ),
      );
      assertEquals(hex(pbkdf2(name, password, salt, iterations!, length!)), hex(expected));
    }
  }
});

Deno.test("PBKDF2 rejects a zero iteration count or length as misuse", () => {
  assertThrows(() => pbkdf2("SHA-1", bytes("p"), bytes("s"), 0, 20), RangeError);
  assertThrows(() => pbkdf2("SHA-1", bytes("p"), bytes("s"), 1, 0), RangeError);
});

// --- base64 and SASLprep ----------------------------------------------------------------------

Deno.test("base64 round-trips every length and agrees with btoa", () => {
  const random = prng(17);
  for (let length = 0; length < 70; length++) {
    const data = random(length);
    const encoded = encodeBase64(data);
    assertEquals(encoded, btoa(String.fromCharCode(...data)));
    assertEquals(decodeBase64(encoded), data);
  }
});

Deno.test("base64 decoding is strict and reports instead of throwing", () => {
  for (
    const bad of [
      "a",
      "ab",
      "abc",
      "ab=c",
      "a===",
      "====",
      "ab c",
      "ab\nc",
      "Zm9v\n",
      "Zg",
      "Zh==",
      "Zm9=",
      "é123",
      "_-AA",
    ]
  ) {
    assertEquals(decodeBase64(bad), undefined, JSON.stringify(bad));
  }
  assertEquals(decodeBase64(""), new Uint8Array());
  assertEquals(decodeBase64("Zg=="), bytes("f"));
  assertEquals(decodeBase64("Zm8="), bytes("fo"));
});

Deno.test("SASLprep: RFC 4013 §3 examples and the covered tables", () => {
  assertEquals(saslprep("I\u00ADX"), "IX");
  assertEquals(saslprep("user"), "user");
  assertEquals(saslprep("USER"), "USER");
  assertEquals(saslprep("\u00AA"), "a");
  assertEquals(saslprep("\u2168"), "IX");
  assertEquals(saslprep("\u0007"), undefined);
  assertEquals(saslprep("a\u00A0b\u3000c"), "a b c");
  assertEquals(saslprep("a\u200Bb\uFEFFc"), "abc");
  assertEquals(saslprep("e\u0301"), "\u00E9");
  for (
    const bad of [
      "a\u0000",
      "\u007F",
      "\u0085",
      "\u2028",
      "\uE000",
      "\uFDD0",
      "\u{10FFFF}",
      "a\uD800",
      "\u200E",
      "\u{E0041}",
      "\u2FF0",
    ]
  ) {
    assertEquals(saslprep(bad), undefined, JSON.stringify(bad));
  }
});

// --- SCRAM: the RFC examples, byte for byte ------------------------------------------------------

interface RfcExample {
  readonly mechanism: ScramMechanism;
  readonly clientNonce: string;
  readonly serverNonce: string;
  readonly salt: string;
  readonly clientFirst: string;
  readonly serverFirst: string;
  readonly clientFinal: string;
  readonly serverFinal: string;
}

const RFC_5802: RfcExample = {
  mechanism: "SCRAM-SHA-1",
  clientNonce: "fyko+d2lbbFgONRv9qkxdawL",
  serverNonce: "3rfcNHYJY1ZVvWVs7j",
  salt: "QSXCR+Q6sek8bf92",
  clientFirst: "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
  serverFirst: "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
  clientFinal: "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
  serverFinal: "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
};

const RFC_7677: RfcExample = {
  mechanism: "SCRAM-SHA-256",
  clientNonce: "rOprNGfwEbeRWgbNEkqO",
  serverNonce: "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
  salt: "W22ZaJ0SNY7soEsUEjb6gQ==",
  clientFirst: "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
  serverFirst:
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
  clientFinal: "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0," +
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
  serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
};

function rfcAccount(example: RfcExample): StoredAccount {
  const credentials = deriveScramCredentials(
    example.mechanism,
    "pencil",
    decodeBase64(example.salt)!,
    4096,
  );
  return { username: "user", scram: { [example.mechanism]: credentials } };
}

function context(
  accounts: readonly StoredAccount[],
  overrides: Partial<SaslServerContext> = {},
): SaslServerContext {
  return {
    lookup: (name) => accounts.find((a) => a.username === name),
    nonce: "3rfcNHYJY1ZVvWVs7j",
    plainAllowed: true,
    anonymousAllowed: false,
    ...overrides,
  };
}

for (const example of [RFC_5802, RFC_7677]) {
  Deno.test(`${example.mechanism}: the RFC example, client side, byte for byte`, () => {
    const start = scramClientStart(example.mechanism, "user", "pencil", example.clientNonce);
    assertEquals(unb64(start.data), example.clientFirst);
    const response = responseOf(scramClientContinue(start.state, b64(example.serverFirst)));
    assertEquals(unb64(response.data), example.clientFinal);
    assertEquals(scramClientFinish(response.state, b64(example.serverFinal)), { type: "verified" });
  });

  Deno.test(`${example.mechanism}: the RFC example, server side, byte for byte`, () => {
    const ctx = context([rfcAccount(example)], { nonce: example.serverNonce });
    const first = challengeOf(startSaslServer(example.mechanism, b64(example.clientFirst), ctx));
    assertEquals(unb64(first.data), example.serverFirst);
    const final = continueSaslServer(first.state, b64(example.clientFinal), ctx);
    assertEquals(final, { type: "success", data: b64(example.serverFinal), username: "user" });
  });
}

// --- SCRAM: round trips -------------------------------------------------------------------

const SALT = Uint8Array.from({ length: 16 }, (_, i) => i * 7);
const JULIET = createStoredAccount("juliet", "r0m30", SALT);
const ODD = createStoredAccount("a,b=c", "pässwörd ünïcode", SALT);

function scramExchange(
  mechanism: ScramMechanism,
  username: string,
  password: string,
  ctx: SaslServerContext,
): { server: SaslServerResult; client: ReturnType<typeof scramClientFinish> | undefined } {
  const start = scramClientStart(mechanism, username, password, "client-nonce-0123");
  const challenge = startSaslServer(mechanism, start.data, ctx);
  if (challenge.type !== "challenge") return { server: challenge, client: undefined };
  const response = scramClientContinue(start.state, challenge.data);
  if (response.type !== "response") throw new Error(JSON.stringify(response));
  const server = continueSaslServer(challenge.state, response.data, ctx);
  const client = server.type === "success"
    ? scramClientFinish(response.state, server.data)
    : undefined;
  return { server, client };
}

for (const mechanism of ["SCRAM-SHA-1", "SCRAM-SHA-256"] as const) {
  Deno.test(`${mechanism}: round trip, including escaped and non-ASCII names`, () => {
    const ctx = context([JULIET, ODD]);
    const plain = scramExchange(mechanism, "juliet", "r0m30", ctx);
    assertEquals(plain.server.type === "success" && plain.server.username, "juliet");
    assertEquals(plain.client, { type: "verified" });
    const odd = scramExchange(mechanism, "a,b=c", "pa\u0308sswo\u0308rd\u00A0ünïcode", ctx);
    assertEquals(odd.server.type === "success" && odd.server.username, "a,b=c");
    assertEquals(odd.client, { type: "verified" });
  });

  Deno.test(`${mechanism}: wrong password and unknown user fail alike, at the last step`, () => {
    const ctx = context([JULIET], { secret: "server secret" });
    const wrong = scramExchange(mechanism, "juliet", "wrong", ctx);
    const unknown = scramExchange(mechanism, "romeo", "r0m30", ctx);
    assertEquals(wrong.server, { type: "failure", condition: "not-authorized" });
    assertEquals(unknown.server, wrong.server);
    // The fake challenge is stable per username, so repeating it reveals nothing.
    const first = (name: string) =>
      startSaslServer(mechanism, scramClientStart(mechanism, name, "x", "n0nce").data, ctx);
    assertEquals(first("romeo"), first("romeo"));
  });

  Deno.test(`${mechanism}: a tampered proof is not-authorized`, () => {
    const ctx = context([JULIET]);
    const start = scramClientStart(mechanism, "juliet", "r0m30", "client-nonce-0123");
    const challenge = challengeOf(startSaslServer(mechanism, start.data, ctx));
    const response = responseOf(scramClientContinue(start.state, challenge.data));
    const text = unb64(response.data);
    const proof = decodeBase64(text.slice(text.indexOf(",p=") + 3))!;
    proof[0]! ^= 1;
    const tampered = `${text.slice(0, text.indexOf(",p=") + 3)}${encodeBase64(proof)}`;
    assertEquals(continueSaslServer(challenge.state, b64(tampered), ctx), {
      type: "failure",
      condition: "not-authorized",
    });
  });

  Deno.test(`${mechanism}: a wrong server signature is a client failure`, () => {
    const start = scramClientStart(mechanism, "juliet", "r0m30", "client-nonce-0123");
    const ctx = context([JULIET]);
    const challenge = challengeOf(startSaslServer(mechanism, start.data, ctx));
    const response = responseOf(scramClientContinue(start.state, challenge.data));
    const bogus = encodeBase64(new Uint8Array(mechanism === "SCRAM-SHA-1" ? 20 : 32));
    assertEquals(scramClientFinish(response.state, b64(`v=${bogus}`)).type, "failure");
    const outcomes = [
      scramClientFinish(response.state, b64(`v=${bogus}`)),
      scramClientFinish(response.state, b64("e=invalid-proof")),
      scramClientFinish(response.state, b64("v=!!")),
      scramClientFinish(response.state, "not base64"),
      scramClientFinish(response.state, ""),
      scramClientFinish(response.state, b64("x=1")),
    ].map((r) => r.type === "failure" ? r.reason : r.type);
    assertEquals(outcomes, [
      "server-signature-mismatch",
      "server-error",
      "incorrect-encoding",
      "incorrect-encoding",
      "malformed-challenge",
      "malformed-challenge",
    ]);
  });

  Deno.test(`${mechanism}: a server without credentials for this hash fails like a wrong password`, () => {
    const only1: StoredAccount = {
      username: "juliet",
      scram: mechanism === "SCRAM-SHA-1"
        ? { "SCRAM-SHA-256": JULIET.scram["SCRAM-SHA-256"]! }
        : { "SCRAM-SHA-1": JULIET.scram["SCRAM-SHA-1"]! },
    };
    const result = scramExchange(mechanism, "juliet", "r0m30", context([only1]));
    assertEquals(result.server, { type: "failure", condition: "not-authorized" });
  });
}

/** A client-final computed by hand from RFC 5802 §3, for gs2 headers our client never sends. */
function manualClientFinal(
  gs2Header: string,
  clientFirstBare: string,
  serverFirst: string,
): string {
  const salted = pbkdf2("SHA-1", bytes("pencil"), decodeBase64(RFC_5802.salt)!, 4096, 20);
  const clientKey = hmac("SHA-1", salted, bytes("Client Key"));
  const nonce = serverFirst.slice(2, serverFirst.indexOf(","));
  const withoutProof = `c=${b64(gs2Header)},r=${nonce}`;
  const authMessage = bytes(`${clientFirstBare},${serverFirst},${withoutProof}`);
  const signature = hmac("SHA-1", digest("SHA-1", clientKey), authMessage);
  const proof = clientKey.map((b, i) => b ^ signature[i]!);
  return `${withoutProof},p=${encodeBase64(proof)}`;
}

Deno.test("SCRAM server: gs2 `y,,` and an authzid naming the user are accepted", () => {
  const ctx = context([rfcAccount(RFC_5802)], {
    nonce: RFC_5802.serverNonce,
    domain: "example.com",
  });
  const bare = RFC_5802.clientFirst.slice(3);
  assertEquals(manualClientFinal("n,,", bare, RFC_5802.serverFirst), RFC_5802.clientFinal);
  for (const header of ["y,,", "n,a=user,", "y,a=user@example.com,"]) {
    const first = challengeOf(startSaslServer("SCRAM-SHA-1", b64(header + bare), ctx));
    assertEquals(unb64(first.data), RFC_5802.serverFirst);
    // c= must carry this gs2 header: the RFC's c=biws is refused, the right one succeeds.
    assertEquals(continueSaslServer(first.state, b64(RFC_5802.clientFinal), ctx), {
      type: "failure",
      condition: "not-authorized",
      text: "channel binding does not match the gs2 header",
    });
    const final = manualClientFinal(header, bare, RFC_5802.serverFirst);
    const success = continueSaslServer(first.state, b64(final), ctx);
    assertEquals(success.type === "success" && success.username, "user", header);
  }
});

Deno.test("SCRAM client: refuses weak, hostile or malformed server-first messages", () => {
  const start = scramClientStart("SCRAM-SHA-1", "user", "pencil", RFC_5802.clientNonce);
  const nonce = `${RFC_5802.clientNonce}3rfcNHYJY1ZVvWVs7j`;
  const cases: [string, string][] = [
    [b64(`r=${nonce},s=QSXCR+Q6sek8bf92,i=4095`), "iterations-out-of-range"],
    [b64(`r=${nonce},s=QSXCR+Q6sek8bf92,i=1000001`), "iterations-out-of-range"],
    [b64(`r=${nonce},s=QSXCR+Q6sek8bf92,i=0`), "malformed-challenge"],
    [b64(`r=${nonce},s=QSXCR+Q6sek8bf92,i=4096x`), "malformed-challenge"],
    [b64(`r=someone-elses-nonce,s=QSXCR+Q6sek8bf92,i=4096`), "nonce-mismatch"],
    [b64(`r=${RFC_5802.clientNonce},s=QSXCR+Q6sek8bf92,i=4096`), "nonce-mismatch"],
    [b64(`r=${nonce},s=QSXCR+Q6sek8bf9,i=4096`), "incorrect-encoding"],
    [b64(`r=${nonce},s=,i=4096`), "malformed-challenge"],
    [b64(`r=${nonce},i=4096`), "malformed-challenge"],
    [b64(`m=ext,r=${nonce},s=QSXCR+Q6sek8bf92,i=4096`), "malformed-challenge"],
    [b64(`s=QSXCR+Q6sek8bf92,r=${nonce},i=4096`), "malformed-challenge"],
    [b64(""), "malformed-challenge"],
    ["%%%%", "incorrect-encoding"],
    [encodeBase64(Uint8Array.of(0xff, 0xfe)), "incorrect-encoding"],
  ];
  for (const [challenge, reason] of cases) {
    const result = scramClientContinue(start.state, challenge);
    assertEquals(result.type === "failure" && result.reason, reason, unb64(challenge));
  }
  // Extensions after i= are ignored; limits can be changed.
  const lenient = scramClientContinue(
    start.state,
    b64(`r=${nonce},s=QSXCR+Q6sek8bf92,i=1024,x=ext`),
    { minIterations: 1024 },
  );
  assertEquals(lenient.type, "response");
});

// --- SCRAM server: peer misbehaviour ----------------------------------------------------------

Deno.test("SCRAM server: malformed client-first messages get the right failure", () => {
  const ctx = context([rfcAccount(RFC_5802)], { nonce: RFC_5802.serverNonce });
  const r = `r=${RFC_5802.clientNonce}`;
  const cases: [string, string][] = [
    [b64(`p=tls-unique,,n=user,${r}`), "malformed-request"],
    [b64(`q,,n=user,${r}`), "malformed-request"],
    [b64(`n,n=user,${r}`), "malformed-request"],
    [b64(`n`), "malformed-request"],
    [b64(`n,x=user,n=user,${r}`), "malformed-request"],
    [b64(`n,a=admin,n=user,${r}`), "invalid-authzid"],
    [b64(`n,a=user@example.com,n=user,${r}`), "invalid-authzid"],
    [b64(`n,,n=user`), "malformed-request"],
    [b64(`n,,${r},n=user`), "malformed-request"],
    [b64(`n,,n=,${r}`), "malformed-request"],
    [b64(`n,,n=us=er,${r}`), "malformed-request"],
    [b64(`n,,n=user,r=`), "malformed-request"],
    [b64(`n,,n=user,r=a\u00e9`), "malformed-request"],
    [b64(`n,,m=ext,n=user,${r}`), "malformed-request"],
    [b64(`n,,n=user,,${r}`), "malformed-request"],
    ["bixu!!", "incorrect-encoding"],
    ["biws\n", "incorrect-encoding"],
    [encodeBase64(Uint8Array.of(0x6e, 0x2c, 0x2c, 0xc3)), "malformed-request"],
    ["=", "malformed-request"],
  ];
  for (const [payload, condition] of cases) {
    const result = startSaslServer("SCRAM-SHA-1", payload, ctx);
    assertEquals(result.type === "failure" && result.condition, condition, unb64(payload));
  }
});

Deno.test("SCRAM server: malformed client-final messages get the right failure", () => {
  const ctx = context([rfcAccount(RFC_5802)], { nonce: RFC_5802.serverNonce });
  const first = challengeOf(startSaslServer("SCRAM-SHA-1", b64(RFC_5802.clientFirst), ctx));
  const nonce = `${RFC_5802.clientNonce}${RFC_5802.serverNonce}`;
  const proof = "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=";
  const cases: [string, string][] = [
    [b64(`c=biws,r=${nonce}`), "malformed-request"],
    [b64(`c=biws,r=${nonce},${proof},x=1`), "malformed-request"],
    [b64(`r=${nonce},c=biws,${proof}`), "malformed-request"],
    [b64(`c=biws,${proof}`), "malformed-request"],
    [b64(proof), "malformed-request"],
    [b64(`c=bi!s,r=${nonce},${proof}`), "incorrect-encoding"],
    [b64(`c=biws,r=${nonce},p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts`), "incorrect-encoding"],
    [b64(`c=eSws,r=${nonce},${proof}`), "not-authorized"],
    [b64(`c=cD10bHMtdW5pcXVlLCw=,r=${nonce},${proof}`), "not-authorized"],
    [b64(`c=biws,r=${RFC_5802.clientNonce}wrong,${proof}`), "not-authorized"],
    [b64(`c=biws,r=${nonce},p=AAAA`), "not-authorized"],
    [b64(`c=biws,r=${nonce},p=`), "not-authorized"],
    ["!!!!", "incorrect-encoding"],
    ["", "malformed-request"],
  ];
  for (const [payload, condition] of cases) {
    const result = continueSaslServer(first.state, payload, ctx);
    assertEquals(result.type === "failure" && result.condition, condition, unb64(payload));
  }
  // An unknown extension between r= and p= is allowed (and covered by the proof).
  assertEquals(continueSaslServer(first.state, b64(RFC_5802.clientFinal), ctx).type, "success");
});

Deno.test("SCRAM server: mutated messages never throw (seeded fuzz)", () => {
  const ctx = context([rfcAccount(RFC_5802)], { nonce: RFC_5802.serverNonce });
  const first = challengeOf(startSaslServer("SCRAM-SHA-1", b64(RFC_5802.clientFirst), ctx));
  const random = prng(2024);
  const alphabet = "nyp=,ar0aA\0=2C=3Dé+/";
  const mutate = (text: string): string => {
    const chars = [...text];
    const [op, at, pick] = random(3) as unknown as [number, number, number];
    const i = at % (chars.length + 1);
    const c = alphabet[pick % alphabet.length]!;
    if (op % 3 === 0) chars.splice(i, 1);
    else if (op % 3 === 1) chars.splice(i, 0, c);
    else chars[i] = c;
    return chars.join("");
  };
  for (let round = 0; round < 3000; round++) {
    let cf = RFC_5802.clientFirst, fin = RFC_5802.clientFinal;
    for (let k = 0; k <= round % 4; k++) {
      cf = mutate(cf);
      fin = mutate(fin);
    }
    const seed = `round ${round}: ${JSON.stringify([cf, fin])}`;
    try {
      const a = startSaslServer("SCRAM-SHA-1", b64(cf), ctx);
      assert(["challenge", "failure"].includes(a.type), seed);
      const b = continueSaslServer(first.state, b64(fin), ctx);
      if (b.type === "success") assertEquals(fin, RFC_5802.clientFinal, seed);
      const c = continueSaslServer(first.state, encodeBase64(random(round % 40)), ctx);
      assert(c.type === "failure", seed);
    } catch (error) {
      throw new Error(`threw on peer input, ${seed}: ${error}`);
    }
  }
});

Deno.test("SCRAM: misuse throws SaslUsageError", () => {
  const short = context([JULIET], { nonce: "too-short" });
  const clientFirst = scramClientStart("SCRAM-SHA-256", "juliet", "r0m30", "abc").data;
  assertThrows(() => startSaslServer("SCRAM-SHA-256", clientFirst, short), SaslUsageError);
  assertThrows(
    () =>
      startSaslServer(
        "SCRAM-SHA-256",
        clientFirst,
        context([JULIET], { nonce: "comma,in-the-nonce-xx" }),
      ),
    SaslUsageError,
  );
  assertThrows(() => scramClientStart("SCRAM-SHA-1", "", "pw", "abc"), SaslUsageError);
  assertThrows(() => scramClientStart("SCRAM-SHA-1", "u", "p\u0007", "abc"), SaslUsageError);
  assertThrows(() => scramClientStart("SCRAM-SHA-1", "u", "p", "a,b"), SaslUsageError);
  assertThrows(
    () => deriveScramCredentials("SCRAM-SHA-1", "p", new Uint8Array(), 4096),
    SaslUsageError,
  );
  const bogus: SaslServerState = { mechanism: "PLAIN", data: { step: "done" } };
  assertThrows(() => continueSaslServer(bogus, "", context([])), SaslUsageError);
});

// --- PLAIN, ANONYMOUS, mechanism selection --------------------------------------------------

Deno.test("PLAIN: success, wrong password, unknown user, authzid", () => {
  const ctx = context([JULIET, ODD], { domain: "example.com" });
  const ok = startSaslServer("PLAIN", plainClientMessage("juliet", "r0m30"), ctx);
  assertEquals(ok, { type: "success", data: "", username: "juliet" });
  assertEquals(
    startSaslServer("PLAIN", plainClientMessage("a,b=c", "pässwörd ünïcode"), ctx).type,
    "success",
  );
  const notAuthorized = { type: "failure", condition: "not-authorized" };
  assertEquals(startSaslServer("PLAIN", plainClientMessage("juliet", "wrong"), ctx), notAuthorized);
  assertEquals(startSaslServer("PLAIN", plainClientMessage("romeo", "r0m30"), ctx), notAuthorized);
  assertEquals(startSaslServer("PLAIN", b64("\0juliet\0bad\u0007pw"), ctx), notAuthorized);
  assertEquals(
    startSaslServer("PLAIN", plainClientMessage("juliet", "r0m30", "juliet@example.com"), ctx).type,
    "success",
  );
  assertEquals(
    startSaslServer("PLAIN", plainClientMessage("juliet", "r0m30", "romeo"), ctx),
    { type: "failure", condition: "invalid-authzid" },
  );
  // Only SCRAM-SHA-1 credentials stored: PLAIN verifies against those.
  const sha1Only: StoredAccount = {
    username: "juliet",
    scram: { "SCRAM-SHA-1": JULIET.scram["SCRAM-SHA-1"]! },
  };
  assertEquals(
    startSaslServer("PLAIN", plainClientMessage("juliet", "r0m30"), context([sha1Only])).type,
    "success",
  );
});

Deno.test("PLAIN: not allowed, no initial response, malformed payloads", () => {
  const ctx = context([JULIET]);
  assertEquals(
    startSaslServer(
      "PLAIN",
      plainClientMessage("juliet", "r0m30"),
      context([JULIET], { plainAllowed: false }),
    ),
    { type: "failure", condition: "encryption-required" },
  );
  const empty = challengeOf(startSaslServer("PLAIN", "", ctx));
  assertEquals(empty.data, "");
  assertEquals(
    continueSaslServer(empty.state, plainClientMessage("juliet", "r0m30"), ctx).type,
    "success",
  );
  const malformed = (payload: string) => {
    const result = startSaslServer("PLAIN", payload, ctx);
    return result.type === "failure" ? result.condition : result.type;
  };
  assertEquals(malformed("="), "malformed-request");
  assertEquals(malformed(b64("juliet\0r0m30")), "malformed-request");
  assertEquals(malformed(b64("\0juliet\0r0m30\0")), "malformed-request");
  assertEquals(malformed(b64("\0\0r0m30")), "malformed-request");
  assertEquals(malformed(b64("\0juliet\0")), "malformed-request");
  assertEquals(malformed("AGp1bGlldABy=0m30"), "incorrect-encoding");
  assertEquals(malformed(encodeBase64(Uint8Array.of(0, 0x6a, 0, 0xff))), "malformed-request");
});

Deno.test("ANONYMOUS: allowed or not, with and without a trace", () => {
  const on = context([], { anonymousAllowed: true });
  const success = { type: "success", data: "", username: undefined };
  assertEquals(startSaslServer("ANONYMOUS", "", on), success);
  assertEquals(startSaslServer("ANONYMOUS", anonymousClientMessage(), on), success);
  assertEquals(startSaslServer("ANONYMOUS", anonymousClientMessage("sirhc"), on), success);
  assertEquals(startSaslServer("ANONYMOUS", b64("x".repeat(256)), on).type, "failure");
  assertEquals(startSaslServer("ANONYMOUS", "", context([])), {
    type: "failure",
    condition: "invalid-mechanism",
  });
});

Deno.test("mechanism selection: unknown and -PLUS are invalid-mechanism; the advertised list", () => {
  const ctx = context([JULIET]);
  for (const name of ["SCRAM-SHA-1-PLUS", "SCRAM-SHA-256-PLUS", "DIGEST-MD5", "plain", ""]) {
    assertEquals(startSaslServer(name, "", ctx), {
      type: "failure",
      condition: "invalid-mechanism",
    });
  }
  assertEquals(listSaslMechanisms(ctx), ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"]);
  assertEquals(listSaslMechanisms({ plainAllowed: false, anonymousAllowed: true }), [
    "SCRAM-SHA-256",
    "SCRAM-SHA-1",
    "ANONYMOUS",
  ]);
  // SCRAM without an initial response: empty challenge, then client-first as the response.
  const start = scramClientStart("SCRAM-SHA-256", "juliet", "r0m30", "abc");
  const empty = challengeOf(startSaslServer("SCRAM-SHA-256", "", ctx));
  assertEquals(continueSaslServer(empty.state, start.data, ctx).type, "challenge");
});
