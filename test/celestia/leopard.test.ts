import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { createHash, randomBytes } from "node:crypto";
import { encode, reconstruct, fieldTables, fieldBits, LeopardEncoder, MAX_GF8_DATA_SHARDS, setEngine, engineKind } from "../../celestia/leopard.ts";
import { referenceEncode } from "./helpers/rs-reference.ts";

const SEED = 20240611;
console.log(`leopard.test.ts: fast-check seed ${SEED}`);

const fill = (v: number, size = 512) => new Uint8Array(size).fill(v);
const rand = (size: number) => new Uint8Array(randomBytes(size));
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const xor = (a: Uint8Array, b: Uint8Array) => a.map((x, i) => x ^ b[i]);
const sha256Hex = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");

// eigerco/leopard-codec src/lut.rs tests: SHA-256 of each GF(2^8) table as comma-separated decimals; mul_lookup_table (test_data/expected_mul_lut.rs) as its 256 rows of 256 bytes.
const LEOPARD_GF8_SHA256 = {
  log: "c05005afe3f5b9b87807994bc81b0db218aca0f3b28fb77213594352382b290e",
  exp: "08c6f47f7c824e02dacbee5344b364c34c298e923de2f7a7969970de03366f55",
  fftSkew: "206e16680988ed306e500e31ad89ef236b86bcc4cd994225ee0668b9ac024e80",
  logWalsh: "63eedf48e2a521fa73c754c7a919f4a0ed1bd13b9bdff5c1bf2c60da3bfda6cf",
  mul: "0594d434a17220551db5b9ef6d1715db7065e84025af0174c1bffc5149ca61b1",
};

// celestiaorg/rsmt2d extendeddatasquare_test.go TestComputeExtendedDataSquare 1x1 and 2x2 (Leopard): each share is 512 copies of the byte given.
const RSMT2D_SQUARES = [
  { k: 1, eds: [[1, 1], [1, 1]] },
  { k: 2, eds: [[1, 2, 0, 3], [3, 4, 8, 15], [2, 11, 13, 4], [0, 13, 5, 8]] },
];

/** encode reproduces every row and column of rsmt2d's squares. */
function expectRsmt2dSquares(): void {
  for (const c of RSMT2D_SQUARES) {
    const w = 2 * c.k;
    for (let r = 0; r < w; r++) {
      const row = c.eds[r];
      const parity = encode(row.slice(0, c.k).map((x) => fill(x)));
      expect(parity.map((p) => p[0])).toEqual(row.slice(c.k));
      for (const p of parity) expect(p.every((b) => b === p[0])).toBe(true);
    }
    for (let col = 0; col < w; col++) {
      const column = c.eds.map((row) => row[col]);
      expect(encode(column.slice(0, c.k).map((x) => fill(x))).map((p) => p[0])).toEqual(column.slice(c.k));
    }
  }
}

describe("GF(2^8) tables (eigerco/leopard-codec vectors)", () => {
  const mine = fieldTables(8);
  it("log, exp, FFT skew and log-Walsh tables", () => {
    expect([mine.log, mine.exp, mine.fftSkew, mine.logWalsh].map((t) => t.length)).toEqual([256, 256, 255, 256]);
    expect(sha256Hex(mine.log.join(","))).toBe(LEOPARD_GF8_SHA256.log);
    expect(sha256Hex(mine.exp.join(","))).toBe(LEOPARD_GF8_SHA256.exp);
    expect(sha256Hex(mine.fftSkew.join(","))).toBe(LEOPARD_GF8_SHA256.fftSkew);
    expect(sha256Hex(mine.logWalsh.join(","))).toBe(LEOPARD_GF8_SHA256.logWalsh);
  });
  it("multiplication table (SHA-256 of 256 rows x 256 products)", () => {
    // Row logM holds x * exp(logM) for x = 0..255; encoding with the single-shard-per-value trick
    // would be indirect, so recompute the table from the exp/log tables the codec uses.
    const table = new Uint8Array(65536);
    for (let logM = 0; logM < 256; logM++) {
      for (let x = 0; x < 256; x++) {
        if (x === 0) continue;
        const s = mine.log[x] + logM;
        table[logM * 256 + x] = mine.exp[(s + (s >>> 8)) & 255];
      }
    }
    expect(sha256Hex(table)).toBe(LEOPARD_GF8_SHA256.mul);
  });
});

