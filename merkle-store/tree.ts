// The pure core: a versioned binary sparse Merkle tree over 256-bit key hashes, with every subtree
// that holds no leaf replaced by EMPTY_ROOT and every subtree that holds exactly one leaf replaced
// by that leaf. A leaf therefore sits at the shortest prefix of its key hash that no other key
// shares, the tree is ~log2(n) deep, and its shape depends only on the set of keys, never on the
// order of insertion.
//
// Storage is abstract: nodes are read through a NodeReader by address (version, depth, path), and
// an update returns the nodes to write and the addresses it made stale instead of writing them.
import { EMPTY_ROOT, bitAt, compareBytes, equalBytes, hashInternal, hashLeaf, type Hash } from "./hash.ts";
import type { Proof } from "./proof.ts";

/** A pointer to a subtree, as held by a parent node or a version's root record. */
export type Ref = EmptyRef | StoredRef;
export interface EmptyRef {
  readonly kind: "empty";
}
/** A node written by commit `version`; its kind is kept so that a parent can lift a lone leaf without reading it first. */
export interface StoredRef {
  readonly kind: "leaf" | "internal";
  readonly version: number;
  readonly hash: Hash;
}
export const EMPTY: EmptyRef = Object.freeze({ kind: "empty" });

export interface LeafNode {
  readonly kind: "leaf";
  readonly keyHash: Hash;
  readonly valueHash: Hash;
}
export interface InternalNode {
  readonly kind: "internal";
  readonly left: Ref;
  readonly right: Ref;
}
export type Node = LeafNode | InternalNode;

/** Where a node is stored: the commit that wrote it and its position, the first `depth` bits of `path` (later bits are ignored). */
export interface NodeAddress {
  readonly version: number;
  readonly depth: number;
  readonly path: Uint8Array;
}

export interface NodeReader {
  /** The node at `at`; rejects if it is missing, which means the version was pruned or the store is corrupt. */
  read(at: NodeAddress): Promise<Node>;
}

/** Set `keyHash` to the value hashed as `valueHash`, or delete it when `valueHash` is undefined. */
export interface Update {
  readonly keyHash: Hash;
  readonly valueHash: Hash | undefined;
}

export interface TreeChange {
  readonly root: Ref;
  /** New nodes, each to be stored at its address. */
  readonly writes: readonly { readonly at: NodeAddress; readonly node: Node }[];
  /** Nodes of earlier versions that the new version no longer references. */
  readonly stale: readonly NodeAddress[];
}

export function refHash(ref: Ref): Hash {
  return ref.kind === "empty" ? EMPTY_ROOT : ref.hash;
}

// Subtrees built by an update before they are hashed and given addresses: stored refs are
// untouched subtrees, the two `new` kinds are nodes still to be written.
type Draft = Ref | NewLeaf | NewInternal;
interface NewLeaf {
  readonly kind: "newLeaf";
  readonly leaf: LeafNode;
}
interface NewInternal {
  readonly kind: "newInternal";
  readonly left: Draft;
  readonly right: Draft;
}

interface UpdateContext {
  readonly reader: NodeReader;
  readonly updates: readonly Update[];
  readonly stale: NodeAddress[];
}

/**
 * Applies `updates` (sorted by key hash, distinct) to the tree at `root` and returns version
 * `version` of it. Only the paths to updated keys are read, rehashed and rewritten, so the cost is
 * O(updates × log n); subtrees the updates leave as they were (e.g. a value set to itself) keep
 * their stored nodes.
 */
export async function applyUpdates(reader: NodeReader, root: Ref, updates: readonly Update[], version: number): Promise<TreeChange> {
  assertSortedDistinct(updates);
  const context: UpdateContext = { reader, updates, stale: [] };
  const draft = updates.length === 0 ? root : await update(context, root, 0, 0, updates.length);
  const writes: { at: NodeAddress; node: Node }[] = [];
  const newRoot = persist(draft, version, 0, new Uint8Array(32), writes);
  return { root: newRoot, writes, stale: context.stale };
}

function assertSortedDistinct(updates: readonly Update[]): void {
  for (let i = 1; i < updates.length; i++) {
    if (compareBytes(updates[i - 1].keyHash, updates[i].keyHash) >= 0) throw new Error("updates must be sorted by key hash and distinct");
  }
}

/** The subtree at `depth` that `ref` points to, with updates[lo..hi) (all under this subtree's path) applied. */
async function update(context: UpdateContext, ref: Ref, depth: number, lo: number, hi: number): Promise<Draft> {
  const { updates } = context;
  if (ref.kind === "empty") return build(upsertsOnly(updates, lo, hi), 0, hi - lo, depth);
  const at: NodeAddress = { version: ref.version, depth, path: updates[lo].keyHash };
  const node = await readAs(context.reader, at, ref.kind);
  if (node.kind === "leaf") {
    const leaves = mergeIntoLeaf(node, updates, lo, hi);
    if (leaves === undefined) return ref;
    context.stale.push(at);
    return build(leaves, 0, leaves.length, depth);
  }
  const mid = splitIndex(updates, lo, hi, depth);
  const [left, right] = await Promise.all([
    mid > lo ? update(context, node.left, depth + 1, lo, mid) : node.left,
    mid < hi ? update(context, node.right, depth + 1, mid, hi) : node.right,
  ]);
  if (left === node.left && right === node.right) return ref;
  context.stale.push(at);
  return join(context, left, right, depth, updates[lo].keyHash);
}

/** Reads the node a ref of kind `kind` points to, checking that the two agree. */
async function readAs<K extends Node["kind"]>(reader: NodeReader, at: NodeAddress, kind: K): Promise<Extract<Node, { kind: K }>> {
  const node = await reader.read(at);
  if (node.kind !== kind) throw new Error(`node at version ${at.version}, depth ${at.depth} is a ${node.kind}, its parent says ${kind}`);
  return node as Extract<Node, { kind: K }>;
}

