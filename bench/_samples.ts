/**
 * Shared inputs of the benchmarks: a ~300-byte `<message/>` and an RFC 6120 stream of them.
 *
 * @example
 * ```ts
 * import { MESSAGE } from "./_samples.ts";
 * console.log(MESSAGE.length > 250); // true
 * ```
 * @module
 */

/** A typical chat message as a standalone RFC 7395 frame (about 300 bytes). */
export const MESSAGE = "<message xmlns='jabber:client' from='juliet@example.com/balcony' " +
  "to='romeo@example.net' type='chat' id='ktx72v49' xml:lang='en'>" +
  "<body>Art thou not Romeo, and a Montague? Neither, fair saint, if either thee dislike.</body>" +
  "<active xmlns='http://jabber.org/protocol/chatstates'/>" +
  "<origin-id xmlns='urn:xmpp:sid:0' id='de305d54-75b4-431b-adb2'/></message>";

/** The same stanza as it appears inside an RFC 6120 stream (namespace from the header). */
const STREAM_STANZA = MESSAGE.replace(" xmlns='jabber:client'", "");

/** The RFC 6120 stream header of the stream benchmark. */
export const STREAM_HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' " +
  "xmlns:stream='http://etherx.jabber.org/streams' from='example.com' id='x1' version='1.0'>";

/**
 * `count` stanzas of an RFC 6120 stream (header excluded), cut into chunks of `chunkBytes`
 * bytes of UTF-8 like TCP reads.
 *
 * @example
 * ```ts
 * import { streamChunks } from "./_samples.ts";
 * console.log(streamChunks(10, 4096).length); // 1
 * ```
 */
export function streamChunks(count: number, chunkBytes: number): Uint8Array[] {
  const bytes = new TextEncoder().encode(STREAM_STANZA.repeat(count));
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += chunkBytes) chunks.push(bytes.subarray(i, i + chunkBytes));
  return chunks;
}
