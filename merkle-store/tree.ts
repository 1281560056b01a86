// The core: a versioned binary sparse Merkle tree over 256-bit key hashes, with every subtree that
// holds no leaf replaced by EMPTY_ROOT and every subtree that holds exactly one leaf replaced by
// that leaf. A leaf therefore sits at the shortest prefix of its key hash that no other key shares,
// the tree is ~log2(n) deep, and its shape depends only on the set of keys, never on the order of
// insertion.
//
// The latest version's tree is held in memory, as much of it as has been loaded (and not evicted),
// in typed arrays rather than in one object per node: a commit at 100k keys builds ~9 nodes per
// updated key, and objects (a node, its hash) cost more in allocation, garbage collection and cache
// misses than the hashing itself. Nodes are numbered; a reference to a subtree is a number:
//
//   0       the empty subtree
//   id > 0  internal node `id`: a 64-byte record of its children, its page's version if it is a
//           page root, and its hash
//   -id < 0 leaf `id`: its key hash and value hash (64 bytes), its hash in a second array, and
//           where its value is in the value heap if it is kept inline (codec.ts)
//
// Storage is pages of PAGE_LEVELS levels (codec.ts), read through a PageReader. An update loads the
// pages on the updated paths that are not in memory (a round of reads per page level), then builds
// the new nodes copy-on-write, then hashes them in one pass, children first (in one call to the
// native hasher when it is built), then encodes the pages that changed. The caller writes them and
// then adopts the change (the replaced nodes are freed, their ids reused), or discards it (the new
// nodes are freed). Older versions are read from their pages (provePast).
import { hash } from "node:crypto";
import {
  MAX_PAGE_BYTES,
  PAGE_LEVELS,
  SLOT_EMPTY,
  SLOT_INTERNAL,
  SLOT_LEAF,
  SLOT_PAGE,
  SLOT_VALUE_LEAF,
  INLINE_VALUE_BYTES,
  LEAF_SLOT_BYTES,
  inlineValue,
  inlineValueAt,
  inlineValueLength,
  encodeRootRecord,
  pageKey,
  pageKeyLength,
  readVarint,
  skipSlot,
  slotHash,
  writePageKey,
  writeVarint,
  type RootRecord,
} from "./codec.ts";
import { EMPTY_ROOT, INTERNAL_DOMAIN, LATIN1_DIGEST, LEAF_DOMAIN, sha256, sha256Packed, type Digest, type Hash } from "./hash.ts";
import { nativeJmtHasher, type NativeJmtHasher } from "./native.ts";
import type { Proof } from "./proof.ts";

export { PAGE_LEVELS } from "./codec.ts";

export interface PageReader {
  /** The pages stored under `keys`, in order; rejects if one is missing (the version was pruned, or the store is corrupt). */
  readPages(keys: readonly Uint8Array[]): Promise<Uint8Array[]>;
}

/**
 * Set `keyHash` to the value hashed as `valueHash`, or delete it when `valueHash` is undefined (latin1
 * digests, see hash.ts). A `value` of up to INLINE_VALUE_BYTES is kept in the tree; any other is
 * the caller's to store.
 */
export interface Update {
  readonly keyHash: Digest;
  readonly valueHash: Digest | undefined;
  readonly value?: Uint8Array;
}

/** Updates packed as the store builds them: `count` key hashes and value hashes, 32 bytes each, sorted by key hash and distinct. */
export interface PackedUpdates {
  readonly count: number;
  readonly keyHashes: Uint8Array;
  readonly valueHashes: Uint8Array;
  /** 1 where the update is a deletion. */
  readonly deleted: Uint8Array;
  /** The values (as in Update), or undefined. */
  readonly values: readonly (Uint8Array | undefined)[];
}

/** What Tree#lookup found: the value kept in the tree, or a leaf whose value is stored apart, or no leaf. */
export const STORED_APART = Symbol("stored apart");

const EMPTY = 0;
/** In place of an internal node's children while its page is not in memory. */
const UNLOADED = -0x80000000;
// An internal node is a 64-byte record, one cache line: the walks, the hashing and the encoding
// each touch a node once. Words (int32) 0 and 1: left and right child; float64 1: the page's
// version for a page root, else 0; bytes 16 to 47: the hash.
const NODE = 64;
const NODE_WORDS = NODE / 4;
const NODE_FLOATS = NODE / 8;
const HASH_AT = 16;
// A leaf is its key hash and value hash (64 bytes: what a page stores) and, apart, its hash.
const LEAF_KV = 64;
/** Bytes of reused buffers kept after an update (enough for about 10,000 updates). */
const SCRATCH_KEPT = 4 * 2 ** 20;
/** A leaf's value length while its value is stored apart (or the leaf is free). */
const APART = -1;
/** The value heap is compacted once it holds more garbage than this and than live values. */
const HEAP_GARBAGE = 2 ** 20;
/**
 * The same for the encoded pages. The native encoder wants room for every new page at its largest
 * (about 1 KB, where most take 400 bytes): 16 MiB covers a commit of ~7,000 keys at 100k keys.
 */
const OUT_KEPT = 16 * 2 ** 20;

// Node preimages are assembled in place: the tree's hashes are copied in as 32-bit words.
const internalInput = Buffer.from(new ArrayBuffer(INTERNAL_DOMAIN.length + 64));
internalInput.set(INTERNAL_DOMAIN);
const internalInput32 = new Int32Array(internalInput.buffer);
const leafInput = Buffer.alloc(LEAF_DOMAIN.length + 64);
leafInput.set(LEAF_DOMAIN);
const EMPTY_ROOT32 = new Int32Array(Uint8Array.from(EMPTY_ROOT).buffer);

/** A computed update: what to write, and the new tree once adopted. */
export class TreeChange {
  readonly version: number;
  /** The new root hash. */
  readonly root: Hash;
  readonly rootRecord: Uint8Array;
  /** New pages: full LevelDB keys (with the prefix) and values, views into a buffer that the tree's next update reuses. */
  readonly pages: readonly { readonly key: Uint8Array; readonly value: Uint8Array }[];
  /** Keys (without the prefix) of the pages of earlier versions that this one no longer references. */
  readonly stale: readonly Uint8Array[];
  /** The updates whose key's value was stored apart and no longer is (deleted, or now inline): their stored values are to go. */
  readonly unstored: readonly number[];
  /** Nodes built (and hashed). */
  readonly nodes: number;
  /** @internal */
  readonly work: Work;

