// Batching, as pure functions: which pending blocks go into the next batch, the blobs that carry it
// (one per namespace, compressed, cut into parts only when a blob would be too large), and how those
// blobs are grouped into submissions that each fit the DA's limits. Normally a batch is one
// submission; only a block too large for one submission on its own is spread over several.
import type { Namespace } from "../../celestia/namespace.ts";
import { compressBatch, type CompressionChoice } from "./compression.ts";
import { largestBlobBytes, squareBytes, submissionFits, type DaLimits } from "./da-limits.ts";
import { encodeBlobPart, ENVELOPE_OVERHEAD_BYTES, joinRecords, splitIntoParts, type BatchKind } from "./format.ts";
import type { RelayBlock } from "./block-records.ts";

export interface PlannedBlob {
  kind: BatchKind;
  namespace: Namespace;
  part: number;
  parts: number;
  /** The blob's data: an encoded RelayerBlob. */
  data: Uint8Array;
}

export interface BatchStats {
  rollupDataBytes: number;
  /** The batches' encodings before compression. */
  encodedBytes: number;
  /** Blob data submitted, envelopes included. */
  blobBytes: number;
  /** What the blobs take in the square: whole 512-byte shares, Celestia's framing and padding. */
  squareBytes: number;
}

export interface PlannedBatch {
  blocks: RelayBlock[];
  /** Blobs grouped into submissions (one pay-for-blobs each), in the order to submit them. */
  submissions: PlannedBlob[][];
  stats: BatchStats;
}

export interface PlanOptions {
  limits: DaLimits;
  compression: CompressionChoice;
  sequencerNamespace: Namespace;
  /** Blob bytes per encoded byte seen in earlier batches: how many blocks to try first. */
  storedPerEncoded: number;
}

interface Group {
  kind: BatchKind;
  namespace: Namespace;
  records: Uint8Array[];
}

/** The batch's records per namespace: the sequencer's first, then the rollups' in namespace order. */
function groups(blocks: readonly RelayBlock[], sequencerNamespace: Namespace): Group[] {
  const rollups = new Map<string, Group>();
  for (const block of blocks) {
    for (const r of block.rollups) {
      const key = Buffer.from(r.namespace).toString("hex");
      let group = rollups.get(key);
      if (!group) rollups.set(key, (group = { kind: "rollup", namespace: r.namespace, records: [] }));
      group.records.push(r.bytes);
    }
  }
  const sorted = [...rollups.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, g]) => g);
  return [{ kind: "sequencer", namespace: sequencerNamespace, records: blocks.map((b) => b.meta) }, ...sorted];
}

function blobsOf(blocks: readonly RelayBlock[], o: PlanOptions, maxPartBytes: number): { blobs: PlannedBlob[]; encodedBytes: number } {
  let encodedBytes = 0;
  const blobs = groups(blocks, o.sequencerNamespace).flatMap((g) => {
    const raw = joinRecords(g.records);
    encodedBytes += raw.length;
    return splitIntoParts(g.kind, compressBatch(raw, o.compression), raw.length, maxPartBytes).map((p) => ({
      kind: g.kind,
      namespace: g.namespace,
      part: p.part,
      parts: p.parts,
      data: encodeBlobPart(p),
    }));
  });
  return { blobs, encodedBytes };
}

/** Blobs, in order, into as few submissions as the limits allow (each blob fits one on its own). */
export function packSubmissions(blobs: readonly PlannedBlob[], limits: DaLimits): PlannedBlob[][] {
  const submissions: PlannedBlob[][] = [];
  let current: PlannedBlob[] = [];
  const sized = (list: readonly PlannedBlob[]) => list.map((b) => ({ namespace: b.namespace, bytes: b.data.length }));
  for (const blob of blobs) {
    if (current.length > 0 && !submissionFits(sized([...current, blob]), limits)) {
      submissions.push(current);
      current = [];
    }
    current.push(blob);
  }
  if (current.length > 0) submissions.push(current);
  return submissions;
}

/**
 * The next batch from the front of `pending` (which must not be empty): as many blocks as one
 * submission holds, or the first block alone, spread over several submissions, when even it does not fit.
 */
export function planBatch(pending: readonly RelayBlock[], o: PlanOptions): PlannedBatch {
  if (pending.length === 0) throw new RangeError("planBatch needs at least one block");
  const largest = largestBlobBytes(o.limits);
  const maxPartBytes = largest - ENVELOPE_OVERHEAD_BYTES;
  // Room for the batch, less what padding between several blobs may take.
  const room = Math.floor(Math.min(largest, o.limits.maxSubmissionBytes) * 0.95);
  let count = 0;
  for (let estimate = 0; count < pending.length; count++) {
    estimate += pending[count].encodedBytes * o.storedPerEncoded;
    if (count > 0 && estimate > room) break;
  }
  for (;;) {
    const blocks = pending.slice(0, count);
    const { blobs, encodedBytes } = blobsOf(blocks, o, maxPartBytes);
    const submissions = packSubmissions(blobs, o.limits);
    const blobBytes = blobs.reduce((n, b) => n + b.data.length, 0);
    if (submissions.length === 1 || count === 1) {
      const stats = {
        rollupDataBytes: blocks.reduce((n, b) => n + b.rollupDataBytes, 0),
        encodedBytes,
        blobBytes,
        squareBytes: blobs.reduce((n, b) => n + squareBytes(b.data.length), 0),
      };
      return { blocks, submissions, stats };
    }
    // Too much for one submission: shrink in proportion to the overshoot, by at least one block.
    count = Math.max(1, Math.min(count - 1, Math.floor((count * room * 0.95) / blobBytes)));
  }
}
