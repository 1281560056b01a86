// The validator set of every sequencer height the node verifies, shared by the soft and the firm
// path: validator-sets.ts's history, each change fetched (validator-set-rpc.ts) and stored
// (validator-set-store.ts) before the history moves to it, so no block is verified under a set that a
// restart would not find again.
import { toHexUpper } from "../cometbft/hash.ts";
import type { Validator } from "../cometbft/validator-set.ts";
import type { Db } from "../merkle-store/index.ts";
import type { FetchValidatorSet } from "./validator-set-rpc.ts";
import { ValidatorSetStore } from "./validator-set-store.ts";
import { ValidatorSetConflictError, ValidatorSetHistory, type NeededValidatorSet, type ValidatorSetChange, type ValidatorSetLookup } from "./validator-sets.ts";

export interface SequencerValidatorSetsOptions {
  /** The node's own records (the sets go in a sublevel of their own). */
  db: Db;
  /** The sequencer genesis's set. Trusted to be the set of the rollup's first sequencer height. */
  genesis: readonly Validator[];
  /** Heights whose set is known without a stored change: through the first one the node has not executed. */
  knownThrough: number;
  /** Where sets named by headers are fetched from; without it a change cannot be followed. */
  fetch?: FetchValidatorSet;
}

export class SequencerValidatorSets implements ValidatorSetLookup {
  readonly #history: ValidatorSetHistory;
  readonly #store: ValidatorSetStore;
  readonly #fetch: FetchValidatorSet | undefined;
  /** The change being obtained, shared by both paths. */
  #pending: { height: number; moot: AbortController; signal: AbortSignal; done: Promise<void> } | undefined;

  private constructor(history: ValidatorSetHistory, store: ValidatorSetStore, fetch: FetchValidatorSet | undefined) {
    this.#history = history;
    this.#store = store;
    this.#fetch = fetch;
  }

  static async open(o: SequencerValidatorSetsOptions): Promise<SequencerValidatorSets> {
    const store = ValidatorSetStore.open(o.db);
    return new SequencerValidatorSets(new ValidatorSetHistory(o.genesis, await store.changes(), o.knownThrough), store, o.fetch);
  }

  get knownThrough(): number {
    return this.#history.knownThrough;
  }

  get changes(): ValidatorSetChange[] {
    return this.#history.changes;
  }

  at(height: number): readonly Validator[] | undefined {
    return this.#history.at(height);
  }

  hashAt(height: number): Uint8Array | undefined {
    return this.#history.hashAt(height);
  }

  /**
   * A header verified against at(header.height): resolves once the next height's set is known (fetched
   * and stored if the header hands over to a new one). Throws ValidatorSetConflictError if the header
   * names another set than the one already followed for that height.
   */
  async follow(header: { height: bigint; nextValidatorsHash: Uint8Array }, signal: AbortSignal): Promise<void> {
    for (;;) {
      const needed = this.#history.follow(header);
      // The other path followed past a set still being fetched: that header conflicts, its fetch is moot.
      if (this.#pending !== undefined && this.#history.knownThrough >= this.#pending.height) this.#pending.moot.abort();
      if (needed === undefined) return;
      signal.throwIfAborted();
      let pending = this.#pending;
      if (pending?.height !== needed.height) {
        const moot = new AbortController();
        const fetchSignal = AbortSignal.any([signal, moot.signal]);
        pending = { height: needed.height, moot, signal: fetchSignal, done: this.#obtain(needed, fetchSignal) };
        this.#pending = pending;
      }
      try {
        await pending.done;
      } catch (error) {
        if (this.#pending === pending) this.#pending = undefined;
        // Stopped by the other path's signal, or moot: look again (fetch for this caller, or find the conflict).
        if (!signal.aborted && pending.signal.aborted) continue;
        throw error;
      }
    }
  }

  /** See ValidatorSetHistory.forgetHeadersFrom; the forgotten changes are deleted from disk too. */
  async forgetHeadersFrom(height: number): Promise<void> {
    if (this.#pending !== undefined && this.#pending.height > height) this.#pending.moot.abort();
    for (const change of this.#history.forgetHeadersFrom(height)) await this.#store.delete(change.height);
  }

  async #obtain(needed: NeededValidatorSet, signal: AbortSignal): Promise<void> {
    if (this.#fetch === undefined) throw new Error(`sequencer block ${needed.height - 1} hands over to another validator set, and there is no sequencer RPC to fetch it from`);
    const validators = await this.#fetch(needed, signal);
    signal.throwIfAborted();
    await this.#store.put({ height: needed.height, validators });
    if (this.#history.knownThrough >= needed.height) {
      // Only if +2/3 of the set signed two headers: keep the set the other path followed.
      await this.#store.delete(needed.height);
      throw new ValidatorSetConflictError(`sequencer height ${needed.height}: the set ${toHexUpper(needed.hash)} was fetched after another was followed`);
    }
    this.#history.accept(needed, validators);
    this.#pending = undefined;
  }
}
