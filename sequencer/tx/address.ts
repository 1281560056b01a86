// Cosmos account addresses: bech32(prefix, ripemd160(sha256(compressed secp256k1 pubkey))).
import { fromBech32, toBech32 } from "@cosmjs/encoding";
import { ripemd160 } from "@noble/hashes/legacy.js";
import { hash } from "node:crypto";
import { ADDRESS_PREFIX } from "../params.ts";

export function addressBytes(pubKey: Uint8Array): Uint8Array {
  return ripemd160(hash("sha256", pubKey, "buffer"));
}

const cache = new Map<string, string>();

/** Memoized: the same few thousand senders sign most transactions. */
export function addressOf(pubKey: Uint8Array, prefix = ADDRESS_PREFIX): string {
  const key = prefix + Buffer.from(pubKey).toString("hex");
  let address = cache.get(key);
  if (address === undefined) {
    address = toBech32(prefix, addressBytes(pubKey));
    if (cache.size >= 100_000) cache.clear();
    cache.set(key, address);
  }
  return address;
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
