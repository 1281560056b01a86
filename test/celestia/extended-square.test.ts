import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { createHash, randomBytes } from "node:crypto";
import { axisRoots } from "../../celestia/data-square.ts";
import { extendSquare, shareAt } from "../../celestia/extended-square.ts";
import { dataHash } from "../../celestia/header.ts";
import { encode, setEngine } from "../../celestia/leopard.ts";
import { merkleRoot } from "../../celestia/merkle.ts";
import { NAMESPACE_SIZE, namespaceV0, PARITY_SHARES_NAMESPACE, PAY_FOR_BLOB_NAMESPACE } from "../../celestia/namespace.ts";
import { sharesNmtRoot } from "../../celestia/nmt.ts";
import { splitBlob, tailPaddingShare } from "../../celestia/share.ts";
import { fromB64, vectors } from "./helpers/celestia-vectors.ts";

const SEED = 7177;
console.log(`extended-square.test.ts: fast-check seed ${SEED}`);

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const concat = (parts: readonly Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

// eigerco/lumina types/test_data/shwap_samples/dah.json (k = 4, from a celestia-node): SHA-256 of row roots 1-3 then column roots 1-3.
const LUMINA_K4_ROOTS_SHA256 = "a537617ff41108ef5c327614368698280a79218220918b4f6581a4ada0beb0ad";

// celestiaorg/rsmt2d extendeddatasquare_test.go TestComputeExtendedDataSquare 1x1 and 2x2 (Leopard): each share is 512 copies of the byte given.
const RSMT2D_SQUARES = [
  { k: 1, eds: [[1, 1], [1, 1]] },
  { k: 2, eds: [[1, 2, 0, 3], [3, 4, 8, 15], [2, 11, 13, 4], [0, 13, 5, 8]] },
];

// celestiaorg/celestia-app pkg/da/data_availability_header_test.go TestNewDataAvailabilityHeader (k = 128 up to commit 41365d8e0, k = 512 from 43b084983).
const APP_DAH_CASES = [
  { name: "typical", k: 2, dataHash: "b56e4d251ac266f4b91cc5464b3fc7efcbdc888064647496d13133f0dc65ac25" },
  { name: "max square size (v5 and earlier, 128)", k: 128, dataHash: "0bd3abeeacfbb0b92dfbdac4a154868e3c4e79666f7fcf6c620bb90dd3a0dcf0" },
  { name: "max square size (512)", k: 512, dataHash: "8f7dd2fc5f70d9c3cac77e815e009d694cd6d249e762dbbbb199b7177d6ad388" },
];
// Its generateShares: k * k copies of one share, a v0 namespace with ten 0x01 id bytes and then 0xFF.
const appShare = new Uint8Array(512).fill(0xff);
appShare.set(namespaceV0(new Uint8Array(10).fill(1)));

function repeatedSquare(share: Uint8Array, k: number): Uint8Array {
  const sq = new Uint8Array(k * k * share.length);
  for (let i = 0; i < k * k; i++) sq.set(share, i * share.length);
  return sq;
}

describe("extendSquare: Celestia vectors", () => {
  // lumina's eds.json: share 0 is a pay-for-blob transaction; a blob of 492 bytes 0x76 in namespace
  // v0 ..01aa takes shares 1-2, one of 2028 bytes 0x98 in v0 ..01bb shares 3-7, tail padding 8-15.
  // Rows 1-3 and columns 1-3 (with their parity) never meet share 0, so they are rebuilt here.
  it.each(["wasm", "js"] as const)("rebuilds the rows and columns of a real k = 4 square that hold no transaction (lumina / celestia-node, %s kernels)", (engine) => {
    const k = 4;
    const blob = (id: number, byte: number, length: number) =>
      splitBlob({ namespace: namespaceV0(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 1, id)), data: new Uint8Array(length).fill(byte), shareVersion: 0 });
    const ods = new Uint8Array(k * k * 512);
    ods.set(PAY_FOR_BLOB_NAMESPACE); // stands in for the transaction share, which those roots do not cover
    const [a, b] = [blob(0xaa, 0x76, 492), blob(0xbb, 0x98, 2028)];
    expect([a.length, b.length]).toEqual([2 * 512, 5 * 512]);
    ods.set(a, 512);
    ods.set(b, 3 * 512);
    for (let i = 8; i < 16; i++) ods.set(tailPaddingShare(), i * 512);
    let ext: Uint8Array;
    try {
      setEngine(engine);
      ext = extendSquare(ods, k);
    } finally {
      setEngine("auto");
    }
    const { rowRoots, columnRoots } = axisRoots(ext, k);
    const digest = createHash("sha256").update(concat([...rowRoots.slice(1, 4), ...columnRoots.slice(1, 4)])).digest("hex");
    expect(digest).toBe(LUMINA_K4_ROOTS_SHA256);
  });

  it("reproduces rsmt2d's 1x1 and 2x2 extended squares", () => {
    for (const c of RSMT2D_SQUARES) {
      const ods = new Uint8Array(c.k * c.k * 512);
      c.eds.slice(0, c.k).flatMap((row) => row.slice(0, c.k)).forEach((x, i) => ods.fill(x, i * 512, (i + 1) * 512));
      const ext = extendSquare(ods, c.k);
      const got = Array.from({ length: 4 * c.k * c.k }, (_, i) => ext[i * 512]);
      expect(got).toEqual(c.eds.flat());
      for (let i = 0; i < 4 * c.k * c.k; i++) expect(ext.subarray(i * 512, (i + 1) * 512).every((b) => b === got[i])).toBe(true);
    }
  });

  it("the empty square (one tail-padding share) has Celestia's data hash (celestia-app MinDataAvailabilityHeader)", () => {
    const tail = tailPaddingShare();
    const ext = extendSquare(tail, 1);
    // k = 1: the parity of one share is that share.
    for (let i = 1; i < 4; i++) expect(hex(shareAt(ext, 2, i >> 1, i & 1))).toBe(hex(tail));
    const dah = axisRoots(ext, 1);
    // (compare bytes: vectors.json's first root carries a stray "=" after 120 base64 characters)
    const roots = vectors.empty_square.row_roots.map((r) => hex(fromB64(r)));
    expect(dah.rowRoots.map(hex)).toEqual(roots);
    expect(dah.columnRoots.map(hex)).toEqual(roots);
    expect(hex(dataHash(dah)).toUpperCase()).toBe(vectors.empty_square.data_hash_hex);
  });

  for (const c of APP_DAH_CASES) {
    if (c.k > 128) continue;
    it(`celestia-app TestNewDataAvailabilityHeader "${c.name}" (k = ${c.k}) through extendSquare`, () => {
      const ext = extendSquare(repeatedSquare(appShare, c.k), c.k);
      expect(hex(dataHash(axisRoots(ext, c.k)))).toBe(c.dataHash);
    });
  }

  it('celestia-app "max square size" (k = 512, GF(2^16)) via the structure of a constant square', () => {
    // Every original share is the same s. With P = encode([s] * k) and R_i = encode([P_i] * k):
    // rows 0..k-1 = [s..s | P], row k+i = [P_i..P_i | R_i]; the code is symmetric, so column j
    // equals row j. That needs k + 1 encodings instead of 3k/2 of 1024 shards and 512 MiB.
    const c = APP_DAH_CASES.find((x) => x.k === 512)!;
    const k = c.k;
    const P = encode(Array(k).fill(appShare));
    const topRoot = sharesNmtRoot(concat([...Array(k).fill(appShare), ...P]), k);
    const bottom: Uint8Array[] = [];
    for (let i = 0; i < k; i++) {
      const Ri = encode(Array(k).fill(P[i]));
      bottom.push(sharesNmtRoot(concat([...Array(k).fill(P[i]), ...Ri]), 0));
    }
    const rows = [...Array(k).fill(topRoot), ...bottom];
    expect(hex(merkleRoot([...rows, ...rows]))).toBe(c.dataHash);
  }, 120_000);

  it("the constant-square shortcut above agrees with the full extension (k = 8, 16)", () => {
    for (const k of [8, 16]) {
      const share = new Uint8Array(randomBytes(512));
      const ext = extendSquare(repeatedSquare(share, k), k);
      const P = encode(Array(k).fill(share));
      for (let i = 0; i < k; i++) {
        expect(hex(shareAt(ext, 2 * k, 0, k + i))).toBe(hex(P[i]));
        expect(hex(shareAt(ext, 2 * k, k + i, 0))).toBe(hex(P[i]));
        const Ri = encode(Array(k).fill(P[i]));
        for (let j = 0; j < k; j++) expect(hex(shareAt(ext, 2 * k, k + i, k + j))).toBe(hex(Ri[j]));
      }
    }
  });
});