function upsertsOnly(updates: readonly Update[], lo: number, hi: number): LeafNode[] {
  const leaves: LeafNode[] = [];
  for (let i = lo; i < hi; i++) {
    const { keyHash, valueHash } = updates[i];
    if (valueHash !== undefined) leaves.push({ kind: "leaf", keyHash, valueHash });
  }
  return leaves;
}

/** The sorted leaves of a one-leaf subtree after updates[lo..hi), or undefined if they change nothing. */
function mergeIntoLeaf(existing: LeafNode, updates: readonly Update[], lo: number, hi: number): LeafNode[] | undefined {
  const leaves: LeafNode[] = [];
  let placed = false;
  let changed = false;
  for (let i = lo; i < hi; i++) {
    const { keyHash, valueHash } = updates[i];
    const order = placed ? 1 : compareBytes(keyHash, existing.keyHash);
    if (order > 0 && !placed) leaves.push(existing);
    if (order === 0) {
      changed ||= valueHash === undefined || !equalBytes(valueHash, existing.valueHash);
    } else {
      changed ||= valueHash !== undefined;
    }
    placed ||= order >= 0;
    if (valueHash !== undefined) leaves.push({ kind: "leaf", keyHash, valueHash });
  }
  if (!placed) leaves.push(existing);
  return changed ? leaves : undefined;
}

/** A subtree at `depth` holding exactly leaves[lo..hi) (sorted, sharing the first `depth` bits). */
function build(leaves: readonly LeafNode[], lo: number, hi: number, depth: number): Draft {
  if (hi === lo) return EMPTY;
  if (hi - lo === 1) return { kind: "newLeaf", leaf: leaves[lo] };
  const mid = splitIndex(leaves, lo, hi, depth);
  return { kind: "newInternal", left: build(leaves, lo, mid, depth + 1), right: build(leaves, mid, hi, depth + 1) };
}

/** First index in items[lo..hi) (sorted, sharing the first `depth` bits) whose key hash has bit `depth` set. */
function splitIndex(items: readonly { keyHash: Hash }[], lo: number, hi: number, depth: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (bitAt(items[mid].keyHash, depth) === 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The node at `depth` whose children became `left` and `right`. Deletions can leave a lone leaf
 * beside an empty subtree; it then moves up to take the parent's place, which is what keeps the
 * shape canonical. A stored leaf that moves is read and rewritten at its new address.
 */
async function join(context: UpdateContext, left: Draft, right: Draft, depth: number, path: Uint8Array): Promise<Draft> {
  if (left.kind === "empty" && isLeaf(right)) return lift(context, right, depth + 1, setBit(path.slice(), depth, 1));
  if (right.kind === "empty" && isLeaf(left)) return lift(context, left, depth + 1, setBit(path.slice(), depth, 0));
  if (left.kind === "empty" && right.kind === "empty") return EMPTY;
  return { kind: "newInternal", left, right };
}

function isLeaf(draft: Draft): boolean {
  return draft.kind === "leaf" || draft.kind === "newLeaf";
}

async function lift(context: UpdateContext, draft: Draft, depth: number, path: Uint8Array): Promise<Draft> {
  if (draft.kind !== "leaf") return draft;
  const at: NodeAddress = { version: draft.version, depth, path };
  const leaf = await readAs(context.reader, at, "leaf");
  context.stale.push(at);
  return { kind: "newLeaf", leaf };
}

/**
 * Hashes the new nodes of `draft` bottom-up, queueing each for writing at (version, depth, path),
 * and returns the ref to it. `path` is scratch space holding the bits above `depth`.
 */
function persist(draft: Draft, version: number, depth: number, path: Uint8Array, writes: { at: NodeAddress; node: Node }[]): Ref {
  if (draft.kind === "newLeaf") {
    const { leaf } = draft;
    writes.push({ at: { version, depth, path: leaf.keyHash }, node: leaf });
    return { kind: "leaf", version, hash: hashLeaf(leaf.keyHash, leaf.valueHash) };
  }
  if (draft.kind === "newInternal") {
    const at: NodeAddress = { version, depth, path: path.slice(0, (depth + 7) >> 3) };
    const left = persist(draft.left, version, depth + 1, setBit(path, depth, 0), writes);
    const right = persist(draft.right, version, depth + 1, setBit(path, depth, 1), writes);
    writes.push({ at, node: { kind: "internal", left, right } });
    return { kind: "internal", version, hash: hashInternal(refHash(left), refHash(right)) };
  }
  return draft;
}

/** Sets bit `index` of `path` in place and returns it. */
function setBit(path: Uint8Array, index: number, bit: 0 | 1): Uint8Array {
  const mask = 0x80 >> (index & 7);
  path[index >> 3] = bit === 1 ? path[index >> 3] | mask : path[index >> 3] & ~mask;
  return path;
}

/** Walks from `root` along `keyHash` and returns the proof of its value or of its absence. */
export async function proveKeyHash(reader: NodeReader, root: Ref, keyHash: Hash): Promise<Proof> {
  const siblings: Hash[] = [];
  for (let ref = root, depth = 0; ; depth++) {
    if (ref.kind === "empty") return { siblings };
    const node = await readAs(reader, { version: ref.version, depth, path: keyHash }, ref.kind);
    if (node.kind === "leaf") return { siblings, leaf: { keyHash: node.keyHash, valueHash: node.valueHash } };
    const right = bitAt(keyHash, depth) === 1;
    siblings.push(refHash(right ? node.left : node.right));
    ref = right ? node.right : node.left;
  }
}
