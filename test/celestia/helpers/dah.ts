// Test-only: the data availability header of an extended data square (row and column NMT roots
// and their RFC 6962 hash), written from ../../../../shared/reference/celestia.md to check the
// erasure coding against data roots published by Celestia's own tests. The project's real NMT
// lives in celestia/nmt.ts (another module); this copy exists so the codec tests stand alone.
import { createHash } from "node:crypto";

export const NS_SIZE = 29;
const PARITY_NS = new Uint8Array(NS_SIZE).fill(0xff);

function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function largestPow2Below(n: number): number {
  let p = 1;
  while (p * 2 < n) p *= 2;
  return p;
}

const LEAF = new Uint8Array([0]);
const NODE = new Uint8Array([1]);

/** NMT root (90 bytes) over leaves given as (namespace, share) pairs, ignore-max-namespace on. */
export function nmtRoot(leaves: { ns: Uint8Array; data: Uint8Array }[]): Uint8Array {
  const hashes = leaves.map(({ ns, data }) => {
    const out = new Uint8Array(2 * NS_SIZE + 32);
    out.set(ns, 0);
    out.set(ns, NS_SIZE);
    out.set(sha256(LEAF, ns, data), 2 * NS_SIZE);
    return out;
  });
  const node = (l: Uint8Array, r: Uint8Array): Uint8Array => {
    const out = new Uint8Array(2 * NS_SIZE + 32);
    out.set(l.subarray(0, NS_SIZE), 0);
    const rightMin = r.subarray(0, NS_SIZE);
    out.set(equalBytes(rightMin, PARITY_NS) ? l.subarray(NS_SIZE, 2 * NS_SIZE) : r.subarray(NS_SIZE, 2 * NS_SIZE), NS_SIZE);
    out.set(sha256(NODE, l, r), 2 * NS_SIZE);
    return out;
  };
  const root = (lo: number, hi: number): Uint8Array => {
    if (hi - lo === 1) return hashes[lo];
    const split = lo + largestPow2Below(hi - lo);
    return node(root(lo, split), root(split, hi));
  };
  if (hashes.length === 0) throw new Error("nmtRoot: no leaves");
  return root(0, hashes.length);
}

/** RFC 6962 merkle root. */
export function rfc6962Root(items: Uint8Array[]): Uint8Array {
  if (items.length === 0) return sha256();
  const rec = (lo: number, hi: number): Uint8Array => {
    if (hi - lo === 1) return sha256(LEAF, items[lo]);
    const split = lo + largestPow2Below(hi - lo);
    return sha256(NODE, rec(lo, split), rec(split, hi));
  };
  return rec(0, items.length);
}

/** Leaves of row `i` (or column `i` when `column`) of a contiguous EDS of width 2k. */
export function axisLeaves(eds: Uint8Array, k: number, i: number, column: boolean, shareSize = 512): { ns: Uint8Array; data: Uint8Array }[] {
  const width = 2 * k;
  const leaves: { ns: Uint8Array; data: Uint8Array }[] = [];
  for (let j = 0; j < width; j++) {
    const row = column ? j : i;
    const col = column ? i : j;
    const off = (row * width + col) * shareSize;
    const data = eds.subarray(off, off + shareSize);
    const ns = row < k && col < k ? data.subarray(0, NS_SIZE) : PARITY_NS;
    leaves.push({ ns, data });
  }
  return leaves;
}

export interface Dah {
  rowRoots: Uint8Array[];
  columnRoots: Uint8Array[];
  hash: Uint8Array;
}

export function dataAvailabilityHeader(eds: Uint8Array, k: number, shareSize = 512): Dah {
  const rowRoots: Uint8Array[] = [];
  const columnRoots: Uint8Array[] = [];
  for (let i = 0; i < 2 * k; i++) rowRoots.push(nmtRoot(axisLeaves(eds, k, i, false, shareSize)));
  for (let i = 0; i < 2 * k; i++) columnRoots.push(nmtRoot(axisLeaves(eds, k, i, true, shareSize)));
  return { rowRoots, columnRoots, hash: rfc6962Root([...rowRoots, ...columnRoots]) };
}

export const PARITY_NAMESPACE = PARITY_NS;

export function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}
