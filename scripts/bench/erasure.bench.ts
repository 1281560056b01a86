// Erasure coding: time to extend a k x k square of 512-byte shares to 2k x 2k with the Leopard
// codec (celestia/extended-square.ts), on one thread, and the rate in MB/s of original data.
// ERASURE_BENCH_K=16,32 picks the sizes.
import { randomBytes } from "node:crypto";
import { extendSquare, extendSquareInto } from "../../celestia/extended-square.ts";
import { engineKind, fieldBits, setEngine, type EngineKind } from "../../celestia/leopard.ts";
import type { BenchReport, BenchRow } from "./report.ts";

const SHARE = 512;

function timeIt(fn: () => void, minRuns: number, minMs: number): number[] {
  fn(); // warm up: tables, kernels, JIT
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minRuns || performance.now() - start < minMs) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
    if (times.length >= 200) break;
  }
  return times.sort((a, b) => a - b);
}

function measure(k: number, engine: EngineKind, reuse: boolean): BenchRow {
  setEngine(engine);
  const ods = new Uint8Array(randomBytes(k * k * SHARE));
  const out = new Uint8Array(4 * k * k * SHARE);
  const big = k >= 256 || (engine === "js" && k >= 128);
  const times = timeIt(reuse ? () => extendSquareInto(ods, k, out) : () => void extendSquare(ods, k), big ? 3 : 5, big ? 0 : 1500);
  const median = times[Math.floor(times.length / 2)];
  const mb = (k * k * SHARE) / 1e6;
  return {
    k,
    field: `GF(2^${fieldBits(k)})`,
    kernels: engine,
    output: reuse ? "reused" : "new",
    runs: times.length,
    "median ms": +median.toFixed(2),
    "min ms": +times[0].toFixed(2),
    "MB/s (original)": +(mb / (median / 1000)).toFixed(1),
  };
}

export async function run(): Promise<BenchReport> {
  const sizes = (process.env.ERASURE_BENCH_K ?? "16,32,64,128,256").split(",").map(Number);
  const before = engineKind();
  const rows: BenchRow[] = [];
  for (const k of sizes) {
    rows.push(measure(k, "wasm", false));
    rows.push(measure(k, "wasm", true));
  }
  for (const k of sizes.filter((x) => x <= 128)) rows.push(measure(k, "js", true));
  setEngine(before);
  return {
    name: "erasure",
    title: "Leopard erasure coding: extend a k x k square of 512-byte shares to 2k x 2k (one thread)",
    rows,
    notes: [
      "An extension is k row encodings (Q1) plus the column encodings of the top half (Q2, Q3), done in column slices of ~256 KiB of work.",
      "MB/s counts the original k*k*512 bytes. Celestia's squares are k <= 128 on mainnet (GF(2^8)); k = 256 and 512 use GF(2^16).",
      "kernels: wasm = WebAssembly SIMD nibble tables (i8x16.swizzle), the default; js = plain TypeScript on 32-bit words (fallback, METRO_LEOPARD_ENGINE=js).",
      "output: new = extendSquare allocates the (2k)^2 * 512-byte result each time (page faults included); reused = extendSquareInto a buffer kept between runs.",
    ],
  };
}