describe("extendSquare: properties", () => {
  it("every row and every column of the result is a codeword, and Q0 is kept", () => {
    fc.assert(
      fc.property(fc.constantFrom(1, 2, 3, 4, 8, 16, 32), fc.constantFrom(64, 512), fc.integer(), (k, size, salt) => {
        const ods = new Uint8Array(randomBytes(k * k * size));
        ods[0] ^= salt & 255;
        const ext = extendSquare(ods, k, size);
        const w = 2 * k;
        for (let r = 0; r < k; r++) expect(hex(ext.subarray(r * w * size, (r * w + k) * size))).toBe(hex(ods.subarray(r * k * size, (r + 1) * k * size)));
        for (let i = 0; i < w; i++) {
          const row = Array.from({ length: w }, (_, j) => shareAt(ext, w, i, j, size));
          expect(encode(row.slice(0, k)).map(hex)).toEqual(row.slice(k).map(hex));
          const col = Array.from({ length: w }, (_, j) => shareAt(ext, w, j, i, size));
          expect(encode(col.slice(0, k)).map(hex)).toEqual(col.slice(k).map(hex));
        }
      }),
      { seed: SEED, numRuns: 15 },
    );
  });

  it("row and column roots: original shares keep their namespace, parity shares are in the parity namespace", () => {
    const k = 4;
    const ods = new Uint8Array(randomBytes(k * k * 512));
    // ascending namespaces in row-major order, so rows and columns are both sorted
    for (let i = 0; i < k * k; i++) ods.set(namespaceV0(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 1, i)), i * 512);
    const { rowRoots, columnRoots } = axisRoots(extendSquare(ods, k), k);
    const ns = (share: number) => hex(ods.subarray(share * 512, share * 512 + NAMESPACE_SIZE));
    const range = (root: Uint8Array) => [hex(root.subarray(0, NAMESPACE_SIZE)), hex(root.subarray(NAMESPACE_SIZE, 2 * NAMESPACE_SIZE))];
    const parity = hex(PARITY_SHARES_NAMESPACE);
    for (let i = 0; i < k; i++) {
      // the parity half of an original row or column does not raise its max namespace
      expect(range(rowRoots[i])).toEqual([ns(i * k), ns(i * k + k - 1)]);
      expect(range(columnRoots[i])).toEqual([ns(i), ns((k - 1) * k + i)]);
      expect(range(rowRoots[k + i])).toEqual([parity, parity]);
      expect(range(columnRoots[k + i])).toEqual([parity, parity]);
    }
  });

  it("rejects a buffer of the wrong size", () => {
    expect(() => extendSquare(new Uint8Array(512 * 3), 2)).toThrow(/expected 2x2/);
    expect(() => extendSquare(new Uint8Array(100), 1, 100)).toThrow(/multiple of 64/);
    expect(() => extendSquare(new Uint8Array(0), 0)).toThrow(/positive/);
  });
});
