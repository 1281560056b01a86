import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  jsMerkleRoot,
  merkleLeafHash,
  merkleProof,
  merkleProofs,
  merkleRoot,
  nativeMerkle,
  nativeOpenSslMerkle,
  sha256Each,
  verifyMerkleProof,
  type MerkleProof,
  type NativeMerkle,
} from "../../celestia/merkle.ts";
import { referenceMerkleRoot } from "./helpers/nmt-reference.ts";

const SEED = 20260523;
console.log(`merkle.test.ts: fast-check seed ${SEED}`);

const sha = (...parts: Uint8Array[]) => {
  const h = createHash("sha256");
  for (const part of parts) h.update(part);
  return new Uint8Array(h.digest());
};
const item = (i: number) => Uint8Array.of(i, i + 1, i + 2);
const flip = (bytes: Uint8Array, bit: number) => {
  const out = bytes.slice();
  out[(bit >> 3) % out.length] ^= 1 << (bit & 7);
  return out;
};

describe("merkleRoot", () => {
  it("is sha256('') for no items and the leaf hash for one", () => {
    expect(Buffer.from(merkleRoot([])).toString("hex")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(merkleRoot([item(1)])).toEqual(sha(Uint8Array.of(0), item(1)));
    expect(merkleLeafHash(item(1))).toEqual(sha(Uint8Array.of(0), item(1)));
  });

  it("splits at the largest power of two below the count", () => {
    const [a, b, c] = [0, 1, 2].map((i) => merkleLeafHash(item(i)));
    const inner = (l: Uint8Array, r: Uint8Array) => sha(Uint8Array.of(1), l, r);
    expect(merkleRoot([item(0), item(1), item(2)])).toEqual(inner(inner(a, b), c));
  });

  it("matches the plain recursive reference", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 40 }), (items) => {
        expect(merkleRoot(items)).toEqual(referenceMerkleRoot(items));
      }),
      { seed: SEED, numRuns: 100 },
    );
  });
});

