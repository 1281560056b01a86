// The extended data square (EDS): the k x k original square of shares erasure-coded to 2k x 2k
// with the Leopard codec, laid out exactly as rsmt2d's ComputeExtendedDataSquare does:
//
//   Q0 | Q1        Q1 = rows of Q0 extended (row i, columns k..2k-1)
//   ---+---        Q2 = columns of Q0 extended (rows k..2k-1, column j)
//   Q2 | Q3        Q3 = rows of Q2 extended (rsmt2d) = columns of Q1 extended (here)
//
// Q3 is the same whether Q2's rows or Q1's columns are extended, as rsmt2d's own comment says:
// the 2-D code is the tensor product of one linear code with itself. This module extends the
// columns of the whole top half at once (see extendSquareInto); the tests check that every row
// and column of the result is a codeword and compare whole squares with Celestia's.

import { LeopardEncoder, SHARD_SIZE_MULTIPLE } from "./leopard.ts";

/** Celestia's share size in bytes. */
export const SHARE_SIZE = 512;

/**
 * Extends a k x k square of shares, given row-major and contiguous (`k * k * shareSize` bytes),
 * into the (2k) x (2k) extended square, also row-major and contiguous. `shareSize` defaults to
 * Celestia's 512 and must be a multiple of 64. k may be any positive integer (Celestia uses
 * powers of two, 1..512).
 */
export function extendSquare(shares: Uint8Array, k: number, shareSize: number = SHARE_SIZE): Uint8Array {
  const out = new Uint8Array(4 * k * k * shareSize);
  extendSquareInto(shares, k, out, shareSize);
  return out;
}

/**
 * As extendSquare, writing into `out` ((2k)^2 * shareSize bytes, e.g. reused between blocks to
 * spare the allocation). `shares` may be `out` itself when the original square is already in
 * place (row i of Q0 at byte i * 2k * shareSize).
 */
export function extendSquareInto(shares: Uint8Array, k: number, out: Uint8Array, shareSize: number = SHARE_SIZE): void {
  if (!Number.isInteger(k) || k < 1) throw new Error(`extendSquare: square size must be a positive integer, got ${k}`);
  if (shareSize <= 0 || shareSize % SHARD_SIZE_MULTIPLE !== 0) throw new Error(`extendSquare: share size ${shareSize} is not a multiple of ${SHARD_SIZE_MULTIPLE}`);
  const width = 2 * k;
  const rowBytes = width * shareSize;
  if (out.length !== width * rowBytes) throw new Error(`extendSquare: output must be ${width * rowBytes} bytes, got ${out.length}`);
  if (shares !== out) {
    if (shares.length !== k * k * shareSize) {
      throw new Error(`extendSquare: expected ${k}x${k} shares of ${shareSize} bytes (${k * k * shareSize} bytes), got ${shares.length}`);
    }
    for (let i = 0; i < k; i++) out.set(shares.subarray(i * k * shareSize, (i + 1) * k * shareSize), i * rowBytes);
  }
  const enc = new LeopardEncoder(k, shareSize);
  // Q1: each row of Q0 extended.
  for (let i = 0; i < k; i++) enc.encodeStrided(out, i * rowBytes, shareSize, out, i * rowBytes + k * shareSize, shareSize);
  // Q2 and Q3: every column of the top half extended. A column's code acts on each byte position
  // (64-byte block in GF(2^16)) on its own, so k rows sliced to the same `chunk` of bytes encode,
  // as shards, to that chunk of the bottom rows. Chunks keep the work buffer near 256 KiB.
  const m = ceilPow2(k);
  let chunk = shareSize;
  while (chunk * 2 <= rowBytes && m * chunk * 2 <= 256 * 1024 && rowBytes % (chunk * 2) === 0) chunk *= 2;
  for (let c = 0; c < rowBytes; c += chunk) enc.encodeStrided(out, c, rowBytes, out, k * rowBytes + c, rowBytes, chunk);
}

function ceilPow2(n: number): number {
  let p = 1;
  while (p < n) p <<= 1;
  return p;
}

/** The share at (row, col) of a contiguous square of the given width, as a view. */
export function shareAt(square: Uint8Array, width: number, row: number, col: number, shareSize: number = SHARE_SIZE): Uint8Array {
  const off = (row * width + col) * shareSize;
  return square.subarray(off, off + shareSize);
}
