// The LevelDB edge: keeps the tree of merkle-store/tree.ts in a Level database, stages writes
// between commits, and commits each version in one atomic batch.
import type { AbstractChainedBatch, AbstractLevel } from "abstract-level";
import { decodeKeyList, decodeNode, decodeRef, encodeKeyList, encodeNode, encodeRef, nodeKey, rootKey, staleKey, valueKey, versionOfKey } from "./codec.ts";
import { hashKey, hashValue } from "./hash.ts";
import type { Proof } from "./proof.ts";
import { EMPTY, applyUpdates, proveKeyHash, refHash, type Node, type NodeAddress, type NodeReader, type Ref, type Update } from "./tree.ts";

/**
 * A Level database, or a sublevel of one; the store keeps its entries under the sublevel's prefix.
 * Its default encodings do not matter (hence `any`): the store passes its own on every call.
 */
export type Db = AbstractLevel<string | Buffer | Uint8Array, any, any>;

export interface StoreOptions {
  /** fsync every commit, so that a committed version also survives power loss (a crashed process loses nothing either way). Default false. */
  readonly sync?: boolean;
}

export interface CommitResult {
  readonly version: number;
  readonly root: Uint8Array;
  /** Tree nodes the commit wrote, which is also how many node hashes it computed. */
  readonly nodesWritten: number;
}

/**
 * Adds the caller's own operations to a commit's batch, so that they land atomically with the new
 * version. Give each operation the `sublevel` (and encodings) it belongs to: the batch is the root
 * database's. Called synchronously, just before the batch is written.
 */
export type ExtraOps = (batch: AbstractChainedBatch<Db, any, any>, commit: CommitResult) => void;

interface StagedWrite {
  readonly keyHash: Uint8Array;
  readonly value: Uint8Array | undefined;
}

const VIEW = { keyEncoding: "view", valueEncoding: "view" } as const;
const NO_PREFIX = new Uint8Array(0);

export class MerkleStore {
  readonly #db: Db;
  readonly #prefix: Uint8Array;
  readonly #sync: boolean;
  readonly #reader: NodeReader;
  #version: number;
  #root: Ref;
  /** Writes since the last commit, by hex key hash. */
  readonly #staged = new Map<string, StagedWrite>();
  #committing = false;

  private constructor(db: Db, prefix: Uint8Array, options: StoreOptions, version: number, root: Ref) {
    this.#db = db;
    this.#prefix = prefix;
    this.#sync = options.sync ?? false;
    this.#reader = new BatchedNodeReader(db, prefix);
    this.#version = version;
    this.#root = root;
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
      ? new MerkleStore(root, prefix, options, 0, EMPTY)
      : new MerkleStore(root, prefix, options, versionOfKey(prefix, key), decodeRef(value));
  }

  /** The latest committed version: 0 before the first commit, then 1, 2, … */
  get version(): number {
    return this.#version;
  }

