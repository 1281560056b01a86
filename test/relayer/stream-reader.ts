// What a rollup node will do with the reader's functions, for the tests: take blobs as they come
// (from plans, or from the DA layer height by height), join parts, verify sequencer blocks, match
// rollup records to them, drop duplicates by block hash, and rebuild each rollup's transaction
// stream. Also the comparison with what the sequencer committed.
import type { Blob } from "../../celestia/blob.ts";
import type { DaClient } from "../../celestia/da-client.ts";
import { namespaceFromSecondaryChainId, type Namespace } from "../../celestia/namespace.ts";
import { toHexUpper } from "../../cometbft/hash.ts";
import { collectRollupData } from "../../sequencer/block/rollup-data.ts";
import type { ChainParams } from "../../sequencer/params.ts";
import {
  openBatch,
  PartCollector,
  readBlobPart,
  RelayerFormatError,
  RelayerVerificationError,
  rollupTxsInBlock,
  verifyRollupBatch,
  verifySequencerBatch,
  type RollupBlockTxs,
  type SequencerChain,
  type VerifiedBlock,
  type VerifiedRollupTxs,
} from "../../sequencer/relayer/reader.ts";
import type { ChainStore } from "../../sequencer/store/chain-store.ts";
import { decodeTx } from "../../sequencer/tx/decode.ts";

export class StreamReader {
  readonly chain: SequencerChain;
  readonly #parts = new PartCollector();
  readonly blocks = new Map<number, VerifiedBlock>();
  readonly #byHash = new Map<string, VerifiedBlock>();
  /** `${blockHash}/${rollup}` -> verified entries. */
  readonly #rollupTxs = new Map<string, VerifiedRollupTxs>();
  #unmatched: RollupBlockTxs[] = [];
  duplicateBlocks = 0;
  duplicateRollupRecords = 0;
  rejected: Error[] = [];

  constructor(chain: SequencerChain) {
    this.chain = chain;
  }

  /** One blob's data, from the sequencer namespace or a rollup's. Refused blobs are counted, not thrown. */
  add(data: Uint8Array): void {
    try {
      const parts = this.#parts.add(readBlobPart(data));
      if (!parts) return;
      const batch = openBatch(parts);
      if (batch.kind === "sequencer") {
        for (const block of verifySequencerBatch(batch.blocks, this.chain)) this.#addBlock(block);
        this.#match([]);
      } else this.#match(batch.records);
    } catch (error) {
      if (!(error instanceof RelayerFormatError || error instanceof RelayerVerificationError)) throw error;
      this.rejected.push(error);
    }
  }

  #addBlock(block: VerifiedBlock): void {
    const key = toHexUpper(block.hash);
    if (this.#byHash.has(key)) {
      this.duplicateBlocks++;
      return;
    }
    if (this.blocks.has(block.height)) throw new Error(`two different verified blocks at height ${block.height}: the chain forked?`);
    this.#byHash.set(key, block);
    this.blocks.set(block.height, block);
  }

  #match(records: RollupBlockTxs[]): void {
    const { verified, unmatched } = verifyRollupBatch([...this.#unmatched, ...records], (hash) => this.#byHash.get(toHexUpper(hash)));
    this.#unmatched = unmatched;
    for (const v of verified) {
      const key = `${toHexUpper(v.blockHash)}/${v.secondaryChainId}`;
      if (this.#rollupTxs.has(key)) this.duplicateRollupRecords++;
      else this.#rollupTxs.set(key, v);
    }
  }

  /** The rollup's entries at `height`: [] when proven empty, undefined while not (yet) readable. */
  entriesAt(height: number, secondaryChainId: string): Uint8Array[] | undefined {
    const block = this.blocks.get(height);
    if (!block) return undefined;
    return rollupTxsInBlock(block, secondaryChainId, this.#rollupTxs.get(`${toHexUpper(block.hash)}/${secondaryChainId}`));
  }

  /** True when every height 1..height is verified and every rollup it lists has its entries. */
  completeTo(height: number): boolean {
    for (let h = 1; h <= height; h++) {
      const block = this.blocks.get(h);
      if (!block || block.rollupIds.some((id) => this.entriesAt(h, id) === undefined)) return false;
    }
    return true;
  }

  /** Per rollup, its entries per height 1..height, as the reader rebuilt them. */
  streams(height: number, rollupIds: readonly string[]): Map<string, Uint8Array[][]> {
    return new Map(rollupIds.map((id) => [id, Array.from({ length: height }, (_, i) => this.entriesAt(i + 1, id) ?? [])]));
  }
}

/** Reads every blob of the sequencer's and these rollups' namespaces at DA heights from..to into `reader`. */
export async function readDaHeights(da: DaClient, reader: StreamReader, rollupIds: readonly string[], from: number, to: number): Promise<void> {
  const namespaces: Namespace[] = [namespaceFromSecondaryChainId(reader.chain.chainId), ...rollupIds.map(namespaceFromSecondaryChainId)];
  for (let h = from; h <= to; h++) {
    const blobs: Blob[] = await da.getAll(h, namespaces);
    for (const blob of blobs) reader.add(blob.data);
  }
}

/** Per rollup, its entries per height 1..height as the sequencer committed them. */
export async function committedStreams(store: ChainStore, params: ChainParams, height: number, rollupIds: readonly string[]): Promise<Map<string, Uint8Array[][]>> {
  const streams = new Map<string, Uint8Array[][]>(rollupIds.map((id) => [id, []]));
  for (let h = 1; h <= height; h++) {
    const found = await store.block(h);
    if (!found) throw new Error(`no block ${h} in the store`);
    const data = collectRollupData(found.block.txs.map((tx) => decodeTx(tx, params)));
    for (const id of rollupIds) streams.get(id)!.push(data.rollups.find((r) => r.secondaryChainId === id)?.entries ?? []);
  }
  return streams;
}
