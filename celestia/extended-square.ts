// The extended data square (EDS): the k x k original square of shares erasure-coded to 2k x 2k
// with the Leopard codec, laid out exactly as rsmt2d's ComputeExtendedDataSquare does:
//
//   Q0 | Q1        Q1 = rows of Q0 extended (row i, columns k..2k-1)
//   ---+---        Q2 = columns of Q0 extended (rows k..2k-1, column j)
//   Q2 | Q3        Q3 = rows of Q2 extended
//
// (Q3 is the same whether Q2's rows or Q1's columns are extended: the 2-D code is a tensor
// product of one linear code.)

import { encoderFor, SHARD_SIZE_MULTIPLE } from "./leopard.ts";

/** Celestia's share size in bytes. */
export const SHARE_SIZE = 512;

/**
 * Extends a k x k square of shares, given row-major and contiguous (`k * k * shareSize` bytes),
 * into the (2k) x (2k) extended square, also row-major and contiguous. `shareSize` defaults to
 * Celestia's 512 and must be a multiple of 64. k may be any positive integer (Celestia uses
 * powers of two, 1..512).
 */
export function extendSquare(shares: Uint8Array, k: number, shareSize: number = SHARE_SIZE): Uint8Array {
  if (!Number.isInteger(k) || k < 1) throw new Error(`extendSquare: square size must be a positive integer, got ${k}`);
  if (shareSize % SHARD_SIZE_MULTIPLE !== 0) throw new Error(`extendSquare: share size ${shareSize} is not a multiple of ${SHARD_SIZE_MULTIPLE}`);
  if (shares.length !== k * k * shareSize) {
    throw new Error(`extendSquare: expected ${k}x${k} shares of ${shareSize} bytes (${k * k * shareSize} bytes), got ${shares.length}`);
  }
  const width = 2 * k;
  const rowBytes = width * shareSize;
  const out = new Uint8Array(width * rowBytes);
  for (let i = 0; i < k; i++) out.set(shares.subarray(i * k * shareSize, (i + 1) * k * shareSize), i * rowBytes);

  const words = out.length >>> 2;
  const w = new Int32Array(out.buffer, out.byteOffset, words);
  const W = shareSize >>> 2; // words per share
  const rowWords = width * W;
  const enc = encoderFor(k, shareSize);

  // Q1: rows 0..k-1, shares 0..k-1 -> k..2k-1.
  for (let i = 0; i < k; i++) enc.encodeWords(w, i * rowWords, W, w, i * rowWords + k * W, W);
  // Q2: columns 0..k-1, rows 0..k-1 -> k..2k-1.
  for (let j = 0; j < k; j++) enc.encodeWords(w, j * W, rowWords, w, k * rowWords + j * W, rowWords);
  // Q3: rows k..2k-1 extended from Q2.
  for (let i = k; i < width; i++) enc.encodeWords(w, i * rowWords, W, w, i * rowWords + k * W, W);
  return out;
}

/** The share at (row, col) of a contiguous square of the given width, as a view. */
export function shareAt(square: Uint8Array, width: number, row: number, col: number, shareSize: number = SHARE_SIZE): Uint8Array {
  const off = (row * width + col) * shareSize;
  return square.subarray(off, off + shareSize);
}
