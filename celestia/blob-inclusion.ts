// Checking a blob's inclusion without trusting the node: its NMT proofs (from blob.GetProof) against
// the row roots of the header, and the row and column roots against the header's data_hash.
//
// celestia-node's proofs cover *all* of the blob's namespace in each row the blob spans, so the
// verifier rebuilds those rows' namespace shares from every blob of the namespace at that height
// (blob.GetAll) plus the namespace padding go-square puts after each blob.
import type { Blob } from "./blob.ts";
import { verifyDataHash, type ExtendedHeader } from "./header.ts";
import { verifyNmtRangeProof, type NmtRangeProof } from "./nmt.ts";
import { namespacePaddingShare, SHARE_SIZE, splitBlob } from "./share.ts";
import { namespacesEqual } from "./namespace.ts";

export class InclusionError extends Error {
  override name = "InclusionError";
}

function odsIndex(extendedIndex: number, k: number): number {
  return Math.floor(extendedIndex / (2 * k)) * k + (extendedIndex % (2 * k));
}

/**
 * Throws InclusionError unless `proofs` prove `blob` at `blob.index` in the square `header` commits
 * to. `namespaceBlobs` are all blobs of the blob's namespace at that height (including `blob`), as
 * blob.GetAll returns them.
 */
export function verifyBlobInclusion(blob: Blob, proofs: readonly NmtRangeProof[], header: ExtendedHeader, namespaceBlobs: readonly Blob[]): void {
  verifyDataHash(header);
  const width = header.rowRoots.length;
  const k = width / 2;
  if (!Number.isInteger(k) || k < 1 || blob.index < 0 || blob.index >= width * width) throw new InclusionError(`blob index ${blob.index} is outside the square`);
  const ns = blob.namespace;
  const sameNamespace = [...namespaceBlobs].filter((b) => namespacesEqual(b.namespace, ns)).sort((a, b) => a.index - b.index);
  if (!sameNamespace.some((b) => b.index === blob.index)) throw new InclusionError("the blob is not among the namespace's blobs");

  // Every share of the namespace by its position in the original square, and for each position
  // after a blob, the share version its padding would carry.
  const shares = new Map<number, Uint8Array>();
  const blobSpans: { start: number; end: number; shareVersion: number }[] = [];
  for (const b of sameNamespace) {
    const bytes = splitBlob(b);
    const start = odsIndex(b.index, k);
    const count = bytes.length / SHARE_SIZE;
    for (let i = 0; i < count; i++) shares.set(start + i, bytes.subarray(i * SHARE_SIZE, (i + 1) * SHARE_SIZE));
    blobSpans.push({ start, end: start + count, shareVersion: b.shareVersion });
  }
  const shareAt = (position: number): Uint8Array => {
    const share = shares.get(position);
    if (share) return share;
    const before = blobSpans.filter((s) => s.end <= position).pop();
    if (!before) throw new InclusionError(`position ${position} precedes every blob of the namespace`);
    return namespacePaddingShare(ns, before.shareVersion);
  };

  const first = odsIndex(blob.index, k);
  const own = blobSpans.find((s) => s.start === first)!;
  const firstRow = Math.floor(first / k);
  const lastRow = Math.floor((own.end - 1) / k);
  if (proofs.length !== lastRow - firstRow + 1) throw new InclusionError(`expected ${lastRow - firstRow + 1} row proofs, got ${proofs.length}`);
  proofs.forEach((proof, i) => {
    const row = firstRow + i;
    if (proof.end > k) throw new InclusionError(`row ${row}: proof reaches past the original square`);
    const rowStart = row * k;
    const covered = Math.max(own.start, rowStart) - rowStart >= proof.start && Math.min(own.end, rowStart + k) - rowStart <= proof.end;
    if (!covered) throw new InclusionError(`row ${row}: the proof does not cover the blob's shares`);
    const leaves: Uint8Array[] = [];
    for (let col = proof.start; col < proof.end; col++) leaves.push(shareAt(rowStart + col));
    if (!verifyNmtRangeProof(header.rowRoots[row], proof, ns, leaves)) throw new InclusionError(`row ${row}: NMT proof does not verify against the row root`);
  });
}
