// Celestia's namespaced merkle tree (celestiaorg/nmt with sha256, 29-byte namespaces and
// IgnoreMaxNamespace): roots, the subtree roots of a blob commitment, and range proofs in
// celestia-node's shape with a verifier that accepts what nmt's Proof.VerifyInclusion accepts.
// Trees are kept as levels of contiguous 90-byte nodes, hashed a level per call by the NmtHasher.
import { NAMESPACE_SIZE, type Namespace } from "./namespace.ts";
import { nmtHasher, type NmtHasher } from "./nmt-hasher.ts";
import { SHARE_SIZE, shareCount } from "./share.ts";
import { sha256 } from "./sha256.ts";

const NS = NAMESPACE_SIZE;
/** min namespace (29) || max namespace (29) || sha256 (32). */
export const NMT_NODE_SIZE = 2 * NS + 32;
const NODE = NMT_NODE_SIZE;

/** Root of a tree without leaves: zero namespaces and sha256(""). */
export const EMPTY_NMT_ROOT: Uint8Array = concatBytes(new Uint8Array(2 * NS), sha256(new Uint8Array(0)));

/** A leaf is its namespace and its data; nmt hashes `namespace || data`. */
export interface NmtLeaf {
  namespace: Namespace;
  data: Uint8Array;
}

/**
 * A range proof for leaves [start, end), shaped (and named) like celestia-node's JSON. `nodes` are the
 * subtree roots left of the range, then those right of it, in tree order. `leaf_hash` only appears in
 * absence proofs, which Metro reads but does not make.
 */
export interface NmtRangeProof {
  start: number;
  end: number;
  nodes: Uint8Array[];
  leaf_hash?: Uint8Array;
  is_max_namespace_ignored: boolean;
}

/** The JSON celestia-node sends: Go's omitempty drops zero numbers, empty lists and false. */
export interface NmtRangeProofJson {
  start?: number;
  end?: number;
  nodes?: string[] | null;
  leaf_hash?: string | null;
  is_max_namespace_ignored?: boolean;
}

/** The levels of a tree: levels[0] holds the leaf hashes, the last level the root (an odd last node moves up unchanged). */
export interface NmtTree {
  readonly levels: readonly Uint8Array[];
}

