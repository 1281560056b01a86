import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { frameLeaves, type Framing } from "../../celestia/framing.ts";
import { jsNmtHasher, nativeNmtHasher, nativeOpenSslNmtHasher, nmtHasher, nmtHasherKind, type NmtHasher } from "../../celestia/nmt-hasher.ts";
import { ERR_NODE_RANGE, ERR_SIBLING_ORDER } from "../../celestia/nmt-hasher-js.ts";
import { referenceLeafHash, referenceMerkleRoot, referenceNodeHash } from "./helpers/nmt-reference.ts";

const SEED = 20260525;
console.log(`nmt-hasher.test.ts: fast-check seed ${SEED}; hasher in use: ${nmtHasherKind}`);

const NS = 29;
const NODE = 90;
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

// Both engines of the addon; none with METRO_NO_NATIVE=1, which runs everything on the JavaScript hasher.
const natives = (
  [
    ["native (default engine)", nativeNmtHasher],
    ["native (openssl engine)", nativeOpenSslNmtHasher],
  ] as [string, NmtHasher | undefined][]
).filter((entry): entry is [string, NmtHasher] => entry[1] !== undefined);

describe("the native hasher", () => {
  // npm install builds it on every machine of this kind; METRO_NO_NATIVE=1 must switch it off.
  it("is in use after npm install, and off with METRO_NO_NATIVE=1", () => {
    if (process.env.METRO_NO_NATIVE === "1") {
      expect(nativeNmtHasher).toBeUndefined();
      expect(nmtHasher).toBe(jsNmtHasher);
    } else {
      expect(nativeNmtHasher).toBeDefined();
      expect(nmtHasher).toBe(nativeNmtHasher);
      expect(nmtHasherKind).toMatch(/^native (sha-ni|openssl)$/);
    }
  });
});

/** Namespace ranges in order: each node's min <= max, each right min >= left max; right mins sometimes parity. */
const levelArb = fc.array(fc.tuple(fc.boolean(), fc.uint8Array({ minLength: 32, maxLength: 32 })), { maxLength: 21 }).map((entries) => {
  const nodes = new Uint8Array(2 * entries.length * NODE);
  entries.forEach(([parity, digest], pair) => {
    for (let side = 0; side < 2; side++) {
      const at = (2 * pair + side) * NODE;
      const min = new Uint8Array(NS).fill(side === 1 && parity ? 0xff : 0x10 + 4 * side);
      const max = new Uint8Array(NS).fill(side === 1 && parity ? 0xff : 0x12 + 4 * side);
      nodes.set(min, at);
      nodes.set(max, at + NS);
      nodes.set(digest, at + 2 * NS);
    }
  });
  return nodes;
});

