import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PARITY_SHARES_NAMESPACE, namespaceV0 } from "../../celestia/namespace.ts";
import {
  EMPTY_NMT_ROOT,
  NmtError,
  nmtLeafHashes,
  nmtMountainRoots,
  nmtRangeProofFromJson,
  nmtRangeProofToJson,
  nmtRoot,
  nmtTree,
  nmtTreeRoot,
  proveNmtRange,
  sharesNmtRoot,
  verifyNmtRangeProof,
  type NmtLeaf,
  type NmtRangeProof,
} from "../../celestia/nmt.ts";
import { jsNmtHasher, nmtHasher, type NmtHasher } from "../../celestia/nmt-hasher.ts";
import { referenceLeafHash, referenceNmtRoot, referenceNodeHash } from "./helpers/nmt-reference.ts";

const SEED = 20260524;
console.log(`nmt.test.ts: fast-check seed ${SEED}`);

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const sha = (...parts: Uint8Array[]) => {
  const h = createHash("sha256");
  for (const part of parts) h.update(part);
  return new Uint8Array(h.digest());
};
const flip = (bytes: Uint8Array, bit: number) => {
  const out = bytes.slice();
  out[(bit >> 3) % out.length] ^= 1 << (bit & 7);
  return out;
};

/** Namespaces in order; the last is the parity namespace. */
const NAMESPACES = [...[1, 2, 3, 4].map((i) => namespaceV0(Uint8Array.of(i, 0, 0, 0, 0, 0, 0, 0, 0, i))), PARITY_SHARES_NAMESPACE];
const A = NAMESPACES[0];
const B = NAMESPACES[1];

/** Distinct leaves in namespace order, parity (if any) last. */
const leavesArb = (minLength: number, maxLength: number): fc.Arbitrary<NmtLeaf[]> =>
  fc
    .array(fc.tuple(fc.nat(NAMESPACES.length - 1), fc.uint8Array({ maxLength: 80 })), { minLength, maxLength })
    .map((entries) =>
      entries.sort((x, y) => x[0] - y[0]).map(([i, data], index) => ({ namespace: NAMESPACES[i], data: Uint8Array.of(index, ...data) })),
    );

/** A tree and a range [start, end) inside one namespace's run of leaves. */
const provableArb = leavesArb(1, 70).chain((leaves) =>
  fc.nat(leaves.length - 1).chain((pick) => {
    const ns = leaves[pick].namespace;
    const first = leaves.findIndex((leaf) => leaf.namespace === ns);
    const last = leaves.findLastIndex((leaf) => leaf.namespace === ns) + 1;
    return fc
      .tuple(fc.integer({ min: first, max: last - 1 }), fc.integer({ min: 1, max: last - first }), fc.nat(1 << 16))
      .map(([start, length, bit]) => ({ leaves, start, end: Math.min(last, start + length), bit }));
  }),
);

const hashers: [string, NmtHasher][] = [
  ["default", nmtHasher],
  ["js", jsNmtHasher],
];

