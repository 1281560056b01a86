// The store's LevelDB layout: database keys and the byte encoding of nodes and refs.
//
//   prefix 'n' version:u64 depth:u16 path:ceil(depth/8) bytes  -> node   (path bits past depth are 0)
//   prefix 'r' version:u64                                     -> ref to that version's root
//   prefix 's' version:u64                                     -> node keys (sans prefix) made stale by that version
//   prefix 'v' keyHash                                         -> latest committed value
//
// Big-endian versions make a commit's nodes one contiguous, ascending key range (cheap for
// LevelDB to ingest) and let the latest version be found with one reverse seek over 'r'.
import { EMPTY, type Node, type NodeAddress, type Ref } from "./tree.ts";

const NODE = 0x6e; // 'n'
const ROOT = 0x72; // 'r'
const STALE = 0x73; // 's'
const VALUE = 0x76; // 'v'

// The first byte of a node, and of a ref to one.
const KIND_EMPTY = 0;
const KIND_LEAF = 1;
const KIND_INTERNAL = 2;
const REF_STORED_BYTES = 1 + 8 + 32;

export function nodeKey(prefix: Uint8Array, at: NodeAddress): Uint8Array {
  const pathBytes = (at.depth + 7) >> 3;
  const key = new Uint8Array(prefix.length + 1 + 8 + 2 + pathBytes);
  let offset = writeTag(key, prefix, NODE);
  offset = writeU64(key, offset, at.version);
  key[offset++] = at.depth >> 8;
  key[offset++] = at.depth & 0xff;
  key.set(at.path.subarray(0, pathBytes), offset);
  // Zero the bits past `depth`: callers pass any key hash that lies under the node.
  if (at.depth & 7) key[key.length - 1] &= 0xff << (8 - (at.depth & 7));
  return key;
}

export function rootKey(prefix: Uint8Array, version: number): Uint8Array {
  return versionKey(prefix, ROOT, version);
}

export function staleKey(prefix: Uint8Array, version: number): Uint8Array {
  return versionKey(prefix, STALE, version);
}

export function valueKey(prefix: Uint8Array, keyHash: Uint8Array): Uint8Array {
  const key = new Uint8Array(prefix.length + 1 + keyHash.length);
  key.set(keyHash, writeTag(key, prefix, VALUE));
  return key;
}

/** The version in a root or stale key. */
export function versionOfKey(prefix: Uint8Array, key: Uint8Array): number {
  return readU64(key, prefix.length + 1);
}

export function encodeNode(node: Node): Uint8Array {
  if (node.kind === "leaf") {
    const bytes = new Uint8Array(1 + 64);
    bytes[0] = KIND_LEAF;
    bytes.set(node.keyHash, 1);
    bytes.set(node.valueHash, 33);
    return bytes;
  }
  const bytes = new Uint8Array(1 + refLength(node.left) + refLength(node.right));
  bytes[0] = KIND_INTERNAL;
  writeRef(bytes, writeRef(bytes, 1, node.left), node.right);
  return bytes;
}

export function decodeNode(bytes: Uint8Array): Node {
  if (bytes[0] === KIND_LEAF && bytes.length === 65) {
    return { kind: "leaf", keyHash: plainView(bytes, 1, 32), valueHash: plainView(bytes, 33, 32) };
  }
  if (bytes[0] === KIND_INTERNAL) {
    const left = readRef(bytes, 1);
    const right = readRef(bytes, 1 + refLength(left));
    if (1 + refLength(left) + refLength(right) === bytes.length) return { kind: "internal", left, right };
  }
  throw new Error("corrupt tree node");
}

export function encodeRef(ref: Ref): Uint8Array {
  const bytes = new Uint8Array(refLength(ref));
  writeRef(bytes, 0, ref);
  return bytes;
}

export function decodeRef(bytes: Uint8Array): Ref {
  const ref = readRef(bytes, 0);
  if (refLength(ref) !== bytes.length) throw new Error("corrupt root record");
  return ref;
}

/** Node keys (without the store's prefix), each preceded by its length. */
export function encodeKeyList(keys: readonly Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(keys.reduce((sum, key) => sum + 1 + key.length, 0));
  let offset = 0;
  for (const key of keys) {
    bytes[offset++] = key.length;
    bytes.set(key, offset);
    offset += key.length;
  }
  return bytes;
}

export function decodeKeyList(bytes: Uint8Array): Uint8Array[] {
  const keys: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; offset += 1 + bytes[offset]) keys.push(bytes.subarray(offset + 1, offset + 1 + bytes[offset]));
  return keys;
}

function versionKey(prefix: Uint8Array, tag: number, version: number): Uint8Array {
  const key = new Uint8Array(prefix.length + 1 + 8);
  writeU64(key, writeTag(key, prefix, tag), version);
  return key;
}

function writeTag(key: Uint8Array, prefix: Uint8Array, tag: number): number {
  key.set(prefix);
  key[prefix.length] = tag;
  return prefix.length + 1;
}

function refLength(ref: Ref): number {
  return ref.kind === "empty" ? 1 : REF_STORED_BYTES;
}

function writeRef(bytes: Uint8Array, offset: number, ref: Ref): number {
  if (ref.kind === "empty") {
    bytes[offset] = KIND_EMPTY;
    return offset + 1;
  }
  bytes[offset] = ref.kind === "leaf" ? KIND_LEAF : KIND_INTERNAL;
  writeU64(bytes, offset + 1, ref.version);
  bytes.set(ref.hash, offset + 9);
  return offset + REF_STORED_BYTES;
}

function readRef(bytes: Uint8Array, offset: number): Ref {
  const kind = bytes[offset];
  // Decoding to the shared EMPTY object matters: the core detects an unchanged child by identity.
  if (kind === KIND_EMPTY) return EMPTY;
  if ((kind !== KIND_LEAF && kind !== KIND_INTERNAL) || offset + REF_STORED_BYTES > bytes.length) throw new Error("corrupt tree ref");
  return {
    kind: kind === KIND_LEAF ? "leaf" : "internal",
    version: readU64(bytes, offset + 1),
    hash: plainView(bytes, offset + 9, 32),
  };
}

/** A plain Uint8Array over part of `bytes`, which LevelDB hands out as a Buffer (see sha256 in hash.ts). */
function plainView(bytes: Uint8Array, offset: number, length: number): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset + offset, length);
}

// Versions are below 2^53, so the high word fits a double exactly.
function writeU64(bytes: Uint8Array, offset: number, value: number): number {
  writeU32(bytes, offset, Math.floor(value / 2 ** 32));
  writeU32(bytes, offset + 4, value >>> 0);
  return offset + 8;
}

function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 24;
  bytes[offset + 1] = value >>> 16;
  bytes[offset + 2] = value >>> 8;
  bytes[offset + 3] = value;
}

function readU64(bytes: Uint8Array, offset: number): number {
  return readU32(bytes, offset) * 2 ** 32 + readU32(bytes, offset + 4);
}

function readU32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0;
}
