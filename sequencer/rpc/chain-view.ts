// What the RPC reads from a node's store, in the shapes its methods answer with: heights resolved
// the way CometBFT resolves them, committed blocks, and included transactions with their results.
// The latest header is kept in memory because cosmjs asks for `status` before every transaction.
import { sha256, toBase64, toHexUpper } from "../../cometbft/hash.ts";
import { merkleProof } from "../../celestia/merkle.ts";
import type { SequencerNode } from "../node.ts";
import type { BlockID } from "../../cometbft/header.ts";
import type { SequencerHeader } from "../block/block.ts";
import { txMsgData } from "../state/results.ts";
import type { CommittedBlock, StoredTxResult } from "../store/chain-store.ts";
import { decodeTx, type DecodedTx } from "../tx/decode.ts";
import { internalError } from "./json-rpc.ts";
import { merkleProofJson, txResultJson, type MerkleProofJson, type TxResultJson } from "./json.ts";

export interface TxLocation {
  height: number;
  index: number;
}

export interface TxJson {
  hash: string;
  height: string;
  index: number;
  tx_result: TxResultJson;
  tx: string;
  proof?: { root_hash: string; data: string; proof: MerkleProofJson };
}

/** One committed block with its decoded transactions and their stored results. */
export interface BlockWithResults {
  committed: CommittedBlock;
  txs: DecodedTx[];
  results: StoredTxResult[];
}

export class ChainView {
  readonly node: SequencerNode;
  #latest: { height: number; header: SequencerHeader } | undefined;
  #earliest: { blockId: BlockID; header: SequencerHeader } | undefined;
  readonly #stopWatching: () => void;

  constructor(node: SequencerNode) {
    this.node = node;
    this.#stopWatching = node.onCommitted(({ head, executed }) => {
      this.#latest = { height: head.height, header: executed.block.header };
    });
  }

  close(): void {
    this.#stopWatching();
  }

  get height(): number {
    return this.node.head.height;
  }

  /** The head block's header, or undefined before the first block. */
  async latestHeader(): Promise<SequencerHeader | undefined> {
    const height = this.height;
    if (height === 0) return undefined;
    if (this.#latest?.height !== height) this.#latest = { height, header: (await this.block(height)).block.header };
    return this.#latest.header;
  }

  /** The first block's id and header (blocks are never pruned), or undefined before it exists. */
  async earliestBlock(): Promise<{ blockId: BlockID; header: SequencerHeader } | undefined> {
    if (!this.#earliest && this.height > 0) {
      const first = await this.block(1);
      this.#earliest = { blockId: first.blockId, header: first.block.header };
    }
    return this.#earliest;
  }

  /**
   * A height parameter as CometBFT resolves it: absent means `latest`; otherwise it must be within
   * 1..latest (with CometBFT's error texts).
   */
  resolveHeight(height: number | undefined, latest = this.height): number {
    if (height === undefined) return latest;
    if (height <= 0) throw internalError(`height must be greater than 0, but got ${height}`);
    if (height > latest) throw internalError(`height ${height} must be less than or equal to the current blockchain height ${latest}`);
    return height;
  }

  async block(height: number): Promise<CommittedBlock> {
    const committed = await this.node.store.block(height);
    if (!committed) throw internalError(`block at height ${height} not found`);
    return committed;
  }

  async blockWithResults(height: number): Promise<BlockWithResults> {
    const committed = await this.block(height);
    const results = (await this.node.store.results(height)) ?? [];
    // Every stored transaction passed these checks when its block was made.
    const txs = committed.block.txs.map((bytes) => decodeTx(bytes, this.node.genesis.params));
    return { committed, txs, results };
  }

  async txLocation(hash: Uint8Array): Promise<TxLocation | undefined> {
    return this.node.store.txLocation(hash);
  }

  /** Included transactions in CometBFT's ResultTx shape, loading each block once. */
  async txs(locations: readonly TxLocation[], prove: boolean): Promise<TxJson[]> {
    const blocks = new Map<number, Promise<BlockWithResults>>();
    const load = (height: number) => {
      let block = blocks.get(height);
      if (!block) blocks.set(height, (block = this.blockWithResults(height)));
      return block;
    };
    return Promise.all(locations.map(async (loc) => txJson(await load(loc.height), loc, prove)));
  }
}

function txJson(b: BlockWithResults, loc: TxLocation, prove: boolean): TxJson {
  const tx = b.txs[loc.index];
  const result = b.results[loc.index];
  if (!tx || !result) throw internalError(`transaction ${loc.index} of block ${loc.height} not found`);
  const json: TxJson = {
    hash: toHexUpper(tx.hash),
    height: String(loc.height),
    index: loc.index,
    tx_result: txResultJson({ ...result, data: txMsgData(tx.messages, result.rollupTxHashes) }),
    tx: toBase64(tx.bytes),
  };
  // CometBFT's TxProof: the tx's place among the block's tx hashes, whose root is data_hash.
  if (prove) {
    const leaves = b.committed.block.txs.map(sha256);
    json.proof = { root_hash: toHexUpper(b.committed.block.header.dataHash), data: toBase64(tx.bytes), proof: merkleProofJson(merkleProof(leaves, loc.index)) };
  }
  return json;
}
