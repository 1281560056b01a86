// The tree's definition, written naively as the oracle for the tests: the root of a set of leaves
// is EMPTY_ROOT for none, the leaf's hash for one, and otherwise the internal hash of the roots of
// the leaves whose next bit is 0 and of those whose next bit is 1.
import { EMPTY_ROOT, bitAt, hashInternal, hashKey, hashLeaf, hashValue, type Hash } from "../../merkle-store/hash.ts";

export interface Leaf {
  keyHash: Hash;
  valueHash: Hash;
}

export function referenceRoot(leaves: readonly Leaf[]): Hash {
  return subtreeRoot(leaves, 0);
}

function subtreeRoot(leaves: readonly Leaf[], depth: number): Hash {
  if (leaves.length === 0) return EMPTY_ROOT;
  if (leaves.length === 1) return hashLeaf(leaves[0].keyHash, leaves[0].valueHash);
  const left = leaves.filter((leaf) => bitAt(leaf.keyHash, depth) === 0);
  const right = leaves.filter((leaf) => bitAt(leaf.keyHash, depth) === 1);
  return hashInternal(subtreeRoot(left, depth + 1), subtreeRoot(right, depth + 1));
}

/** The leaves of a key/value map, as the store hashes them. */
export function leavesOf(entries: Iterable<readonly [Uint8Array, Uint8Array]>): Leaf[] {
  return [...entries].map(([key, value]) => ({ keyHash: hashKey(key), valueHash: hashValue(value) }));
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}
