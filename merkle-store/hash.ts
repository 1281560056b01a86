// SHA-256 hashing of keys, values and tree nodes.
//
// The domain separators and the empty-subtree constant are those of the Jellyfish Merkle Tree as
// instantiated with SHA-256 (penumbra-zone/jmt, `Sha256Jmt`), so a root computed here equals that
// tree's root for the same key/value set and an inclusion proof has the shape of its ICS23 spec.
import { hash } from "node:crypto";
import type { NativeJmtHasher } from "./native.ts";

export type Hash = Uint8Array;

const ascii = (text: string) => new TextEncoder().encode(text);
const LEAF_DOMAIN = ascii("JMT::LeafNode");
// Sixteen bytes ("Internal" short of a vowel), as in the JMT.
const INTERNAL_DOMAIN = ascii("JMT::IntrnalNode");

/** Hash of an empty subtree, hence the root of the empty tree: the 32 ASCII bytes `SPARSE_MERKLE_PLACEHOLDER_HASH__`. */
export const EMPTY_ROOT: Hash = ascii("SPARSE_MERKLE_PLACEHOLDER_HASH__");

// Node preimages are assembled in two reused buffers: hashing is the hot path of a commit and
// this saves an allocation per node. Safe because hashing is synchronous.
const leafInput = new Uint8Array(LEAF_DOMAIN.length + 64);
leafInput.set(LEAF_DOMAIN);
const internalInput = new Uint8Array(INTERNAL_DOMAIN.length + 64);
internalInput.set(INTERNAL_DOMAIN);

/**
 * Hashes are plain Uint8Arrays, never Buffers: Buffer#slice returns a view where Uint8Array#slice
 * copies, and a caller copying a hash with slice() must get a copy.
 */
export function sha256(data: Uint8Array): Hash {
  const digest = hash("sha256", data, "buffer");
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}

/** A key's position in the tree: its 256 bits, most significant bit of byte 0 first. */
export const hashKey = sha256;
export const hashValue = sha256;

/**
 * A SHA-256 digest as a 32-character latin1 string, one character per byte, as tree.ts's Update
 * carries them: strings compare and sort like the bytes they hold.
 */
export type Digest = string;

// "binary" is Node's older name for latin1, the one its typings accept for digests.
export const LATIN1_DIGEST = "binary";

/**
 * The SHA-256 of each item of `data` (item i ends at ends[i] and starts where item i - 1 ends) at
 * out[32 i]: a commit's keys and values in one call to the addon (`native`), else one node:crypto
 * call each.
 */
export function sha256Packed(data: Uint8Array, ends: Int32Array, out: Uint8Array, native: NativeJmtHasher | undefined): void {
  if (native !== undefined) return native.sha256Packed(data, ends, out);
  for (let i = 0, start = 0; i < ends.length; start = ends[i++]) out.set(hash("sha256", data.subarray(start, ends[i]), "buffer"), 32 * i);
}

/** The domain separators, for the tree's own hashing (tree.ts), which assembles preimages in place. */
export { INTERNAL_DOMAIN, LEAF_DOMAIN };

export function hashLeaf(keyHash: Hash, valueHash: Hash): Hash {
  leafInput.set(keyHash, LEAF_DOMAIN.length);
  leafInput.set(valueHash, LEAF_DOMAIN.length + 32);
  return sha256(leafInput);
}

export function hashInternal(left: Hash, right: Hash): Hash {
  internalInput.set(left, INTERNAL_DOMAIN.length);
  internalInput.set(right, INTERNAL_DOMAIN.length + 32);
  return sha256(internalInput);
}

/** Bit `index` of a key hash (0 = most significant bit of byte 0); 0 goes left, 1 goes right. */
export function bitAt(keyHash: Hash, index: number): 0 | 1 {
  return ((keyHash[index >> 3] >> (7 - (index & 7))) & 1) as 0 | 1;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}
