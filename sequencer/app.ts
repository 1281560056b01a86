// The sequencer application as consensus sees it (the shape of ABCI++ without the socket): build a
// proposal from the mempool, validate anyone's proposal by re-deriving every header field and
// executing its transactions, and finalize a block that gathered its commit.
import { BinaryWriter } from "cosmjs-types/binary";
import { merkleRoot } from "../celestia/merkle.ts";
import { nmtHasher } from "../celestia/nmt-hasher.ts";
import { sha256, toHexUpper } from "../cometbft/hash.ts";
import type { BlockID } from "../cometbft/header.ts";
import { validatorSetHash, type Validator } from "../cometbft/validator-set.ts";
import { commitHash, type Commit } from "../cometbft/vote.ts";
import { timestampFromMs, timestampToMs } from "../cometbft/time.ts";
import { blockIdOf, encodeBlock, txsHash, type Block, type SequencerHeader } from "./block/block.ts";
import { collectRollupData } from "./block/rollup-data.ts";
import type { Genesis } from "./genesis.ts";
import type { Mempool } from "./mempool/mempool.ts";
import type { ChainParams } from "./params.ts";
import { executeTxs, InvalidBlockError, type ExecutionResult } from "./state/execute.ts";
import { resultsHash, txMsgData } from "./state/results.ts";
import type { ChainHead, ChainStore, CommittedBlock } from "./store/chain-store.ts";
import { decodeTx, type DecodedTx } from "./tx/decode.ts";
import { MSG_SEND } from "./tx/messages.ts";

export const BLOCK_PROTOCOL_VERSION = 11n;
export const APP_VERSION = 1n;
const EVIDENCE_HASH = merkleRoot([]);

/** CometBFT's ConsensusParams.Hash: sha256 of HashedParams{block_max_bytes, block_max_gas}. */
export function consensusHash(params: ChainParams): Uint8Array {
  return sha256(new BinaryWriter().uint32(8).int64(params.maxBlockBytes).uint32(16).int64(-1).finish());
}

export interface ExecutedBlock {
  block: Block;
  encoded: Uint8Array;
  txs: DecodedTx[];
  execution: ExecutionResult;
}

export class ProposalError extends Error {
  override name = "ProposalError";
}

export class SequencerApp {
  readonly genesis: Genesis;
  readonly store: ChainStore;
  readonly mempool: Mempool;
  readonly validators: Validator[];
  readonly validatorsHash: Uint8Array;
  readonly #consensusHash: Uint8Array;
  /** Executions of proposals seen, with their block ids, by block hash, so finalize does not execute (or hash the block) twice. */
  readonly #executed = new Map<string, { executed: ExecutedBlock; blockId: BlockID }>();
  /** Hashes of transactions whose signature was verified, with the account number it was verified for. */
  readonly #verified = new Map<string, bigint>();

  constructor(genesis: Genesis, store: ChainStore, mempool: Mempool) {
    this.genesis = genesis;
    this.store = store;
    this.mempool = mempool;
    this.validators = genesis.validators;
    this.validatorsHash = validatorSetHash(genesis.validators);
    this.#consensusHash = consensusHash(genesis.params);
  }

  get head(): ChainHead {
    const head = this.store.head;
    if (!head) throw new Error("the chain has no genesis state");
    return head;
  }

