import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  SUBTREE_ROOT_THRESHOLD,
  blobCommitment,
  blobMinSquareSize,
  merkleMountainRangeSizes,
  roundDownPowerOfTwo,
  roundUpPowerOfTwo,
  subtreeWidth,
} from "../../celestia/commitment.ts";
import { merkleRoot } from "../../celestia/merkle.ts";
import { NamespaceError, PARITY_SHARES_NAMESPACE, namespaceV0 } from "../../celestia/namespace.ts";
import { jsNmtHasher, nativeNmtHasher, nativeOpenSslNmtHasher, type NmtHasher } from "../../celestia/nmt-hasher.ts";
import { sharesNmtRoot } from "../../celestia/nmt.ts";
import { BlobError, shareAt, shareCount, splitBlob, tailPaddingShare, type CelestiaBlob } from "../../celestia/share.ts";
import { bigBlockBlobs, fromB64, referenceBlobs, toB64, vectors } from "./helpers/celestia-vectors.ts";
import { referenceMerkleRoot, referenceNmtRoot } from "./helpers/nmt-reference.ts";

const SEED = 20260526;
console.log(`commitment.test.ts: fast-check seed ${SEED}`);

const hashers = (
  [
    ["native, default engine", nativeNmtHasher],
    ["native, openssl engine", nativeOpenSslNmtHasher],
    ["js", jsNmtHasher],
  ] as [string, NmtHasher | undefined][]
).filter((entry): entry is [string, NmtHasher] => entry[1] !== undefined);

describe("commitment rules (go-square's tables)", () => {
  it("subtree width with threshold 64", () => {
    expect(vectors.subtree_width_threshold_64).toHaveLength(12);
    for (const [shares, width] of vectors.subtree_width_threshold_64) expect(subtreeWidth(shares, SUBTREE_ROOT_THRESHOLD), `n=${shares}`).toBe(width);
  });

  it("merkle mountain range sizes", () => {
    expect(vectors.merkle_mountain_range_sizes).toHaveLength(4);
    for (const { total, max, sizes } of vectors.merkle_mountain_range_sizes) expect(merkleMountainRangeSizes(total, max)).toEqual(sizes);
  });

  it("powers of two and the minimum square", () => {
    expect([0, 1, 2, 3, 4, 5, 63, 64, 65].map(roundUpPowerOfTwo)).toEqual([1, 1, 2, 4, 4, 8, 64, 64, 128]);
    expect([1, 2, 3, 4, 5, 63, 64, 65].map(roundDownPowerOfTwo)).toEqual([1, 2, 2, 4, 4, 32, 64, 64]);
    expect(() => roundDownPowerOfTwo(0)).toThrow("input 0 must be positive");
    expect([1, 2, 4, 5, 16, 17, 65].map(blobMinSquareSize)).toEqual([1, 2, 2, 4, 4, 8, 16]);
    expect(() => subtreeWidth(10, 0)).toThrow("subtreeRootThreshold must be positive, got 0");
  });
});

describe.each(hashers)("blob commitments (%s hasher)", (_, hasher) => {
  it("reproduce the four reference blobs (share versions 0 and 1)", () => {
    expect(referenceBlobs.map((v) => v.blob.shareVersion)).toEqual([0, 1, 1, 0]);
    for (const { name, blob, commitment } of referenceBlobs) expect(toB64(blobCommitment(blob, hasher)), name).toBe(commitment);
  });

  it("reproduce all 84 blobs of go-square's big block", () => {
    const blobs = bigBlockBlobs();
    expect(blobs).toHaveLength(84);
    const widths = new Set(blobs.map(({ blob }) => subtreeWidth(shareCount(splitBlob(blob)))));
    expect([...widths].sort()).toEqual([1, 2]);
    for (const { name, blob, commitment } of blobs) expect(toB64(blobCommitment(blob, hasher)), name).toBe(commitment);
  });
});

describe("blob commitments", () => {
  it("equal the plain reference over random blobs wide enough for several subtree widths", () => {
    const ns = namespaceV0(Uint8Array.of(9, 9, 9, 9, 9, 9, 9, 9, 9, 9));
    const blobArb: fc.Arbitrary<CelestiaBlob> = fc
      .tuple(fc.integer({ min: 1, max: 160_000 }), fc.boolean(), fc.integer())
      .map(([length, signed, fill]) => {
        const data = new Uint8Array(length).map((_, i) => (i * 11 + fill) & 0xff);
        return signed ? { namespace: ns, data, shareVersion: 1, signer: new Uint8Array(20).fill(fill & 0xff) } : { namespace: ns, data, shareVersion: 0 };
      });
    fc.assert(
      fc.property(blobArb, (blob) => {
        const shares = splitBlob(blob);
        const count = shareCount(shares);
        let at = 0;
        const roots = merkleMountainRangeSizes(count, subtreeWidth(count)).map((size) =>
          referenceNmtRoot(Array.from({ length: size }, () => ({ namespace: ns, data: shareAt(shares, at++) }))),
        );
        expect(toB64(blobCommitment(blob))).toBe(toB64(referenceMerkleRoot(roots)));
      }),
      { seed: SEED, numRuns: 25 },
    );
  });

  it("refuse invalid blobs with celestia-node's texts", () => {
    const ns = namespaceV0(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
    expect(() => blobCommitment({ namespace: ns, data: new Uint8Array(0), shareVersion: 0 })).toThrow(new BlobError("data can not be empty"));
    expect(() => blobCommitment({ namespace: PARITY_SHARES_NAMESPACE, data: Uint8Array.of(1), shareVersion: 0 })).toThrow(NamespaceError);
  });
});

describe("the empty square (celestia-app's minimum data availability header)", () => {
  // One tail-padding share, k = 1. Leopard extends a single share to copies of itself, so every
  // share of the 2x2 square has the tail padding bytes; the three outside the original quadrant
  // are parity shares and carry the parity namespace in the NMT.
  const tail = tailPaddingShare();
  const twoShares = new Uint8Array([...tail, ...tail]);
  const rowRoots = [sharesNmtRoot(twoShares, 1), sharesNmtRoot(twoShares, 0)];

  it("has the published row roots (and equal column roots)", () => {
    expect(vectors.empty_square.column_roots_equal_row_roots).toBe(true);
    // Compared as bytes: the vector's first root carries a stray "=" after its 120 base64 characters.
    const published = vectors.empty_square.row_roots.map((root) => toB64(fromB64(root)));
    expect(rowRoots.map(toB64)).toEqual(published);
    const parityLeaves = [0, 1].map(() => ({ namespace: PARITY_SHARES_NAMESPACE, data: tail }));
    expect(toB64(referenceNmtRoot(parityLeaves))).toBe(published[1]);
  });

  it("has the published data hash", () => {
    const dataHash = merkleRoot([...rowRoots, ...rowRoots]);
    expect(Buffer.from(dataHash).toString("hex").toUpperCase()).toBe(vectors.empty_square.data_hash_hex);
  });
});