describe("NMT roots", () => {
  it("of no leaves is zero namespaces and sha256('')", () => {
    expect(EMPTY_NMT_ROOT).toEqual(Uint8Array.from([...new Uint8Array(58), ...sha()]));
    expect(nmtRoot([])).toEqual(EMPTY_NMT_ROOT);
  });

  it("of one leaf is ns || ns || sha256(0x00 || ns || data)", () => {
    const data = Uint8Array.of(1, 2, 3);
    expect(hex(nmtRoot([{ namespace: A, data }]))).toBe(hex(A) + hex(A) + hex(sha(Uint8Array.of(0), A, data)));
  });

  it("ignore the parity namespace for the max unless everything is parity", () => {
    const parity = { namespace: PARITY_SHARES_NAMESPACE, data: Uint8Array.of(9) };
    const root = nmtRoot([{ namespace: A, data: Uint8Array.of(1) }, parity]);
    expect(root.subarray(0, 29)).toEqual(A);
    expect(root.subarray(29, 58)).toEqual(A);
    expect(nmtRoot([{ namespace: A, data: Uint8Array.of(1) }, { namespace: B, data: Uint8Array.of(1) }]).subarray(29, 58)).toEqual(B);
    expect(nmtRoot([parity, parity]).subarray(0, 58)).toEqual(new Uint8Array(58).fill(0xff));
  });

  for (const [name, hasher] of hashers) {
    it(`match the plain recursive reference (${name} hasher)`, () => {
      fc.assert(
        fc.property(leavesArb(0, 70), (leaves) => {
          expect(hex(nmtRoot(leaves, hasher))).toBe(hex(referenceNmtRoot(leaves)));
        }),
        { seed: SEED, numRuns: 120 },
      );
    });
  }

  it("refuse leaves out of namespace order", () => {
    expect(() => nmtRoot([{ namespace: B, data: new Uint8Array(0) }, { namespace: A, data: new Uint8Array(0) }])).toThrow(NmtError);
  });

  it("of shares take the namespace from each data share and the parity namespace for the rest", () => {
    fc.assert(
      fc.property(fc.array(fc.nat(3), { minLength: 1, maxLength: 16 }), fc.nat(16), fc.integer(), (nsIndexes, extra, fill) => {
        const dataShares = nsIndexes.sort();
        const count = dataShares.length + (extra % (dataShares.length + 1));
        const shares = new Uint8Array(count * 512).map((_, i) => (i * 7 + fill) & 0xff);
        dataShares.forEach((n, i) => shares.set(NAMESPACES[n], i * 512));
        const leaves = Array.from({ length: count }, (_, i) => ({
          namespace: i < dataShares.length ? NAMESPACES[dataShares[i]] : PARITY_SHARES_NAMESPACE,
          data: shares.subarray(i * 512, (i + 1) * 512),
        }));
        expect(hex(sharesNmtRoot(shares, dataShares.length))).toBe(hex(referenceNmtRoot(leaves)));
      }),
      { seed: SEED, numRuns: 60 },
    );
  });

  it("of a merkle mountain range equal each run's own root", () => {
    const sizesArb = fc.array(fc.nat(6), { minLength: 1, maxLength: 6 }).map((exps) => exps.sort((x, y) => y - x).map((e) => 2 ** e));
    fc.assert(
      fc.property(sizesArb, fc.integer(), (sizes, fill) => {
        const total = sizes.reduce((sum, size) => sum + size, 0);
        const leaves = Array.from({ length: total }, (_, i) => ({ namespace: A, data: Uint8Array.of(i & 0xff, fill & 0xff) }));
        const roots = nmtMountainRoots(nmtLeafHashes(leaves), sizes);
        let at = 0;
        const expected = sizes.map((size) => referenceNmtRoot(leaves.slice(at, (at += size))));
        expect(hex(roots)).toBe(expected.map(hex).join(""));
      }),
      { seed: SEED, numRuns: 60 },
    );
    expect(nmtMountainRoots(nmtLeafHashes([]), [])).toHaveLength(0);
    expect(() => nmtMountainRoots(new Uint8Array(3 * 90), [1, 2])).toThrow(RangeError);
    expect(() => nmtMountainRoots(new Uint8Array(3 * 90), [3])).toThrow(RangeError);
  });
});

