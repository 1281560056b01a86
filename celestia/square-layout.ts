// Where blobs go in a Celestia data square: the non-interactive default rules of go-square
// (`inclusion` package, ADR-013) and the square sizing of its Builder. Pure arithmetic on share
// counts: no shares are built and nothing is hashed here.
//
// A square is k x k shares, k a power of two, read row-major as one sequence of k^2 shares:
//   [leading shares: txs, pay-for-blob txs ...][reserved padding][blob][namespace padding][blob]...[tail padding]
// - Blobs are ordered by namespace (stable: equal namespaces keep their given order).
// - Each blob starts at the first index at or after the cursor that is a multiple of its subtree
//   width, so that its commitment's subtree roots are also subtree roots of the row NMTs.
// - The gap before the first blob is "primary reserved padding" (namespace 00..00FF); a gap after
//   a blob is namespace padding in that blob's namespace; the rest of the square is tail padding.
//
// NOTE for the lead: subtreeWidth, roundUpPowerOfTwo and friends also belong to the blob
// commitment (celestia/commitment.ts, written in parallel); they live here for now.

/** go-square's SubtreeRootThreshold (celestia-app appconsts), used by every app version so far. */
export const DEFAULT_SUBTREE_ROOT_THRESHOLD = 64;
/** Celestia mainnet's governance max square size (the default for a local server). */
export const DEFAULT_MAX_SQUARE_SIZE = 128;
/** go-square's (and celestia-app v7+'s) hard upper bound on the square size. */
export const SQUARE_SIZE_UPPER_BOUND = 512;

