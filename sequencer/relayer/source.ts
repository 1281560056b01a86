// Where the relayer gets committed sequencer blocks: its own node (node-source.ts) or any node's RPC
// (rpc-source.ts). A source hands out blocks in height order when the relayer asks for them, so the
// chain's store (or the RPC stream's flow control) is the queue, not the relayer's memory.
import type { BlockID } from "../../cometbft/header.ts";
import type { Commit } from "../../cometbft/vote.ts";
import { txsHash, type Block } from "../block/block.ts";
import { collectRollupData, type BlockRollupData } from "../block/rollup-data.ts";
import type { ChainParams } from "../params.ts";
import { decodeTx } from "../tx/decode.ts";
import { rollupTxsOf } from "../tx/messages.ts";

export interface SourceBlock {
  height: number;
  block: Block;
  blockId: BlockID;
  /** The block's own commit. */
  commit: Commit;
  rollupData: BlockRollupData;
  /** Sum of the rollup transactions' data bytes (what the relayer's overhead is measured against). */
  rollupDataBytes: number;
}

export interface ChainTip {
  height: number;
  /** Header time of that block, Unix ms. */
  timeMs: number;
}

export interface BlockSource {
  readonly chainId: string;
  /** The newest committed block the source knows of (for lag). */
  tip(): ChainTip;
  /** Calls `listener` whenever the tip moves; returns the unsubscribe function. */
  onTip(listener: (tip: ChainTip) => void): () => void;
  /** Committed blocks from `fromHeight` on, in order, each once, read as the consumer pulls. */
  blocks(fromHeight: number, signal: AbortSignal): AsyncIterable<SourceBlock>;
  /** Height of the block that committed a transaction, if the source knows it. */
  txHeight(hash: Uint8Array): Promise<number | undefined>;
  close(): Promise<void>;
}

/** Which check a block failed: its encoding, its header against the stream, its commit, or its transactions against the header. */
export type SourceBlockFault = "malformed" | "header" | "commit" | "txs";

export class SourceBlockError extends Error {
  override name = "SourceBlockError";
  readonly fault: SourceBlockFault;

  constructor(message: string, fault: SourceBlockFault) {
    super(message);
    this.fault = fault;
  }
}

/**
 * A committed block and its commit -> what the relayer posts for it. Re-derives the rollup data from
 * the transactions and refuses a block whose header roots say otherwise.
 */
export function sourceBlock(block: Block, blockId: BlockID, commit: Commit, params: ChainParams): SourceBlock {
  const height = Number(block.header.height);
  // The commit signs the header only: the transactions are bound to it by data_hash and the rollup roots.
  if (Buffer.compare(txsHash(block.txs), block.header.dataHash) !== 0) throw new SourceBlockError(`block ${height}: its transactions do not give the data_hash in its header`, "txs");
  let txs;
  try {
    txs = block.txs.map((bytes) => decodeTx(bytes, params));
  } catch (error) {
    throw new SourceBlockError(`block ${height}: a transaction does not decode: ${(error as Error).message}`, "txs");
  }
  const rollupData = collectRollupData(txs);
  if (Buffer.compare(rollupData.rollupTxsRoot, block.header.rollupTxsRoot) !== 0 || Buffer.compare(rollupData.rollupIdsRoot, block.header.rollupIdsRoot) !== 0) {
    throw new SourceBlockError(`block ${height}: its transactions do not give the rollup roots in its header`, "txs");
  }
  const rollupDataBytes = txs.reduce((n, tx) => n + tx.messages.reduce((m, msg) => m + rollupTxsOf(msg).reduce((k, r) => k + r.data.length, 0), 0), 0);
  return { height, block, blockId, commit, rollupData, rollupDataBytes };
}
