// Cosmos account addresses: bech32(prefix, ripemd160(sha256(compressed secp256k1 pubkey))).
import { fromBech32, toBech32 } from "@cosmjs/encoding";
import { ripemd160 } from "@noble/hashes/legacy.js";
import { hash } from "node:crypto";
import { ADDRESS_PREFIX } from "../params.ts";

export function addressBytes(pubKey: Uint8Array): Uint8Array {
  return ripemd160(hash("sha256", pubKey, "buffer"));
}

/** An account's address with a copy of the key it was derived from, shared by all its transactions. */
export interface KnownKey {
  address: string;
  pubKey: Uint8Array;
}

// Keyed by the key's bytes as a latin1 string (one character per byte: no copy, no hex), per prefix.
const caches = new Map<string, Map<string, KnownKey>>();
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, start: number, end: number): string }).latin1Slice;

/** Memoized: the same few thousand senders sign most transactions. */
export function knownKey(pubKey: Uint8Array, prefix = ADDRESS_PREFIX): KnownKey {
  let cache = caches.get(prefix);
  if (cache === undefined) {
    cache = new Map();
    caches.set(prefix, cache);
  }
  const key = latin1Slice.call(pubKey, 0, pubKey.length);
  let known = cache.get(key);
  if (known === undefined) {
    known = { address: toBech32(prefix, addressBytes(pubKey)), pubKey: new Uint8Array(pubKey) };
    if (cache.size >= 100_000) cache.clear();
    cache.set(key, known);
  }
  return known;
}

export function addressOf(pubKey: Uint8Array, prefix = ADDRESS_PREFIX): string {
  return knownKey(pubKey, prefix).address;
}

/** Throws unless `address` is bech32 with the expected prefix and 20 data bytes. */
export function parseAddress(address: string, prefix = ADDRESS_PREFIX): Uint8Array {
  let decoded;
  try {
    decoded = fromBech32(address, 90);
  } catch (error) {
    throw new Error(`invalid address ${JSON.stringify(address)}: ${(error as Error).message}`);
  }
  if (decoded.prefix !== prefix) throw new Error(`invalid address ${address}: prefix must be ${prefix}`);
  if (decoded.data.length !== 20) throw new Error(`invalid address ${address}: expected 20 bytes, got ${decoded.data.length}`);
  return decoded.data;
}
