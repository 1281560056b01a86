// One committed sequencer block -> the records the relayer posts for it, encoded once: its metadata
// for the sequencer namespace, and per rollup its transactions with the proof of its leaf, for the
// rollup's namespace. Batching then only joins bytes.
import { merkleProofs } from "../../celestia/merkle.ts";
import { namespaceFromSecondaryChainId, type Namespace } from "../../celestia/namespace.ts";
import { timestampToMs } from "../../cometbft/time.ts";
import { encodeLeaf } from "../block/rollup-data.ts";
import { encodeRollupBlockTxs, encodeSequencerBlockMeta, framedSize } from "./format.ts";
import type { SourceBlock } from "./source.ts";

export interface RollupRecord {
  secondaryChainId: string;
  namespace: Namespace;
  /** Encoded RollupBlockTxs. */
  bytes: Uint8Array;
}

export interface RelayBlock {
  height: number;
  hash: Uint8Array;
  /** Header time, Unix ms. */
  timeMs: number;
  /** Encoded SequencerBlockMeta. */
  meta: Uint8Array;
  rollups: RollupRecord[];
  rollupDataBytes: number;
  /** What the block adds to its batches before compression. */
  encodedBytes: number;
}

export function relayBlock(source: SourceBlock): RelayBlock {
  const { block, commit, rollupData } = source;
  const hash = source.blockId.hash;
  const leaves = rollupData.rollups.map((r) => encodeLeaf(r.secondaryChainId, r.entriesRoot, r.entries.length));
  const proofs = merkleProofs(leaves);
  const meta = encodeSequencerBlockMeta({ header: block.header, commit, rollupIds: rollupData.rollups.map((r) => r.secondaryChainId) });
  const rollups = rollupData.rollups.map((r, i) => ({
    secondaryChainId: r.secondaryChainId,
    namespace: namespaceFromSecondaryChainId(r.secondaryChainId),
    bytes: encodeRollupBlockTxs({ blockHash: hash, secondaryChainId: r.secondaryChainId, entries: r.entries, aunts: proofs[i].aunts }),
  }));
  return {
    height: source.height,
    hash,
    timeMs: timestampToMs(block.header.time),
    meta,
    rollups,
    rollupDataBytes: source.rollupDataBytes,
    encodedBytes: framedSize(meta.length) + rollups.reduce((n, r) => n + framedSize(r.bytes.length), 0),
  };
}
