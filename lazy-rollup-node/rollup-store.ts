// The rollup node's disk: the rollup state in a merkle-store (its root is the header's state root),
// and per height a block record and an undo log, all written in the state commit's one LevelDB batch.
// After a crash the node is at the previous height or at the new one, never between.
//
// Rollback: the merkle-store keeps only the latest value of each key, so each block records what it
// overwrote. Rolling back to height h replays those records backwards as one new commit, whose root
// is h's root again (a sparse merkle tree's root depends only on its contents).
import type { AbstractSublevel } from "abstract-level";
import { MerkleStore, type Db, type ExtraOps, type Proof } from "../merkle-store/index.ts";
import { metro } from "../proto/index.ts";
import { plainBytes } from "./plain-bytes.ts";
import { keyId, type StateWrite } from "./state-layer.ts";
import { encodeUndoLog } from "./undo-log.ts";
import type { StateReader } from "./state-machine.ts";
import { fromLong, toLong, uint64Key } from "./uint64.ts";

const pb = metro.rollup.v1;

/** Which rollup the store holds, fixed at genesis. */
export interface RollupChain {
  /** The rollup's secondary chain id on the sequencer. */
  chainId: string;
  /** The sequencer height of rollup block 1; rollup height h is sequencer height start + h - 1. */
  sequencerStartHeight: bigint;
}

/** One executed block. Height 0 is the genesis state: no sequencer block, empty hashes, time 0. */
export interface BlockRecord {
  height: bigint;
  sequencerHeight: bigint;
  sequencerBlockHash: Uint8Array;
  timeMs: number;
  stateRoot: Uint8Array;
  txsRoot: Uint8Array;
  txCount: number;
  /** The merkle-store version holding the state after this block. */
  storeVersion: number;
}

/** A block about to be committed: its record without what the commit produces. */
export type BlockToCommit = Omit<BlockRecord, "stateRoot" | "storeVersion">;

export interface RollupStoreOptions {
  /** fsync every commit (see MerkleStore). Default false. */
  sync?: boolean;
  /**
   * Committed values kept in memory (the accounts a block touches are usually the ones recent blocks
   * touched). Default 262,144; 0 disables the cache.
   */
  cacheEntries?: number;
}

type Sublevel = AbstractSublevel<Db, string | Buffer | Uint8Array, Uint8Array, Uint8Array>;
/** The LevelDB batch a commit writes; extra operations (on sublevels of the same database) ride in it. */
export type StoreBatch = Parameters<ExtraOps>[0];
/** Operations a caller adds to a commit's batch, so they land atomically with the block (e.g. a tx index). */
export type ExtraWrites = (batch: StoreBatch) => void;

const VIEW = { keyEncoding: "view", valueEncoding: "view" } as const;
const CHAIN_KEY = new TextEncoder().encode("chain");

function encodeRecord(r: BlockRecord): Uint8Array {
  return pb.BlockRecord.encode({
    height: toLong(r.height),
    sequencerHeight: toLong(r.sequencerHeight),
    sequencerBlockHash: r.sequencerBlockHash,
    timeMs: toLong(BigInt(r.timeMs)),
    stateRoot: r.stateRoot,
    txsRoot: r.txsRoot,
    txCount: r.txCount,
    storeVersion: toLong(BigInt(r.storeVersion)),
  }).finish();
}

function decodeRecord(bytes: Uint8Array): BlockRecord {
  const r = pb.BlockRecord.decode(bytes);
  return {
    height: fromLong(r.height),
    sequencerHeight: fromLong(r.sequencerHeight),
    sequencerBlockHash: plainBytes(r.sequencerBlockHash),
    timeMs: Number(fromLong(r.timeMs)),
    stateRoot: plainBytes(r.stateRoot),
    txsRoot: plainBytes(r.txsRoot),
    txCount: r.txCount ?? 0,
    storeVersion: Number(fromLong(r.storeVersion)),
  };
}

function decodeUndo(bytes: Uint8Array): StateWrite[] {
  return pb.UndoLog.decode(bytes).entries.map((e) => {
    const key = plainBytes(e.key);
    return { id: keyId(key), key, value: e.absent ? undefined : plainBytes(e.previous) };
  });
}

export class RollupStore {
  readonly #state: MerkleStore;
  readonly #meta: Sublevel;
  readonly #blocks: Sublevel;
  readonly #undo: Sublevel;
  readonly #cacheEntries: number;
  /** Committed values by keyId; null: known absent. */
  readonly #cache = new Map<string, Uint8Array | null>();
  /** Bumped by every commit, so a read that started before it does not cache what it read. */
  #generation = 0;
  #chain: RollupChain | undefined;
  #head: BlockRecord | undefined;
  #busy = false;

