// Rollup addresses: bech32 with the rollup's prefix over ripemd160(sha256(compressed pubkey)), the
// same 20 bytes as the key's Metro account (sequencer/tx/address.ts), so one wallet key is one
// account on both layers.
//
// Both directions run on every transfer (the recipient's address is parsed, the sender's is derived
// and written into the event), and a rollup with many accounts misses any memo often. So 20-byte
// addresses have their own bech32 codec here, with the prefix's share of the checksum computed once,
// and ripemd160 comes from node:crypto (OpenSSL) where it has it: in JavaScript (@noble/hashes) it
// costs more than the rest of a transfer but its signature. Anything the fast path does not take
// (upper case, another length, a bad character or checksum) goes to @cosmjs/encoding, which gives
// the same bytes or the same reason it always did.
import { fromBech32, toBech32 } from "@cosmjs/encoding";
import { hash } from "node:crypto";
import { addressBytes } from "../../sequencer/tx/address.ts";
import { keyId } from "../state-layer.ts";

export interface Sender {
  /** The 20 address bytes (shared: do not modify). */
  bytes: Uint8Array;
  address: string;
}

const CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const CHARSET_VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < CHARSET.length; i++) CHARSET_VALUES[CHARSET.charCodeAt(i)] = i;
const GENERATORS = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
/** 20 bytes are 32 five-bit words exactly (no padding), then 6 checksum words. */
const DATA_WORDS = 32;
const CHECKSUM_WORDS = 6;
/** BIP 173's length limit, which @cosmjs/encoding applies too (fromBech32(address, 90)). */
const MAX_LENGTH = 90;

/** For each value of a checksum state's top five bits, the generators they select, xored together. */
const GENERATOR_SUMS = Int32Array.from({ length: 32 }, (_, top) => GENERATORS.reduce((sum, g, i) => ((top >>> i) & 1 ? sum ^ g : sum), 0));

/** One step of BIP 173's checksum: the state after `state`, before the next word is xored in. */
function polymodStep(state: number): number {
  return ((state & 0x1ffffff) << 5) ^ GENERATOR_SUMS[state >>> 25];
}

/** bech32 for one prefix and 20-byte data; undefined for a prefix the fast path cannot vouch for. */
interface Codec20 {
  prefix: string;
  /** The checksum state after the prefix's expansion. */
  prefixState: number;
}

function makeCodec(prefix: string): Codec20 | undefined {
  // A lowercase, printable prefix that leaves room for the data within the length limit: then a
  // lowercase address is accepted by fromBech32 exactly when its characters and checksum are right.
  if (prefix.length === 0 || prefix.length + 1 + DATA_WORDS + CHECKSUM_WORDS > MAX_LENGTH || !/^[\x21-\x7e]+$/.test(prefix) || prefix !== prefix.toLowerCase()) return undefined;
  let state = 1;
  for (let i = 0; i < prefix.length; i++) state = polymodStep(state) ^ (prefix.charCodeAt(i) >> 5);
  state = polymodStep(state);
  for (let i = 0; i < prefix.length; i++) state = polymodStep(state) ^ (prefix.charCodeAt(i) & 31);
  return { prefix, prefixState: state };
}

const codecs = new Map<string, Codec20 | undefined>();

function codecOf(prefix: string): Codec20 | undefined {
  if (!codecs.has(prefix)) codecs.set(prefix, makeCodec(prefix));
  return codecs.get(prefix);
}

/** toBech32(prefix, bytes) for 20 bytes. */
function encode20(codec: Codec20, bytes: Uint8Array): string {
  let text = codec.prefix + "1";
  let state = codec.prefixState;
  let bits = 0;
  let carry = 0;
  for (let i = 0; i < 20; i++) {
    carry = ((carry << 8) | bytes[i]) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      const word = (carry >> bits) & 31;
      state = polymodStep(state) ^ word;
      text += CHARSET[word];
    }
  }
  for (let i = 0; i < CHECKSUM_WORDS; i++) state = polymodStep(state);
  state ^= 1;
  for (let i = 0; i < CHECKSUM_WORDS; i++) text += CHARSET[(state >>> (5 * (CHECKSUM_WORDS - 1 - i))) & 31];
  return text;
}

