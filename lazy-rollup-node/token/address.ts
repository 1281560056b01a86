// Rollup addresses: bech32 with the rollup's prefix over ripemd160(sha256(compressed pubkey)), the
// same 20 bytes as the key's Metro account (sequencer/tx/address.ts), so one wallet key is one
// account on both layers.
//
// Both directions are memoized: a few thousand accounts send and receive most transfers, and
// ripemd160 (in JavaScript) and bech32 cost more than the rest of a transfer but its signature.
import { fromBech32, toBech32 } from "@cosmjs/encoding";
import { addressBytes } from "../../sequencer/tx/address.ts";
import { keyId } from "../state-layer.ts";

export interface Sender {
  /** The 20 address bytes (shared: do not modify). */
  bytes: Uint8Array;
  address: string;
}

const MEMO_ENTRIES = 100_000;
/** Per prefix: senders by keyId(pubkey), and parsed addresses by their text. */
const senders = new Map<string, Map<string, Sender>>();
const parsed = new Map<string, Map<string, Uint8Array | string>>();

function memoOf<T>(memos: Map<string, Map<string, T>>, prefix: string): Map<string, T> {
  let memo = memos.get(prefix);
  if (memo === undefined) memos.set(prefix, (memo = new Map()));
  return memo;
}

function remember<T>(memo: Map<string, T>, key: string, value: T): T {
  if (memo.size >= MEMO_ENTRIES) memo.clear();
  memo.set(key, value);
  return value;
}

/** The account that `pubkey` (33 bytes, compressed) signs for. */
export function senderOf(pubkey: Uint8Array, prefix: string): Sender {
  const memo = memoOf(senders, prefix);
  const key = keyId(pubkey);
  const known = memo.get(key);
  if (known !== undefined) return known;
  const bytes = addressBytes(pubkey);
  return remember(memo, key, { bytes, address: toBech32(prefix, bytes) });
}

/** The 20 address bytes (shared: do not modify), or why `address` is not an address of this rollup (a revert reason's tail). */
export function parseRollupAddress(address: string, prefix: string): Uint8Array | string {
  const memo = memoOf(parsed, prefix);
  const known = memo.get(address);
  return known !== undefined ? known : remember(memo, address, parse(address, prefix));
}

function parse(address: string, prefix: string): Uint8Array | string {
  let decoded;
  try {
    decoded = fromBech32(address, 90);
  } catch (error) {
    return `${JSON.stringify(address)} is not bech32 (${(error as Error).message})`;
  }
  if (decoded.prefix !== prefix) return `${JSON.stringify(address)} has prefix "${decoded.prefix}", expected "${prefix}"`;
  if (decoded.data.length !== 20) return `${JSON.stringify(address)} holds ${decoded.data.length} bytes, expected 20`;
  return decoded.data;
}