  constructor(version: number, root: Hash, rootRecord: Uint8Array, pages: { key: Uint8Array; value: Uint8Array }[], stale: Uint8Array[], work: Work) {
    this.version = version;
    this.root = root;
    this.rootRecord = rootRecord;
    this.pages = pages;
    this.stale = stale;
    this.unstored = work.unstored;
    this.nodes = work.createdInternals.length + work.createdLeaves.length;
    this.work = work;
  }
}

/** The bookkeeping of one update. */
class Work {
  readonly version: number;
  readonly keys: Uint8Array;
  readonly values: Uint8Array;
  readonly deleted: Uint8Array;
  readonly inline: readonly (Uint8Array | undefined)[];
  root = EMPTY;
  readonly createdInternals: number[] = [];
  readonly createdLeaves: number[] = [];
  readonly droppedInternals: number[] = [];
  readonly droppedLeaves: number[] = [];
  /** Page roots replaced or removed: [id, …]. */
  readonly droppedPages: number[] = [];
  /** Their addresses: [version, depth, index of an update under the page, …]. */
  readonly stalePages: number[] = [];
  /** New page roots, children before parents: [id, depth, index of an update under the page, …]. */
  readonly newPages: number[] = [];
  readonly unstored: number[] = [];

  constructor(version: number, updates: PackedUpdates) {
    const { count, keyHashes } = updates;
    this.version = version;
    this.keys = keyHashes.subarray(0, 32 * count);
    this.values = updates.valueHashes.subarray(0, 32 * count);
    this.deleted = updates.deleted.subarray(0, count);
    this.inline = updates.values.map((value) => (value !== undefined && value.length <= INLINE_VALUE_BYTES ? value : undefined));
    for (let i = 1; i < count; i++) {
      let j = 0;
      while (j < 32 && keyHashes[32 * i + j] === keyHashes[32 * i - 32 + j]) j++;
      if (j === 32 || keyHashes[32 * i + j] < keyHashes[32 * i - 32 + j]) throw new Error("updates must be sorted by key hash and distinct");
    }
  }
}

/** `updates` packed. */
export function packUpdates(updates: readonly Update[]): PackedUpdates {
  const count = updates.length;
  const keyHashes = Buffer.alloc(32 * count);
  const valueHashes = Buffer.alloc(32 * count);
  const deleted = new Uint8Array(count);
  updates.forEach(({ keyHash, valueHash }, i) => {
    keyHashes.write(keyHash, 32 * i, "latin1");
    if (valueHash === undefined) deleted[i] = 1;
    else valueHashes.write(valueHash, 32 * i, "latin1");
  });
  return { count, keyHashes, valueHashes, deleted, values: updates.map(({ valueHash, value }) => (valueHash === undefined ? undefined : value)) };
}

export interface TreeOptions {
  /** Nodes to keep in memory, roughly: whole pages are evicted, least recently used first, past it. */
  readonly capacity: number;
  /** The batch hasher (default: the native one if built), or null for node:crypto, one node at a time. */
  readonly native?: NativeJmtHasher | null;
}

/** The latest version of the tree, as far as it is in memory, and its updates. */
export class Tree {
  readonly #prefix: Uint8Array;
  readonly #reader: PageReader;
  readonly #capacity: number;
  readonly #native: NativeJmtHasher | undefined;

  // Internal nodes by id (from 1), NODE bytes each, seen as bytes, words and float64s.
  #nodes: Buffer;
  #words: Int32Array;
  #floats: Float64Array;
  #inext = 1;
  readonly #ifree: number[] = [];
  // Leaves by id (from 1): key hash and value hash (LEAF_KV bytes), and leaf hash (32 bytes).
  #kv: Buffer;
  #leafHashes: Buffer;
  #leafWords: Int32Array;
  /** Per leaf id: the offset and length of its value in #heap, or length APART. */
  #leafValues: Int32Array;
  /** Inline values, appended; the bytes of freed leaves are garbage until the heap is compacted. */
  #heap: Buffer = Buffer.alloc(64 * 1024);
  #heapEnd = 0;
  #heapLive = 0;
  #lnext = 1;
  readonly #lfree: number[] = [];

  #root: number;
  /** Bumped when nodes are freed (a change adopted, a page evicted): a walk that awaited since must start over. */
  #generation = 0;
  /**
   * How many pages of the tree are not in memory; Infinity once one has been evicted (counting them
   * again would mean walking the tree). An update does not change it: the subtrees it drops are on
   * its updated paths, which it loads, and the ones it builds are all in memory.
   */
  #unloaded = 0;
  /** Page roots in memory and their depths, least recently used first. */
  readonly #pages = new Map<number, number>();
  /** The update computed and not yet adopted or discarded. */
  #pending: Work | undefined;
  #work: Work | undefined;
  /** Reused from update to update: node ids for the hasher. */
  #ids = new Int32Array(4096);

  constructor(prefix: Uint8Array, reader: PageReader, options: TreeOptions, root: RootRecord) {
    this.#prefix = prefix;
    this.#reader = reader;
    this.#capacity = options.capacity;
    this.#native = options.native === undefined ? nativeJmtHasher : (options.native ?? undefined);
    this.#nodes = Buffer.alloc(NODE * 1024);
    this.#words = new Int32Array(this.#nodes.buffer);
    this.#floats = new Float64Array(this.#nodes.buffer);
    this.#kv = Buffer.alloc(LEAF_KV * 1024);
    this.#leafHashes = Buffer.alloc(32 * 1024);
    this.#leafWords = new Int32Array(this.#leafHashes.buffer);
    this.#leafValues = new Int32Array(2 * 1024);
    if (root.kind === "empty") this.#root = EMPTY;
    else if (root.kind === "leaf") {
      const leaf = this.#allocLeaf();
      this.#kv.set(root.keyHash, LEAF_KV * leaf);
      this.#kv.set(root.valueHash, LEAF_KV * leaf + 32);
      if (root.value !== undefined) this.#setValue(leaf, root.value, 0, root.value.length);
      this.#hashLeaf(leaf);
      this.#root = -leaf;
    } else {
      const id = this.#allocInternal();
      this.#nodes.set(root.hash, NODE * id + HASH_AT);
      this.#words[NODE_WORDS * id] = this.#words[NODE_WORDS * id + 1] = UNLOADED;
      this.#floats[NODE_FLOATS * id + 1] = root.version;
      this.#root = id;
      this.#unloaded = 1;
    }
  }

