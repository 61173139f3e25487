/**
 * The sans-I/O RFC 6455 server (core/websocket/): the request head reader, the handshake
 * checks, the frame encoder and the codec, byte by byte. Every refusal names its section and
 * the close code it must produce (issue 8, finding 3; digest rules #7 and #29).
 */

import { assert, assertEquals, assertThrows } from "@std/assert";
import {
  checkHandshake,
  closePayload,
  encodeFrame,
  fieldValue,
  type HeadRead,
  readClosePayload,
  RequestHeadReader,
  switchingProtocolsHead,
  WebSocketCodec,
  type WebSocketOutput,
} from "../../core/mod.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);

interface FrameOptions {
  fin?: boolean;
  rsv?: number;
  masked?: boolean;
  /** Force the 16-bit or 64-bit length encoding. */
  lengthBytes?: 0 | 2 | 8;
  /** A length to announce instead of the payload's. */
  announce?: number;
}

/** A client frame (masked with a fixed key unless `masked: false`). */
function frame(opcode: number, payload: Uint8Array | string, o: FrameOptions = {}): Uint8Array {
  const bytes = typeof payload === "string" ? utf8(payload) : payload;
  const length = o.announce ?? bytes.length;
  const lengthBytes = o.lengthBytes ?? (length < 126 ? 0 : length < 65_536 ? 2 : 8);
  const masked = o.masked ?? true;
  const head = [((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | opcode];
  const maskBit = masked ? 0x80 : 0;
  if (lengthBytes === 0) head.push(maskBit | length);
  else if (lengthBytes === 2) head.push(maskBit | 126, length >> 8, length & 0xff);
  else {
    head.push(maskBit | 127);
    const big = BigInt(length);
    for (let shift = 56n; shift >= 0n; shift -= 8n) head.push(Number((big >> shift) & 0xffn));
  }
  const key = [0x37, 0xfa, 0x21, 0x3d];
  if (masked) head.push(...key);
  const body = masked ? bytes.map((b, i) => b ^ key[i % 4]!) : bytes;
  return new Uint8Array([...head, ...body]);
}

/** A server frame, read back. */
function serverFrame(bytes: Uint8Array): { fin: boolean; opcode: number; payload: Uint8Array } {
  assertEquals(bytes[1]! & 0x80, 0, "server frames are never masked");
  let length = bytes[1]! & 0x7f;
  let at = 2;
  if (length === 126) [length, at] = [(bytes[2]! << 8) | bytes[3]!, 4];
  else if (length === 127) {
    [length, at] = [Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(2)), 10];
  }
  assertEquals(bytes.length, at + length);
  return { fin: (bytes[0]! & 0x80) !== 0, opcode: bytes[0]! & 0x0f, payload: bytes.slice(at) };
}

/** The close code of a `send-bytes` holding a Close frame. */
function sentClose(outputs: readonly WebSocketOutput[]): number | undefined {
  for (const o of outputs) {
    if (o.type !== "send-bytes") continue;
    const f = serverFrame(o.bytes);
    if (f.opcode === 0x8) {
      return f.payload.length >= 2 ? (f.payload[0]! << 8) | f.payload[1]! : 1005;
    }
  }
  return undefined;
}

const types = (outputs: readonly WebSocketOutput[]) => outputs.map((o) => o.type);

/** Asserts that the connection failed with `code`: the Close frame first, then the notices. */
function assertFailed(outputs: readonly WebSocketOutput[], code: number): void {
  assertEquals(types(outputs).slice(-4), ["send-bytes", "failed", "close-transport", "closed"]);
  assertEquals(sentClose(outputs), code);
  const failed = outputs.find((o) => o.type === "failed");
  assertEquals(failed?.type === "failed" && failed.code, code);
}

function feedByteByByte(codec: WebSocketCodec, bytes: Uint8Array): WebSocketOutput[] {
  const out: WebSocketOutput[] = [];
  for (let i = 0; i < bytes.length; i++) out.push(...codec.receive(bytes.subarray(i, i + 1)));
  return out;
}

const codec = (maxMessageBytes = 1024) => new WebSocketCodec({ maxMessageBytes });

// ---- the request head ----------------------------------------------------------------------

Deno.test("http head: read across many small pushes; bytes after the head are kept", () => {
  const reader = new RequestHeadReader();
  const head = utf8("\r\nGET /x?y=1 HTTP/1.1\r\nHost: h\r\nX-A:  1 \r\nx-a: 2\r\n\r\n");
  const bytes = new Uint8Array([...head, 0x81, 0x80]);
  let read: HeadRead = { kind: "incomplete" };
  for (let i = 0; i < bytes.length && read.kind === "incomplete"; i += 3) {
    read = reader.push(bytes.subarray(i, i + 3));
  }
  if (read.kind !== "head") throw new Error(`expected a head, got ${read.kind}`);
  assertEquals([read.head.method, read.head.target, read.head.version], ["GET", "/x?y=1", "1.1"]);
  assertEquals(fieldValue(read.head, "X-A"), "1, 2");
  assertEquals([...read.rest], [0x81, 0x80]);
});

Deno.test("http head: 431 once the head passes maxHeadBytes, without waiting for its end", () => {
  const reader = new RequestHeadReader({ maxHeadBytes: 64, maxHeaderCount: 10 });
  assertEquals(reader.push(utf8("GET / HTTP/1.1\r\nX: " + "a".repeat(40))).kind, "incomplete");
  const read = reader.push(utf8("a".repeat(20)));
  assertEquals(read.kind === "error" && read.status, 431);
});

Deno.test("http head: 431 for too many fields, 400 for malformed lines, 505 for HTTP/2", () => {
  const status = (head: string, maxHeaderCount = 100) => {
    const read = new RequestHeadReader({ maxHeadBytes: 16_384, maxHeaderCount }).push(utf8(head));
    return read.kind === "error" ? read.status : read.kind;
  };
  assertEquals(status("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 2), 431);
  assertEquals(status("GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n"), 400); // obs-fold
  assertEquals(status("GET / HTTP/1.1\r\nHost : h\r\n\r\n"), 400); // space before the colon
  assertEquals(status("GET / HTTP/1.1\r\nHost: a\x00b\r\n\r\n"), 400); // control character
  assertEquals(status("GET / HTTP/1.1\r\nHost: a\nb: c\r\n\r\n"), 400); // bare LF
  assertEquals(status("GET  / HTTP/1.1\r\n\r\n"), 400);
  assertEquals(status("GET / HTTP/1.1 x\r\n\r\n"), 400);
  assertEquals(status("G(T / HTTP/1.1\r\n\r\n"), 400);
  assertEquals(status("GET /\x7f HTTP/1.1\r\n\r\n"), 400);
  assertEquals(status("GET / HTTX/1.1\r\n\r\n"), 400);
  assertEquals(status("GET / HTTP/2.0\r\n\r\n"), 505);
  assertEquals(status("GET / HTTP/1.0\r\n\r\n"), "head");
});

// ---- the handshake (RFC 6455 §4.2.1-§4.2.2) ------------------------------------------------

const GOOD = {
  host: "127.0.0.1",
  upgrade: "websocket",
  connection: "keep-alive, Upgrade",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
  "sec-websocket-version": "13",
};

function check(change: Record<string, string | null>, method = "GET", version = "1.1") {
  const headers = new Headers();
  for (const [name, value] of Object.entries({ ...GOOD, ...change })) {
    if (value !== null) headers.set(name, value);
  }
  const result = checkHandshake({ method, version, headers });
  return result.ok ? 101 : result.status;
}

Deno.test("handshake §4.2.1: refused unless GET, HTTP/1.1, Host, Upgrade, Connection and a 16-byte key", () => {
  assertEquals(check({}), 101);
  assertEquals(check({}, "POST"), 405);
  assertEquals(check({}, "GET", "1.0"), 400);
  assertEquals(check({ host: null }), 400);
  assertEquals(check({ upgrade: null }), 400);
  assertEquals(check({ upgrade: "h2c" }), 400);
  assertEquals(check({ connection: "keep-alive" }), 400);
  assertEquals(check({ "sec-websocket-key": null }), 400);
  assertEquals(check({ "sec-websocket-key": "not base64!" }), 400);
  assertEquals(check({ "sec-websocket-key": "AAAAAAAAAAAAAAAAAAAA" }), 400); // 15 bytes
  assertEquals(check({ "sec-websocket-key": "AAAAAAAAAAAAAAAAAAAAAAAA" }), 400); // 18 bytes
  assertEquals(
    check({ "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==, dGhlIHNhbXBsZSBub25jZQ==" }),
    400,
  );
});

Deno.test("handshake §4.2.2: another version (or none) gets 426 with Sec-WebSocket-Version: 13", () => {
  for (const version of ["8", "14", "13, 8", null]) {
    const headers = new Headers({ ...GOOD });
    if (version === null) headers.delete("sec-websocket-version");
    else headers.set("sec-websocket-version", version);
    const result = checkHandshake({ method: "GET", version: "1.1", headers });
    if (result.ok) throw new Error("expected a refusal");
    assertEquals([result.status, result.headers], [426, { "sec-websocket-version": "13" }]);
  }
});

Deno.test("handshake §4.2.2: the 101 answer carries the accept value of RFC 6455's example", () => {
  const head = switchingProtocolsHead("dGhlIHNhbXBsZSBub25jZQ==", "xmpp");
  assert(head.includes("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
  assert(head.includes("\r\nSec-WebSocket-Protocol: xmpp\r\n"));
  assert(head.endsWith("\r\n\r\n"));
});

// ---- frames in ------------------------------------------------------------------------------

Deno.test("codec: a masked text frame is a message; binary stays bytes", () => {
  const c = codec();
  assertEquals(c.receive(frame(0x1, "<open/>")), [{ type: "text-received", text: "<open/>" }]);
  const out = c.receive(frame(0x2, new Uint8Array([0, 1, 2])));
  assertEquals(out, [{ type: "binary-received", data: new Uint8Array([0, 1, 2]) }]);
  assertEquals(c.receive(frame(0x1, "")), [{ type: "text-received", text: "" }]);
});

Deno.test("codec: a message fragmented over three frames, a Ping in between answered at once", () => {
  const c = codec();
  assertEquals(c.receive(frame(0x1, "<mes", { fin: false })), []);
  const ping = c.receive(frame(0x9, "p"));
  assertEquals(types(ping), ["send-bytes", "ping-received"]);
  const pong = serverFrame((ping[0] as { bytes: Uint8Array }).bytes);
  assertEquals([pong.opcode, new TextDecoder().decode(pong.payload)], [0xa, "p"]);
  assertEquals(c.receive(frame(0x0, "sage/", { fin: false })), []);
  assertEquals(c.receive(frame(0x0, ">")), [{ type: "text-received", text: "<message/>" }]);
});

Deno.test("codec: UTF-8 split across fragments and across reads is valid", () => {
  const bytes = utf8("é€😀");
  const c = codec();
  assertEquals(c.receive(frame(0x1, bytes.subarray(0, 1), { fin: false })), []);
  assertEquals(c.receive(frame(0x0, bytes.subarray(1, 4), { fin: false })), []);
  assertEquals(c.receive(frame(0x0, bytes.subarray(4))), [{ type: "text-received", text: "é€😀" }]);
  const bytewise = feedByteByByte(codec(), frame(0x1, bytes));
  assertEquals(bytewise, [{ type: "text-received", text: "é€😀" }]);
});

Deno.test("codec: a frame whose payload arrives in pieces of 4 bytes is reassembled whole", () => {
  const whole = frame(0x1, "<message>12345678</message>");
  const c = codec();
  assertEquals(c.receive(whole.subarray(0, 6 + 4)), []); // header and 4 payload bytes
  assertEquals(c.receive(whole.subarray(10, 14)), []);
  assertEquals(c.receive(whole.subarray(14)), [
    { type: "text-received", text: "<message>12345678</message>" },
  ]);
});

Deno.test("codec §8.1: invalid UTF-8 fails with 1007 as soon as the bad byte arrives", () => {
  const whole = frame(0x1, new Uint8Array([0x3c, 0xc3, 0x28, 0x41, 0x41, 0x41]));
  const c = codec();
  assertEquals(c.receive(whole.subarray(0, 6 + 1)), []);
  assertFailed(c.receive(whole.subarray(7, 9)), 1007); // the frame is not complete yet
  assertEquals(c.receive(whole.subarray(9)), []); // nothing after the failure
  assertEquals(c.state, "closed");
  // Across fragments: a sequence left open at the end of the message.
  const split = codec();
  assertEquals(split.receive(frame(0x1, new Uint8Array([0xe2, 0x82]), { fin: false })), []);
  assertFailed(split.receive(frame(0x0, new Uint8Array([]))), 1007);
  // Surrogates and overlong forms are not UTF-8.
  assertFailed(codec().receive(frame(0x1, new Uint8Array([0xed, 0xa0, 0x80]))), 1007);
  assertFailed(codec().receive(frame(0x1, new Uint8Array([0xc0, 0xaf]))), 1007);
});

Deno.test("codec §5.1: an unmasked client frame fails with 1002", () => {
  assertFailed(codec().receive(frame(0x1, "<open/>", { masked: false })), 1002);
});

Deno.test("codec §5.2: reserved bits, reserved opcodes and non-minimal lengths fail with 1002", () => {
  for (const rsv of [1, 2, 4]) assertFailed(codec().receive(frame(0x1, "x", { rsv })), 1002);
  for (const opcode of [0x3, 0x7, 0xb, 0xf]) assertFailed(codec().receive(frame(opcode, "")), 1002);
  assertFailed(codec().receive(frame(0x1, "abc", { lengthBytes: 2 })), 1002);
  assertFailed(codec().receive(frame(0x1, "abc", { lengthBytes: 8 })), 1002);
  const topBit = frame(0x2, "", { lengthBytes: 8, announce: 2 ** 63 });
  assertFailed(codec().receive(topBit), 1002);
});

Deno.test("codec §5.4-§5.5: fragmented or long control frames, stray continuations, interleaved messages: 1002", () => {
  assertFailed(codec().receive(frame(0x9, "x", { fin: false })), 1002);
  assertFailed(codec().receive(frame(0x9, new Uint8Array(126))), 1002);
  assertFailed(codec().receive(frame(0x8, new Uint8Array(126))), 1002);
  assertFailed(codec().receive(frame(0x0, "x")), 1002);
  const c = codec();
  assertEquals(c.receive(frame(0x1, "a", { fin: false })), []);
  assertFailed(c.receive(frame(0x1, "b")), 1002);
});

Deno.test("codec: a message's size is counted from frame headers, before any payload is buffered", () => {
  const c = codec(1024);
  // 60 MiB announced: reported on the header alone, with no payload byte read.
  const header = frame(0x1, new Uint8Array(0), { announce: 60 * 1024 * 1024 });
  assertEquals(c.receive(header), [
    { type: "message-too-big", binary: false, announced: 60 * 1024 * 1024 },
  ]);
  // Its payload is skipped (never buffered, never validated), and the next message gets through.
  for (let i = 0; i < 60; i++) assertEquals(c.receive(new Uint8Array(1024 * 1024).fill(0xff)), []);
  assertEquals(c.receive(frame(0x1, "<ok/>")), [{ type: "text-received", text: "<ok/>" }]);
  // Fragments: the second header takes the sum over the limit.
  const f = codec(10);
  assertEquals(f.receive(frame(0x1, "12345678", { fin: false })), []);
  assertEquals(f.receive(frame(0x0, "123", { fin: false })), [
    { type: "message-too-big", binary: false, announced: 11 },
  ]);
  assertEquals(f.receive(frame(0x0, "4")), []);
  assertEquals(f.receive(frame(0x2, "1234567890")), [{
    type: "binary-received",
    data: utf8("1234567890"),
  }]);
});

// ---- the closing handshake (§5.5.1, §7) -----------------------------------------------------

Deno.test("codec §5.5.1: the peer's Close is echoed with its code, then the server closes TCP", () => {
  const c = codec();
  const out = c.receive(frame(0x8, new Uint8Array([0x03, 0xe8, ...utf8("bye")])));
  assertEquals(types(out), ["send-bytes", "close-transport", "closed"]);
  assertEquals(sentClose(out), 1000);
  assertEquals(out.slice(1), [
    { type: "close-transport", graceful: true },
    { type: "closed", code: 1000, reason: "bye", clean: true },
  ]);
  assertEquals(c.receive(frame(0x1, "late")), []);
  assertEquals(c.sendText("late"), []);
  // An empty Close: an empty echo, code 1005.
  const empty = codec().receive(frame(0x8, new Uint8Array()));
  assertEquals(sentClose(empty), 1005);
  assertEquals(empty.at(-1), { type: "closed", code: 1005, reason: "", clean: true });
});

Deno.test("codec §7.4: invalid Close payloads fail with 1002 (code) or 1007 (reason)", () => {
  assertFailed(codec().receive(frame(0x8, new Uint8Array([0x03]))), 1002);
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000]) {
    assertFailed(codec().receive(frame(0x8, new Uint8Array([code >> 8, code & 0xff]))), 1002);
  }
  assertFailed(codec().receive(frame(0x8, new Uint8Array([0x03, 0xe8, 0xc3, 0x28]))), 1007);
  for (const code of [1000, 1003, 1007, 1014, 3000, 4999]) {
    const out = codec().receive(frame(0x8, new Uint8Array([code >> 8, code & 0xff])));
    assertEquals(out.at(-1), { type: "closed", code, reason: "", clean: true });
  }
  assertEquals(readClosePayload(new Uint8Array([0x0f, 0xa0])), {
    ok: true,
    code: 4000,
    reason: "",
  });
});

Deno.test("codec §7.1.2: our Close, then the peer's: a clean close with the peer's code", () => {
  const c = codec();
  const out = c.close(1008, "policy");
  assertEquals(types(out), ["send-bytes", "arm-close-timer"]);
  assertEquals(sentClose(out), 1008);
  assertEquals(c.state, "closing");
  assertEquals(c.sendText("x"), [], "no data after our Close");
  assertEquals(c.close(1000), [], "close is idempotent");
  // Data still in flight from the peer is delivered.
  assertEquals(c.receive(frame(0x1, "<in-flight/>")), [{
    type: "text-received",
    text: "<in-flight/>",
  }]);
  const answer = c.receive(frame(0x8, new Uint8Array([0x03, 0xf0])));
  assertEquals(answer, [
    { type: "close-transport", graceful: true },
    { type: "closed", code: 1008, reason: "", clean: true },
  ]);
});

Deno.test("codec §7.1.1 (#29): an unanswered Close ends TCP at the close timeout, with 1006", () => {
  const c = codec();
  c.close(1000);
  assertEquals(c.closeTimedOut(), [
    { type: "close-transport", graceful: false },
    { type: "closed", code: 1006, reason: "", clean: false },
  ]);
  assertEquals(c.closeTimedOut(), []);
  assertEquals(codec().closeTimedOut(), [], "no timeout without our Close");
});

Deno.test("codec: transport loss closes with 1006; API misuse throws", () => {
  const c = codec();
  assertEquals(c.transportClosed(), [{ type: "closed", code: 1006, reason: "", clean: false }]);
  assertEquals(c.transportClosed(), []);
  assertThrows(() => codec().close(1005), RangeError);
  assertThrows(() => codec().close(1006), RangeError);
  assertThrows(() => codec().ping(new Uint8Array(126)), RangeError);
  assertThrows(() => new WebSocketCodec({ maxMessageBytes: NaN }), RangeError);
});

Deno.test("codec: keepalive: a Ping after a silent interval, 1001 after a second one", () => {
  const c = codec();
  assertEquals(c.keepaliveTick(), [], "the opening counts as activity");
  const ping = c.keepaliveTick();
  assertEquals(serverFrame((ping[0] as { bytes: Uint8Array }).bytes).opcode, 0x9);
  assertEquals(c.receive(frame(0xa, "")), [{ type: "pong-received", payload: new Uint8Array() }]);
  assertEquals(c.keepaliveTick(), [], "the Pong was heard");
  assertEquals(serverFrame((c.keepaliveTick()[0] as { bytes: Uint8Array }).bytes).opcode, 0x9);
  const close = c.keepaliveTick();
  assertEquals(sentClose(close), 1001);
  assertEquals(c.state, "closing");
});

// ---- frames out -----------------------------------------------------------------------------

Deno.test("encoder: minimal length encodings at 125, 126, 65535 and 65536 bytes", () => {
  const sizes: [number, number][] = [[125, 2], [126, 4], [65_535, 4], [65_536, 10]];
  for (const [length, headerLength] of sizes) {
    const bytes = encodeFrame(0x2, new Uint8Array(length));
    assertEquals(bytes.length, length + headerLength);
    assertEquals(serverFrame(bytes).payload.length, length);
  }
  const text = serverFrame((codec().sendText("héllo")[0] as { bytes: Uint8Array }).bytes);
  assertEquals([text.fin, text.opcode, new TextDecoder().decode(text.payload)], [true, 1, "héllo"]);
  assertEquals(closePayload(1000, "x".repeat(200)).length, 125);
  assertEquals(closePayload(undefined).length, 0);
});