  /** The value of `key` with the staged writes applied over the latest committed version. */
  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const keyHash = hashKey(key);
    const staged = this.#staged.get(toHex(keyHash));
    if (staged !== undefined) return staged.value;
    const value = await this.#db.get(valueKey(this.#prefix, keyHash), VIEW);
    return value === undefined ? undefined : plain(value);
  }

  /** Stages `key` = `value` for the next commit. */
  set(key: Uint8Array, value: Uint8Array): void {
    this.#stage(key, new Uint8Array(value));
  }

  /** Stages the deletion of `key` (a no-op if it is absent) for the next commit. */
  delete(key: Uint8Array): void {
    this.#stage(key, undefined);
  }

  /** Drops the staged writes. */
  discard(): void {
    this.#assertNotCommitting();
    this.#staged.clear();
  }

  /** The root hash of `version` (default: the latest). Version 0 is the empty tree, EMPTY_ROOT. */
  async root(version: number = this.#version): Promise<Uint8Array> {
    return refHash(await this.#rootRef(version));
  }

  /** A proof of `key`'s value, or of its absence, in committed `version` (default: the latest); staged writes are not seen. */
  async prove(key: Uint8Array, version: number = this.#version): Promise<Proof> {
    return proveKeyHash(this.#reader, await this.#rootRef(version), hashKey(key));
  }

  /**
   * Makes the staged writes version `version + 1`. Its tree nodes, values, stale-node list and
   * root record, plus whatever `extraOps` adds, go to LevelDB in one batch, which LevelDB applies
   * atomically: after a crash the store is at the previous version or at this one, never between.
   */
  async commit(extraOps?: ExtraOps): Promise<CommitResult> {
    this.#assertNotCommitting();
    this.#committing = true;
    try {
      const staged = [...this.#staged].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, write]) => write);
      const updates: Update[] = staged.map(({ keyHash, value }) => ({ keyHash, valueHash: value === undefined ? undefined : hashValue(value) }));
      const version = this.#version + 1;
      const change = await applyUpdates(this.#reader, this.#root, updates, version);
      const result: CommitResult = { version, root: refHash(change.root), nodesWritten: change.writes.length };

      const batch = this.#db.batch();
      for (const { at, node } of change.writes) batch.put(nodeKey(this.#prefix, at), encodeNode(node), VIEW);
      if (change.stale.length > 0) {
        batch.put(staleKey(this.#prefix, version), encodeKeyList(change.stale.map((at) => nodeKey(NO_PREFIX, at))), VIEW);
      }
      for (const { keyHash, value } of staged) {
        if (value === undefined) batch.del(valueKey(this.#prefix, keyHash), VIEW);
        else batch.put(valueKey(this.#prefix, keyHash), value, VIEW);
      }
      batch.put(rootKey(this.#prefix, version), encodeRef(change.root), VIEW);
      try {
        extraOps?.(batch, result);
      } catch (error) {
        await batch.close();
        throw error;
      }
      await batch.write({ sync: this.#sync });

      this.#version = version;
      this.#root = change.root;
      this.#staged.clear();
      return result;
    } finally {
      this.#committing = false;
    }
  }

  /**
   * Deletes what only versions before `beforeVersion` need: their root records and the nodes that
   * later versions replaced. Versions from `beforeVersion` on stay readable and provable.
   */
  async prune(beforeVersion: number): Promise<void> {
    if (!Number.isSafeInteger(beforeVersion) || beforeVersion < 0 || beforeVersion > this.#version) {
      throw new RangeError(`cannot prune before version ${beforeVersion}: the latest is ${this.#version}`);
    }
    // Root records go first, in one batch: once they are gone no reader can reach the nodes
    // deleted next, so a crash part-way leaves a consistent store that the next prune finishes.
    const roots = await this.#db.keys({ gte: rootKey(this.#prefix, 1), lt: rootKey(this.#prefix, beforeVersion), ...VIEW }).all();
    await this.#db.batch(roots.map((key) => ({ type: "del" as const, key, ...VIEW })));
    // A node made stale by version v is used by versions before v only.
    const staleLists = this.#db.iterator({ gte: staleKey(this.#prefix, 1), lte: staleKey(this.#prefix, beforeVersion), ...VIEW });
    for await (const [key, list] of staleLists) {
      const batch = this.#db.batch();
      for (const body of decodeKeyList(list)) batch.del(Buffer.concat([this.#prefix, body]), VIEW);
      batch.del(key, VIEW);
      await batch.write({ sync: this.#sync });
    }
  }

  async #rootRef(version: number): Promise<Ref> {
    if (version === this.#version) return this.#root;
    if (!Number.isSafeInteger(version) || version < 0 || version > this.#version) {
      throw new RangeError(`no version ${version}: the latest is ${this.#version}`);
    }
    if (version === 0) return EMPTY;
    const record = await this.#db.get(rootKey(this.#prefix, version), VIEW);
    if (record === undefined) throw new RangeError(`version ${version} was pruned`);
    return decodeRef(record);
  }

  #stage(key: Uint8Array, value: Uint8Array | undefined): void {
    this.#assertNotCommitting();
    const keyHash = hashKey(key);
    this.#staged.set(toHex(keyHash), { keyHash, value });
  }

  #assertNotCommitting(): void {
    if (this.#committing) throw new Error("a commit is in progress");
  }
}

/**
 * Reads nodes for the core. The core walks the tree depth by depth, asking for many nodes at once
 * (all of one depth, in parallel branches); queueing those reads and sending them as one getMany
 * per turn of the event loop costs one LevelDB round trip per depth instead of one per node.
 */
class BatchedNodeReader implements NodeReader {
  readonly #db: Db;
  readonly #prefix: Uint8Array;
  #queue: { key: Uint8Array; at: NodeAddress; resolve: (node: Node) => void; reject: (error: unknown) => void }[] = [];

  constructor(db: Db, prefix: Uint8Array) {
    this.#db = db;
    this.#prefix = prefix;
  }

  read(at: NodeAddress): Promise<Node> {
    return new Promise((resolve, reject) => {
      // setImmediate runs after the microtasks, i.e. after every branch that could ask has asked.
      if (this.#queue.push({ key: nodeKey(this.#prefix, at), at, resolve, reject }) === 1) setImmediate(() => void this.#flush());
    });
  }

  async #flush(): Promise<void> {
    const queue = this.#queue;
    this.#queue = [];
    try {
      const values = await this.#db.getMany(queue.map(({ key }) => key), VIEW);
      queue.forEach(({ at, resolve, reject }, i) => {
        const value = values[i];
        if (value === undefined) reject(new Error(`tree node missing at version ${at.version}, depth ${at.depth}: pruned or corrupt`));
        else resolve(decodeNode(value));
      });
    } catch (error) {
      for (const { reject } of queue) reject(error);
    }
  }
}

/** LevelDB hands out Buffers; the store's values and hashes are plain Uint8Arrays (see sha256 in hash.ts). */
function plain(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}