/** The 20 bytes of a lowercase address with the codec's prefix and a valid checksum; undefined otherwise. */
function decode20(codec: Codec20, address: string): Uint8Array | undefined {
  const { prefix } = codec;
  if (address.length !== prefix.length + 1 + DATA_WORDS + CHECKSUM_WORDS || !address.startsWith(prefix) || address.charCodeAt(prefix.length) !== 0x31) return undefined;
  const bytes = new Uint8Array(20);
  let state = codec.prefixState;
  let bits = 0;
  let carry = 0;
  let at = 0;
  for (let i = prefix.length + 1; i < address.length; i++) {
    const code = address.charCodeAt(i);
    const word = code < 128 ? CHARSET_VALUES[code] : -1;
    if (word < 0) return undefined;
    state = polymodStep(state) ^ word;
    if (at < 20) {
      carry = ((carry << 5) | word) & 0xfff;
      bits += 5;
      if (bits >= 8) {
        bits -= 8;
        bytes[at++] = (carry >> bits) & 0xff;
      }
    }
  }
  return state === 1 ? bytes : undefined;
}

const RIPEMD160_OF_NOTHING = "9c1185a5c5e9fc54612808977ee8f548b2258d31";

function nodeHasRipemd160(): boolean {
  try {
    return hash("ripemd160", new Uint8Array(0), "hex") === RIPEMD160_OF_NOTHING;
  } catch {
    return false; // an OpenSSL without the legacy digests
  }
}

/** sequencer/tx/address.ts's addressBytes, through OpenSSL when it has ripemd160. */
const deriveAddress: (pubkey: Uint8Array) => Uint8Array = nodeHasRipemd160()
  ? (pubkey) => {
      const digest = hash("ripemd160", hash("sha256", pubkey, "buffer"), "buffer");
      return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
    }
  : addressBytes;

const MEMO_ENTRIES = 100_000;
/** Per prefix, senders by keyId(pubkey): a few thousand keys send most transfers. */
const senders = new Map<string, Map<string, Sender>>();

/** The account that `pubkey` (33 bytes, compressed) signs for. */
export function senderOf(pubkey: Uint8Array, prefix: string): Sender {
  let memo = senders.get(prefix);
  if (memo === undefined) senders.set(prefix, (memo = new Map()));
  const key = keyId(pubkey);
  const known = memo.get(key);
  if (known !== undefined) return known;
  const bytes = deriveAddress(pubkey);
  const sender = { bytes, address: rollupAddress(bytes, prefix) };
  if (memo.size >= MEMO_ENTRIES) memo.clear();
  memo.set(key, sender);
  return sender;
}

/** The address of 20 bytes under `prefix`, as @cosmjs/encoding's toBech32 writes it. */
export function rollupAddress(bytes: Uint8Array, prefix: string): string {
  const codec = codecOf(prefix);
  return codec === undefined || bytes.length !== 20 ? toBech32(prefix, bytes) : encode20(codec, bytes);
}

/** The 20 address bytes, or why `address` is not an address of this rollup (a revert reason's tail). */
export function parseRollupAddress(address: string, prefix: string): Uint8Array | string {
  const codec = codecOf(prefix);
  return (codec !== undefined && decode20(codec, address)) || parseSlow(address, prefix);
}

/** @cosmjs/encoding's answer, for everything the fast path leaves. */
function parseSlow(address: string, prefix: string): Uint8Array | string {
  let decoded;
  try {
    decoded = fromBech32(address, MAX_LENGTH);
  } catch (error) {
    return `${JSON.stringify(address)} is not bech32 (${(error as Error).message})`;
  }
  if (decoded.prefix !== prefix) return `${JSON.stringify(address)} has prefix "${decoded.prefix}", expected "${prefix}"`;
  if (decoded.data.length !== 20) return `${JSON.stringify(address)} holds ${decoded.data.length} bytes, expected 20`;
  return decoded.data;
}