  /** The committed state at the head, through the cache. */
  readonly committed: StateReader = { get: (key) => this.#readCommitted(key) };

  private constructor(state: MerkleStore, meta: Sublevel, blocks: Sublevel, undo: Sublevel, options: RollupStoreOptions) {
    this.#state = state;
    this.#meta = meta;
    this.#blocks = blocks;
    this.#undo = undo;
    this.#cacheEntries = options.cacheEntries ?? 262_144;
  }

  /** Opens the store kept in `db` (a Level database or a sublevel), at its latest committed height. */
  static async open(db: Db, options: RollupStoreOptions = {}): Promise<RollupStore> {
    const sublevel = (name: string) => db.sublevel<Uint8Array, Uint8Array>(name, VIEW) as unknown as Sublevel;
    const state = await MerkleStore.open(db.sublevel<Uint8Array, Uint8Array>("state", VIEW), { sync: options.sync });
    const store = new RollupStore(state, sublevel("meta"), sublevel("blocks"), sublevel("undo"), options);
    const chain = await store.#meta.get(CHAIN_KEY);
    if (chain === undefined) return store;
    const decoded = pb.ChainRecord.decode(chain);
    store.#chain = { chainId: decoded.chainId ?? "", sequencerStartHeight: fromLong(decoded.sequencerStartHeight) };
    const [latest] = await store.#blocks.values({ reverse: true, limit: 1 }).all();
    if (latest === undefined) throw new Error("rollup store is corrupt: a chain record but no genesis block");
    store.#head = decodeRecord(latest);
    const root = await state.root();
    if (state.version !== store.#head.storeVersion || Buffer.compare(root, store.#head.stateRoot) !== 0) {
      throw new Error(`rollup store is corrupt: height ${store.#head.height} expects state version ${store.#head.storeVersion}, the state is at ${state.version}`);
    }
    return store;
  }

  /** Undefined until the genesis state is committed. */
  get chain(): RollupChain | undefined {
    return this.#chain;
  }

  /** The latest committed block (height 0: genesis); undefined before genesis. */
  get head(): BlockRecord | undefined {
    return this.#head;
  }

  async block(height: bigint): Promise<BlockRecord | undefined> {
    if (this.#head !== undefined && height === this.#head.height) return this.#head;
    if (height < 0n) return undefined;
    const bytes = await this.#blocks.get(uint64Key(height));
    return bytes === undefined ? undefined : decodeRecord(bytes);
  }

  /** Proof of `key`'s value (or absence) under the state root of `height` (default: the head). */
  async prove(key: Uint8Array, height: bigint = this.#requireHead().height): Promise<Proof> {
    const record = await this.block(height);
    if (record === undefined) throw new RangeError(`no rollup block at height ${height}`);
    return this.#state.prove(key, record.storeVersion);
  }

  /** Commits the genesis state as height 0 of `chain`. */
  async commitGenesis(chain: RollupChain, writes: readonly StateWrite[]): Promise<BlockRecord> {
    return this.#withLock(async () => {
      if (this.#chain !== undefined) throw new Error(`rollup store already holds ${this.#chain.chainId}`);
      const genesis: BlockToCommit = { height: 0n, sequencerHeight: 0n, sequencerBlockHash: new Uint8Array(), timeMs: 0, txsRoot: new Uint8Array(), txCount: 0 };
      const chainRecord = pb.ChainRecord.encode({ chainId: chain.chainId, sequencerStartHeight: toLong(chain.sequencerStartHeight) }).finish();
      const record = await this.#commit(genesis, writes, (batch) => batch.put(CHAIN_KEY, chainRecord, { sublevel: this.#meta }));
      this.#chain = { ...chain };
      return record;
    });
  }

  /**
   * Commits the next block's state changes; `block.height` must be the head's height + 1. `extra` adds
   * the caller's own records to the same batch.
   */
  async commitBlock(block: BlockToCommit, writes: readonly StateWrite[], extra?: ExtraWrites): Promise<BlockRecord> {
    return this.#withLock(async () => {
      const head = this.#requireHead();
      if (block.height !== head.height + 1n) throw new RangeError(`cannot commit rollup block ${block.height}: the head is at ${head.height}`);
      // The values the block overwrites, read before anything is staged (staged writes would shadow
      // them). Nearly all are in the cache (the block read them): those are taken without a promise each.
      const previous = writes.map(({ id }) => this.#cache.get(id));
      const missing = previous.flatMap((cached, i) => (cached === undefined ? [i] : []));
      const read = await Promise.all(missing.map((i) => this.#readCommitted(writes[i].key)));
      missing.forEach((i, j) => (previous[i] = read[j] ?? null));
      const undo = encodeUndoLog(writes, previous as (Uint8Array | null)[]);
      return this.#commit(block, writes, (batch) => {
        batch.put(uint64Key(block.height), undo, { sublevel: this.#undo });
        extra?.(batch);
      });
    });
  }

  /**
   * Puts the state back as it was after block `height` and forgets the blocks above it, so they can be
   * executed again (the firm data disagreed with what was executed soft). One atomic commit, which
   * also carries `extra` (the caller dropping its own records of those blocks).
   */
  async rollbackTo(height: bigint, extra?: ExtraWrites): Promise<void> {
    await this.#withLock(async () => {
      const head = this.#requireHead();
      if (height > head.height || height < 0n) throw new RangeError(`cannot roll back to height ${height}: the head is at ${head.height}`);
      if (height === head.height) return;
      const target = await this.block(height);
      if (target === undefined) throw new Error(`rollup block ${height} is missing`);
      // Newest first, so the last value seen for a key is the one from before block height + 1.
      const restore = new Map<string, StateWrite>();
      for (let h = head.height; h > height; h--) {
        const log = await this.#undo.get(uint64Key(h));
        if (log === undefined) throw new RangeError(`cannot roll back to height ${height}: the undo log of height ${h} was pruned`);
        for (const write of decodeUndo(log)) restore.set(write.id, write);
      }
      try {
        for (const { key, value } of restore.values()) this.#stage(key, value);
        const { version } = await this.#state.commit((batch, { root, version }) => {
          if (Buffer.compare(root, target.stateRoot) !== 0) throw new Error(`rollback to height ${height} did not restore its state root: undo logs are corrupt`);
          for (let h = head.height; h > height; h--) {
            batch.del(uint64Key(h), { sublevel: this.#blocks });
            batch.del(uint64Key(h), { sublevel: this.#undo });
          }
          batch.put(uint64Key(height), encodeRecord({ ...target, storeVersion: version }), { sublevel: this.#blocks });
          extra?.(batch);
        });
        this.#head = { ...target, storeVersion: version };
      } catch (error) {
        this.#state.discard();
        throw error;
      } finally {
        // Rolled-back values replace many cached ones; starting cold is simpler than patching.
        this.#cache.clear();
        this.#generation++;
      }
    });
  }

  /**
   * Drops what only heights below `height` need: their undo logs (so rollbackTo(h) works for h >= height
   * only) and their state versions (proofs at those heights). Block records stay.
   */
  async prune(height: bigint): Promise<void> {
    await this.#withLock(async () => {
      const record = await this.block(height);
      if (record === undefined) throw new RangeError(`no rollup block at height ${height}`);
      await this.#undo.clear({ lte: uint64Key(height) });
      await this.#state.prune(record.storeVersion);
    });
  }

  #requireHead(): BlockRecord {
    if (this.#head === undefined) throw new Error("the rollup store has no genesis state yet");
    return this.#head;
  }

  /** Stages `writes` and commits them with the block record and `extra` in one batch. Callers hold the lock. */
  async #commit(block: BlockToCommit, writes: readonly StateWrite[], extra: ExtraWrites): Promise<BlockRecord> {
    let record: BlockRecord | undefined;
    try {
      for (const { key, value } of writes) this.#stage(key, value);
      await this.#state.commit((batch, { version, root }) => {
        record = { ...block, stateRoot: root, storeVersion: version };
        batch.put(uint64Key(block.height), encodeRecord(record), { sublevel: this.#blocks });
        extra(batch);
      });
    } catch (error) {
      this.#state.discard();
      throw error;
    }
    this.#generation++;
    for (const { id, value } of writes) this.#remember(id, value ?? null);
    this.#head = record!;
    return record!;
  }

  #stage(key: Uint8Array, value: Uint8Array | undefined): void {
    if (value === undefined) this.#state.delete(key);
    else this.#state.set(key, value);
  }

  async #withLock<T>(run: () => Promise<T>): Promise<T> {
    if (this.#busy) throw new Error("the rollup store is already committing");
    this.#busy = true;
    try {
      return await run();
    } finally {
      this.#busy = false;
    }
  }

  #readCommitted(key: Uint8Array): Promise<Uint8Array | undefined> {
    const id = keyId(key);
    const cached = this.#cache.get(id);
    return cached !== undefined ? Promise.resolve(cached ?? undefined) : this.#readThrough(id, key);
  }

  async #readThrough(id: string, key: Uint8Array): Promise<Uint8Array | undefined> {
    const generation = this.#generation;
    const value = await this.#state.get(key);
    if (generation === this.#generation) this.#remember(id, value ?? null);
    return value;
  }

  #remember(id: string, value: Uint8Array | null): void {
    if (this.#cacheEntries === 0) return;
    // Oldest in, first out; a key keeps its place when its value changes: moving it to the back (a
    // delete and a re-insert per write) cost more than the rare reload of an evicted hot account.
    const size = this.#cache.size;
    this.#cache.set(id, value);
    if (this.#cache.size > size && size >= this.#cacheEntries) this.#cache.delete(this.#cache.keys().next().value!);
  }
}
