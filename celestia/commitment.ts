// The blob share commitment (go-square's inclusion package): split the blob into shares, cut them into
// a merkle mountain range of subtrees no wider than the subtree width, take each subtree's NMT root,
// and commit to those roots with an RFC 6962 merkle root.
import { NMT_NODE_SIZE, nmtMountainRoots } from "./nmt.ts";
import { nmtHasher, type NmtHasher } from "./nmt-hasher.ts";
import { blobFraming, type CelestiaBlob } from "./share.ts";

/** celestia-app's SubtreeRootThreshold: at most this many subtree roots per blob, give or take rounding. */
export const SUBTREE_ROOT_THRESHOLD = 64;

/** Smallest power of two >= n (1 for n <= 1), for integers below 2^32. */
export function roundUpPowerOfTwo(n: number): number {
  return n <= 1 ? 1 : 2 ** (32 - Math.clz32(n - 1));
}

/** Largest power of two <= n, for integers 1 <= n < 2^32. */
export function roundDownPowerOfTwo(n: number): number {
  if (!(n >= 1)) throw new RangeError(`input ${n} must be positive`);
  return 2 ** (31 - Math.clz32(n));
}

/** Width of the smallest square that holds `shareCount` shares. */
export function blobMinSquareSize(shareCount: number): number {
  return roundUpPowerOfTwo(Math.ceil(Math.sqrt(shareCount)));
}

/** Leaves per subtree root in the commitment of a blob of `shareCount` shares (ADR-013). */
export function subtreeWidth(shareCount: number, threshold: number = SUBTREE_ROOT_THRESHOLD): number {
  if (!(threshold > 0)) throw new RangeError(`subtreeRootThreshold must be positive, got ${threshold}`);
  return Math.min(roundUpPowerOfTwo(Math.ceil(shareCount / threshold)), blobMinSquareSize(shareCount));
}

/** Tree sizes of a merkle mountain range over `total` leaves with trees of at most `maxTreeSize`. */
export function merkleMountainRangeSizes(total: number, maxTreeSize: number): number[] {
  const sizes: number[] = [];
  for (let left = total; left > 0; ) {
    const size = left >= maxTreeSize ? maxTreeSize : roundDownPowerOfTwo(left);
    sizes.push(size);
    left -= size;
  }
  return sizes;
}

/** The blob's share commitment (32 bytes), as celestia-node computes it; validates the blob first. */
export function blobCommitment(blob: CelestiaBlob, hasher: NmtHasher = nmtHasher): Uint8Array {
  const leafHashes = hasher.hashFramedLeaves(blob.namespace, blobFraming(blob), blob.data);
  const shares = leafHashes.length / NMT_NODE_SIZE;
  const sizes = merkleMountainRangeSizes(shares, subtreeWidth(shares));
  return hasher.merkleRoot(nmtMountainRoots(leafHashes, sizes, hasher), NMT_NODE_SIZE);
}