describe("NMT range proofs", () => {
  const prove = (leaves: NmtLeaf[], start: number, end: number) => {
    const tree = nmtTree(nmtLeafHashes(leaves));
    return { root: nmtTreeRoot(tree), proof: proveNmtRange(tree, start, end), datas: leaves.slice(start, end).map((leaf) => leaf.data) };
  };

  for (const [name, hasher] of hashers) {
    it(`verify for ranges inside a namespace (${name} hasher)`, () => {
      fc.assert(
        fc.property(provableArb, ({ leaves, start, end }) => {
          const { root, proof, datas } = prove(leaves, start, end);
          expect(verifyNmtRangeProof(root, proof, leaves[start].namespace, datas, hasher)).toBe(true);
        }),
        { seed: SEED, numRuns: 150 },
      );
    });
  }

  it("reject a flipped bit in a proof node, a leaf or the root", () => {
    fc.assert(
      fc.property(provableArb, ({ leaves, start, end, bit }) => {
        const { root, proof, datas } = prove(leaves, start, end);
        const ns = leaves[start].namespace;
        expect(verifyNmtRangeProof(flip(root, bit), proof, ns, datas)).toBe(false);
        const leafIndex = bit % datas.length;
        const badDatas = datas.map((data, i) => (i === leafIndex ? (data.length > 0 ? flip(data, bit) : Uint8Array.of(0)) : data));
        expect(verifyNmtRangeProof(root, proof, ns, badDatas)).toBe(false);
        if (proof.nodes.length > 0) {
          const nodes = proof.nodes.map((node, i) => (i === bit % proof.nodes.length ? flip(node, bit) : node));
          expect(verifyNmtRangeProof(root, { ...proof, nodes }, ns, datas)).toBe(false);
        }
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it("do not bind the tree's size, as in nmt: a range may move past the last leaf", () => {
    const [two, three] = [2, 3].map((count) => prove(Array.from({ length: count }, (_, i) => ({ namespace: A, data: Uint8Array.of(i) })), count - 1, count));
    expect(verifyNmtRangeProof(two.root, { ...two.proof, start: 2, end: 3 }, A, two.datas)).toBe(true);
    expect(verifyNmtRangeProof(three.root, { ...three.proof, start: 1, end: 2 }, A, three.datas)).toBe(true);
    expect(verifyNmtRangeProof(three.root, { ...three.proof, start: 0, end: 1 }, A, three.datas)).toBe(false);
  });

  it("reject a dropped or extra node, another namespace or a missing leaf", () => {

    fc.assert(
      fc.property(provableArb, ({ leaves, start, end }) => {
        const { root, proof, datas } = prove(leaves, start, end);
        const ns = leaves[start].namespace;
        const other = NAMESPACES.find((candidate) => candidate !== ns)!;
        const variants: NmtRangeProof[] = [{ ...proof, nodes: [...proof.nodes, root] }];
        if (proof.nodes.length > 0) variants.push({ ...proof, nodes: proof.nodes.slice(1) }, { ...proof, nodes: proof.nodes.slice(0, -1) });
        for (const variant of variants) expect(verifyNmtRangeProof(root, variant, ns, datas)).toBe(false);
        expect(verifyNmtRangeProof(root, proof, other, datas)).toBe(false);
        expect(verifyNmtRangeProof(root, proof, ns, datas.slice(1))).toBe(false);
      }),
      { seed: SEED, numRuns: 150 },
    );
  });

  it("list the subtree roots beside the range, left ones first", () => {
    const leaves = Array.from({ length: 8 }, (_, i) => ({ namespace: A, data: Uint8Array.of(i) }));
    const hashes = leaves.map(referenceLeafHash);
    const proof = proveNmtRange(nmtTree(nmtLeafHashes(leaves)), 2, 3);
    const right47 = referenceNodeHash(referenceNodeHash(hashes[4], hashes[5]), referenceNodeHash(hashes[6], hashes[7]));
    expect(proof.nodes.map(hex)).toEqual([referenceNodeHash(hashes[0], hashes[1]), hashes[3], right47].map(hex));
    expect(proveNmtRange(nmtTree(nmtLeafHashes(leaves)), 0, 8).nodes).toEqual([]);
  });

  it("refuse a namespace that sorts outside its neighbours", () => {
    // Leaves [A, B, B]: claim that leaf 1 is in namespace A's successor slot with a smaller namespace.
    const leaves = [A, B, B].map((namespace, i) => ({ namespace, data: Uint8Array.of(i) }));
    const tree = nmtTree(nmtLeafHashes(leaves));
    const proof = proveNmtRange(tree, 2, 3);
    const beforeA = namespaceV0(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 1));
    expect(verifyNmtRangeProof(nmtTreeRoot(tree), proof, B, [Uint8Array.of(2)])).toBe(true);
    expect(verifyNmtRangeProof(nmtTreeRoot(tree), proof, beforeA, [Uint8Array.of(2)])).toBe(false);
  });

  it("treat an empty range as nmt's VerifyInclusion does", () => {
    const root = nmtRoot([{ namespace: A, data: Uint8Array.of(1) }]);
    const empty: NmtRangeProof = { start: 0, end: 0, nodes: [], is_max_namespace_ignored: true };
    expect(verifyNmtRangeProof(root, empty, A, [])).toBe(true);
    expect(verifyNmtRangeProof(root, empty, A, [Uint8Array.of(1)])).toBe(false);
    expect(verifyNmtRangeProof(root, { ...empty, nodes: [root] }, A, [])).toBe(false);
  });

  it("require ignore-max-namespace proofs and valid ranges", () => {
    const leaves = [{ namespace: A, data: Uint8Array.of(1) }, { namespace: B, data: Uint8Array.of(2) }];
    const { root, proof } = prove(leaves, 0, 1);
    expect(verifyNmtRangeProof(root, proof, A, [Uint8Array.of(1)])).toBe(true);
    expect(verifyNmtRangeProof(root, { ...proof, is_max_namespace_ignored: false }, A, [Uint8Array.of(1)])).toBe(false);
    const tree = nmtTree(nmtLeafHashes(leaves));
    for (const [start, end] of [[1, 1], [-1, 1], [0, 3], [2, 1], [0.5, 1]]) expect(() => proveNmtRange(tree, start, end)).toThrow(RangeError);
  });
});

describe("NMT proof JSON", () => {
  it("is celestia-node's shape: zero start and empty fields left out", () => {
    const leaves = Array.from({ length: 4 }, (_, i) => ({ namespace: A, data: Uint8Array.of(i) }));
    const tree = nmtTree(nmtLeafHashes(leaves));
    const proof = proveNmtRange(tree, 0, 2);
    const json = nmtRangeProofToJson(proof);
    expect(Object.keys(json)).toEqual(["end", "nodes", "is_max_namespace_ignored"]);
    expect(json).toEqual({ end: 2, nodes: [Buffer.from(proof.nodes[0]).toString("base64")], is_max_namespace_ignored: true });
    expect(nmtRangeProofToJson(proveNmtRange(tree, 1, 2)).start).toBe(1);
    expect(nmtRangeProofToJson(proveNmtRange(tree, 0, 4))).toEqual({ end: 4, is_max_namespace_ignored: true });
  });

  it("round-trips and verifies after parsing", () => {
    const leaves = Array.from({ length: 5 }, (_, i) => ({ namespace: A, data: Uint8Array.of(i) }));
    const tree = nmtTree(nmtLeafHashes(leaves));
    const proof = proveNmtRange(tree, 1, 3);
    const parsed = nmtRangeProofFromJson(JSON.parse(JSON.stringify(nmtRangeProofToJson(proof))));
    expect(parsed).toEqual(proof);
    expect(verifyNmtRangeProof(nmtTreeRoot(tree), parsed, A, [Uint8Array.of(1), Uint8Array.of(2)])).toBe(true);
    const absence = nmtRangeProofFromJson({ start: 2, end: 3, nodes: null, leaf_hash: Buffer.from(proof.nodes[0]).toString("base64") });
    expect(absence).toEqual({ start: 2, end: 3, nodes: [], leaf_hash: proof.nodes[0], is_max_namespace_ignored: false });
  });

  it("refuses malformed JSON", () => {
    expect(() => nmtRangeProofFromJson([])).toThrow(NmtError);
    expect(() => nmtRangeProofFromJson({ start: -1 })).toThrow("start must be a non-negative integer");
    expect(() => nmtRangeProofFromJson({ end: "2" })).toThrow("end must be a non-negative integer");
    expect(() => nmtRangeProofFromJson({ nodes: "AA==" })).toThrow("nodes must be a list");
    expect(() => nmtRangeProofFromJson({ nodes: [1] })).toThrow("a node must be a base64 string");
    expect(() => nmtRangeProofFromJson({ is_max_namespace_ignored: 1 })).toThrow("must be a boolean");
  });
});
