import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  blobMinSquareSize,
  blobSharesUsedNonInteractiveDefaults,
  layoutSquare,
  nextShareIndex,
  roundDownPowerOfTwo,
  roundUpByMultipleOf,
  roundUpPowerOfTwo,
  sharePosition,
  SquareTooSmallError,
  subtreeWidth,
  worstCasePadding,
  type SquareLayout,
} from "../../celestia/square-layout.ts";
import { vectors as shared } from "./helpers/celestia-vectors.ts";

const SEED = 424242;
console.log(`square-layout.test.ts: fast-check seed ${SEED}`);

// celestiaorg/go-square (v4, e90d9b2) inclusion/blob_share_commitment_rules_test.go table tests, subtree root threshold 64.
const goSquare = {
  subtree_root_threshold: 64,
  // TestBlobSharesUsedNonInteractiveDefaults: [cursor, shares used, blob share counts, start indexes]
  blob_shares_used: [
    [2, 1, [1], [2]],
    [3, 6, [3, 3], [3, 6]],
    [0, 8, [8], [0]],
    [1, 6, [3, 3], [1, 4]],
    [1, 32, Array(32).fill(1), Array.from({ length: 32 }, (_, i) => i + 1)],
    [3, 12, [5, 7], [3, 8]],
    [0, 20, [5, 5, 5, 5], [0, 5, 10, 15]],
    [0, 10, [10], [0]],
    [0, 0, [0], [0]],
    [1, 20, [10, 10], [1, 11]],
    [0, 1000, [1000], [0]],
    [0, 129, [129], [0]],
    [1, 385, [128, 128, 128], [2, 130, 258]],
    [1024, 32, [32], [1024]],
  ] as [number, number, number[], number[]][],
  // TestNextShareIndex: [cursor, blob share count, expected index]
  next_share_index: [
    [0, 4, 0], [1, 2, 1], [2, 2, 2], [3, 4, 3], [3, 5, 3], [3, 2, 3], [1, 12, 1], [10291, 1, 10291], [11, 2, 11],
    [11, 11, 11], [11, 64, 11], [64, 65, 64], [64, 63, 64], [1, 63, 1], [1, 16256, 128], [1, 8192, 128], [1, 4096, 64], [1, 8193, 128],
  ],
  // TestRoundUpByMultipleOf: [cursor, v, expected]
  round_up_by_multiple_of: [[1, 2, 2], [2, 2, 2], [0, 2, 0], [5, 2, 6], [8, 16, 16], [33, 1, 33], [32, 16, 32], [33, 16, 48]],
  // TestRoundUpPowerOfTwo: [input, want] (the 32-bit and larger inputs left out)
  round_up_power_of_two: [[-1, 1], [0, 1], [1, 1], [2, 2], [4, 4], [5, 8], [8, 8], [11, 16], [511, 512], [1073741824, 1073741824], [1073741825, 2147483648]],
  // TestBlobMinSquareSize: [share count, want]
  blob_min_square_size: [[0, 1], [1, 1], [2, 2], [3, 2], [4, 2], [5, 4], [16, 4], [17, 8]],
  // TestSubTreeWidth: [share count, want]
  subtree_width: [[0, 1], [1, 1], [2, 1], [64, 1], [65, 2], [63, 1], [128, 2], [129, 4], [191, 4], [256, 4], [320, 8], [8191, 128]],
};

describe("go-square rules (shared vectors.json)", () => {
  it("subtree_width_threshold_64", () => {
    for (const [n, w] of shared.subtree_width_threshold_64) expect(subtreeWidth(n, 64), `n=${n}`).toBe(w);
  });

  it("blob_shares_used_non_interactive_defaults", () => {
    for (const c of shared.blob_shares_used_non_interactive_defaults) {
      expect(blobSharesUsedNonInteractiveDefaults(c.cursor, c.blob_share_lens, 64)).toEqual({ sharesUsed: c.shares_used, startIndexes: c.start_indexes });
    }
  });
});

describe("go-square rules (its inclusion package's table tests)", () => {
  const t = goSquare.subtree_root_threshold;
  it("BlobSharesUsedNonInteractiveDefaults", () => {
    for (const [cursor, used, lens, starts] of goSquare.blob_shares_used) {
      expect(blobSharesUsedNonInteractiveDefaults(cursor, lens, t)).toEqual({ sharesUsed: used, startIndexes: starts });
    }
  });
  it("NextShareIndex", () => {
    for (const [cursor, len, want] of goSquare.next_share_index) expect(nextShareIndex(cursor, len, t), `${cursor},${len}`).toBe(want);
  });
  it("RoundUpByMultipleOf, RoundUpPowerOfTwo, BlobMinSquareSize, SubTreeWidth", () => {
    for (const [c, v, want] of goSquare.round_up_by_multiple_of) expect(roundUpByMultipleOf(c, v)).toBe(want);
    for (const [n, want] of goSquare.round_up_power_of_two) expect(roundUpPowerOfTwo(n)).toBe(want);
    for (const [n, want] of goSquare.blob_min_square_size) expect(blobMinSquareSize(n)).toBe(want);
    for (const [n, want] of goSquare.subtree_width) expect(subtreeWidth(n, t)).toBe(want);
  });
  it("rejects what go-square rejects", () => {
    expect(() => roundUpByMultipleOf(10, 0)).toThrow(RangeError);
    expect(() => subtreeWidth(10, 0)).toThrow(/positive/);
    expect(() => roundDownPowerOfTwo(0)).toThrow(RangeError);
    expect(roundDownPowerOfTwo(1)).toBe(1);
    expect(roundDownPowerOfTwo(11)).toBe(8);
    expect(roundDownPowerOfTwo(64)).toBe(64);
  });
  it("a blob's subtree width never exceeds the smallest square that holds it", () => {
    for (let n = 1; n <= 20000; n += 7) {
      const w = subtreeWidth(n);
      expect(w).toBeLessThanOrEqual(blobMinSquareSize(n));
      expect(w & (w - 1)).toBe(0);
    }
  });
});