  /** The root hash (a copy). */
  get rootHash(): Hash {
    return this.#hashCopy(this.#root);
  }

  /** Nodes in memory, pages of them, and the bytes of the arrays that hold them. */
  get size(): { nodes: number; pages: number; bytes: number } {
    return { nodes: this.#live(), pages: this.#pages.size, bytes: this.#nodes.length + this.#kv.length + this.#leafHashes.length + this.#leafValues.byteLength + this.#heap.length };
  }

  /**
   * Applies `updates` (sorted by key hash, distinct) as version `version`. Only the paths to updated
   * keys are read, rebuilt and rehashed, so the cost is O(updates × log n); subtrees the updates
   * leave as they were (e.g. a value set to itself) keep their stored pages. The tree is unchanged
   * until the change is adopted; until it is adopted or discarded, no other update can be applied.
   */
  async apply(updates: readonly Update[] | PackedUpdates, version: number): Promise<TreeChange> {
    if (this.#pending !== undefined || this.#work !== undefined) throw new Error("an update is pending");
    const work = new Work(version, "count" in updates ? updates : packUpdates(updates));
    const count = work.deleted.length;
    this.#work = work;
    try {
      if (count > 0 && this.#unloaded !== 0) await this.#loadPaths(work);
      work.root = count === 0 ? this.#root : this.#update(this.#root, 0, 0, count);
      // One pass over the new nodes, children before parents (the order they were built in).
      this.#hashNodes(work.createdLeaves, work.createdInternals);
      const change = this.#encode(work);
      this.#pending = work;
      return change;
    } catch (error) {
      this.#free(work.createdInternals, work.createdLeaves);
      throw error;
    } finally {
      this.#work = undefined;
    }
  }

  /** Makes the change the tree: call once its pages are written. */
  adopt(change: TreeChange): void {
    const work = this.#take(change);
    this.#root = work.root;
    for (const id of work.droppedPages) this.#pages.delete(id);
    this.#free(work.droppedInternals, work.droppedLeaves);
    // Sub-pages before their parents: least recently used first, they are evicted first.
    for (let i = 0; i < work.newPages.length; i += 3) this.#pages.set(work.newPages[i], work.newPages[i + 1]);
    this.#generation++;
    if (this.#heapEnd - this.#heapLive > Math.max(HEAP_GARBAGE, this.#heapLive)) this.#compactHeap();
  }

  /** Forgets the change (its pages were not written). */
  discard(change: TreeChange): void {
    const work = this.#take(change);
    this.#free(work.createdInternals, work.createdLeaves);
  }

  /** Evicts pages, least recently used first, until at most `capacity` nodes are in memory. Not while a change is pending. */
  trim(): void {
    if (this.#pending !== undefined || this.#work !== undefined) return;
    if (this.#live() <= this.#capacity) return;
    // One iterator for the whole pass: a new one would step over every entry deleted so far.
    for (const [id, depth] of this.#pages) {
      if (this.#live() <= this.#capacity) break;
      this.#pages.delete(id);
      this.#unload(id, depth);
      this.#unloaded = Infinity;
      this.#generation++;
    }
  }

  /**
   * A proof of `keyHash`'s value or absence in the tree, loading the pages it needs. Undefined if
   * the tree changed while a page was read: the caller proves that version from its pages instead.
   */
  async prove(keyHash: Hash): Promise<Proof | undefined> {
    const generation = this.#generation;
    const siblings: Hash[] = [];
    for (let ref = this.#root, depth = 0; ; depth++) {
      if (ref === EMPTY) return { siblings };
      if (ref < 0) return { siblings, leaf: { keyHash: this.#leafBytes(-ref, 0), valueHash: this.#leafBytes(-ref, 32) } };
      if (this.#words[NODE_WORDS * ref] === UNLOADED) {
        const [page] = await this.#reader.readPages([pageKey(this.#prefix, this.#floats[NODE_FLOATS * ref + 1], depth, keyHash)]);
        if (this.#generation !== generation) return undefined;
        if (this.#words[NODE_WORDS * ref] === UNLOADED) this.#attach(ref, depth, page);
      }
      const right = (keyHash[depth >> 3] & (0x80 >> (depth & 7))) !== 0;
      siblings.push(this.#hashCopy(right ? this.#words[NODE_WORDS * ref] : this.#words[NODE_WORDS * ref + 1]));
      ref = right ? this.#words[NODE_WORDS * ref + 1] : this.#words[NODE_WORDS * ref];
    }
  }

  /**
   * The value of `keyHash` if the tree keeps it, STORED_APART if its leaf holds only its hash, null if
   * the key is absent; loads the pages it needs. Undefined if the tree changed while a page was read:
   * the caller asks again.
   */
  async lookup(keyHash: Hash): Promise<Uint8Array | typeof STORED_APART | null | undefined> {
    const generation = this.#generation;
    for (let ref = this.#root, depth = 0; ; depth++) {
      if (ref === EMPTY) return null;
      if (ref < 0) {
        const leaf = -ref;
        for (let j = 0; j < 32; j++) if (this.#kv[LEAF_KV * leaf + j] !== keyHash[j]) return null;
        const length = this.#leafValues[2 * leaf + 1];
        if (length === APART) return STORED_APART;
        const start = this.#leafValues[2 * leaf];
        return new Uint8Array(this.#heap.subarray(start, start + length));
      }
      if (this.#words[NODE_WORDS * ref] === UNLOADED) {
        const [page] = await this.#reader.readPages([pageKey(this.#prefix, this.#floats[NODE_FLOATS * ref + 1], depth, keyHash)]);
        if (this.#generation !== generation) return undefined;
        if (this.#words[NODE_WORDS * ref] === UNLOADED) this.#attach(ref, depth, page);
      }
      ref = this.#words[NODE_WORDS * ref + ((keyHash[depth >> 3] >> (7 - (depth & 7))) & 1)];
    }
  }

  #take(change: TreeChange): Work {
    if (change.work !== this.#pending) throw new Error("not the pending change of this tree");
    this.#pending = undefined;
    // The buffers reused from update to update keep the size of a block's, not of a bulk load's.
    if (this.#out.length > OUT_KEPT) this.#out = Buffer.allocUnsafeSlow(OUT_KEPT);
    if (this.#ids.length > SCRATCH_KEPT / 4) this.#ids = new Int32Array(SCRATCH_KEPT / 4);
    return change.work;
  }

  // ---- Loading ----

  /** Loads every page that the paths to the updates pass through, one batch of reads per page level. */
  async #loadPaths(work: Work): Promise<void> {
    let wanted: number[] = [];
    this.#findUnloaded(this.#root, 0, 0, work.deleted.length, work.keys, wanted);
    while (wanted.length > 0) {
      const keys: Uint8Array[] = [];
      for (let i = 0; i < wanted.length; i += 4) keys.push(pageKey(this.#prefix, this.#floats[NODE_FLOATS * wanted[i] + 1], wanted[i + 1], work.keys, 32 * wanted[i + 2]));
      const pages = await this.#reader.readPages(keys);
      const next: number[] = [];
      for (let i = 0; i < wanted.length; i += 4) {
        const [id, depth, lo, hi] = [wanted[i], wanted[i + 1], wanted[i + 2], wanted[i + 3]];
        // A proof may have loaded it meanwhile; its contents are the same either way.
        if (this.#words[NODE_WORDS * id] === UNLOADED) this.#attach(id, depth, pages[i / 4]);
        this.#findUnloaded(id, depth, lo, hi, work.keys, next);
      }
      wanted = next;
    }
  }

  /** Adds to `out` [id, depth, lo, hi] for each unloaded page that keys[lo..hi) lead to from `ref`, at `depth`. */
  #findUnloaded(ref: number, depth: number, lo: number, hi: number, keys: Uint8Array, out: number[]): void {
    if (ref <= 0) return;
    const left = this.#words[NODE_WORDS * ref];
    if (left === UNLOADED) {
      out.push(ref, depth, lo, hi);
      return;
    }
    const mid = splitKeys(keys, lo, hi, depth);
    if (mid > lo) this.#findUnloaded(left, depth + 1, lo, mid, keys, out);
    if (mid < hi) this.#findUnloaded(this.#words[NODE_WORDS * ref + 1], depth + 1, mid, hi, keys, out);
  }

  #page: Uint8Array = new Uint8Array(0);
  #cursor = 0;
  /** The page being loaded: its leaves and internal nodes (children first), and its sub-page roots. */
  #loadedLeaves: number[] = [];
  /** Those of them that keep their values, whose value hashes are computed once the page is read. */
  #loadedInline: number[] = [];
  #loadedInternals: number[] = [];
  #loadedSubpages: number[] = [];

  /**
   * Decodes `page` as the page of internal node `id` (at `depth`) and attaches its nodes, computing
   * their hashes; checks that they hash to `id`'s hash, which its parent holds.
   */
  #attach(id: number, depth: number, page: Uint8Array): void {
    this.#page = page;
    this.#cursor = 0;
    this.#loadedLeaves = [];
    this.#loadedInline = [];
    this.#loadedInternals = [];
    this.#loadedSubpages = [];
    try {
      const left = this.#readSlot(depth + 1, depth + PAGE_LEVELS);
      const right = this.#readSlot(depth + 1, depth + PAGE_LEVELS);
      if (this.#cursor !== page.length) throw new Error("corrupt tree page");
      this.#hashValues(this.#loadedInline);
      this.#hashNodes(this.#loadedLeaves, this.#loadedInternals);
      this.#copyHash32(left, 4);
      this.#copyHash32(right, 12);
      if (hash("sha256", internalInput, LATIN1_DIGEST) !== this.#nodes.toString("latin1", NODE * id + HASH_AT, NODE * id + HASH_AT + 32)) {
        throw new Error(`tree page at version ${this.#floats[NODE_FLOATS * id + 1]}, depth ${depth} does not match its hash: corrupt`);
      }
      this.#words[NODE_WORDS * id] = left;
      this.#words[NODE_WORDS * id + 1] = right;
    } catch (error) {
      this.#free(this.#loadedInternals, this.#loadedLeaves);
      this.#free(this.#loadedSubpages, []);
      throw error;
    } finally {
      this.#page = new Uint8Array(0);
    }
    this.#pages.set(id, depth);
    this.#unloaded += this.#loadedSubpages.length - 1;
  }

  #readSlot(depth: number, bottom: number): number {
    const page = this.#page;
    const offset = this.#cursor;
    const tag = page[offset];
    if (tag === SLOT_EMPTY && offset < page.length) {
      this.#cursor = offset + 1;
      return EMPTY;
    }
    if (tag === SLOT_LEAF && offset + LEAF_SLOT_BYTES <= page.length) {
      this.#cursor = offset + LEAF_SLOT_BYTES;
      const leaf = this.#allocLeaf();
      this.#loadedLeaves.push(leaf);
      this.#kv.set(page.subarray(offset + 1, offset + LEAF_SLOT_BYTES), LEAF_KV * leaf);
      return -leaf;
    }
    if (tag === SLOT_VALUE_LEAF) {
      const start = inlineValueAt(page, offset);
      const length = inlineValueLength(page, offset);
      this.#cursor = start + length;
      const leaf = this.#allocLeaf();
      this.#loadedLeaves.push(leaf);
      this.#loadedInline.push(leaf);
      this.#kv.set(page.subarray(offset + 1, offset + 33), LEAF_KV * leaf);
      this.#setValue(leaf, page, start, length);
      return -leaf;
    }
    if (tag === SLOT_PAGE && depth === bottom) {
      const { value: version, end } = readVarint(page, offset + 1);
      if (end + 32 > page.length) throw new Error("corrupt tree page");
      this.#cursor = end + 32;
      const id = this.#allocInternal();
      this.#loadedSubpages.push(id);
      this.#nodes.set(page.subarray(end, end + 32), NODE * id + HASH_AT);
      this.#words[NODE_WORDS * id] = this.#words[NODE_WORDS * id + 1] = UNLOADED;
      this.#floats[NODE_FLOATS * id + 1] = version;
      return id;
    }
    if (tag === SLOT_INTERNAL && depth < bottom) {
      this.#cursor = offset + 1;
      const left = this.#readSlot(depth + 1, bottom);
      const right = this.#readSlot(depth + 1, bottom);
      // An internal node holds two or more keys: fewer make a leaf or an empty subtree.
      if ((left === EMPTY && right <= 0) || (right === EMPTY && left < 0)) throw new Error("corrupt tree page");
      const id = this.#allocInternal();
      this.#loadedInternals.push(id);
      this.#words[NODE_WORDS * id] = left;
      this.#words[NODE_WORDS * id + 1] = right;
      this.#floats[NODE_FLOATS * id + 1] = 0;
      return id;
    }
    throw new Error("corrupt tree page");
  }

  /** Frees the nodes of page root `id` (at `depth`) and everything loaded under it; `id` stays, unloaded. */
  #unload(id: number, depth: number): void {
    this.#freeSubtree(this.#words[NODE_WORDS * id], depth + 1, depth + PAGE_LEVELS);
    this.#freeSubtree(this.#words[NODE_WORDS * id + 1], depth + 1, depth + PAGE_LEVELS);
    this.#words[NODE_WORDS * id] = this.#words[NODE_WORDS * id + 1] = UNLOADED;
  }

  #freeSubtree(ref: number, depth: number, bottom: number): void {
    if (ref === EMPTY) return;
    if (ref < 0) {
      this.#freeLeaf(-ref);
      return;
    }
    if (depth === bottom) {
      if (this.#words[NODE_WORDS * ref] !== UNLOADED) {
        this.#pages.delete(ref);
        this.#unload(ref, depth);
      }
    } else {
      this.#freeSubtree(this.#words[NODE_WORDS * ref], depth + 1, bottom);
      this.#freeSubtree(this.#words[NODE_WORDS * ref + 1], depth + 1, bottom);
    }
    this.#ifree.push(ref);
  }

  // ---- Updating ----

  /** The subtree at `depth` that `ref` is, with updates[lo..hi) (all under its path) applied. Synchronous: the paths are loaded. */
  #update(ref: number, depth: number, lo: number, hi: number): number {
    const work = this.#work!;
    if (ref === EMPTY) return this.#insert(lo, hi, depth);
    if (ref < 0) return this.#mergeLeaf(-ref, depth, lo, hi);
    const left = this.#words[NODE_WORDS * ref];
    const right = this.#words[NODE_WORDS * ref + 1];
    if (left === UNLOADED) throw new Error(`tree page at version ${this.#floats[NODE_FLOATS * ref + 1]}, depth ${depth} is not loaded`);
    const mid = splitKeys(work.keys, lo, hi, depth);
    const newLeft = mid > lo ? this.#update(left, depth + 1, lo, mid) : left;
    const newRight = mid < hi ? this.#update(right, depth + 1, mid, hi) : right;
    if (newLeft === left && newRight === right) return ref;
    work.droppedInternals.push(ref);
    if (depth % PAGE_LEVELS === 0) {
      work.droppedPages.push(ref);
      work.stalePages.push(this.#floats[NODE_FLOATS * ref + 1], depth, lo);
    }
    // Deletions can leave a lone leaf beside an empty subtree: it then moves up to take this node's
    // place, which is what keeps the shape canonical. An internal node never moves.
    if (newLeft === EMPTY) {
      if (newRight <= 0) return newRight;
    } else if (newRight === EMPTY && newLeft < 0) {
      return newLeft;
    }
    return this.#newInternal(newLeft, newRight, depth, lo);
  }

  /** The subtree at `depth` holding the upserts among updates[lo..hi), where the tree was empty. */
  #insert(lo: number, hi: number, depth: number): number {
    const deleted = this.#work!.deleted;
    const leaves: number[] = [];
    const from: number[] = [];
    for (let i = lo; i < hi; i++) {
      if (deleted[i] === 0) {
        leaves.push(this.#newLeaf(i));
        from.push(i);
      }
    }
    return this.#build(leaves, from, 0, leaves.length, depth);
  }

  /** The subtree at `depth` that leaf `leaf` was, with updates[lo..hi) applied. */
  #mergeLeaf(leaf: number, depth: number, lo: number, hi: number): number {
    const work = this.#work!;
    if (hi - lo === 1) {
      // The common case: one key, updated in place.
      const order = this.#compareKey(lo, leaf, depth);
      if (order === 0) {
        if (work.deleted[lo] === 1) {
          this.#drop(leaf, lo);
          return EMPTY;
        }
        if (this.#sameValue(lo, leaf)) return -leaf;
        this.#drop(leaf, lo);
        return -this.#newLeaf(lo);
      }
      if (work.deleted[lo] === 1) return -leaf;
      const added = this.#newLeaf(lo);
      return order < 0 ? this.#build([added, leaf], [lo, -1], 0, 2, depth) : this.#build([leaf, added], [-1, lo], 0, 2, depth);
    }
    const leaves: number[] = [];
    const from: number[] = [];
    let placed = false;
    let changed = false;
    for (let i = lo; i < hi; i++) {
      const order = this.#compareKey(i, leaf, depth);
      if (!placed && order > 0) {
        leaves.push(leaf);
        from.push(-1);
        placed = true;
      }
      if (order === 0) {
        placed = true;
        if (work.deleted[i] === 1) {
          changed = true;
          this.#drop(leaf, i);
        } else if (this.#sameValue(i, leaf)) {
          leaves.push(leaf);
          from.push(-1);
        } else {
          changed = true;
          this.#drop(leaf, i);
          leaves.push(this.#newLeaf(i));
          from.push(i);
        }
      } else if (work.deleted[i] === 0) {
        changed = true;
        leaves.push(this.#newLeaf(i));
        from.push(i);
      }
    }
    if (!placed) {
      leaves.push(leaf);
      from.push(-1);
    }
    if (!changed) return -leaf;
    return this.#build(leaves, from, 0, leaves.length, depth);
  }

  /**
   * The subtree at `depth` holding exactly leaves[lo..hi) (sorted, sharing the first `depth` bits).
   * from[i] is the update leaf i comes from, or -1 for the one leaf that was there already.
   */
  #build(leaves: readonly number[], from: readonly number[], lo: number, hi: number, depth: number): number {
    if (hi === lo) return EMPTY;
    if (hi - lo === 1) return -leaves[lo];
    const byte = depth >> 3;
    const mask = 0x80 >> (depth & 7);
    let a = lo;
    let b = hi;
    while (a < b) {
      const m = (a + b) >>> 1;
      if ((this.#kv[LEAF_KV * leaves[m] + byte] & mask) === 0) a = m + 1;
      else b = m;
    }
    const left = this.#build(leaves, from, lo, a, depth + 1);
    const right = this.#build(leaves, from, a, hi, depth + 1);
    // Two or more leaves, at most one of them not from an update: an update under the node gives its path.
    return this.#newInternal(left, right, depth, from[lo] >= 0 ? from[lo] : from[lo + 1]);
  }

  /** A new internal node at `depth` (hashed later); at a page boundary, the root of a new page (its path: update `pathIndex`'s key). */
  #newInternal(left: number, right: number, depth: number, pathIndex: number): number {
    const work = this.#work!;
    const id = this.#allocInternal();
    this.#words[NODE_WORDS * id] = left;
    this.#words[NODE_WORDS * id + 1] = right;
    this.#floats[NODE_FLOATS * id + 1] = work.version;
    work.createdInternals.push(id);
    if (depth % PAGE_LEVELS === 0) work.newPages.push(id, depth, pathIndex);
    return id;
  }

  /** A new leaf for update `i` (hashed later). */
  #newLeaf(i: number): number {
    const work = this.#work!;
    const leaf = this.#allocLeaf();
    copyInto(work.keys, 32 * i, this.#kv, LEAF_KV * leaf, 32);
    copyInto(work.values, 32 * i, this.#kv, LEAF_KV * leaf + 32, 32);
    const value = work.inline[i];
    if (value !== undefined) this.#setValue(leaf, value, 0, value.length);
    work.createdLeaves.push(leaf);
    return leaf;
  }

  /** Leaf `leaf`, replaced or deleted by update `i`: freed once the change is adopted; its stored value goes unless `i` stores one. */
  #drop(leaf: number, i: number): void {
    const work = this.#work!;
    work.droppedLeaves.push(leaf);
    if (this.#leafValues[2 * leaf + 1] === APART && (work.deleted[i] === 1 || work.inline[i] !== undefined)) work.unstored.push(i);
  }

  /** Update `i`'s key against leaf `leaf`'s, which share their first `depth` bits. */
  #compareKey(i: number, leaf: number, depth: number): number {
    const keys = this.#work!.keys;
    const kv = this.#kv;
    for (let j = depth >> 3; j < 32; j++) {
      const difference = keys[32 * i + j] - kv[LEAF_KV * leaf + j];
      if (difference !== 0) return difference;
    }
    return 0;
  }

  #sameValue(i: number, leaf: number): boolean {
    const values = this.#work!.values;
    const kv = this.#kv;
    for (let j = 0; j < 32; j++) if (values[32 * i + j] !== kv[LEAF_KV * leaf + 32 + j]) return false;
    return true;
  }

  // ---- Encoding ----

  /** The encoded pages of the last update; reused, so TreeChange#pages hold until the next update. */
  #out: Buffer = Buffer.allocUnsafeSlow(MAX_PAGE_BYTES + 64);
  #outOffset = 0;

  /** Encodes the new pages, their keys and the stale-page keys of `work`. */
  #encode(work: Work): TreeChange {
    const pages = this.#native === undefined ? this.#encodePages(work) : this.#encodePagesNative(work, this.#native);
    const stale: Uint8Array[] = [];
    for (let i = 0; i < work.stalePages.length; i += 3) {
      stale.push(pageKey(new Uint8Array(0), work.stalePages[i], work.stalePages[i + 1], work.keys, 32 * work.stalePages[i + 2]));
    }
    return new TreeChange(work.version, this.#hashCopy(work.root), encodeRootRecord(this.#rootRecord(work.root)), pages, stale, work);
  }

  /**
   * The same pages, encoded by the addon in one call: the keys first, then every page's value, in a
   * buffer with room for the largest pages.
   */
  #encodePagesNative(work: Work, native: NativeJmtHasher): { key: Uint8Array; value: Uint8Array }[] {
    const count = work.newPages.length / 3;
    const prefix = this.#prefix;
    let keyBytes = 0;
    for (let i = 0; i < work.newPages.length; i += 3) keyBytes += pageKeyLength(prefix, work.newPages[i + 1]);
    if (this.#out.length < keyBytes + count * MAX_PAGE_BYTES) this.#out = Buffer.allocUnsafeSlow(Math.max(2 * this.#out.length, keyBytes + count * MAX_PAGE_BYTES));
    if (this.#ids.length < 2 * count) this.#ids = new Int32Array(4 * count);
    const roots = this.#ids.subarray(0, 2 * count);
    for (let i = 0; i < count; i++) {
      roots[2 * i] = work.newPages[3 * i];
      roots[2 * i + 1] = work.newPages[3 * i + 1];
    }
    const ends = new Int32Array(count);
    const buffer = this.#out.buffer;
    native.jmtEncodePages(this.#nodes, this.#kv, this.#leafValues, this.#heap, roots, this.#out.subarray(keyBytes), ends);
    const pages: { key: Uint8Array; value: Uint8Array }[] = [];
    for (let i = 0, keyStart = 0; i < count; i++) {
      const [depth, pathIndex] = [work.newPages[3 * i + 1], work.newPages[3 * i + 2]];
      const keyEnd = writePageKey(this.#out, keyStart, prefix, work.version, depth, work.keys, 32 * pathIndex);
      const valueStart = i === 0 ? 0 : ends[i - 1];
      pages.push({ key: new Uint8Array(buffer, keyStart, keyEnd - keyStart), value: new Uint8Array(buffer, keyBytes + valueStart, ends[i] - valueStart) });
      keyStart = keyEnd;
    }
    return pages;
  }

  #encodePages(work: Work): { key: Uint8Array; value: Uint8Array }[] {
    const pages: { key: Uint8Array; value: Uint8Array }[] = [];
    this.#outOffset = 0;
    const prefix = this.#prefix;
    for (let i = 0; i < work.newPages.length; i += 3) {
      const [id, depth, pathIndex] = [work.newPages[i], work.newPages[i + 1], work.newPages[i + 2]];
      this.#reserve(pageKeyLength(prefix, depth) + MAX_PAGE_BYTES);
      const keyStart = this.#outOffset;
      this.#outOffset = writePageKey(this.#out, keyStart, prefix, work.version, depth, work.keys, 32 * pathIndex);
      const valueStart = this.#outOffset;
      this.#writeSlot(this.#words[NODE_WORDS * id], depth + 1, depth + PAGE_LEVELS);
      this.#writeSlot(this.#words[NODE_WORDS * id + 1], depth + 1, depth + PAGE_LEVELS);
      // Plain Uint8Array views (a Buffer's slice() would be a view too, not the copy a caller expects).
      const buffer = this.#out.buffer;
      pages.push({ key: new Uint8Array(buffer, keyStart, valueStart - keyStart), value: new Uint8Array(buffer, valueStart, this.#outOffset - valueStart) });
    }
    return pages;
  }

  #writeSlot(ref: number, depth: number, bottom: number): void {
    const out = this.#out;
    const offset = this.#outOffset;
    if (ref === EMPTY) {
      out[offset] = SLOT_EMPTY;
      this.#outOffset = offset + 1;
    } else if (ref < 0 && this.#leafValues[-2 * ref + 1] !== APART) {
      const [start, length] = [this.#leafValues[-2 * ref], this.#leafValues[-2 * ref + 1]];
      out[offset] = SLOT_VALUE_LEAF;
      copyInto(this.#kv, -LEAF_KV * ref, out, offset + 1, 32);
      out[offset + 33] = length;
      copyInto(this.#heap, start, out, offset + 34, length);
      this.#outOffset = offset + 34 + length;
    } else if (ref < 0) {
      out[offset] = SLOT_LEAF;
      copyInto(this.#kv, -LEAF_KV * ref, out, offset + 1, 64);
      this.#outOffset = offset + LEAF_SLOT_BYTES;
    } else if (depth === bottom) {
      out[offset] = SLOT_PAGE;
      const end = writeVarint(out, offset + 1, this.#floats[NODE_FLOATS * ref + 1]);
      copyInto(this.#nodes, NODE * ref + HASH_AT, out, end, 32);
      this.#outOffset = end + 32;
    } else {
      out[offset] = SLOT_INTERNAL;
      this.#outOffset = offset + 1;
      this.#writeSlot(this.#words[NODE_WORDS * ref], depth + 1, bottom);
      this.#writeSlot(this.#words[NODE_WORDS * ref + 1], depth + 1, bottom);
    }
  }

  #reserve(length: number): void {
    if (this.#outOffset + length <= this.#out.length) return;
    // The pages encoded so far keep the old buffer alive; the rest go to a bigger one, kept for the next updates.
    this.#out = Buffer.allocUnsafeSlow(Math.max(2 * this.#out.length, length));
    this.#outOffset = 0;
  }

  #rootRecord(ref: number): RootRecord {
    if (ref === EMPTY) return { kind: "empty" };
    if (ref < 0) {
      const [start, length] = [this.#leafValues[-2 * ref], this.#leafValues[-2 * ref + 1]];
      const value = length === APART ? undefined : new Uint8Array(this.#heap.subarray(start, start + length));
      return { kind: "leaf", keyHash: this.#leafBytes(-ref, 0), valueHash: this.#leafBytes(-ref, 32), value };
    }
    return { kind: "page", version: this.#floats[NODE_FLOATS * ref + 1], hash: this.#hashCopy(ref) };
  }

  // ---- Hashing ----

  /** Hashes `leaves`, then `internals` in order: each internal node after its children. */
  #hashNodes(leaves: readonly number[], internals: readonly number[]): void {
    const native = this.#native;
    if (native !== undefined) {
      if (leaves.length > 0) native.jmtHashLeaves(this.#kv, this.#leafHashes, this.#idArray(leaves));
      if (internals.length > 0) native.jmtHashInternals(this.#nodes, this.#leafHashes, this.#idArray(internals));
      return;
    }
    for (const leaf of leaves) this.#hashLeaf(leaf);
    for (const id of internals) this.#hashInternal(id);
  }

  #hashInternal(id: number): void {
    this.#copyHash32(this.#words[NODE_WORDS * id], 4);
    this.#copyHash32(this.#words[NODE_WORDS * id + 1], 12);
    this.#nodes.write(hash("sha256", internalInput, LATIN1_DIGEST), NODE * id + HASH_AT, "latin1");
  }

  #hashLeaf(leaf: number): void {
    this.#kv.copy(leafInput, LEAF_DOMAIN.length, LEAF_KV * leaf, LEAF_KV * leaf + 64);
    this.#leafHashes.write(hash("sha256", leafInput, LATIN1_DIGEST), 32 * leaf, "latin1");
  }

  /** Computes the value hashes of `leaves`, which keep their values, in one pass over the heap (where they lie in order). */
  #hashValues(leaves: readonly number[]): void {
    if (leaves.length === 0) return;
    const first = this.#leafValues[2 * leaves[0]];
    const ends = new Int32Array(leaves.length);
    leaves.forEach((leaf, i) => (ends[i] = this.#leafValues[2 * leaf] + this.#leafValues[2 * leaf + 1] - first));
    const hashes = new Uint8Array(32 * leaves.length);
    sha256Packed(this.#heap.subarray(first, first + ends[leaves.length - 1]), ends, hashes, this.#native);
    leaves.forEach((leaf, i) => copyInto(hashes, 32 * i, this.#kv, LEAF_KV * leaf + 32, 32));
  }

  /** `ids` in a reused Int32Array. */
  #idArray(ids: readonly number[]): Int32Array {
    if (this.#ids.length < ids.length) this.#ids = new Int32Array(2 * ids.length);
    const array = this.#ids;
    for (let i = 0; i < ids.length; i++) array[i] = ids[i];
    return array.subarray(0, ids.length);
  }

  /** Copies the hash of `ref` into the internal-node preimage at word `at`. */
  #copyHash32(ref: number, at: number): void {
    let words: Int32Array;
    let start: number;
    if (ref === EMPTY) {
      words = EMPTY_ROOT32;
      start = 0;
    } else if (ref > 0) {
      words = this.#words;
      start = NODE_WORDS * ref + HASH_AT / 4;
    } else {
      words = this.#leafWords;
      start = -8 * ref;
    }
    for (let i = 0; i < 8; i++) internalInput32[at + i] = words[start + i];
  }

  #hashCopy(ref: number): Hash {
    if (ref === EMPTY) return EMPTY_ROOT.slice();
    return ref > 0 ? hashAt(this.#nodes, NODE * ref + HASH_AT) : hashAt(this.#leafHashes, -32 * ref);
  }

  #leafBytes(leaf: number, offset: number): Hash {
    return hashAt(this.#kv, LEAF_KV * leaf + offset);
  }


  // ---- Memory ----

  #live(): number {
    return this.#inext - 1 - this.#ifree.length + this.#lnext - 1 - this.#lfree.length;
  }

  #allocInternal(): number {
    const id = this.#ifree.pop();
    if (id !== undefined) return id;
    if (this.#inext === this.#nodes.length / NODE) {
      const nodes = Buffer.alloc(NODE * grown(this.#inext));
      nodes.set(this.#nodes);
      this.#nodes = nodes;
      this.#words = new Int32Array(nodes.buffer);
      this.#floats = new Float64Array(nodes.buffer);
    }
    return this.#inext++;
  }

  /** A leaf id, its value stored apart until #setValue. */
  #allocLeaf(): number {
    const free = this.#lfree.pop();
    const leaf = free ?? this.#lnext++;
    if (free === undefined && leaf === this.#leafHashes.length / 32) {
      const size = grown(leaf);
      const kv = Buffer.alloc(LEAF_KV * size);
      kv.set(this.#kv);
      this.#kv = kv;
      const hashes = Buffer.alloc(32 * size);
      hashes.set(this.#leafHashes);
      this.#leafHashes = hashes;
      this.#leafWords = new Int32Array(hashes.buffer);
      const values = new Int32Array(2 * size);
      values.set(this.#leafValues);
      this.#leafValues = values;
    }
    this.#leafValues[2 * leaf + 1] = APART;
    return leaf;
  }

  /** Keeps `from[start..start + length)` as leaf `leaf`'s value, appended to the heap. */
  #setValue(leaf: number, from: Uint8Array, start: number, length: number): void {
    if (this.#heapEnd + length > this.#heap.length) {
      const heap = Buffer.alloc(Math.max(2 * this.#heap.length, this.#heapEnd + length));
      heap.set(this.#heap.subarray(0, this.#heapEnd));
      this.#heap = heap;
    }
    copyInto(from, start, this.#heap, this.#heapEnd, length);
    this.#leafValues[2 * leaf] = this.#heapEnd;
    this.#leafValues[2 * leaf + 1] = length;
    this.#heapEnd += length;
    this.#heapLive += length;
  }

  /** Copies the live values to a new heap: the leaves in use are those whose values are not APART. */
  #compactHeap(): void {
    const heap = Buffer.alloc(Math.max(64 * 1024, 2 * this.#heapLive));
    let end = 0;
    for (let leaf = 1; leaf < this.#lnext; leaf++) {
      const length = this.#leafValues[2 * leaf + 1];
      if (length === APART) continue;
      copyInto(this.#heap, this.#leafValues[2 * leaf], heap, end, length);
      this.#leafValues[2 * leaf] = end;
      end += length;
    }
    this.#heap = heap;
    this.#heapEnd = this.#heapLive = end;
  }

  #freeLeaf(leaf: number): void {
    const length = this.#leafValues[2 * leaf + 1];
    if (length !== APART) this.#heapLive -= length;
    this.#leafValues[2 * leaf + 1] = APART;
    this.#lfree.push(leaf);
  }

  #free(internals: readonly number[], leaves: readonly number[]): void {
    for (const id of internals) this.#ifree.push(id);
    for (const leaf of leaves) this.#freeLeaf(leaf);
  }
}

/** The next size of a node array that is full at `size` nodes: the arrays never shrink, so they grow by half. */
function grown(size: number): number {
  return Math.ceil((1.5 * size) / 1024) * 1024;
}

/**
 * Copies `length` bytes. A loop beats the call overhead of Buffer#copy and TypedArray#set for the 32
 * and 64 bytes of a hash or a leaf, which a commit copies tens of thousands of times.
 */
function copyInto(from: Uint8Array, start: number, to: Uint8Array, at: number, length: number): void {
  for (let i = 0; i < length; i++) to[at + i] = from[start + i];
}

/** First index in [lo, hi) (sorted keys, 32 bytes each, sharing the first `depth` bits) whose key has bit `depth` set. */
function splitKeys(keys: Uint8Array, lo: number, hi: number, depth: number): number {
  const byte = depth >> 3;
  const mask = 0x80 >> (depth & 7);
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[32 * mid + byte] & mask) === 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A proof of `keyHash`'s value or absence in the version whose root record is `root`, read from its
 * pages: for versions other than the one in memory. The hashes of the siblings inside each page
 * are computed from it.
 */
export async function provePast(reader: PageReader, prefix: Uint8Array, root: RootRecord, keyHash: Hash): Promise<Proof> {
  if (root.kind === "empty") return { siblings: [] };
  if (root.kind === "leaf") return { siblings: [], leaf: { keyHash: root.keyHash.slice(), valueHash: root.valueHash.slice() } };
  const siblings: Hash[] = [];
  let version = root.version;
  let depth = 0;
  for (;;) {
    const [page] = await reader.readPages([pageKey(prefix, version, depth, keyHash)]);
    // The children of the internal node at `depth` start at `offset`.
    for (let offset = 0; ; ) {
      const left = offset;
      const right = skipSlot(page, left);
      const goRight = (keyHash[depth >> 3] & (0x80 >> (depth & 7))) !== 0;
      siblings.push(slotHash(page, goRight ? left : right));
      const slot = goRight ? right : left;
      depth++;
      const tag = page[slot];
      if (tag === SLOT_EMPTY) return { siblings };
      if (tag === SLOT_LEAF) return { siblings, leaf: { keyHash: hashAt(page, slot + 1), valueHash: hashAt(page, slot + 33) } };
      if (tag === SLOT_VALUE_LEAF) return { siblings, leaf: { keyHash: hashAt(page, slot + 1), valueHash: sha256(inlineValue(page, slot)) } };
      if (tag === SLOT_INTERNAL) {
        offset = slot + 1;
        continue;
      }
      if (tag !== SLOT_PAGE) throw new Error("corrupt tree page");
      version = readVarint(page, slot + 1).value;
      break;
    }
  }
}

/** A plain Uint8Array copy of the 32 bytes of `from` at `offset`. */
function hashAt(from: Uint8Array, offset: number): Hash {
  const bytes = new Uint8Array(32);
  bytes.set(from.subarray(offset, offset + 32));
  return bytes;
}
