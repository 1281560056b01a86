// Rollup block execution. Every sequencer block is one rollup block, with or without transactions for
// the rollup, so rollup heights follow sequencer heights one to one (rollup height h is sequencer
// height sequencerStartHeight + h - 1) and every node numbers blocks the same way.
//
// applyBlock is the deterministic core: entries in, per-transaction outcomes and the block's net
// writes out. executeRollupBlock adds the edge: it reads the committed state and commits the writes.
import { merkleRoot, sha256Each } from "../celestia/merkle.ts";
import { decodeEntry, type RollupEntry } from "../sequencer/block/rollup-data.ts";
import { StateLayer, type StateWrite } from "./state-layer.ts";
import { plainBytes } from "./plain-bytes.ts";
import type { BundleRef, StateMachine, StateReader, TxContext, TxOutcome } from "./state-machine.ts";
import type { BlockRecord, ExtraWrites, RollupStore } from "./rollup-store.ts";

export interface RollupBlockInput {
  rollupHeight: bigint;
  sequencerHeight: bigint;
  /** The sequencer block's hash (its header hash, the block id's hash). */
  sequencerBlockHash: Uint8Array;
  /** The sequencer block's time, Unix milliseconds. */
  blockTimeMs: number;
  /** This rollup's encoded RollupTxEntry messages in the sequencer block, in block order. */
  entries: readonly Uint8Array[];
}

/** One transaction's outcome; `hash` is sha256 of its data (the rollup tx hash the sequencer reports). */
export type RollupTxResult = TxOutcome & { index: number; hash: Uint8Array; bundle?: BundleRef };

export interface AppliedBlock {
  results: RollupTxResult[];
  /** The block's net state changes, last write per key. */
  writes: StateWrite[];
  /** RFC 6962 root over the entries: the entries_root of the rollup's leaf in the sequencer block. */
  txsRoot: Uint8Array;
}

export interface ExecutedRollupBlock {
  /** The committed block, with the new state root. */
  block: BlockRecord;
  results: RollupTxResult[];
}

const NOT_YET_HASHED = new Uint8Array(0);

function decodeEntryOrReason(bytes: Uint8Array): RollupEntry | string {
  try {
    return decodeEntry(bytes);
  } catch (error) {
    return `malformed entry: ${(error as Error).message}`;
  }
}

/**
 * Applies the block's entries in order on top of `state`. A transaction that reverts leaves no trace
 * in the state: its writes are undone (StateLayer's beginTx/endTx).
 */
export async function applyBlock<Genesis>(state: StateReader, machine: StateMachine<Genesis>, input: RollupBlockInput): Promise<AppliedBlock> {
  const block = new StateLayer(state);
  const results: RollupTxResult[] = [];
  // What each result's hash is of: the tx data, or the whole entry when it does not decode. Hashed
  // after the loop, in one native call rather than one node:crypto call each.
  const hashed: Uint8Array[] = [];
  for (let index = 0; index < input.entries.length; index++) {
    const bytes = input.entries[index];
    const entry = decodeEntryOrReason(bytes);
    if (typeof entry === "string") {
      // Only a faulty sequencer writes such an entry; it still gets a result, like any other input.
      results.push({ index, hash: NOT_YET_HASHED, ok: false, reason: entry });
      hashed.push(bytes);
      continue;
    }
    const bundle = entry.bundle && { bundleId: plainBytes(entry.bundle.bundleId), memberChainIds: entry.bundle.memberChainIds };
    const ctx: TxContext = { rollupHeight: input.rollupHeight, sequencerHeight: input.sequencerHeight, blockTimeMs: input.blockTimeMs, bundle };
    block.beginTx();
    const outcome = await machine.applyTx(block, entry.data, ctx);
    block.endTx(outcome.ok);
    // Literals rather than a spread of the outcome (a copy: the machine may return a shared object).
    const result: RollupTxResult = outcome.ok ? { ok: true, events: outcome.events, index, hash: NOT_YET_HASHED } : { ok: false, reason: outcome.reason, index, hash: NOT_YET_HASHED };
    if (bundle) result.bundle = bundle;
    results.push(result);
    hashed.push(entry.data);
  }
  const hashes = sha256Each(hashed);
  for (let i = 0; i < results.length; i++) results[i].hash = hashes[i];
  return { results, writes: block.writes(), txsRoot: merkleRoot(input.entries) };
}

/**
 * Executes and commits the rollup block that follows the store's head. `extra`, given the block's
 * results, returns records of the caller's (a tx index, say) to write in the same batch as the block.
 */
export async function executeRollupBlock<Genesis>(
  store: RollupStore,
  machine: StateMachine<Genesis>,
  input: RollupBlockInput,
  extra?: (results: readonly RollupTxResult[]) => ExtraWrites,
): Promise<ExecutedRollupBlock> {
  const { chain, head } = store;
  if (chain === undefined || head === undefined) throw new Error("the rollup store has no genesis state yet");
  if (input.rollupHeight !== head.height + 1n) throw new RangeError(`rollup block ${input.rollupHeight} does not follow the head at ${head.height}`);
  const expected = chain.sequencerStartHeight + input.rollupHeight - 1n;
  if (input.sequencerHeight !== expected) throw new RangeError(`rollup block ${input.rollupHeight} is sequencer block ${expected}, not ${input.sequencerHeight}`);
  if (input.sequencerBlockHash.length !== 32) throw new RangeError(`sequencer block hash must be 32 bytes, got ${input.sequencerBlockHash.length}`);
  if (!Number.isSafeInteger(input.blockTimeMs) || input.blockTimeMs < 0) throw new RangeError(`invalid block time ${input.blockTimeMs}`);

  const applied = await applyBlock(store.committed, machine, input);
  const block = await store.commitBlock(
    {
      height: input.rollupHeight,
      sequencerHeight: input.sequencerHeight,
      sequencerBlockHash: input.sequencerBlockHash,
      timeMs: input.blockTimeMs,
      txsRoot: applied.txsRoot,
      txCount: input.entries.length,
    },
    applied.writes,
    extra?.(applied.results),
  );
  return { block, results: applied.results };
}