describe("encode: vectors", () => {
  it("rsmt2d TestComputeExtendedDataSquare 1x1 and 2x2 rows and columns", () => {
    expectRsmt2dSquares();
  });

  it("k = 1: the parity shard equals the data shard", () => {
    for (const size of [64, 512, 1024]) {
      const d = rand(size);
      expect(hex(encode([d])[0])).toBe(hex(d));
    }
  });
});

describe("encode: against an independent Lagrange-interpolation reference", () => {
  // Every k from 1 to 40 (all the truncation shapes of small FFTs), then larger ones of both fields.
  const cases: [number, number][] = [];
  for (let k = 1; k <= 40; k++) cases.push([k, 64]);
  cases.push([63, 128], [64, 512], [65, 64], [100, 64], [127, 64], [128, 512]); // GF(2^8)
  cases.push([129, 64], [200, 64], [256, 128], [384, 64], [512, 64]); // GF(2^16)
  it.each(cases)("k = %i, shard size %i", (k, size) => {
    const data = Array.from({ length: k }, () => rand(size));
    expect(encode(data).map(hex)).toEqual(referenceEncode(data).map(hex));
  });

  it("field selection follows klauspost: GF(2^8) up to 256 shards in total", () => {
    expect(fieldBits(1)).toBe(8);
    expect(fieldBits(MAX_GF8_DATA_SHARDS)).toBe(8);
    expect(fieldBits(MAX_GF8_DATA_SHARDS + 1)).toBe(16);
    expect(fieldBits(512)).toBe(16);
  });
});

describe("encode: properties", () => {
  const shardsArb = (maxK: number) =>
    fc.integer({ min: 1, max: maxK }).chain((k) =>
      fc.integer({ min: 1, max: 3 }).chain((blocks) =>
        fc.tuple(
          fc.array(fc.uint8Array({ minLength: 64 * blocks, maxLength: 64 * blocks }), { minLength: k, maxLength: k }),
          fc.array(fc.uint8Array({ minLength: 64 * blocks, maxLength: 64 * blocks }), { minLength: k, maxLength: k }),
        ),
      ),
    );

  it("is linear: encode(a ^ b) = encode(a) ^ encode(b)", () => {
    fc.assert(
      fc.property(shardsArb(140), ([a, b]) => {
        const pa = encode(a);
        const pb = encode(b);
        const pab = encode(a.map((x, i) => xor(x, b[i])));
        expect(pab.map(hex)).toEqual(pa.map((x, i) => hex(xor(x, pb[i]))));
      }),
      { seed: SEED, numRuns: 40 },
    );
  });

  it("works on 64-byte columns independently (encoding a long shard = encoding its chunks)", () => {
    const k = 9;
    const data = Array.from({ length: k }, () => rand(256));
    const whole = encode(data);
    for (let c = 0; c < 4; c++) {
      const part = encode(data.map((d) => d.slice(c * 64, c * 64 + 64)));
      expect(part.map(hex)).toEqual(whole.map((w) => hex(w.slice(c * 64, c * 64 + 64))));
    }
  });

  it("does not modify its input, and a reused encoder gives the same answer", () => {
    const data = Array.from({ length: 16 }, () => rand(512));
    const copy = data.map((d) => d.slice());
    const enc = new LeopardEncoder(16, 512);
    const first = enc.encode(data).map(hex);
    expect(enc.encode(data).map(hex)).toEqual(first);
    expect(data.map(hex)).toEqual(copy.map(hex));
    // unaligned input views
    const buf = new Uint8Array(16 * 512 + 1);
    const views = data.map((d, i) => {
      const v = buf.subarray(1 + i * 512, 1 + (i + 1) * 512);
      v.set(d);
      return v;
    });
    expect(encode(views).map(hex)).toEqual(first);
  });

  it("rejects bad input", () => {
    expect(() => encode([])).toThrow(/at least one/);
    expect(() => encode([new Uint8Array(100)])).toThrow(/multiple of 64/);
    expect(() => encode([new Uint8Array(64), new Uint8Array(128)])).toThrow(/128 bytes|64 bytes/);
    expect(() => new LeopardEncoder(40000, 64)).toThrow(/at most/);
  });
});