  /** Notes that a mempool admission verified this transaction's signature. */
  markVerified(hashHex: string, accountNumber: bigint): void {
    if (this.#verified.size > 200_000) this.#verified.clear();
    this.#verified.set(hashHex, accountNumber);
  }

  /** A proposal for the next height from the mempool's ready transactions. */
  async prepareProposal(timeMs: number, proposerAddress: Uint8Array, lastCommit: Commit | undefined): Promise<ExecutedBlock> {
    const head = this.head;
    const params = this.genesis.params;
    let txs = this.mempool.reap(params.maxBlockBytes);
    let execution: ExecutionResult;
    // A transaction the mempool thought valid can fail if two senders' queues interact (a MsgSend
    // draining a later sender is not possible, but be defensive): drop it and retry.
    for (;;) {
      try {
        execution = await this.#execute(txs);
        break;
      } catch (error) {
        if (!(error instanceof InvalidBlockError)) throw error;
        txs = txs.filter((_, i) => i !== error.txIndex);
      }
    }
    const rollupData = collectRollupData(txs);
    const header: SequencerHeader = {
      version: { block: BLOCK_PROTOCOL_VERSION, app: APP_VERSION },
      chainId: this.genesis.chainId,
      height: BigInt(head.height + 1),
      time: timestampFromMs(Math.max(timeMs, head.timeMs + 1)),
      lastBlockId: head.blockId,
      lastCommitHash: commitHash(lastCommit),
      dataHash: dataHashOf(txs),
      validatorsHash: this.validatorsHash,
      nextValidatorsHash: this.validatorsHash,
      consensusHash: this.#consensusHash,
      appHash: head.appHash,
      lastResultsHash: head.resultsHash,
      evidenceHash: EVIDENCE_HASH,
      proposerAddress,
      rollupTxsRoot: rollupData.rollupTxsRoot,
      rollupIdsRoot: rollupData.rollupIdsRoot,
    };
    const block: Block = { header, txs: txs.map((t) => t.bytes), lastCommit };
    const executed = { block, encoded: encodeBlock(block), txs, execution };
    this.#remember(executed);
    return executed;
  }

  /**
   * Validates a block proposed by anyone for the next height: every header field is re-derived, every
   * transaction decoded and executed. `lastCommit` validity (signatures) is the consensus engine's job.
   */
  async processProposal(block: Block, encoded: Uint8Array = encodeBlock(block)): Promise<ExecutedBlock> {
    const head = this.head;
    const h = block.header;
    const expect = (ok: boolean, what: string) => {
      if (!ok) throw new ProposalError(`invalid proposal at height ${h.height}: ${what}`);
    };
    const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;
    expect(h.chainId === this.genesis.chainId, `chain id ${h.chainId}`);
    expect(h.height === BigInt(head.height + 1), `height ${h.height}, expected ${head.height + 1}`);
    expect(h.version.block === BLOCK_PROTOCOL_VERSION && h.version.app === APP_VERSION, "version");
    expect(timestampToMs(h.time) > head.timeMs || head.height === 0, "time does not move forward");
    expect(same(h.lastBlockId.hash, head.blockId.hash), "last block id");
    expect(same(h.lastCommitHash, commitHash(block.lastCommit)), "last commit hash");
    expect((head.height === 0) === (block.lastCommit === undefined), "last commit presence");
    expect(same(h.validatorsHash, this.validatorsHash) && same(h.nextValidatorsHash, this.validatorsHash), "validators hash");
    expect(same(h.consensusHash, this.#consensusHash), "consensus hash");
    expect(same(h.appHash, head.appHash), "app hash");
    expect(same(h.lastResultsHash, head.resultsHash), "last results hash");
    expect(same(h.evidenceHash, EVIDENCE_HASH), "evidence hash");
    expect(block.txs.reduce((n, t) => n + t.length, 0) <= this.genesis.params.maxBlockBytes, "block too large");
    expect(same(h.dataHash, txsHash(block.txs)), "data hash");
    let txs: DecodedTx[];
    try {
      txs = block.txs.map((bytes) => decodeTx(bytes, this.genesis.params));
    } catch (error) {
      throw new ProposalError(`invalid proposal at height ${h.height}: ${(error as Error).message}`);
    }
    const rollupData = collectRollupData(txs);
    expect(same(h.rollupTxsRoot, rollupData.rollupTxsRoot), "rollup txs root");
    expect(same(h.rollupIdsRoot, rollupData.rollupIdsRoot), "rollup ids root");
    let execution: ExecutionResult;
    try {
      execution = await this.#execute(txs);
    } catch (error) {
      if (error instanceof InvalidBlockError) throw new ProposalError(`invalid proposal at height ${h.height}: ${error.message}`);
      throw error;
    }
    const executed = { block, encoded, txs, execution };
    this.#remember(executed);
    return executed;
  }

  /** Commits a block that gathered +2/3 precommits; returns the new head. */
  async finalizeBlock(block: Block, commit: Commit): Promise<{ head: ChainHead; executed: ExecutedBlock }> {
    const blockHash = toHexUpper(commit.blockId.hash);
    const known = this.#executed.get(blockHash);
    const executed = known?.executed ?? (await this.processProposal(block));
    const committed: CommittedBlock = { block, encoded: executed.encoded, blockId: known?.blockId ?? blockIdOf(block, executed.encoded) };
    const { outcomes, changed, nextAccountNumber } = executed.execution;
    const results = executed.txs.map((tx, i) => ({ data: txMsgData(tx.messages, outcomes[i].rollupTxHashes), gasWanted: outcomes[i].gasWanted, gasUsed: outcomes[i].gasUsed }));
    const head = await this.store.commitBlock({
      committed,
      commit,
      txHashes: executed.txs.map((t) => t.hash),
      outcomes,
      resultsHash: resultsHash(results),
      changed,
      nextAccountNumber,
      timeMs: timestampToMs(block.header.time),
    });
    this.#executed.clear();
    const included = executed.txs.map((t) => t.hashHex);
    for (const hex of included) this.#verified.delete(hex);
    this.mempool.update(head.height, included, changed);
    return { head, executed };
  }

  #remember(executed: ExecutedBlock): void {
    const blockId = blockIdOf(executed.block, executed.encoded);
    this.#executed.set(toHexUpper(blockId.hash), { executed, blockId });
  }

  async #execute(txs: DecodedTx[]): Promise<ExecutionResult> {
    const addresses = new Set<string>();
    for (const tx of txs) {
      addresses.add(tx.signer);
      for (const m of tx.messages) if (m.type === MSG_SEND) addresses.add(m.to);
    }
    const accounts = await this.store.accounts(addresses);
    return executeTxs(txs, (a) => accounts.get(a), {
      chainId: this.genesis.chainId,
      params: this.genesis.params,
      nextAccountNumber: this.head.nextAccountNumber,
      alreadyVerified: (tx, accountNumber) => this.#verified.get(tx.hashHex) === accountNumber,
    });
  }
}

/**
 * txsHash (block.ts) of decoded transactions: the RFC 6962 root over their hashes, which decoding
 * already computed, in one call to the native hasher rather than a hash call per transaction and per
 * tree node.
 */
export function dataHashOf(txs: readonly DecodedTx[]): Uint8Array {
  if (txs.length === 0) return txsHash([]);
  const hashes = new Uint8Array(32 * txs.length);
  for (let i = 0; i < txs.length; i++) hashes.set(txs[i].hash, 32 * i);
  return nmtHasher.merkleRoot(hashes, 32);
}

/** Decodes and checks a transaction for the mempool; returns its upper-case hex hash too. */
export function decodeForMempool(bytes: Uint8Array, params: ChainParams): { tx: DecodedTx; hashHex: string } {
  const tx = decodeTx(bytes, params);
  return { tx, hashHex: toHexUpper(tx.hash) };
}
