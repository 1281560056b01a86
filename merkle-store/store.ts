// The LevelDB edge: keeps the tree of merkle-store/tree.ts in a Level database, stages writes
// between commits, and commits each version in one atomic batch.
import type { AbstractChainedBatch, AbstractLevel } from "abstract-level";
import { INLINE_VALUE_BYTES, decodeKeyList, decodeRootRecord, encodeKeyList, rootKey, rootRecordHash, staleKey, valueKey, versionOfKey, type RootRecord } from "./codec.ts";
import { EMPTY_ROOT, hashKey, sha256Packed } from "./hash.ts";
import { nativeJmtHasher } from "./native.ts";
import type { Proof } from "./proof.ts";
import { STORED_APART, Tree, provePast, type PackedUpdates, type PageReader, type TreeChange } from "./tree.ts";

/**
 * A Level database, or a sublevel of one; the store keeps its entries under the sublevel's prefix.
 * Its default encodings do not matter (hence `any`): the store passes its own on every call.
 */
export type Db = AbstractLevel<string | Buffer | Uint8Array, any, any>;

export interface StoreOptions {
  /** fsync every commit, so that a committed version also survives power loss (a crashed process loses nothing either way). Default false. */
  readonly sync?: boolean;
  /**
   * How many tree nodes of the latest version to keep in memory, roughly: past it, whole pages are
   * evicted, least recently used first. A node takes about 60 bytes (an internal node 48, a leaf
   * 96). Default 2^21, which holds all of a tree of a million keys (about 130 MB); 0 keeps only
   * what a commit needs while it runs.
   */
  readonly cacheNodes?: number;
}

export interface CommitResult {
  readonly version: number;
  readonly root: Uint8Array;
  /** Tree nodes the commit built, which is also how many node hashes it computed. */
  readonly nodesWritten: number;
  /** The LevelDB entries those nodes were written in (pages of PAGE_LEVELS levels). */
  readonly pagesWritten: number;
}

/**
 * Adds the caller's own operations to a commit's batch, so that they land atomically with the new
 * version. Give each operation the `sublevel` (and encodings) it belongs to: the batch is the root
 * database's. Called synchronously, just before the batch is written.
 */
export type ExtraOps = (batch: AbstractChainedBatch<Db, any, any>, commit: CommitResult) => void;

const VIEW = { keyEncoding: "view", valueEncoding: "view" } as const;

/** Milliseconds of the main thread spent in commits, summed, for the benchmark: the tree work, building the batch, awaiting its write. */
export const commitProfile = { applyMs: 0, batchMs: 0, writeMs: 0 };
const DEFAULT_CACHE_NODES = 2 ** 21;
const STAGING_CHUNK = 64 * 1024;

export class MerkleStore {
  readonly #db: Db;
  readonly #prefix: Uint8Array;
  readonly #sync: boolean;
  readonly #reader: PageReader;
  readonly #tree: Tree;
  #version: number;
  /**
   * Writes since the last commit (null: a deletion), by key as a latin1 string: the keys are hashed
   * at commit, all in one call, rather than one node:crypto call (~1 µs) per set().
   */
  readonly #staged = new Map<string, Uint8Array | null>();
  /** Reused from commit to commit: the staged keys and values for the hasher, and their hashes. */
  #packed = Buffer.allocUnsafeSlow(64 * 1024);
  #hashes = Buffer.allocUnsafeSlow(64 * 1024);
  #chunk = new Uint8Array(0);
  #chunkOffset = 0;
  #committing = false;
  /** Commits begun, and the running one's end: a get() that raced one looks again after it. */
  #commitsStarted = 0;
  #commitDone: Promise<void> = Promise.resolve();

  private constructor(db: Db, prefix: Uint8Array, options: StoreOptions, version: number, root: RootRecord) {
    this.#db = db;
    this.#prefix = prefix;
    this.#sync = options.sync ?? false;
    this.#reader = new LevelPageReader(db);
    this.#tree = new Tree(prefix, this.#reader, { capacity: options.cacheNodes ?? DEFAULT_CACHE_NODES }, root);
    this.#version = version;
  }

