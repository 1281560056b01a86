// Erasure coding: time to extend a k x k square of 512-byte shares to 2k x 2k with the Leopard
// codec (celestia/extended-square.ts), one thread, and the rate in MB/s of original data.
import { randomBytes } from "node:crypto";
import { extendSquare } from "../../celestia/extended-square.ts";
import { fieldBits } from "../../celestia/leopard.ts";
import type { BenchReport, BenchRow } from "./report.ts";

const SHARE = 512;

function timeExtend(k: number, minRuns: number, minMs: number): number[] {
  const ods = new Uint8Array(randomBytes(k * k * SHARE));
  extendSquare(ods, k); // warm up: tables, encoder, JIT
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minRuns || performance.now() - start < minMs) {
    const t0 = performance.now();
    extendSquare(ods, k);
    times.push(performance.now() - t0);
    if (times.length >= 200) break;
  }
  return times.sort((a, b) => a - b);
}

export async function run(): Promise<BenchReport> {
  const sizes = (process.env.ERASURE_BENCH_K ?? "16,32,64,128,256").split(",").map(Number);
  const rows: BenchRow[] = [];
  for (const k of sizes) {
    const times = timeExtend(k, k >= 256 ? 3 : 5, k >= 256 ? 0 : 1500);
    const median = times[Math.floor(times.length / 2)];
    const mb = (k * k * SHARE) / 1e6;
    rows.push({
      k,
      field: `GF(2^${fieldBits(k)})`,
      "original MB": +mb.toFixed(3),
      runs: times.length,
      "median ms": +median.toFixed(2),
      "min ms": +times[0].toFixed(2),
      "MB/s (original)": +(mb / (median / 1000)).toFixed(1),
      "encodes/s (one row or column)": Math.round((3 * k) / (median / 1000)),
    });
  }
  return {
    name: "erasure",
    title: "Leopard erasure coding: extend a k x k square of 512-byte shares to 2k x 2k (one thread)",
    rows,
    notes: [
      "Each extension is 3k Leopard encodings of k shards (rows of Q0, columns of Q0, rows of Q2), as rsmt2d does.",
      "MB/s counts the original k*k*512 bytes. Celestia blocks use k <= 128 (GF(2^8)); k = 256 and 512 switch to GF(2^16).",
      "Pure TypeScript on 32-bit words with 256-entry product tables; Go's klauspost/reedsolomon with AVX2/GFNI is a different class (SIMD table lookups).",
    ],
  };
}