export class NmtError extends Error {
  override name = "NmtError";
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

// nmt's Push refuses a leaf whose namespace sorts below the previous one.
function assertAscending(namespaces: Uint8Array): void {
  const bytes = Buffer.from(namespaces.buffer, namespaces.byteOffset, namespaces.length);
  for (let at = NS; at < bytes.length; at += NS) {
    if (bytes.compare(bytes, at - NS, at, at, at + NS) < 0) throw new NmtError(`nmt: leaf ${at / NS} is out of namespace order`);
  }
}

/** Leaf hashes (n * 90 bytes) of leaves of any sizes, which must be in namespace order. */
export function nmtLeafHashes(leaves: readonly NmtLeaf[], hasher: NmtHasher = nmtHasher): Uint8Array {
  const namespaces = new Uint8Array(leaves.length * NS);
  leaves.forEach((leaf, i) => {
    if (leaf.namespace.length !== NS) throw new NmtError(`nmt: a namespace is ${NS} bytes, got ${leaf.namespace.length}`);
    namespaces.set(leaf.namespace, i * NS);
  });
  assertAscending(namespaces);
  const out = new Uint8Array(leaves.length * NODE);
  leaves.forEach((leaf, i) => out.set(hasher.hashLeaves(leaf.namespace, leaf.data, leaf.data.length), i * NODE));
  return out;
}

/**
 * Leaf hashes of a row or column of shares (contiguous n * 512 bytes): the first `dataShares` are in
 * the namespace their first 29 bytes name, the rest are parity shares, in the parity namespace.
 */
export function shareLeafHashes(shares: Uint8Array, dataShares: number, hasher: NmtHasher = nmtHasher): Uint8Array {
  const count = shareCount(shares);
  if (!Number.isInteger(dataShares) || dataShares < 0 || dataShares > count) throw new RangeError(`dataShares ${dataShares} out of range`);
  const namespaces = new Uint8Array(count * NS).fill(0xff, dataShares * NS);
  for (let i = 0; i < dataShares; i++) namespaces.set(shares.subarray(i * SHARE_SIZE, i * SHARE_SIZE + NS), i * NS);
  assertAscending(namespaces);
  return hasher.hashLeaves(namespaces, shares, SHARE_SIZE);
}

function nodeCount(nodes: Uint8Array): number {
  if (nodes.length % NODE !== 0) throw new RangeError(`nmt: node hashes must be a multiple of ${NODE} bytes, got ${nodes.length}`);
  return nodes.length / NODE;
}

// The level above: the first `paired` bytes hashed in pairs, the nodes after them moved up unchanged.
function nextLevel(level: Uint8Array, paired: number, hasher: NmtHasher): Uint8Array {
  const parents = hasher.hashLevel(level.subarray(0, paired));
  return paired === level.length ? parents : concatBytes(parents, level.subarray(paired));
}

export function nmtTree(leafHashes: Uint8Array, hasher: NmtHasher = nmtHasher): NmtTree {
  nodeCount(leafHashes);
  const levels = [leafHashes];
  let level = leafHashes;
  while (level.length > NODE) {
    level = nextLevel(level, level.length - (level.length % (2 * NODE)), hasher);
    levels.push(level);
  }
  return { levels };
}

export function nmtTreeRoot(tree: NmtTree): Uint8Array {
  const top = tree.levels[tree.levels.length - 1];
  return top.length === 0 ? EMPTY_NMT_ROOT.slice() : top.slice();
}

export function nmtRoot(leaves: readonly NmtLeaf[], hasher: NmtHasher = nmtHasher): Uint8Array {
  return nmtTreeRoot(nmtTree(nmtLeafHashes(leaves, hasher), hasher));
}

/** Root of a row or column of shares; see shareLeafHashes. */
export function sharesNmtRoot(shares: Uint8Array, dataShares: number, hasher: NmtHasher = nmtHasher): Uint8Array {
  return nmtTreeRoot(nmtTree(shareLeafHashes(shares, dataShares, hasher), hasher));
}

/**
 * Roots (contiguous, 90 bytes each) of consecutive runs of leaves whose sizes are powers of two in
 * non-increasing order (a merkle mountain range). Runs still wider than one node then always form a
 * prefix of the level, so each level of every run is hashed in one call.
 */
export function nmtMountainRoots(leafHashes: Uint8Array, sizes: readonly number[], hasher: NmtHasher = nmtHasher): Uint8Array {
  const valid = sizes.every((size, i) => Number.isInteger(size) && size > 0 && (size & (size - 1)) === 0 && (i === 0 || size <= sizes[i - 1]));
  if (!valid || sizes.reduce((sum, size) => sum + size, 0) !== nodeCount(leafHashes)) {
    throw new RangeError("nmt: run sizes must be non-increasing powers of two covering every leaf");
  }
  let level = leafHashes;
  let widths = [...sizes];
  while (widths.length > 0 && widths[0] > 1) {
    level = nextLevel(level, widths.reduce((sum, width) => sum + (width > 1 ? width : 0), 0) * NODE, hasher);
    widths = widths.map((width) => Math.max(1, width / 2));
  }
  return level;
}

/** Proof of leaves [start, end) against nmtTreeRoot(tree), made as nmt's ProveRange makes it. */
export function proveNmtRange(tree: NmtTree, start: number, end: number): NmtRangeProof {
  const count = nodeCount(tree.levels[0]);
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || start >= end || end > count) {
    throw new RangeError(`nmt: invalid range [${start}, ${end}) for ${count} leaves`);
  }
  const nodes: Uint8Array[] = [];
  // Subtree of 2^height leaves from `first`: whole if it misses the range, else split.
  const visit = (first: number, height: number): void => {
    if (first >= count) return;
    const size = 2 ** height;
    if (first + size <= start || first >= end) {
      const at = (first / size) * NODE;
      nodes.push(tree.levels[height].slice(at, at + NODE));
    } else if (height > 0) {
      visit(first, height - 1);
      visit(first + size / 2, height - 1);
    }
  };
  visit(0, tree.levels.length - 1);
  return { start, end, nodes, is_max_namespace_ignored: true };
}

function isNode(bytes: Uint8Array): boolean {
  return bytes.length === NODE && Buffer.compare(bytes.subarray(NS, 2 * NS), bytes.subarray(0, NS)) >= 0;
}

function hashNode(left: Uint8Array, right: Uint8Array, hasher: NmtHasher): Uint8Array {
  return hasher.hashLevel(concatBytes(left, right));
}