  /** Opens the store kept in `db` (a Level database or a sublevel), at its latest committed version. */
  static async open(db: Db, options: StoreOptions = {}): Promise<MerkleStore> {
    await db.open();
    // All I/O goes to the root database with the sublevel's prefix prepended by us: the sublevel
    // machinery re-encodes and re-prefixes every operation, which costs a third of write throughput.
    const root = "db" in db ? (db.db as Db) : db;
    const prefix = db.prefixKey(new Uint8Array(0), "view");
    const latest = await root.iterator({ gte: rootKey(prefix, 0), lte: rootKey(prefix, Number.MAX_SAFE_INTEGER), reverse: true, limit: 1, ...VIEW }).all();
    const [key, value] = latest[0] ?? [];
    return key === undefined || value === undefined
      ? new MerkleStore(root, prefix, options, 0, { kind: "empty" })
      : new MerkleStore(root, prefix, options, versionOfKey(prefix, key), decodeRootRecord(value));
  }

  /** Tree nodes held in memory now (bounded by the cacheNodes option between commits and reads). */
  get cachedNodes(): number {
    return this.#tree.size.nodes;
  }

  /** The latest committed version: 0 before the first commit, then 1, 2, … */
  get version(): number {
    return this.#version;
  }

  /**
   * The value of `key` with the staged writes applied over the latest committed version: from the
   * tree in memory for a value kept in its leaf, else one LevelDB read.
   */
  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const staged = this.#staged.get(latin1(key));
    if (staged !== undefined) return staged ?? undefined;
    const keyHash = hashKey(key);
    for (;;) {
      const commits = this.#commitsStarted;
      const found = await this.#tree.lookup(keyHash);
      // Pages it loaded count against the cache like a proof's (a node that only serves reads for a while).
      if (!this.#committing) this.#tree.trim();
      if (found === undefined) continue;
      if (found === null) return undefined;
      if (found !== STORED_APART) return found;
      const value = await this.#db.get(valueKey(this.#prefix, keyHash), VIEW);
      if (value !== undefined) return plain(value);
      // A commit meanwhile (its batch may be written before it adopts the new tree) may have moved the
      // value into its leaf or deleted the key: look again once it is done.
      if (this.#commitsStarted === commits && !this.#committing) throw new Error("a stored value is missing: corrupt store");
      if (this.#committing) await this.#commitDone;
    }
  }

  /** Stages `key` = `value` (a copy) for the next commit. */
  set(key: Uint8Array, value: Uint8Array): void {
    this.#assertNotCommitting();
    this.#staged.set(latin1(key), this.#copyStaged(value));
  }

  /** Stages the deletion of `key` (a no-op if it is absent) for the next commit. */
  delete(key: Uint8Array): void {
    this.#assertNotCommitting();
    this.#staged.set(latin1(key), null);
  }

  /** Drops the staged writes. */
  discard(): void {
    this.#assertNotCommitting();
    this.#staged.clear();
  }

  /** The root hash of `version` (default: the latest). Version 0 is the empty tree, EMPTY_ROOT. */
  async root(version: number = this.#version): Promise<Uint8Array> {
    if (version === this.#version) return this.#tree.rootHash;
    const record = await this.#rootRecord(version);
    return record === undefined ? EMPTY_ROOT.slice() : rootRecordHash(record);
  }

  /** A proof of `key`'s value, or of its absence, in committed `version` (default: the latest); staged writes are not seen. */
  async prove(key: Uint8Array, version: number = this.#version): Promise<Proof> {
    const keyHash = hashKey(key);
    if (version === this.#version) {
      // The tree in memory, unless a commit or an eviction changes it while a page is read.
      const proof = await this.#tree.prove(keyHash);
      if (!this.#committing) this.#tree.trim();
      if (proof !== undefined) return proof;
    }
    const record = await this.#rootRecord(version);
    return record === undefined ? { siblings: [] } : provePast(this.#reader, this.#prefix, record, keyHash);
  }

  /**
   * Makes the staged writes version `version + 1`. Its tree pages, values, stale-page list and
   * root record, plus whatever `extraOps` adds, go to LevelDB in one batch, which LevelDB applies
   * atomically: after a crash the store is at the previous version or at this one, never between.
   */
  async commit(extraOps?: ExtraOps): Promise<CommitResult> {
    this.#assertNotCommitting();
    this.#committing = true;
    this.#commitsStarted++;
    let finished!: () => void;
    this.#commitDone = new Promise<void>((resolve) => (finished = resolve));
    let change: TreeChange | undefined;
    try {
      const start = performance.now();
      const updates = this.#pack();
      const version = this.#version + 1;
      change = await this.#tree.apply(updates, version);
      const applied = performance.now();
      const result: CommitResult = { version, root: change.root, nodesWritten: change.nodes, pagesWritten: change.pages.length };

      const batch = this.#db.batch();
      for (const { key, value } of change.pages) batch.put(key, value, VIEW);
      if (change.stale.length > 0) batch.put(staleKey(this.#prefix, version), encodeKeyList(change.stale), VIEW);
      // Values kept in their leaves are in the pages; the others are stored apart, by key hash.
      for (let i = 0; i < updates.count; i++) {
        const value = updates.values[i];
        if (value !== undefined && value.length > INLINE_VALUE_BYTES) batch.put(this.#valueKey(updates.keyHashes, i), value, VIEW);
      }
      for (const i of change.unstored) batch.del(this.#valueKey(updates.keyHashes, i), VIEW);
      batch.put(rootKey(this.#prefix, version), change.rootRecord, VIEW);
      try {
        extraOps?.(batch, result);
      } catch (error) {
        await batch.close();
        throw error;
      }
      const built = performance.now();
      await batch.write({ sync: this.#sync });
      commitProfile.applyMs += applied - start;
      commitProfile.batchMs += built - applied;
      commitProfile.writeMs += performance.now() - built;

      this.#tree.adopt(change);
      change = undefined;
      this.#version = version;
      this.#staged.clear();
      return result;
    } finally {
      if (change !== undefined) this.#tree.discard(change);
      this.#committing = false;
      this.#tree.trim();
      finished();
    }
  }

  /**
   * Deletes what only versions before `beforeVersion` need: their root records and the pages that
   * later versions replaced. Versions from `beforeVersion` on stay readable and provable.
   */
  async prune(beforeVersion: number): Promise<void> {
    if (!Number.isSafeInteger(beforeVersion) || beforeVersion < 0 || beforeVersion > this.#version) {
      throw new RangeError(`cannot prune before version ${beforeVersion}: the latest is ${this.#version}`);
    }
    // Root records go first, in one batch: once they are gone no reader can reach the pages
    // deleted next, so a crash part-way leaves a consistent store that the next prune finishes.
    const roots = await this.#db.keys({ gte: rootKey(this.#prefix, 1), lt: rootKey(this.#prefix, beforeVersion), ...VIEW }).all();
    await this.#db.batch(roots.map((key) => ({ type: "del" as const, key, ...VIEW })));
    // A page made stale by version v is used by versions before v only.
    const staleLists = this.#db.iterator({ gte: staleKey(this.#prefix, 1), lte: staleKey(this.#prefix, beforeVersion), ...VIEW });
    for await (const [key, list] of staleLists) {
      const batch = this.#db.batch();
      for (const body of decodeKeyList(list)) batch.del(Buffer.concat([this.#prefix, body]), VIEW);
      batch.del(key, VIEW);
      await batch.write({ sync: this.#sync });
    }
  }

  /** The root record of committed `version`; undefined for version 0, the empty tree. */
  async #rootRecord(version: number): Promise<RootRecord | undefined> {
    if (!Number.isSafeInteger(version) || version < 0 || version > this.#version) {
      throw new RangeError(`no version ${version}: the latest is ${this.#version}`);
    }
    if (version === 0) return undefined;
    const record = await this.#db.get(rootKey(this.#prefix, version), VIEW);
    if (record === undefined) throw new RangeError(`version ${version} was pruned`);
    return decodeRootRecord(record);
  }

  /**
   * A copy of `value`, carved from a chunk shared by the staged values: a block's worth of small
   * separately allocated arrays costs more than hashing them (allocations outside the JS heap).
   */
  #copyStaged(value: Uint8Array): Uint8Array {
    if (value.length > STAGING_CHUNK / 16) return new Uint8Array(value);
    if (this.#chunkOffset + value.length > this.#chunk.length) {
      this.#chunk = new Uint8Array(STAGING_CHUNK);
      this.#chunkOffset = 0;
    }
    const copy = this.#chunk.subarray(this.#chunkOffset, this.#chunkOffset + value.length);
    copy.set(value);
    this.#chunkOffset += value.length;
    return copy;
  }

  /**
   * The staged writes as the tree takes them: their keys and values hashed in one call, sorted by
   * key hash. Views into buffers reused by the next commit.
   */
  #pack(): PackedUpdates {
    const count = this.#staged.size;
    let bytes = 0;
    let items = count;
    for (const [key, value] of this.#staged) {
      bytes += key.length;
      if (value !== null) {
        bytes += value.length;
        items++;
      }
    }
    if (this.#packed.length < bytes) this.#packed = Buffer.allocUnsafeSlow(2 * bytes);
    if (this.#hashes.length < 32 * (items + count)) this.#hashes = Buffer.allocUnsafeSlow(64 * (items + count));
    // Keys first, then the values of the writes that are not deletions.
    const packed = this.#packed;
    const ends = new Int32Array(items);
    const values: (Uint8Array | undefined)[] = [];
    let at = 0;
    let i = 0;
    for (const key of this.#staged.keys()) ends[i++] = at += packed.write(key, at, "latin1");
    for (const value of this.#staged.values()) {
      values.push(value ?? undefined);
      if (value === null) continue;
      packed.set(value, at);
      ends[i++] = at += value.length;
    }
    const hashes = this.#hashes;
    sha256Packed(packed, ends, hashes, nativeJmtHasher);

    // Sorted by key hash: by its first six bytes as a number, then by the rest when they tie.
    const leading = new Float64Array(count);
    for (let k = 0; k < count; k++) leading[k] = hashes.readUIntBE(32 * k, 6);
    const order = Array.from({ length: count }, (_, k) => k).sort((a, b) => leading[a] - leading[b] || hashes.compare(hashes, 32 * b + 6, 32 * b + 32, 32 * a + 6, 32 * a + 32));
    const sorted = hashes.subarray(32 * items, 32 * (items + count));
    const keyHashes = Buffer.allocUnsafe(32 * count);
    const deleted = new Uint8Array(count);
    const sortedValues: (Uint8Array | undefined)[] = new Array(count);
    // Value hashes follow the key hashes: the k-th non-deletion's at count + its rank.
    const valueItem = new Int32Array(count);
    for (let k = 0, next = count; k < count; k++) valueItem[k] = values[k] === undefined ? -1 : next++;
    for (let k = 0; k < count; k++) {
      const from = order[k];
      hashes.copy(keyHashes, 32 * k, 32 * from, 32 * from + 32);
      sortedValues[k] = values[from];
      if (valueItem[from] < 0) deleted[k] = 1;
      else hashes.copy(sorted, 32 * k, 32 * valueItem[from], 32 * valueItem[from] + 32);
    }
    return { count, keyHashes, valueHashes: sorted, deleted, values: sortedValues };
  }

  #valueKey(keyHashes: Uint8Array, i: number): Uint8Array {
    return valueKey(this.#prefix, keyHashes.subarray(32 * i, 32 * i + 32));
  }

  #assertNotCommitting(): void {
    if (this.#committing) throw new Error("a commit is in progress");
  }
}

/** Reads pages with one getMany per call: the core asks for all the pages of one level at once. */
class LevelPageReader implements PageReader {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async readPages(keys: readonly Uint8Array[]): Promise<Uint8Array[]> {
    const values = await this.#db.getMany(keys as Uint8Array[], VIEW);
    return values.map((value) => {
      if (value === undefined) throw new Error("tree page missing: pruned or corrupt");
      return value;
    });
  }
}

/** The bytes of `key` as a string, one latin1 character per byte: the staged writes' Map key. */
function latin1(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("latin1");
}

/** LevelDB hands out Buffers; the store's values and hashes are plain Uint8Arrays (see sha256 in hash.ts). */
function plain(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
