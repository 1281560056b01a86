// Firm data from the blobs read on Celestia: sequencer batches (headers, commits, rollup id lists)
// and this rollup's batches (its entries per block with their leaf proofs), verified with the
// relayer's reader functions and put together, per sequencer height, into what the node needs to
// confirm or execute a block, with the DA location the header will commit to. No I/O: the firm
// follower feeds it blobs in DA height order.
//
// Anyone can post to any namespace, so refused blobs are ordinary. The relayer may post a block more
// than once (a retry, a restart): the first copy read wins, so every node that reads the same DA chain
// in order picks the same DA location. Two different verified blocks at one height are an
// equivocation of the validator set, reported to the caller.
//
// Each block is verified against the validator set of its height. A block whose set is not known yet
// (a header before it, not followed yet, may hand over to another set) is held, and verified by
// verifyHeld once it is; held blocks are verified before any blob read after them, so the first copy
// still wins.
import type { Blob } from "../celestia/blob.ts";
import { namespacesEqual, type Namespace } from "../celestia/namespace.ts";
import { toHexUpper } from "../cometbft/hash.ts";
import {
  openBatch,
  verifySequencerBlock,
  PartCollector,
  readBlobPart,
  RelayerFormatError,
  RelayerVerificationError,
  rollupTxsInBlock,
  verifyRollupTxs,
  type RollupBlockTxs,
  type SequencerBlockMeta,
  type VerifiedBlock,
  type VerifiedRollupTxs,
} from "../sequencer/relayer/reader.ts";
import type { DaLocation } from "./header.ts";
import type { ValidatorSetLookup } from "./validator-sets.ts";

/** A sequencer block as read back from Celestia, with this rollup's entries in it. */
export interface FirmBlock {
  block: VerifiedBlock;
  /** This rollup's encoded RollupTxEntry messages in the block, in block order ([] when it had none). */
  entries: Uint8Array[];
  /** The rollup batch blob holding the entries, or the sequencer batch blob when there were none. */
  da: DaLocation;
}

export interface AssemblerOptions {
  /** The sequencer's chain id. */
  chainId: string;
  /** The validator set of each sequencer height. */
  validatorSets: ValidatorSetLookup;
  rollupId: string;
  sequencerNamespace: Namespace;
  rollupNamespace: Namespace;
  /**
   * DA heights after which a batch part whose batch never completed, or a rollup record whose block
   * never showed up, is dropped (junk anyone could post must not hold the resume cursor back forever).
   */
  retentionDaHeights?: number;
}

export interface Verified {
  verified: VerifiedBlock[];
  equivocations: { kept: VerifiedBlock; other: VerifiedBlock }[];
}

export type BlobOutcome = ({ accepted: true } & Verified) | { accepted: false; reason: "format" | "verification" | "namespace"; error: Error };

/** Held blocks verified once their set was known; `refused` did not verify. */
export interface HeldOutcome extends Verified {
  refused: RelayerVerificationError[];
}

interface Located<T> {
  value: T;
  /** Where the blob that completed the batch is. */
  da: DaLocation;
  /** The DA height of the batch's first part: a restart must read again from there. */
  firstDaHeight: number;
}

export class FirmAssembler {
  readonly #o: AssemblerOptions;
  readonly #retention: number;
  readonly #parts = new PartCollector();
  /** Incomplete batches: kind and batch hash -> DA height of the first part read. */
  readonly #partsFirstDa = new Map<string, number>();
  /** Verified blocks above the forgotten height, by sequencer height: the first read wins. */
  readonly #blocks = new Map<number, Located<VerifiedBlock>>();
  readonly #byHash = new Map<string, VerifiedBlock>();
  /** This rollup's verified entries by block hash: the first read wins. */
  readonly #rollupTxs = new Map<string, Located<VerifiedRollupTxs>>();
  #unmatched: Located<RollupBlockTxs>[] = [];
  /** Blocks waiting for the validator set of their height, in the order read. */
  #held: Located<SequencerBlockMeta>[] = [];
  /** Outcome of held blocks verified since verifyHeld last returned it. */
  #heldOutcome: HeldOutcome = { verified: [], equivocations: [], refused: [] };
  #forgottenThrough = 0;

