// What each rollup reads from a sequencer block, and the two header roots that let it check it:
// rollup_txs_root (one leaf per rollup: its id and the root over its entries in block order) and
// rollup_ids_root (the sorted ids of every rollup in the block, so absence is provable too).
import { metro } from "../../proto/index.ts";
import { merkleProof, merkleRoot, verifyMerkleProof, type MerkleProof } from "../../celestia/merkle.ts";
import { rollupTxsOf, MSG_SUBMIT_BUNDLE, type SequencerMsg } from "../tx/messages.ts";

const { RollupTxEntry, RollupLeaf } = metro.sequencer.v1;

export interface RollupEntry {
  data: Uint8Array;
  bundle?: { bundleId: Uint8Array; memberChainIds: string[] };
}

export interface RollupBlockData {
  secondaryChainId: string;
  /** Encoded RollupTxEntry messages, in block order. */
  entries: Uint8Array[];
  entriesRoot: Uint8Array;
}

export interface BlockRollupData {
  /** Sorted by secondary chain id. */
  rollups: RollupBlockData[];
  rollupTxsRoot: Uint8Array;
  rollupIdsRoot: Uint8Array;
}

export function encodeEntry(entry: RollupEntry): Uint8Array {
  return RollupTxEntry.encode({ data: entry.data, bundle: entry.bundle ?? null }).finish();
}

export function decodeEntry(bytes: Uint8Array): RollupEntry {
  const decoded = RollupTxEntry.decode(bytes);
  const bundle = decoded.bundle ? { bundleId: decoded.bundle.bundleId ?? new Uint8Array(), memberChainIds: decoded.bundle.memberChainIds ?? [] } : undefined;
  return { data: decoded.data, bundle };
}

export function encodeLeaf(secondaryChainId: string, entriesRoot: Uint8Array, entryCount: number): Uint8Array {
  return RollupLeaf.encode({ secondaryChainId, entriesRoot, entryCount }).finish();
}

const utf8 = new TextEncoder();

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function rollupIdsRoot(sortedIds: readonly string[]): Uint8Array {
  return merkleRoot(sortedIds.map((id) => utf8.encode(id)));
}

/** A block's transactions (each with its hash and messages) -> per-rollup entries and both roots. */
export function collectRollupData(txs: readonly { hash: Uint8Array; messages: readonly SequencerMsg[] }[]): BlockRollupData {
  const byRollup = new Map<string, Uint8Array[]>();
  for (const tx of txs) {
    for (const msg of tx.messages) {
      const rollupTxs = rollupTxsOf(msg);
      const bundle = msg.type === MSG_SUBMIT_BUNDLE ? { bundleId: tx.hash, memberChainIds: rollupTxs.map((t) => t.secondaryChainId) } : undefined;
      for (const rollupTx of rollupTxs) {
        let entries = byRollup.get(rollupTx.secondaryChainId);
        if (!entries) byRollup.set(rollupTx.secondaryChainId, (entries = []));
        entries.push(encodeEntry({ data: rollupTx.data, bundle }));
      }
    }
  }
  const ids = [...byRollup.keys()].sort(compareIds);
  const rollups = ids.map((id) => {
    const entries = byRollup.get(id)!;
    return { secondaryChainId: id, entries, entriesRoot: merkleRoot(entries) };
  });
  return {
    rollups,
    rollupTxsRoot: merkleRoot(rollups.map((r) => encodeLeaf(r.secondaryChainId, r.entriesRoot, r.entries.length))),
    rollupIdsRoot: rollupIdsRoot(ids),
  };
}

/** A rollup's transactions in one block with the proof of its leaf against rollup_txs_root. */
export interface RollupTxsProof {
  secondaryChainId: string;
  entries: Uint8Array[];
  leafProof: MerkleProof;
}

export function proveRollupTxs(data: BlockRollupData, secondaryChainId: string): RollupTxsProof | undefined {
  const index = data.rollups.findIndex((r) => r.secondaryChainId === secondaryChainId);
  if (index < 0) return undefined;
  const leaves = data.rollups.map((r) => encodeLeaf(r.secondaryChainId, r.entriesRoot, r.entries.length));
  return { secondaryChainId, entries: data.rollups[index].entries, leafProof: merkleProof(leaves, index) };
}

/** True when `proof.entries` are exactly this rollup's entries in the block with that root. */
export function verifyRollupTxs(rollupTxsRoot: Uint8Array, proof: RollupTxsProof): boolean {
  const leaf = encodeLeaf(proof.secondaryChainId, merkleRoot(proof.entries), proof.entries.length);
  return verifyMerkleProof(rollupTxsRoot, proof.leafProof, leaf);
}

/** True when `ids` (sorted, unique) is the complete list the header committed to. */
export function verifyRollupIds(rollupIdsRootValue: Uint8Array, ids: readonly string[]): boolean {
  for (let i = 1; i < ids.length; i++) if (compareIds(ids[i - 1], ids[i]) >= 0) return false;
  return Buffer.compare(rollupIdsRoot(ids), rollupIdsRootValue) === 0;
}