// Rebuilds the root the way nmt's Proof.computeRoot does; throws where nmt's HashNode would fail.
function rootFromRangeProof(proof: NmtRangeProof, leafHashes: readonly Uint8Array[], hasher: NmtHasher): Uint8Array | undefined {
  const { start, end, nodes } = proof;
  let nextLeaf = 0;
  let nextNode = 0;
  const subtree = (first: number, size: number): Uint8Array | undefined => {
    if (size === 1 && first >= start && first < end) return leafHashes[nextLeaf++];
    if (size === 1 || first + size <= start || first >= end) return nodes[nextNode++];
    const left = subtree(first, size / 2);
    const right = subtree(first + size / 2, size / 2);
    if (right === undefined) return left;
    if (left === undefined) throw new NmtError("nmt: proof lacks a left subtree");
    return hashNode(left, right, hasher);
  };
  // The smallest power-of-two subtree from leaf 0 that holds the range; later nodes hang to its right.
  let root = subtree(0, 2 ** (32 - Math.clz32(end - 1)));
  for (; nextNode < nodes.length; nextNode++) {
    if (root === undefined) return undefined;
    root = hashNode(root, nodes[nextNode], hasher);
  }
  return root;
}

/**
 * True when `proof` shows that leaves `namespace || leafDatas[i]` sit at [proof.start, proof.end) of
 * the tree with `root`. Like nmt's VerifyInclusion: checks the proof's shape and every node's format,
 * then rebuilds the root, refusing siblings out of namespace order, so the namespace must fall where
 * the proof's neighbours say. An empty range verifies only as an empty proof with no leaves. As in nmt,
 * the proof does not bind the tree's size (a range moved past the last leaf may still verify), so a
 * caller that knows the width, like a row's 2k, checks proof.end against it.
 */
export function verifyNmtRangeProof(
  root: Uint8Array,
  proof: NmtRangeProof,
  namespace: Namespace,
  leafDatas: readonly Uint8Array[],
  hasher: NmtHasher = nmtHasher,
): boolean {
  const { start, end, nodes } = proof;
  if (proof.is_max_namespace_ignored !== true || namespace.length !== NS) return false;
  if (start === end) return nodes.length === 0 && (proof.leaf_hash?.length ?? 0) === 0 && leafDatas.length === 0;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || start > end || leafDatas.length !== end - start) return false;
  if (!isNode(root) || !nodes.every(isNode)) return false;
  try {
    const leafHashes = leafDatas.map((data) => hasher.hashLeaves(namespace, data, data.length));
    const computed = rootFromRangeProof(proof, leafHashes, hasher);
    return computed !== undefined && Buffer.compare(computed, root) === 0;
  } catch {
    return false;
  }
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("base64");
}

export function nmtRangeProofToJson(proof: NmtRangeProof): NmtRangeProofJson {
  const json: NmtRangeProofJson = {};
  if (proof.start !== 0) json.start = proof.start;
  if (proof.end !== 0) json.end = proof.end;
  if (proof.nodes.length > 0) json.nodes = proof.nodes.map(base64);
  if (proof.leaf_hash !== undefined && proof.leaf_hash.length > 0) json.leaf_hash = base64(proof.leaf_hash);
  if (proof.is_max_namespace_ignored) json.is_max_namespace_ignored = true;
  return json;
}

function fromBase64(value: unknown, field: string): Uint8Array {
  if (typeof value !== "string") throw new NmtError(`nmt proof: ${field} must be a base64 string`);
  return new Uint8Array(Buffer.from(value, "base64"));
}

function jsonIndex(value: unknown, field: string): number {
  if (value === undefined) return 0;
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw new NmtError(`nmt proof: ${field} must be a non-negative integer`);
  return value as number;
}

function jsonNodes(value: unknown): Uint8Array[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new NmtError("nmt proof: nodes must be a list");
  return value.map((node: unknown) => fromBase64(node, "a node"));
}

/** Parses celestia-node's proof JSON; throws an NmtError on a malformed value. */
export function nmtRangeProofFromJson(json: unknown): NmtRangeProof {
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new NmtError("nmt proof: expected an object");
  const { start, end, nodes, leaf_hash: leafHash, is_max_namespace_ignored: ignored } = json as Record<string, unknown>;
  if (ignored !== undefined && typeof ignored !== "boolean") throw new NmtError("nmt proof: is_max_namespace_ignored must be a boolean");
  const proof: NmtRangeProof = {
    start: jsonIndex(start, "start"),
    end: jsonIndex(end, "end"),
    nodes: jsonNodes(nodes),
    is_max_namespace_ignored: ignored ?? false,
  };
  if (leafHash !== undefined && leafHash !== null) proof.leaf_hash = fromBase64(leafHash, "leaf_hash");
  return proof;
}