describe("reconstruct", () => {
  const erase = (k: number, lost: number[]) => {
    const data = Array.from({ length: k }, () => rand(128));
    const all = [...data, ...encode(data)];
    const holed: (Uint8Array | null)[] = all.slice();
    for (const i of lost) holed[i] = null;
    return { all, holed };
  };

  it("recovers any k of 2k shards (GF(2^8), random k and erasures)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 128 }).chain((k) => fc.tuple(fc.constant(k), fc.shuffledSubarray([...Array(2 * k).keys()], { minLength: 0, maxLength: k }))),
        ([k, lost]) => {
          const { all, holed } = erase(k, lost);
          expect(reconstruct(holed).map(hex)).toEqual(all.map(hex));
        },
      ),
      { seed: SEED, numRuns: 60 },
    );
  });

  it("recovers any k of 2k shards (GF(2^16))", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(129, 256, 300).chain((k) => fc.tuple(fc.constant(k), fc.shuffledSubarray([...Array(2 * k).keys()], { minLength: k, maxLength: k }))),
        ([k, lost]) => {
          const { all, holed } = erase(k, lost);
          expect(reconstruct(holed).map(hex)).toEqual(all.map(hex));
        },
      ),
      { seed: SEED, numRuns: 6 },
    );
  });

  it("recovers all data, all parity, and the worst mixes", () => {
    for (const k of [1, 2, 4, 32, 128]) {
      const firstHalf = [...Array(k).keys()];
      const secondHalf = firstHalf.map((i) => i + k);
      const alternate = [...Array(2 * k).keys()].filter((i) => i % 2 === 0);
      for (const lost of [firstHalf, secondHalf, alternate]) {
        const { all, holed } = erase(k, lost);
        expect(reconstruct(holed).map(hex)).toEqual(all.map(hex));
      }
    }
  });

  it("fails with fewer than k shards", () => {
    const { holed } = erase(4, [0, 1, 2, 3, 4]);
    expect(() => reconstruct(holed)).toThrow(/too few shards/);
    expect(() => reconstruct([null, null, null])).toThrow(/even number/);
  });
});

describe("kernels: WebAssembly SIMD and plain TypeScript agree", () => {
  it("WebAssembly SIMD is used by default on Node 22", () => {
    expect(engineKind()).toBe("wasm");
  });

  it.each([1, 2, 3, 4, 16, 33, 64, 128, 129, 256, 512])("encode and reconstruct, k = %i", (k) => {
    const size = k > 128 ? 128 : 512;
    const data = Array.from({ length: k }, () => rand(size));
    const lost = [...Array(2 * k).keys()].filter((i) => (i * 7 + k) % 3 === 0).slice(0, k);
    const run = () => {
      const parity = encode(data);
      const holed: (Uint8Array | null)[] = [...data, ...parity];
      for (const i of lost) holed[i] = null;
      return { parity: parity.map(hex), all: reconstruct(holed).map(hex) };
    };
    try {
      setEngine("wasm");
      const viaWasm = run();
      setEngine("js");
      const viaJs = run();
      expect(viaJs.parity).toEqual(viaWasm.parity);
      expect(viaJs.all).toEqual(viaWasm.all);
      expect(viaWasm.all).toEqual([...data.map(hex), ...viaWasm.parity]);
    } finally {
      setEngine("auto");
    }
  });

  it("the JS kernels alone reproduce the rsmt2d vectors", () => {
    try {
      setEngine("js");
      expectRsmt2dSquares();
    } finally {
      setEngine("auto");
    }
  });
});