describe.each(natives)("the %s hasher agrees with the JavaScript one", (_, native) => {
  it("on hashLeaves, and both match the reference leaf hash", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 700 }), fc.nat(9), fc.integer(), (leafSize, count, fill) => {
        const namespaces = new Uint8Array(count * NS).map((_, i) => (i * 13 + fill) & 0xff);
        const data = new Uint8Array(count * leafSize).map((_, i) => (i * 7 + fill) & 0xff);
        const out = native.hashLeaves(namespaces, data, leafSize);
        expect(hex(out)).toBe(hex(jsNmtHasher.hashLeaves(namespaces, data, leafSize)));
        for (let i = 0; i < count; i++) {
          const leaf = { namespace: namespaces.subarray(i * NS, (i + 1) * NS), data: data.subarray(i * leafSize, (i + 1) * leafSize) };
          expect(hex(out.subarray(i * NODE, (i + 1) * NODE))).toBe(hex(referenceLeafHash(leaf)));
        }
      }),
      { seed: SEED, numRuns: 150 },
    );
  });

  it("at every message length mod 64 (SHA-256 padding), in pairs and alone", () => {
    for (let leafSize = 0; leafSize <= 130; leafSize++) {
      const namespaces = new Uint8Array(3 * NS).fill(leafSize);
      const data = new Uint8Array(3 * leafSize).map((_, i) => i);
      expect(hex(native.hashLeaves(namespaces, data, leafSize)), `leafSize ${leafSize}`).toBe(hex(jsNmtHasher.hashLeaves(namespaces, data, leafSize)));
    }
  });

  it("on hashFramedLeaves, which hashes frameLeaves' leaves", () => {
    const framingArb = fc.record({
      leafSize: fc.integer({ min: 2, max: 600 }),
      first: fc.uint8Array({ maxLength: 60 }),
      header: fc.uint8Array({ maxLength: 40 }),
    });
    fc.assert(
      fc.property(framingArb, fc.uint8Array({ minLength: 29, maxLength: 29 }), fc.nat(3000), fc.integer(), ({ leafSize, first, header }, namespace, length, fill) => {
        const framing: Framing = { firstHeader: first.subarray(0, leafSize), header: header.subarray(0, leafSize - 1), leafSize };
        const data = new Uint8Array(length).map((_, i) => (i * 5 + fill) & 0xff);
        const out = native.hashFramedLeaves(namespace, framing, data);
        expect(hex(out)).toBe(hex(jsNmtHasher.hashFramedLeaves(namespace, framing, data)));
        const leaves = frameLeaves(framing, data);
        const namespaces = new Uint8Array((leaves.length / leafSize) * NS).map((_, i) => namespace[i % NS]);
        expect(hex(out)).toBe(hex(jsNmtHasher.hashLeaves(namespaces, leaves, leafSize)));
      }),
      { seed: SEED, numRuns: 150 },
    );
  });

  it("on hashLevel, and both match the reference node hash", () => {
    fc.assert(
      fc.property(levelArb, (nodes) => {
        const out = native.hashLevel(nodes);
        expect(hex(out)).toBe(hex(jsNmtHasher.hashLevel(nodes)));
        for (let i = 0; i < out.length / NODE; i++) {
          const node = (j: number) => nodes.subarray(j * NODE, (j + 1) * NODE);
          expect(hex(out.subarray(i * NODE, (i + 1) * NODE))).toBe(hex(referenceNodeHash(node(2 * i), node(2 * i + 1))));
        }
      }),
      { seed: SEED, numRuns: 150 },
    );
  });

  it("on merkleRoot, and both match the reference RFC 6962 root", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.nat(70), fc.integer(), (itemSize, count, fill) => {
        const items = new Uint8Array(count * itemSize).map((_, i) => (i * 3 + fill) & 0xff);
        const expected = referenceMerkleRoot(Array.from({ length: count }, (_, i) => items.subarray(i * itemSize, (i + 1) * itemSize)));
        expect(hex(native.merkleRoot(items, itemSize))).toBe(hex(expected));
        expect(hex(jsNmtHasher.merkleRoot(items, itemSize))).toBe(hex(expected));
      }),
      { seed: SEED, numRuns: 150 },
    );
    for (const hasher of [native, jsNmtHasher]) {
      expect(() => hasher.merkleRoot(new Uint8Array(5), 2)).toThrow("whole number of positive-size items");
      expect(() => hasher.merkleRoot(new Uint8Array(0), 0)).toThrow("whole number of positive-size items");
    }
  });

  it("on hashLevel's refusals", () => {
    const pair = (leftMin: number, leftMax: number, rightMin: number, rightMax: number) => {
      const nodes = new Uint8Array(2 * NODE);
      [leftMin, leftMax, rightMin, rightMax].forEach((value, i) => nodes.fill(value, (i >> 1) * NODE + (i & 1) * NS, (i >> 1) * NODE + ((i & 1) + 1) * NS));
      return nodes;
    };
    for (const hasher of [native, jsNmtHasher]) {
      expect(() => hasher.hashLevel(pair(1, 2, 2, 3))).not.toThrow();
      expect(() => hasher.hashLevel(pair(2, 1, 3, 3))).toThrow(ERR_NODE_RANGE);
      expect(() => hasher.hashLevel(pair(1, 1, 3, 2))).toThrow(ERR_NODE_RANGE);
      expect(() => hasher.hashLevel(pair(1, 3, 2, 4))).toThrow(ERR_SIBLING_ORDER);
      expect(() => hasher.hashLevel(new Uint8Array(NODE))).toThrow("even number of 90-byte hashes");
      expect(() => hasher.hashLeaves(new Uint8Array(NS), new Uint8Array(3), 4)).toThrow("same number of leaves");
    }
  });
});
