// Bundle proofs for blocks executed from firm data. On the soft path the node holds the whole
// sequencer block, so every bundle member's entries are at hand; from Celestia it has read only its
// own namespace. For a firm block with bundle entries, this reads the members' namespaces at the DA
// height where the block's data landed (the relayer posts every namespace of a batch in one
// submission) and checks each member's entries against the verified header. A member not found there
// (a batch split over several submissions) leaves that bundle without a proof, which the node logs.
import type { Logger } from "pino";
import type { DaClient } from "../celestia/da-client.ts";
import { merkleLeafHash, merkleRoot } from "../celestia/merkle.ts";
import { namespaceFromSecondaryChainId } from "../celestia/namespace.ts";
import { decodeEntry, encodeLeaf, type RollupTxsProof } from "../sequencer/block/rollup-data.ts";
import { openBatch, readBlobPart, RelayerFormatError, RelayerVerificationError, verifyRollupTxs } from "../sequencer/relayer/reader.ts";
import type { FirmBlock } from "./firm-assembler.ts";

/** The chain ids of every bundle this rollup's entries in the block belong to. */
function bundleMemberIds(entries: readonly Uint8Array[]): string[] {
  const ids = new Set<string>();
  for (const bytes of entries) {
    try {
      for (const id of decodeEntry(bytes).bundle?.memberChainIds ?? []) ids.add(id);
    } catch {
      // a malformed entry belongs to no bundle
    }
  }
  return [...ids];
}

export async function readBundleMembers(da: DaClient, firm: FirmBlock, logger: Logger): Promise<RollupTxsProof[]> {
  const ids = bundleMemberIds(firm.entries);
  if (ids.length === 0) return [];
  const { block } = firm;
  const members = new Map<string, RollupTxsProof>();
  const blobs = await da.getAll(Number(firm.da.height), ids.map(namespaceFromSecondaryChainId));
  for (const blob of blobs) {
    try {
      const batch = openBatch([readBlobPart(blob.data)]);
      if (batch.kind !== "rollup") continue;
      for (const record of batch.records) {
        if (members.has(record.secondaryChainId) || !ids.includes(record.secondaryChainId) || Buffer.compare(record.blockHash, block.hash) !== 0) continue;
        const { entries } = verifyRollupTxs(record, block);
        const leaf = encodeLeaf(record.secondaryChainId, merkleRoot(entries), entries.length);
        const index = block.rollupIds.indexOf(record.secondaryChainId);
        members.set(record.secondaryChainId, { secondaryChainId: record.secondaryChainId, entries, leafProof: { total: block.rollupIds.length, index, leafHash: merkleLeafHash(leaf), aunts: record.aunts } });
      }
    } catch (error) {
      if (!(error instanceof RelayerFormatError || error instanceof RelayerVerificationError)) throw error;
      logger.debug({ daHeight: Number(firm.da.height), err: error.message }, "skipped a blob while reading bundle members");
    }
  }
  return [...members.values()];
}
