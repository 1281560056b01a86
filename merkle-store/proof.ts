// Proof verification: pure, no database, for light clients.
import { EMPTY_ROOT, bitAt, equalBytes, hashInternal, hashKey, hashLeaf, hashValue, type Hash } from "./hash.ts";

/** The sibling hashes from the root down to where a key's path ends, and the leaf found there, if any. */
export interface Proof {
  /** siblings[d] is the hash of the subtree at depth d + 1 beside the key's path. */
  readonly siblings: readonly Hash[];
  /**
   * The leaf where the path ends: the key's own (inclusion), or the only key in the subtree the key
   * would fall in (non-inclusion). Absent when that subtree is empty (non-inclusion).
   */
  readonly leaf?: { readonly keyHash: Hash; readonly valueHash: Hash };
}

/**
 * True iff `proof` shows that under `root` the key holds `value` or, when `value` is undefined,
 * that the key is absent. Never throws: a malformed proof is just false.
 */
export function verifyProof(root: Hash, key: Uint8Array, value: Uint8Array | undefined, proof: Proof): boolean {
  return verifyKeyHashProof(root, hashKey(key), value === undefined ? undefined : hashValue(value), proof);
}

/** verifyProof for a caller that holds the key's and the value's hashes instead of the bytes. */
export function verifyKeyHashProof(root: Hash, keyHash: Hash, valueHash: Hash | undefined, proof: Proof): boolean {
  if (!isHash(root) || !isHash(keyHash) || (valueHash !== undefined && !isHash(valueHash)) || !isWellFormed(proof)) return false;
  const { leaf, siblings } = proof;
  if (valueHash !== undefined) {
    if (leaf === undefined || !equalBytes(leaf.keyHash, keyHash) || !equalBytes(leaf.valueHash, valueHash)) return false;
  } else if (leaf !== undefined) {
    // The other key must lie in the subtree the proof reaches, or the proof places its leaf off
    // that key's own path, proving nothing about `keyHash`.
    if (equalBytes(leaf.keyHash, keyHash) || commonPrefixBits(leaf.keyHash, keyHash) < siblings.length) return false;
  }
  let hash = leaf === undefined ? EMPTY_ROOT : hashLeaf(leaf.keyHash, leaf.valueHash);
  for (let depth = siblings.length - 1; depth >= 0; depth--) {
    hash = bitAt(keyHash, depth) === 1 ? hashInternal(siblings[depth], hash) : hashInternal(hash, siblings[depth]);
  }
  return equalBytes(hash, root);
}

function isHash(value: unknown): value is Hash {
  return value instanceof Uint8Array && value.length === 32;
}

function isWellFormed(proof: Proof): boolean {
  if (typeof proof !== "object" || proof === null) return false;
  const { siblings, leaf } = proof;
  if (!Array.isArray(siblings) || siblings.length > 256 || !siblings.every(isHash)) return false;
  return leaf === undefined || (typeof leaf === "object" && leaf !== null && isHash(leaf.keyHash) && isHash(leaf.valueHash));
}

function commonPrefixBits(a: Hash, b: Hash): number {
  let bits = 0;
  while (bits < 256 && bitAt(a, bits) === bitAt(b, bits)) bits++;
  return bits;
}