describe("merkle proofs", () => {
  const treeAndIndex = fc
    .array(fc.uint8Array({ minLength: 1, maxLength: 64 }), { minLength: 1, maxLength: 70 })
    .chain((items) => fc.tuple(fc.constant(items), fc.nat(items.length - 1), fc.nat(1 << 16)));

  it("verify for every index, with aunts listed from the leaf up", () => {
    fc.assert(
      fc.property(treeAndIndex, ([items, index]) => {
        const root = merkleRoot(items);
        const proof = merkleProof(items, index);
        expect(proof.total).toBe(items.length);
        expect(proof.aunts.length).toBeLessThanOrEqual(Math.ceil(Math.log2(items.length)));
        expect(verifyMerkleProof(root, proof, items[index])).toBe(true);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it("merkleProofs gives every index the proof merkleProof gives it", () => {
    fc.assert(
      fc.property(treeAndIndex, ([items]) => {
        expect(merkleProofs(items)).toEqual(items.map((_, i) => merkleProof(items, i)));
      }),
      { seed: SEED, numRuns: 100 },
    );
    expect(merkleProofs([])).toEqual([]);
  });

  it("reject a flipped bit in the item, the leaf hash, an aunt or the root", () => {
    fc.assert(
      fc.property(treeAndIndex, ([items, index, bit]) => {
        const root = merkleRoot(items);
        const proof = merkleProof(items, index);
        expect(verifyMerkleProof(root, proof, flip(items[index], bit))).toBe(false);
        expect(verifyMerkleProof(root, { ...proof, leafHash: flip(proof.leafHash, bit) }, items[index])).toBe(false);
        expect(verifyMerkleProof(flip(root, bit), proof, items[index])).toBe(false);
        if (proof.aunts.length > 0) {
          const aunts = proof.aunts.map((aunt, i) => (i === bit % proof.aunts.length ? flip(aunt, bit) : aunt));
          expect(verifyMerkleProof(root, { ...proof, aunts }, items[index])).toBe(false);
        }
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  // As in CometBFT, the root does not bind `total` beyond the path it implies (11 and 12 items give
  // index 6 the same path), so only totals that change the path fail.
  it("reject a wrong index, a total that changes the path, or aunts added or dropped", () => {
    const items = Array.from({ length: 11 }, (_, i) => item(i));
    const root = merkleRoot(items);
    const proof = merkleProof(items, 6);
    const variants: MerkleProof[] = [
      { ...proof, index: 7 },
      { ...proof, index: -1 },
      { ...proof, total: 7 },
      { ...proof, total: 6 },
      { ...proof, aunts: proof.aunts.slice(1) },
      { ...proof, aunts: [...proof.aunts, proof.aunts[0]] },
    ];
    expect(verifyMerkleProof(root, proof, items[6])).toBe(true);
    for (const variant of variants) expect(verifyMerkleProof(root, variant, items[6])).toBe(false);
    expect(() => merkleProof(items, 11)).toThrow(RangeError);
  });
});

// Both engines of the addon; none with METRO_NO_NATIVE=1, when merkleRoot is the JavaScript one.
const natives = (
  [
    ["native (default engine)", nativeMerkle],
    ["native (openssl engine)", nativeOpenSslMerkle],
  ] as [string, NativeMerkle | undefined][]
).filter((entry): entry is [string, NativeMerkle] => entry[1] !== undefined);

describe("the native tree hashing", () => {
  it("is in use after npm install, and off with METRO_NO_NATIVE=1", () => {
    if (process.env.METRO_NO_NATIVE === "1") {
      expect(nativeMerkle).toBeUndefined();
      expect(merkleRoot).toBe(jsMerkleRoot);
    } else {
      expect(nativeMerkle).toBeDefined();
      expect(merkleRoot).not.toBe(jsMerkleRoot);
    }
  });

  // Runs of equal lengths (hashed two at a time) broken by other lengths (hashed alone), odd counts,
  // empty items, and items that are views into a larger buffer.
  const itemsArb = fc
    .array(fc.tuple(fc.nat(4), fc.uint8Array({ maxLength: 130 })), { maxLength: 90 })
    .map((runs) => runs.flatMap(([repeat, bytes]) => Array.from({ length: repeat + 1 }, (_, i) => (i % 2 === 0 ? bytes : Buffer.concat([Buffer.of(9), bytes]).subarray(1)))));

  it.each(natives)("%s: roots, leaf hashes and digests byte for byte as the JavaScript reference", (_, native) => {
    fc.assert(
      fc.property(itemsArb, (items) => {
        expect(native.merkleRootOfItems(items)).toEqual(jsMerkleRoot(items));
        expect(native.merkleRootOfItems(items)).toEqual(referenceMerkleRoot(items));
        const leaves = native.sha256Items(items, 0);
        const digests = native.sha256Items(items, -1);
        expect(leaves.length).toBe(32 * items.length);
        items.forEach((item, i) => {
          expect(leaves.subarray(32 * i, 32 * (i + 1))).toEqual(merkleLeafHash(item));
          expect(digests.subarray(32 * i, 32 * (i + 1))).toEqual(sha(item));
        });
      }),
      { seed: SEED, numRuns: 150 },
    );
    // A block's worth of same-size items, as the sequencer's part set and data hash have.
    const block = Array.from({ length: 5001 }, (_, i) => sha(Uint8Array.of(i & 0xff, i >> 8)));
    expect(native.merkleRootOfItems(block)).toEqual(jsMerkleRoot(block));
  });

  it.each(natives)("%s: refuses what is not an array of Uint8Arrays", (_, native) => {
    expect(() => native.merkleRootOfItems("abc" as unknown as Uint8Array[])).toThrow(/array of Uint8Arrays/);
    expect(() => native.merkleRootOfItems([Uint8Array.of(1), [1, 2] as unknown as Uint8Array])).toThrow(/Uint8Array/);
    expect(() => native.sha256Items([Uint8Array.of(1)], 256)).toThrow(/prefix/);
  });

  it("sha256Each and merkleProofs give the reference's hashes on whichever path is in use", () => {
    const items = Array.from({ length: 37 }, (_, i) => new Uint8Array(i % 5).fill(i));
    expect(sha256Each(items)).toEqual(items.map((item) => sha(item)));
    expect(merkleProofs(items).map((proof) => proof.leafHash)).toEqual(items.map((item) => sha(Uint8Array.of(0), item)));
  });
});
