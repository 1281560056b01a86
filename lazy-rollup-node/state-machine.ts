// What a lazy rollup is to its node: a deterministic state machine over a key-value state. The
// sequencer orders opaque bytes and never looks inside, so `applyTx` meets anything — garbage, forged
// signatures, replays — and must answer every input with an outcome, the same on every node.

/** Reads of the rollup state, with the writes made so far (in this block, this transaction) applied. */
export interface StateReader {
  /** The value, or undefined when the key is absent. Treat the bytes as read-only. */
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
}

/** The state as one transaction sees it: reads see its own writes. */
export interface StateAccess extends StateReader {
  set(key: Uint8Array, value: Uint8Array): void;
  delete(key: Uint8Array): void;
}

/** A sequencer bundle a transaction arrived in (sequencer/block/rollup-data.ts RollupEntry.bundle). */
export interface BundleRef {
  /** The sequencer tx hash of the MsgSubmitBundle. */
  bundleId: Uint8Array;
  /** The chain ids of all the bundle's transactions, in bundle order. */
  memberChainIds: string[];
}

/** Everything about a transaction's position that a state machine may depend on, and nothing else. */
export interface TxContext {
  rollupHeight: bigint;
  sequencerHeight: bigint;
  /** The sequencer block's time, Unix milliseconds. */
  blockTimeMs: number;
  bundle?: BundleRef;
}

export interface RollupEvent {
  type: string;
  attributes: { key: string; value: string }[];
}

/**
 * A transaction either applies, with events, or reverts with a stable, human-readable reason. On
 * revert the executor drops every write the transaction made (it undoes them from a journal), so a
 * state machine cannot leave a half-applied transaction behind.
 */
export type TxOutcome = { ok: true; events: RollupEvent[] } | { ok: false; reason: string };

export interface StateMachine<Genesis> {
  /** Writes the genesis state into an empty state; throws on an invalid genesis. */
  initGenesis(state: StateAccess, genesis: Genesis): Promise<void>;
  /**
   * Applies one transaction's bytes. Must be a function of (state, txBytes, ctx) only, and must not
   * throw for any input: a throw is a bug, and it aborts the block with nothing committed rather than
   * letting nodes guess.
   */
  applyTx(state: StateAccess, txBytes: Uint8Array, ctx: TxContext): Promise<TxOutcome>;
}
