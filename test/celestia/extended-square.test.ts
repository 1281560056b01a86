import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { existsSync, readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { extendSquare, shareAt } from "../../celestia/extended-square.ts";
import { encode } from "../../celestia/leopard.ts";
import { dataAvailabilityHeader, nmtRoot, rfc6962Root, axisLeaves, PARITY_NAMESPACE, NS_SIZE, toHex } from "./helpers/dah.ts";

const SEED = 7177;
console.log(`extended-square.test.ts: fast-check seed ${SEED}`);

const vec = (path: string) => JSON.parse(readFileSync(new URL(path, import.meta.url), "utf8"));
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");

function repeatedSquare(share: Uint8Array, k: number): Uint8Array {
  const sq = new Uint8Array(k * k * share.length);
  for (let i = 0; i < k * k; i++) sq.set(share, i * share.length);
  return sq;
}

describe("extendSquare: Celestia vectors", () => {
  it("reproduces a real k=4 extended square byte for byte, and its DAH roots (lumina / celestia-node)", () => {
    const v = vec("./vectors/leopard-eds-k4-lumina.json");
    const k = v.k as number;
    const eds: Uint8Array[] = v.eds.map((s: string) => new Uint8Array(Buffer.from(s, "base64")));
    const ods = new Uint8Array(k * k * 512);
    for (let r = 0; r < k; r++) for (let c = 0; c < k; c++) ods.set(eds[r * 2 * k + c], (r * k + c) * 512);
    const ext = extendSquare(ods, k);
    for (let i = 0; i < 4 * k * k; i++) expect(b64(ext.subarray(i * 512, (i + 1) * 512)), `share ${i}`).toBe(b64(eds[i]));
    const dah = dataAvailabilityHeader(ext, k);
    expect(dah.rowRoots.map(b64)).toEqual(v.row_roots);
    expect(dah.columnRoots.map(b64)).toEqual(v.column_roots);
  });

  it("reproduces rsmt2d's 1x1 and 2x2 extended squares", () => {
    const v = vec("./vectors/leopard-rsmt2d-2x2.json");
    for (const c of v.cases as { k: number; ods: number[][]; eds: number[][] }[]) {
      const ods = new Uint8Array(c.k * c.k * 512);
      c.ods.flat().forEach((x, i) => ods.fill(x, i * 512, (i + 1) * 512));
      const ext = extendSquare(ods, c.k);
      const got = Array.from({ length: 4 * c.k * c.k }, (_, i) => ext[i * 512]);
      expect(got).toEqual(c.eds.flat());
      for (let i = 0; i < 4 * c.k * c.k; i++) expect(ext.subarray(i * 512, (i + 1) * 512).every((b) => b === got[i])).toBe(true);
    }
  });

  it("the empty square (one tail-padding share) has Celestia's data hash (celestia-app MinDataAvailabilityHeader)", () => {
    // the team's shared vectors (shared/celestia-vectors/ beside the repo), or the repo's copy of them
    const sharedPath = "../../../shared/celestia-vectors/vectors.json";
    const shared = (existsSync(new URL(sharedPath, import.meta.url)) ? vec(sharedPath) : vec("./vectors/celestia-vectors.json")).empty_square;
    const tail = new Uint8Array(512);
    tail.fill(0xff, 0, 28);
    tail[28] = 0xfe; // tail padding namespace FF..FE
    tail[29] = 1; // info byte: share version 0, sequence start; sequence length 0; zero data
    const ext = extendSquare(tail, 1);
    // k = 1: the parity of one share is that share.
    for (let i = 1; i < 4; i++) expect(hex(shareAt(ext, 2, i >> 1, i & 1))).toBe(hex(tail));
    const dah = dataAvailabilityHeader(ext, 1);
    // (compare bytes: vectors.json's first root carries a stray "=" after 120 base64 characters)
    const roots = (shared.row_roots as string[]).map((r) => hex(new Uint8Array(Buffer.from(r, "base64"))));
    expect(dah.rowRoots.map(hex)).toEqual(roots);
    expect(dah.columnRoots.map(hex)).toEqual(roots);
    expect(toHex(dah.hash).toUpperCase()).toBe(shared.data_hash_hex);
  });

  const app = vec("./vectors/leopard-celestia-app-dah.json");
  const appShare = new Uint8Array(Buffer.from(app.share_hex, "hex"));
  for (const c of app.cases as { name: string; k: number; data_hash_hex: string }[]) {
    if (c.k > 128) continue;
    it(`celestia-app TestNewDataAvailabilityHeader "${c.name}" (k = ${c.k}) through extendSquare`, () => {
      const ext = extendSquare(repeatedSquare(appShare, c.k), c.k);
      expect(toHex(dataAvailabilityHeader(ext, c.k).hash)).toBe(c.data_hash_hex);
    });
  }

  it('celestia-app "max square size" (k = 512, GF(2^16)) via the structure of a constant square', () => {
    // Every original share is the same s. With P = encode([s] * k) and R_i = encode([P_i] * k):
    // rows 0..k-1 = [s..s | P], row k+i = [P_i..P_i | R_i]; the code is symmetric, so column j
    // equals row j. That needs k + 1 encodings instead of 3k/2 of 1024 shards and 512 MiB.
    const c = app.cases.find((x: { k: number }) => x.k === 512);
    const k = c.k as number;
    const P = encode(Array(k).fill(appShare));
    const leaf = (ns: Uint8Array, data: Uint8Array) => ({ ns, data });
    const sNs = appShare.subarray(0, NS_SIZE);
    const topRoot = nmtRoot([...Array(k).fill(leaf(sNs, appShare)), ...P.map((p) => leaf(PARITY_NAMESPACE, p))]);
    const bottom: Uint8Array[] = [];
    for (let i = 0; i < k; i++) {
      const Ri = encode(Array(k).fill(P[i]));
      bottom.push(nmtRoot([...Array(k).fill(leaf(PARITY_NAMESPACE, P[i])), ...Ri.map((r) => leaf(PARITY_NAMESPACE, r))]));
    }
    const rows = [...Array(k).fill(topRoot), ...bottom];
    expect(toHex(rfc6962Root([...rows, ...rows]))).toBe(c.data_hash_hex);
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

  it("row roots and column roots are consistent with the parity namespace rule", () => {
    const k = 4;
    const ext = extendSquare(new Uint8Array(randomBytes(k * k * 512)), k);
    const leaves = axisLeaves(ext, k, 0, false);
    expect(hex(leaves[k].ns)).toBe(hex(PARITY_NAMESPACE));
    expect(hex(leaves[0].ns)).toBe(hex(ext.subarray(0, NS_SIZE)));
  });

  it("rejects a buffer of the wrong size", () => {
    expect(() => extendSquare(new Uint8Array(512 * 3), 2)).toThrow(/expected 2x2/);
    expect(() => extendSquare(new Uint8Array(100), 1, 100)).toThrow(/multiple of 64/);
    expect(() => extendSquare(new Uint8Array(0), 0)).toThrow(/positive/);
  });
});