  constructor(o: AssemblerOptions) {
    this.#o = o;
    this.#retention = o.retentionDaHeights ?? 600;
  }

  /** Reads one blob found at `daHeight` in the sequencer's or the rollup's namespace. */
  add(blob: Blob, daHeight: number): BlobOutcome {
    this.#promoteHeld();
    const isSequencer = namespacesEqual(blob.namespace, this.#o.sequencerNamespace);
    if (!isSequencer && !namespacesEqual(blob.namespace, this.#o.rollupNamespace)) {
      return { accepted: false, reason: "namespace", error: new Error("a blob from a namespace that was not asked for") };
    }
    try {
      const part = readBlobPart(blob.data);
      if (part.kind !== (isSequencer ? "sequencer" : "rollup")) throw new RelayerFormatError(`a ${part.kind} batch in the ${isSequencer ? "sequencer" : "rollup"} namespace`);
      const key = `${part.kind}:${toHexUpper(part.batchHash)}`;
      const firstDaHeight = this.#partsFirstDa.get(key) ?? daHeight;
      const parts = this.#parts.add(part);
      if (parts === undefined) {
        this.#partsFirstDa.set(key, firstDaHeight);
        return { accepted: true, verified: [], equivocations: [] };
      }
      this.#partsFirstDa.delete(key);
      const batch = openBatch(parts);
      const da: DaLocation = { height: BigInt(daHeight), commitment: blob.commitment };
      if (batch.kind === "sequencer") return { accepted: true, ...this.#addSequencerBatch(batch.blocks, da, firstDaHeight) };
      const ours = batch.records.filter((r) => r.secondaryChainId === this.#o.rollupId);
      // Checked before anything is kept, so a batch with one bad record is refused whole.
      const checked = ours.map((record) => ({ record, block: this.#byHash.get(toHexUpper(record.blockHash)) })).map(({ record, block }) => (block ? verifyRollupTxs(record, block) : record));
      for (const item of checked) {
        if ("aunts" in item) this.#unmatched.push({ value: item, da, firstDaHeight });
        else this.#keepRollupTxs(item, da, firstDaHeight);
      }
      return { accepted: true, verified: [], equivocations: [] };
    } catch (error) {
      if (error instanceof RelayerFormatError) return { accepted: false, reason: "format", error };
      if (error instanceof RelayerVerificationError) return { accepted: false, reason: "verification", error };
      throw error;
    }
  }

  /**
   * Verifies the held blocks whose validator set is now known; returns them, and those verified so
   * since the last call. Call it after the sets may have moved (a header was followed) and after add.
   */
  verifyHeld(): HeldOutcome {
    this.#promoteHeld();
    const outcome = this.#heldOutcome;
    this.#heldOutcome = { verified: [], equivocations: [], refused: [] };
    return outcome;
  }

  /** The firm block at sequencer `height`, once its header and (when it has any) this rollup's entries are read. */
  ready(height: number): FirmBlock | undefined {
    const located = this.#blocks.get(height);
    if (located === undefined) return undefined;
    const block = located.value;
    const found = this.#rollupTxs.get(toHexUpper(block.hash));
    const entries = rollupTxsInBlock(block, this.#o.rollupId, found?.value);
    if (entries === undefined) return undefined;
    return { block, entries, da: found?.da ?? located.da };
  }

  /** Drops what is kept for sequencer heights up to `height` (applied): blocks read later at those heights come back as verified, for the caller to compare. */
  forget(height: number): void {
    if (height <= this.#forgottenThrough) return;
    for (const [h, located] of this.#blocks) {
      if (h > height) continue;
      this.#blocks.delete(h);
      this.#byHash.delete(toHexUpper(located.value.hash));
      this.#rollupTxs.delete(toHexUpper(located.value.hash));
    }
    this.#forgottenThrough = height;
  }

  /** Drops incomplete batches and unmatched records first read more than the retention window before `daHeight`. */
  expire(daHeight: number): void {
    const oldest = daHeight - this.#retention;
    for (const [key, first] of this.#partsFirstDa) if (first < oldest) this.#partsFirstDa.delete(key);
    this.#unmatched = this.#unmatched.filter((u) => u.firstDaHeight >= oldest);
    this.#held = this.#held.filter((h) => h.firstDaHeight >= oldest);
  }

  /**
   * The DA height a restart may resume after, once every height through `processedThrough` has been
   * read and all that was ready applied: just before the first height still holding something kept.
   */
  resumeDaHeight(processedThrough: number): number {
    let first = processedThrough + 1;
    for (const located of this.#blocks.values()) first = Math.min(first, located.firstDaHeight);
    for (const located of this.#rollupTxs.values()) first = Math.min(first, located.firstDaHeight);
    for (const located of this.#unmatched) first = Math.min(first, located.firstDaHeight);
    for (const located of this.#held) first = Math.min(first, located.firstDaHeight);
    for (const height of this.#partsFirstDa.values()) first = Math.min(first, height);
    return first - 1;
  }

  /** Verifies the blocks whose set is known (one that does not verify refuses the whole batch) and holds the others. */
  #addSequencerBatch(blocks: readonly SequencerBlockMeta[], da: DaLocation, firstDaHeight: number): Verified {
    const verified: VerifiedBlock[] = [];
    const held: SequencerBlockMeta[] = [];
    for (const meta of blocks) {
      const block = this.#verify(meta);
      if (block === undefined) held.push(meta);
      else verified.push(block);
    }
    for (const meta of held) this.#held.push({ value: meta, da, firstDaHeight });
    return this.#addBlocks(verified, da, firstDaHeight);
  }

  /** The verified block, or undefined while the set of its height is not known. */
  #verify(meta: SequencerBlockMeta): VerifiedBlock | undefined {
    const validators = this.#o.validatorSets.at(Number(meta.header.height));
    return validators === undefined ? undefined : verifySequencerBlock(meta, { chainId: this.#o.chainId, validators });
  }

  #promoteHeld(): void {
    const outcome = this.#heldOutcome;
    this.#held = this.#held.filter((held) => {
      let block;
      try {
        block = this.#verify(held.value);
      } catch (error) {
        if (!(error instanceof RelayerVerificationError)) throw error;
        outcome.refused.push(error);
        return false;
      }
      if (block === undefined) return true;
      const added = this.#addBlocks([block], held.da, held.firstDaHeight);
      outcome.verified.push(...added.verified);
      outcome.equivocations.push(...added.equivocations);
      return false;
    });
  }

  #addBlocks(blocks: VerifiedBlock[], da: DaLocation, firstDaHeight: number): Verified {
    const equivocations: { kept: VerifiedBlock; other: VerifiedBlock }[] = [];
    for (const block of blocks) {
      if (block.height <= this.#forgottenThrough) continue;
      const kept = this.#blocks.get(block.height);
      if (kept !== undefined) {
        if (Buffer.compare(kept.value.hash, block.hash) !== 0) equivocations.push({ kept: kept.value, other: block });
        continue;
      }
      this.#blocks.set(block.height, { value: block, da, firstDaHeight });
      this.#byHash.set(toHexUpper(block.hash), block);
    }
    this.#matchWaiting();
    return { verified: blocks, equivocations };
  }

  /** Rollup records read before their block: those whose block is now known are checked and kept (or dropped if they do not prove). */
  #matchWaiting(): void {
    this.#unmatched = this.#unmatched.filter((waiting) => {
      const block = this.#byHash.get(toHexUpper(waiting.value.blockHash));
      if (block === undefined) return true;
      try {
        this.#keepRollupTxs(verifyRollupTxs(waiting.value, block), waiting.da, waiting.firstDaHeight);
      } catch (error) {
        if (!(error instanceof RelayerVerificationError)) throw error;
      }
      return false;
    });
  }

  #keepRollupTxs(txs: VerifiedRollupTxs, da: DaLocation, firstDaHeight: number): void {
    const key = toHexUpper(txs.blockHash);
    if (!this.#rollupTxs.has(key)) this.#rollupTxs.set(key, { value: txs, da, firstDaHeight });
  }
}
