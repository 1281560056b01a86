// The RFC 6962 merkle tree as CometBFT (and go-square's merkle package) build it: leaf sha256(0x00 || x),
// inner sha256(0x01 || left || right), empty sha256(""), the left subtree holding the largest power of
// two below the item count. Celestia uses it for the data hash and the blob share commitment; the
// sequencer for every block's data hash, rollup roots and part set.
//
// A root costs one node:crypto call per node (about a microsecond each, most of it call overhead), so
// roots and leaf hashes go through the native addon when it is built: one call per tree, two messages
// hashed at a time. The JavaScript below is the reference and the fallback (METRO_NO_NATIVE=1, or no
// addon); the tests check that both give the same bytes.
import { loadNativeAddon } from "./native/addon.ts";
import { SHA256_SIZE, sha256 } from "./sha256.ts";

const LEAF_PREFIX = Uint8Array.of(0x00);
const INNER_PREFIX = Uint8Array.of(0x01);
/** CometBFT's bound on aunts (a tree of 2^100 items); longer proofs are rejected. */
const MAX_AUNTS = 100;

export interface MerkleProof {
  total: number;
  index: number;
  leafHash: Uint8Array;
  /** Sibling hashes from the leaf's sibling up to the root's child. */
  aunts: Uint8Array[];
}

export function merkleLeafHash(item: Uint8Array): Uint8Array {
  return sha256(LEAF_PREFIX, item);
}

function merkleInnerHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(INNER_PREFIX, left, right);
}

/** Largest power of two strictly below n (n >= 2). */
function splitPoint(n: number): number {
  return 2 ** (31 - Math.clz32(n - 1));
}

/** The tree functions the addon provides (nmt_hash.c). */
export interface NativeMerkle {
  merkleRootOfItems(items: readonly Uint8Array[]): Uint8Array;
  /** sha256(prefix || item) for each item, 32 bytes each; prefix -1: no prefix byte. */
  sha256Items(items: readonly Uint8Array[], prefix: number): Uint8Array;
}

function nativeOf(functions: Record<string, unknown> | undefined): NativeMerkle | undefined {
  return typeof functions?.merkleRootOfItems === "function" && typeof functions.sha256Items === "function" ? (functions as unknown as NativeMerkle) : undefined;
}

const addon = loadNativeAddon();
/** Undefined without the addon (or with one built before these functions). */
export const nativeMerkle: NativeMerkle | undefined = nativeOf(addon);
/** The same on OpenSSL's SHA-256 alone, as on CPUs without the SHA extensions (for tests). */
export const nativeOpenSslMerkle: NativeMerkle | undefined = nativeOf(addon?.openssl as Record<string, unknown> | undefined);

/** The reference: one node:crypto call per node. */
export function jsMerkleRoot(items: readonly Uint8Array[]): Uint8Array {
  if (items.length === 0) return sha256(new Uint8Array(0));
  if (items.length === 1) return merkleLeafHash(items[0]);
  const k = splitPoint(items.length);
  return merkleInnerHash(jsMerkleRoot(items.slice(0, k)), jsMerkleRoot(items.slice(k)));
}

export const merkleRoot: (items: readonly Uint8Array[]) => Uint8Array = nativeMerkle === undefined ? jsMerkleRoot : (items) => nativeMerkle.merkleRootOfItems(items);

/** `hash` of each item, or the addon's sha256(prefix || item) in one call, as views of one buffer. */
function hashEach(items: readonly Uint8Array[], prefix: number, hash: (item: Uint8Array) => Uint8Array): Uint8Array[] {
  if (nativeMerkle === undefined) return items.map(hash);
  const digests = nativeMerkle.sha256Items(items, prefix);
  return items.map((_, i) => digests.subarray(SHA256_SIZE * i, SHA256_SIZE * (i + 1)));
}