describe("layoutSquare", () => {
  it("no blobs, nothing before: the 1x1 empty square of one tail-padding share", () => {
    const l = layoutSquare([]);
    expect(l.squareSize).toBe(1);
    expect(l.tailPadding).toEqual({ start: 0, end: 1 });
    expect(l.reservedPadding).toEqual({ start: 0, end: 0 });
  });

  it("a local server's square (no leading shares): worked example", () => {
    // 3 shares (width 1) at 0; 65 shares (width 2) at 4 after one padding share; 1 share at 69.
    const l = layoutSquare([3, 65, 1]);
    expect(l.blobs.map((b) => [b.start, b.end, b.subtreeWidth])).toEqual([
      [0, 3, 1],
      [4, 69, 2],
      [69, 70, 1],
    ]);
    expect(l.namespacePadding).toEqual([{ start: 3, end: 4, afterBlob: 0 }]);
    expect(l.usedShares).toBe(70);
    // builder sizing reserves width-1 padding per blob: 3 + (65 + 1) + 1 = 70 -> 16x16 (81 > 64)
    expect(l.sizingShares).toBe(70);
    expect(l.squareSize).toBe(16);
    expect(l.tailPadding).toEqual({ start: 70, end: 256 });
  });

  it("leading (transaction) shares push blobs and are followed by reserved padding", () => {
    // go-square test vector: cursor 1, three blobs of 128 shares start at 2, 130, 258
    const l = layoutSquare([128, 128, 128], { leadingShares: 1 });
    expect(l.blobs.map((b) => b.start)).toEqual([2, 130, 258]);
    expect(l.reservedPadding).toEqual({ start: 1, end: 2 });
    expect(l.namespacePadding).toEqual([]);
    expect(l.usedShares).toBe(386);
    expect(l.sizingShares).toBe(1 + 3 * 129);
    expect(l.squareSize).toBe(32);
  });

  it("builder sizing can pick a larger square than tight sizing, never a smaller one", () => {
    const lens = [1, 65, 1, 65, 1, 65, 1];
    const builder = layoutSquare(lens, { maxSquareSize: 512 });
    const tight = layoutSquare(lens, { maxSquareSize: 512, sizing: "tight" });
    expect(builder.blobs).toEqual(tight.blobs);
    // 1 | pad | 65 at 2..67 | 1 | 65 at 68..133 | 1 | 65 at 134..199 | 1
    expect(tight.blobs.map((b) => b.start)).toEqual([0, 2, 67, 68, 133, 134, 199]);
    expect(tight.usedShares).toBe(200);
    expect(builder.sizingShares).toBe(4 + 3 * 66);
    expect([builder.squareSize, tight.squareSize]).toEqual([16, 16]);
    // 254 shares (subtree width 4) then 2: they fill a 16x16 square exactly, but the builder
    // reserves 3 padding shares for the first blob: 257 > 256, so Celestia would use 32x32.
    expect(layoutSquare([254, 2], { sizing: "tight" }).squareSize).toBe(16);
    expect(layoutSquare([254, 2]).squareSize).toBe(32);
    expect(layoutSquare([255, 2], { sizing: "tight" }).squareSize).toBe(32); // 255 + 2 = 257
    expect(layoutSquare([129, 126], { sizing: "tight" }).squareSize).toBe(16); // 129 at 0 (w 4), 126 at 130 (w 2): 256
    expect(layoutSquare([129, 126]).squareSize).toBe(32); // builder: 129+3 + 126+1 = 259
  });

  it("sorts by namespace, stably, and reports input positions", () => {
    const ns = (b: number) => {
      const n = new Uint8Array(29);
      n[28] = b;
      return n;
    };
    const l = layoutSquare([
      { shares: 2, namespace: ns(9) },
      { shares: 1, namespace: ns(3) },
      { shares: 3, namespace: ns(9) },
      { shares: 1, namespace: ns(3) },
    ]);
    expect(l.blobs.map((b) => b.inputIndex)).toEqual([1, 3, 0, 2]);
    expect(l.blobs.map((b) => b.start)).toEqual([0, 1, 2, 4]);
    expect(() => layoutSquare([{ shares: 1, namespace: ns(1) }, { shares: 1 }])).toThrow(/every blob/);
  });

  it("enforces the max square size, with a clear error", () => {
    // 16385 shares: subtree width 256, so the builder counts 16385 + 255
    expect(() => layoutSquare([128 * 128 + 1])).toThrow(SquareTooSmallError);
    expect(() => layoutSquare([128 * 128 + 1])).toThrow(/need 16640 shares \(builder sizing\) .* 128x128, holds 16384/);
    expect(() => layoutSquare([128 * 128 + 1], { sizing: "tight" })).toThrow(/need 16385 shares \(tight sizing\)/);
    // a blob that fills the square exactly fits tightly, but not by go-square's builder rule
    // (it reserves subtree width - 1 = 127 padding shares for it)
    expect(layoutSquare([128 * 128], { sizing: "tight" }).squareSize).toBe(128);
    expect(() => layoutSquare([128 * 128])).toThrow(/need 16511 shares/);
    expect(layoutSquare([128 * 128 - 127]).squareSize).toBe(128);
    expect(layoutSquare([200000], { maxSquareSize: 512 }).squareSize).toBe(512);
    expect(() => layoutSquare([1], { leadingShares: 5, maxSquareSize: 2 })).toThrow(/need 6 shares .* 2x2, holds 4/);
    expect(() => layoutSquare([1], { maxSquareSize: 1024 })).toThrow(/power of two from 1 to 512/);
    expect(() => layoutSquare([1], { maxSquareSize: 96 })).toThrow(/power of two/);
    expect(() => layoutSquare([0])).toThrow(/positive integer/);
    expect(() => layoutSquare([1.5])).toThrow(/positive integer/);
    expect(() => layoutSquare([1], { leadingShares: -1 })).toThrow(/non-negative/);
  });

  it("maps share indexes to positions in the extended square", () => {
    expect(sharePosition(0, 4)).toEqual({ row: 0, col: 0, extendedIndex: 0 });
    expect(sharePosition(5, 4)).toEqual({ row: 1, col: 1, extendedIndex: 9 });
    expect(sharePosition(15, 4)).toEqual({ row: 3, col: 3, extendedIndex: 27 });
  });

  const checkInvariants = (lens: number[], leading: number, l: SquareLayout, sizing: "builder" | "tight") => {
    const k = l.squareSize;
    expect(k & (k - 1)).toBe(0);
    expect(l.totalShares).toBe(k * k);
    let cursor = leading;
    let padding = 0;
    l.blobs.forEach((b, i) => {
      expect(b.shares).toBe(lens[b.inputIndex]);
      expect(b.start % b.subtreeWidth).toBe(0);
      expect(b.start).toBeGreaterThanOrEqual(cursor);
      // the padding before a blob is below its subtree width (go-square's MaxPadding check)
      expect(b.start - cursor).toBeLessThanOrEqual(worstCasePadding(b.shares));
      expect(b.start).toBe(nextShareIndex(cursor, b.shares));
      padding += b.start - cursor;
      cursor = b.end;
      if (i > 0) {
        const gap = l.namespacePadding.find((p) => p.afterBlob === i - 1);
        const expected = b.start - l.blobs[i - 1].end;
        expect(gap ? gap.end - gap.start : 0).toBe(expected);
      }
    });
    expect(l.usedShares).toBe(cursor);
    // the square is accounted for exactly
    const reserved = l.reservedPadding.end - l.reservedPadding.start;
    const nsPad = l.namespacePadding.reduce((a, p) => a + p.end - p.start, 0);
    const blobShares = l.blobs.reduce((a, b) => a + b.shares, 0);
    expect(leading + reserved + blobShares + nsPad + (l.tailPadding.end - l.tailPadding.start)).toBe(k * k);
    expect(reserved + nsPad).toBe(padding);
    // minimality of the chosen size for the sizing rule
    expect(l.sizingShares).toBeLessThanOrEqual(k * k);
    if (k > 1) expect(l.sizingShares).toBeGreaterThan((k / 2) * (k / 2));
    if (sizing === "builder") expect(l.sizingShares).toBe(leading + lens.reduce((a, n) => a + n + subtreeWidth(n) - 1, 0));
    else expect(l.sizingShares).toBe(l.usedShares);
  };

  it("invariants on random blob lists (both sizings)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 3000 })), { maxLength: 25 }),
        fc.integer({ min: 0, max: 40 }),
        (lens, leading) => {
          for (const sizing of ["builder", "tight"] as const) {
            let l: SquareLayout;
            try {
              l = layoutSquare(lens, { leadingShares: leading, maxSquareSize: 512, sizing });
            } catch (e) {
              expect(e).toBeInstanceOf(SquareTooSmallError);
              continue;
            }
            checkInvariants(lens, leading, l, sizing);
          }
          const b = layoutSquare(lens, { leadingShares: leading, maxSquareSize: 512 });
          const t = layoutSquare(lens, { leadingShares: leading, maxSquareSize: 512, sizing: "tight" });
          expect(b.squareSize).toBeGreaterThanOrEqual(t.squareSize);
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });
});
