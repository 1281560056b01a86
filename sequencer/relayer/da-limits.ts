// The DA layer's size limits as configuration, and the checks that keep every blob and submission
// inside them: a relayer that learns the limits from "blob(s) too large" answers has already lost
// the time of a failed submission, and a backlog makes such answers repeat.
import { layoutSquare, SquareTooSmallError, type BlobInput } from "../../celestia/square-layout.ts";
import { SHARE_SIZE, sparseSharesNeeded } from "../../celestia/share.ts";
import type { Namespace } from "../../celestia/namespace.ts";

export interface DaLimits {
  /** Largest total blob data in one blob.Submit (Celestia: MaxTxSize, 8 MiB). */
  maxSubmissionBytes: number;
  /** Largest single blob. */
  maxBlobBytes: number;
  /** Largest original square width (Celestia mainnet: 128). */
  maxSquareSize: number;
  /** Shares kept free for the pay-for-blobs transaction itself and other transactions in the block. */
  reservedShares: number;
}

/**
 * Celestia mainnet's. The square binds first: a 128 x 128 square holds about 7.8 MB of blob data, less
 * than the 8 MiB a transaction may carry.
 */
export const CELESTIA_MAINNET_LIMITS: DaLimits = {
  maxSubmissionBytes: 8 * 1024 * 1024,
  maxBlobBytes: 8 * 1024 * 1024,
  maxSquareSize: 128,
  reservedShares: 256,
};

export interface SizedBlob {
  namespace: Namespace;
  bytes: number;
}

/** Shares a blob of `bytes` data occupies (share version 0). */
export function blobShares(bytes: number): number {
  return sparseSharesNeeded(bytes, false);
}

/** Bytes the blob takes in the square: whole shares, with Celestia's per-share framing and padding. */
export function squareBytes(bytes: number): number {
  return blobShares(bytes) * SHARE_SIZE;
}

function squareFits(blobs: readonly BlobInput[], limits: DaLimits): boolean {
  try {
    layoutSquare(blobs, { leadingShares: limits.reservedShares, maxSquareSize: limits.maxSquareSize });
    return true;
  } catch (error) {
    if (error instanceof SquareTooSmallError) return false;
    throw error;
  }
}

/** True when these blobs may go in one blob.Submit and fit one square beside the reserved shares. */
export function submissionFits(blobs: readonly SizedBlob[], limits: DaLimits): boolean {
  if (blobs.some((b) => b.bytes > limits.maxBlobBytes)) return false;
  if (blobs.reduce((n, b) => n + b.bytes, 0) > limits.maxSubmissionBytes) return false;
  return squareFits(blobs.map((b) => ({ shares: blobShares(b.bytes), namespace: b.namespace })), limits);
}

/** The largest blob that fits a submission on its own. */
export function largestBlobBytes(limits: DaLimits): number {
  let lo = 0;
  let hi = Math.min(limits.maxBlobBytes, limits.maxSubmissionBytes);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (squareFits([{ shares: blobShares(mid) }], limits)) lo = mid;
    else hi = mid - 1;
  }
  if (lo === 0) throw new RangeError(`DA limits leave no room for a blob: ${JSON.stringify(limits)}`);
  return lo;
}