/** sha256 of each item: many short items in one native call. */
export function sha256Each(items: readonly Uint8Array[]): Uint8Array[] {
  return hashEach(items, -1, (item) => sha256(item));
}

function leafHashes(items: readonly Uint8Array[]): Uint8Array[] {
  return hashEach(items, LEAF_PREFIX[0], merkleLeafHash);
}

/** Proof that items[index] is in merkleRoot(items). */
export function merkleProof(items: readonly Uint8Array[], index: number): MerkleProof {
  if (!Number.isInteger(index) || index < 0 || index >= items.length) {
    throw new RangeError(`index ${index} out of range for ${items.length} items`);
  }
  const aunts: Uint8Array[] = [];
  // Recursion pushes the deepest sibling first, which is the order aunts are listed in.
  const rootWithAunts = (range: readonly Uint8Array[], at: number): Uint8Array => {
    if (range.length === 1) return merkleLeafHash(range[0]);
    const k = splitPoint(range.length);
    if (at < k) {
      const left = rootWithAunts(range.slice(0, k), at);
      const right = merkleRoot(range.slice(k));
      aunts.push(right);
      return merkleInnerHash(left, right);
    }
    const left = merkleRoot(range.slice(0, k));
    const right = rootWithAunts(range.slice(k), at - k);
    aunts.push(left);
    return merkleInnerHash(left, right);
  };
  const leafHash = merkleLeafHash(items[index]);
  rootWithAunts(items, index);
  return { total: items.length, index, leafHash, aunts };
}

/**
 * Proofs for every item at once: one walk over the tree (n log n) instead of a tree per proof, for
 * callers that prove every leaf (the relayer proves each rollup of a block).
 */
export function merkleProofs(items: readonly Uint8Array[]): MerkleProof[] {
  const leaves = leafHashes(items);
  const aunts: Uint8Array[][] = items.map(() => []);
  // Children are walked first, so each leaf's deeper siblings are pushed before the higher ones.
  const walk = (start: number, end: number): Uint8Array => {
    if (end - start === 1) return leaves[start];
    const mid = start + splitPoint(end - start);
    const left = walk(start, mid);
    const right = walk(mid, end);
    for (let i = start; i < mid; i++) aunts[i].push(right);
    for (let i = mid; i < end; i++) aunts[i].push(left);
    return merkleInnerHash(left, right);
  };
  if (items.length > 0) walk(0, items.length);
  return items.map((_, index) => ({ total: items.length, index, leafHash: leaves[index], aunts: aunts[index] }));
}

// Root from a leaf hash and its aunts (last aunt = the root's child); undefined if the aunts do not fit.
function rootFromAunts(index: number, total: number, leafHash: Uint8Array, aunts: readonly Uint8Array[]): Uint8Array | undefined {
  if (total === 1) return aunts.length === 0 ? leafHash : undefined;
  if (aunts.length === 0) return undefined;
  const k = splitPoint(total);
  const top = aunts[aunts.length - 1];
  const below = aunts.slice(0, -1);
  if (index < k) {
    const left = rootFromAunts(index, k, leafHash, below);
    return left && merkleInnerHash(left, top);
  }
  const right = rootFromAunts(index - k, total - k, leafHash, below);
  return right && merkleInnerHash(top, right);
}

/** True when `proof` shows that `item` is at proof.index among proof.total items under `root`. */
export function verifyMerkleProof(root: Uint8Array, proof: MerkleProof, item: Uint8Array): boolean {
  const { total, index, leafHash, aunts } = proof;
  if (!Number.isInteger(total) || !Number.isInteger(index) || index < 0 || index >= total) return false;
  if (aunts.length > MAX_AUNTS || aunts.some((aunt) => aunt.length !== SHA256_SIZE)) return false;
  if (Buffer.compare(leafHash, merkleLeafHash(item)) !== 0) return false;
  const computed = rootFromAunts(index, total, leafHash, aunts);
  return computed !== undefined && Buffer.compare(computed, root) === 0;
}
