// A block's data square as Celestia builds it, for blobs only (a local DA server writes no
// transactions): blobs sorted by namespace at the positions the non-interactive default rules give,
// namespace padding between them, tail padding after; the Leopard extension to 2k x 2k; the row and
// column NMT roots; and the NMT proofs celestia-node hands out for a blob.
import type { Blob } from "./blob.ts";
import { extendSquare } from "./extended-square.ts";
import type { DataAvailabilityHeader } from "./header.ts";
import { namespacesEqual, type Namespace } from "./namespace.ts";
import { nmtTree, nmtTreeRoot, proveNmtRange, shareLeafHashes, type NmtRangeProof, type NmtTree } from "./nmt.ts";
import { layoutSquare } from "./square-layout.ts";
import { namespacePaddingShare, SHARE_SIZE, splitBlob, tailPaddingShare } from "./share.ts";

export interface DataSquare extends DataAvailabilityHeader {
  /** Original width: the square is k x k shares, the extended one 2k x 2k. */
  k: number;
  /** The extended square, row-major, (2k)^2 * 512 bytes. */
  eds: Uint8Array;
  /** The blobs in square order, each with its index in the extended square. */
  blobs: Blob[];
}

function fill(target: Uint8Array, share: Uint8Array, from: number, to: number): void {
  for (let i = from; i < to; i++) target.set(share, i * SHARE_SIZE);
}

/** Lays out `blobs` (commitments already computed) in a square no wider than `maxSquareSize`. */
export function buildDataSquare(blobs: readonly Blob[], maxSquareSize: number): DataSquare {
  const shares = blobs.map(splitBlob);
  const layout = layoutSquare(
    blobs.map((b, i) => ({ shares: shares[i].length / SHARE_SIZE, namespace: b.namespace })),
    { maxSquareSize },
  );
  const k = layout.squareSize;
  const ods = new Uint8Array(k * k * SHARE_SIZE);
  const placed: Blob[] = [];
  for (const p of layout.blobs) {
    ods.set(shares[p.inputIndex], p.start * SHARE_SIZE);
    const row = Math.floor(p.start / k);
    placed.push({ ...blobs[p.inputIndex], index: row * 2 * k + (p.start % k) });
  }
  for (const gap of layout.namespacePadding) {
    const before = blobs[layout.blobs[gap.afterBlob].inputIndex];
    fill(ods, namespacePaddingShare(before.namespace, before.shareVersion), gap.start, gap.end);
  }
  fill(ods, tailPaddingShare(), layout.tailPadding.start, layout.tailPadding.end);
  const eds = extendSquare(ods, k);
  const { rowRoots, columnRoots } = axisRoots(eds, k);
  return { k, eds, blobs: placed, rowRoots, columnRoots };
}

/** Row i of the extended square, contiguous. */
export function edsRow(eds: Uint8Array, k: number, row: number): Uint8Array {
  const width = 2 * k * SHARE_SIZE;
  return eds.subarray(row * width, (row + 1) * width);
}

function edsColumn(eds: Uint8Array, k: number, col: number): Uint8Array {
  const width = 2 * k;
  const column = new Uint8Array(width * SHARE_SIZE);
  for (let row = 0; row < width; row++) column.set(eds.subarray((row * width + col) * SHARE_SIZE, (row * width + col + 1) * SHARE_SIZE), row * SHARE_SIZE);
  return column;
}

/** The NMT over row `row`: shares of the original quadrant keep their namespace, parity shares do not. */
export function rowTree(eds: Uint8Array, k: number, row: number): NmtTree {
  return nmtTree(shareLeafHashes(edsRow(eds, k, row), row < k ? k : 0));
}

/** The data availability header of an extended square: the NMT roots of its 2k rows and 2k columns. */
export function axisRoots(eds: Uint8Array, k: number): DataAvailabilityHeader {
  const rowRoots: Uint8Array[] = [];
  const columnRoots: Uint8Array[] = [];
  for (let i = 0; i < 2 * k; i++) {
    rowRoots.push(nmtTreeRoot(rowTree(eds, k, i)));
    columnRoots.push(nmtTreeRoot(nmtTree(shareLeafHashes(edsColumn(eds, k, i), i < k ? k : 0))));
  }
  return { rowRoots, columnRoots };
}

/** Columns [start, end) of original row `row` whose shares are in `namespace` (contiguous: rows are sorted). */
export function namespaceRange(eds: Uint8Array, k: number, row: number, namespace: Namespace): { start: number; end: number } | undefined {
  const shares = edsRow(eds, k, row);
  let start = -1;
  let end = -1;
  for (let col = 0; col < k; col++) {
    if (namespacesEqual(shares.subarray(col * SHARE_SIZE, col * SHARE_SIZE + namespace.length), namespace)) {
      if (start < 0) start = col;
      end = col + 1;
    }
  }
  return start < 0 ? undefined : { start, end };
}

/**
 * The proof celestia-node's blob.GetProof returns: for every row the blob spans, an NMT proof of
 * all of the blob's namespace in that row (not only the blob's own shares).
 */
export function blobProof(square: Pick<DataSquare, "eds" | "k">, blob: Pick<Blob, "index" | "namespace">, shareCount: number): NmtRangeProof[] {
  const { eds, k } = square;
  const firstRow = Math.floor(blob.index / (2 * k));
  const firstCol = blob.index % (2 * k);
  const lastRow = firstRow + Math.floor((firstCol + shareCount - 1) / k);
  const proofs: NmtRangeProof[] = [];
  for (let row = firstRow; row <= lastRow; row++) {
    const range = namespaceRange(eds, k, row, blob.namespace);
    if (!range) throw new Error(`row ${row} holds no share of the blob's namespace`);
    proofs.push(proveNmtRange(rowTree(eds, k, row), range.start, range.end));
  }
  return proofs;
}