function checkCount(name: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative integer, got ${n}`);
}

/** The smallest power of two >= n (1 for n <= 1). */
export function roundUpPowerOfTwo(n: number): number {
  if (!Number.isSafeInteger(n)) throw new RangeError(`roundUpPowerOfTwo: not an integer: ${n}`);
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** The largest power of two <= n (n >= 1). */
export function roundDownPowerOfTwo(n: number): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`roundDownPowerOfTwo: need a positive integer, got ${n}`);
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

export function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/** `cursor` rounded up to a multiple of `v` (v >= 1). */
export function roundUpByMultipleOf(cursor: number, v: number): number {
  checkCount("cursor", cursor);
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`roundUpByMultipleOf: v must be a positive integer, got ${v}`);
  return Math.ceil(cursor / v) * v;
}

/** ceil(sqrt(n)) for a non-negative integer, exactly. */
function ceilSqrt(n: number): number {
  let r = Math.floor(Math.sqrt(n));
  while (r * r > n) r--;
  while (r * r < n) r++;
  return r;
}

/** The smallest square size (a power of two) with at least `shareCount` shares (go-square BlobMinSquareSize). */
export function blobMinSquareSize(shareCount: number): number {
  checkCount("shareCount", shareCount);
  return roundUpPowerOfTwo(ceilSqrt(shareCount));
}

/**
 * The subtree width of a blob of `shareCount` shares: min(RoundUpPow2(ceil(n / threshold)),
 * BlobMinSquareSize(n)) (go-square inclusion.SubTreeWidth). Blobs start at multiples of it, and
 * it is the width of the first subtrees of the blob's share commitment.
 */
export function subtreeWidth(shareCount: number, subtreeRootThreshold: number = DEFAULT_SUBTREE_ROOT_THRESHOLD): number {
  checkCount("shareCount", shareCount);
  if (!Number.isSafeInteger(subtreeRootThreshold) || subtreeRootThreshold <= 0) {
    throw new RangeError(`subtreeRootThreshold must be a positive integer, got ${subtreeRootThreshold}`);
  }
  const s = roundUpPowerOfTwo(Math.ceil(shareCount / subtreeRootThreshold));
  return Math.min(s, blobMinSquareSize(shareCount));
}

/** Where a blob of `blobShareLen` shares starts when the previous content ends at `cursor` (go-square NextShareIndex). */
export function nextShareIndex(cursor: number, blobShareLen: number, subtreeRootThreshold: number = DEFAULT_SUBTREE_ROOT_THRESHOLD): number {
  return roundUpByMultipleOf(cursor, subtreeWidth(blobShareLen, subtreeRootThreshold));
}

/**
 * Lays blobs out one after another from `cursor` (go-square BlobSharesUsedNonInteractiveDefaults):
 * the shares used from the cursor to the end of the last blob, padding included, and each
 * blob's start index.
 */
export function blobSharesUsedNonInteractiveDefaults(
  cursor: number,
  blobShareLens: readonly number[],
  subtreeRootThreshold: number = DEFAULT_SUBTREE_ROOT_THRESHOLD,
): { sharesUsed: number; startIndexes: number[] } {
  checkCount("cursor", cursor);
  const start = cursor;
  const startIndexes: number[] = [];
  for (const len of blobShareLens) {
    checkCount("blob share count", len);
    cursor = nextShareIndex(cursor, len, subtreeRootThreshold);
    startIndexes.push(cursor);
    cursor += len;
  }
  return { sharesUsed: cursor - start, startIndexes };
}

/**
 * The most padding a blob can need before it (subtree width - 1); go-square's Builder reserves
 * this for every blob when it sizes a square.
 */
export function worstCasePadding(blobShareLen: number, subtreeRootThreshold: number = DEFAULT_SUBTREE_ROOT_THRESHOLD): number {
  return subtreeWidth(blobShareLen, subtreeRootThreshold) - 1;
}

// ---------------------------------------------------------------------------------------------
// Whole-square layout

export interface BlobInput {
  /** Number of shares the blob's data takes (share.ts computes it from the data length). */
  shares: number;
  /** 29-byte namespace; when given for every blob, blobs are sorted by it (stably). */
  namespace?: Uint8Array;
}

export interface LayoutOptions {
  /**
   * Shares before the first blob: transaction, pay-for-blob (and pay-for-fibre) compact shares.
   * A local server that writes no transactions passes 0 (the default).
   */
  leadingShares?: number;
  subtreeRootThreshold?: number;
  /** The largest square size allowed (a power of two, 1..512). Default 128, Celestia mainnet's. */
  maxSquareSize?: number;
  /**
   * How the square size is chosen:
   * - "builder" (default): as go-square's Builder does, so that a square built here has the size
   *   Celestia would give it: k = BlobMinSquareSize(leading + sum(shares + subtreeWidth - 1)),
   *   reserving each blob's worst-case padding; the same sum must fit maxSquareSize^2.
   * - "tight": the smallest k whose square holds the laid-out blobs (end of the last blob).
   */
  sizing?: "builder" | "tight";
}

export interface BlobPlacement {
  /** Position of the blob in the input list. */
  inputIndex: number;
  /** First share index (row-major in the original square). */
  start: number;
  /** One past the last share. */
  end: number;
  shares: number;
  /** The blob's subtree width (its start is a multiple of it). */
  subtreeWidth: number;
}

export interface ShareRange {
  start: number;
  /** Exclusive. */
  end: number;
}

export interface SquareLayout {
  /** k: the original square is k x k shares. */
  squareSize: number;
  /** k * k. */
  totalShares: number;
  /** [0, leadingShares): the caller's compact shares. */
  leadingShares: number;
  /** Primary reserved padding between the leading shares and the first blob (empty without blobs). */
  reservedPadding: ShareRange;
  /** Blobs in square order (sorted by namespace when namespaces were given). */
  blobs: BlobPlacement[];
  /** Namespace padding after blob `blobs[afterBlob]`, in that blob's namespace and share version. */
  namespacePadding: (ShareRange & { afterBlob: number })[];
  /** Tail padding up to the end of the square (namespace FF..FE). */
  tailPadding: ShareRange;
  /** Shares in use before the tail padding (end of the last blob, or leadingShares). */
  usedShares: number;
  /** The share count the size was chosen from ("builder": with worst-case padding; "tight": usedShares). */
  sizingShares: number;
}

/** Blobs that do not fit the largest allowed square. */
export class SquareTooSmallError extends Error {
  readonly neededShares: number;
  readonly maxSquareSize: number;
  constructor(neededShares: number, maxSquareSize: number, sizing: string) {
    super(
      `blobs do not fit: they need ${neededShares} shares (${sizing} sizing) but the largest allowed square, ` +
        `${maxSquareSize}x${maxSquareSize}, holds ${maxSquareSize * maxSquareSize}`,
    );
    this.name = "SquareTooSmallError";
    this.neededShares = neededShares;
    this.maxSquareSize = maxSquareSize;
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/**
 * Lays out blobs in a data square: their order, start indexes, the padding between them and
 * the square size. Throws SquareTooSmallError when they do not fit `maxSquareSize`.
 */
export function layoutSquare(blobsIn: readonly (BlobInput | number)[], options: LayoutOptions = {}): SquareLayout {
  const leadingShares = options.leadingShares ?? 0;
  const threshold = options.subtreeRootThreshold ?? DEFAULT_SUBTREE_ROOT_THRESHOLD;
  const maxSquareSize = options.maxSquareSize ?? DEFAULT_MAX_SQUARE_SIZE;
  const sizing = options.sizing ?? "builder";
  checkCount("leadingShares", leadingShares);
  if (!isPowerOfTwo(maxSquareSize) || maxSquareSize > SQUARE_SIZE_UPPER_BOUND) {
    throw new RangeError(`maxSquareSize must be a power of two from 1 to ${SQUARE_SIZE_UPPER_BOUND}, got ${maxSquareSize}`);
  }
  if (sizing !== "builder" && sizing !== "tight") throw new RangeError(`unknown sizing: ${String(sizing)}`);

  const items = blobsIn.map((b, inputIndex) => {
    const blob: BlobInput = typeof b === "number" ? { shares: b } : b;
    if (!Number.isSafeInteger(blob.shares) || blob.shares < 1) throw new RangeError(`blob ${inputIndex}: share count must be a positive integer, got ${blob.shares}`);
    return { ...blob, inputIndex };
  });
  const withNs = items.filter((b) => b.namespace !== undefined).length;
  if (withNs !== 0 && withNs !== items.length) throw new Error("give a namespace for every blob or for none");
  if (withNs > 0) items.sort((a, b) => compareBytes(a.namespace!, b.namespace!) || a.inputIndex - b.inputIndex);

  let cursor = leadingShares;
  let worstCase = leadingShares;
  const blobs: BlobPlacement[] = [];
  const namespacePadding: (ShareRange & { afterBlob: number })[] = [];
  for (const item of items) {
    const width = subtreeWidth(item.shares, threshold);
    const start = roundUpByMultipleOf(cursor, width);
    if (blobs.length > 0 && start > cursor) namespacePadding.push({ start: cursor, end: start, afterBlob: blobs.length - 1 });
    blobs.push({ inputIndex: item.inputIndex, start, end: start + item.shares, shares: item.shares, subtreeWidth: width });
    cursor = start + item.shares;
    worstCase += item.shares + width - 1;
  }
  const usedShares = cursor;
  const sizingShares = sizing === "builder" ? worstCase : usedShares;
  if (sizingShares > maxSquareSize * maxSquareSize) throw new SquareTooSmallError(sizingShares, maxSquareSize, sizing);
  const squareSize = blobMinSquareSize(Math.max(1, sizingShares));
  const totalShares = squareSize * squareSize;
  const reservedEnd = blobs.length > 0 ? blobs[0].start : leadingShares;
  return {
    squareSize,
    totalShares,
    leadingShares,
    reservedPadding: { start: leadingShares, end: reservedEnd },
    blobs,
    namespacePadding,
    tailPadding: { start: usedShares, end: totalShares },
    usedShares,
    sizingShares,
  };
}

/** The position (row, column) of a share index in a square of size k, and its index in the extended (2k) square. */
export function sharePosition(index: number, squareSize: number): { row: number; col: number; extendedIndex: number } {
  checkCount("index", index);
  const row = Math.floor(index / squareSize);
  const col = index % squareSize;
  return { row, col, extendedIndex: row * 2 * squareSize + col };
}
