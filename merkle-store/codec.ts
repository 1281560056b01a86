// The store's LevelDB layout: database keys, and the byte format of pages and root records.
//
//   prefix 'n' version:u64 depth:u16 path:ceil(depth/8) bytes  -> page    (path bits past depth are 0)
//   prefix 'r' version:u64                                     -> root record of that version
//   prefix 's' version:u64                                     -> page keys (sans prefix) made stale by that version
//   prefix 'v' keyHash                                         -> latest committed value, if longer than INLINE_VALUE_BYTES
//
// Big-endian versions make a commit's pages one contiguous, ascending key range (cheap for
// LevelDB to ingest) and let the latest version be found with one reverse seek over 'r'.
//
// A page holds the nodes below one internal node R at a depth divisible by PAGE_LEVELS: R's two
// children, each written as a slot, pre-order, down to the sub-pages PAGE_LEVELS levels below R.
//
//   slot := 0x00                                    empty subtree
//         | 0x01 keyHash valueHash                  a leaf (65 bytes)
//         | 0x02 slot slot                          an internal node inside the page (1 byte)
//         | 0x03 version:varint hash                a sub-page's root: an internal node PAGE_LEVELS below R
//         | 0x04 keyHash length:u8 value            a leaf with its value (up to INLINE_VALUE_BYTES)
//
// A value of up to INLINE_VALUE_BYTES lives in its leaf's slot, which is then no longer than one
// holding its hash: a commit writes no 'v' entry for it, and the tree in memory serves it to get().
// Longer values are stored apart under 'v', their leaves holding their hashes (0x01). Stores written
// before values went inline hold 0x01 leaves only and read as they are.
//
// As in the JMT, a page stores no hashes but those of the sub-pages below it: loading a page
// recomputes the hashes of its leaves and internal nodes (at most 2^(L+1) - 2 of them; the tree's
// nodes stay in memory once loaded) and checks that they lead to the hash R is referenced by.
// Storing them would nearly double the bytes a commit writes.
//
// A root record is a slot too: 0x00 (the empty tree), 0x01 keyHash valueHash or 0x04 keyHash length
// value (a tree of one key), or 0x03 version:u64 hash (the root page: an internal node at depth 0).
import { EMPTY_ROOT, hashInternal, hashLeaf, sha256, type Hash } from "./hash.ts";

/** Levels of the binary tree per stored page: pages are rooted at depths 0, 4, 8, … */
export const PAGE_LEVELS = 4;

const PAGE = 0x6e; // 'n'
const ROOT = 0x72; // 'r'
const STALE = 0x73; // 's'
const VALUE = 0x76; // 'v'

export const SLOT_EMPTY = 0;
export const SLOT_LEAF = 1;
export const SLOT_INTERNAL = 2;
export const SLOT_PAGE = 3;
export const SLOT_VALUE_LEAF = 4;
export const LEAF_SLOT_BYTES = 1 + 64;
/** Values up to this long are kept in their leaves (0x04): then a leaf's slot is at most 1 + 32 + 1 + 32 bytes. */
export const INLINE_VALUE_BYTES = 32;
const MAX_VARINT_BYTES = 8; // versions are below 2^53
const ROOT_PAGE_BYTES = 1 + 8 + 32;
/** The largest page: 2^L - 2 internal nodes (R is not stored) and 2^L leaves or sub-pages below them. */
export const MAX_PAGE_BYTES = (1 << PAGE_LEVELS) - 2 + (1 << PAGE_LEVELS) * Math.max(LEAF_SLOT_BYTES, 2 + 32 + INLINE_VALUE_BYTES, 1 + MAX_VARINT_BYTES + 32);

export function pageKeyLength(prefix: Uint8Array, depth: number): number {
  return prefix.length + 1 + 8 + 2 + ((depth + 7) >> 3);
}

/**
 * Writes the key of the page written by `version` at `depth` into `out` at `offset` and returns the
 * offset after it. Its path is the first `depth` bits of the key hash at `path[pathOffset..]`, any
 * key hash under the page.
 */
export function writePageKey(out: Uint8Array, offset: number, prefix: Uint8Array, version: number, depth: number, path: Uint8Array, pathOffset: number): number {
  const pathBytes = (depth + 7) >> 3;
  out.set(prefix, offset);
  offset += prefix.length;
  out[offset++] = PAGE;
  offset = writeU64(out, offset, version);
  out[offset++] = depth >> 8;
  out[offset++] = depth & 0xff;
  for (let i = 0; i < pathBytes; i++) out[offset + i] = path[pathOffset + i];
  offset += pathBytes;
  // Zero the bits past `depth`.
  if (depth & 7) out[offset - 1] &= 0xff << (8 - (depth & 7));
  return offset;
}

export function pageKey(prefix: Uint8Array, version: number, depth: number, path: Uint8Array, pathOffset = 0): Uint8Array {
  const key = new Uint8Array(pageKeyLength(prefix, depth));
  writePageKey(key, 0, prefix, version, depth, path, pathOffset);
  return key;
}

export function rootKey(prefix: Uint8Array, version: number): Uint8Array {
  return versionKey(prefix, ROOT, version);
}

export function staleKey(prefix: Uint8Array, version: number): Uint8Array {
  return versionKey(prefix, STALE, version);
}

/** The key of a value stored apart. */
export function valueKey(prefix: Uint8Array, keyHash: Uint8Array): Uint8Array {
  const key = new Uint8Array(prefix.length + 1 + 32);
  key.set(prefix);
  key[prefix.length] = VALUE;
  key.set(keyHash, prefix.length + 1);
  return key;
}

/** The version in a root or stale key. */
export function versionOfKey(prefix: Uint8Array, key: Uint8Array): number {
  return readU64(key, prefix.length + 1);
}

/** Page keys (without the store's prefix), each preceded by its length. */
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

/** A version's root as its record holds it; a leaf's `value` when it is kept inline (0x04). */
export type RootRecord =
  | { readonly kind: "empty" }
  | { readonly kind: "leaf"; readonly keyHash: Hash; readonly valueHash: Hash; readonly value?: Uint8Array }
  | { readonly kind: "page"; readonly version: number; readonly hash: Hash };

export function encodeRootRecord(root: RootRecord): Uint8Array {
  if (root.kind === "empty") return Uint8Array.of(SLOT_EMPTY);
  if (root.kind === "leaf" && root.value !== undefined) {
    const bytes = new Uint8Array(34 + root.value.length);
    bytes[0] = SLOT_VALUE_LEAF;
    bytes.set(root.keyHash, 1);
    bytes[33] = root.value.length;
    bytes.set(root.value, 34);
    return bytes;
  }
  if (root.kind === "leaf") {
    const bytes = new Uint8Array(LEAF_SLOT_BYTES);
    bytes[0] = SLOT_LEAF;
    bytes.set(root.keyHash, 1);
    bytes.set(root.valueHash, 33);
    return bytes;
  }
  const bytes = new Uint8Array(ROOT_PAGE_BYTES);
  bytes[0] = SLOT_PAGE;
  writeU64(bytes, 1, root.version);
  bytes.set(root.hash, 9);
  return bytes;
}

export function decodeRootRecord(bytes: Uint8Array): RootRecord {
  if (bytes.length === 1 && bytes[0] === SLOT_EMPTY) return { kind: "empty" };
  if (bytes.length === LEAF_SLOT_BYTES && bytes[0] === SLOT_LEAF) return { kind: "leaf", keyHash: copy32(bytes, 1), valueHash: copy32(bytes, 33) };
  if (bytes.length === ROOT_PAGE_BYTES && bytes[0] === SLOT_PAGE) return { kind: "page", version: readU64(bytes, 1), hash: copy32(bytes, 9) };
  if (bytes[0] === SLOT_VALUE_LEAF && bytes.length > 33 && skipSlot(bytes, 0) === bytes.length) {
    const value = new Uint8Array(inlineValue(bytes, 0));
    return { kind: "leaf", keyHash: copy32(bytes, 1), valueHash: sha256(value), value };
  }
  throw new Error("corrupt root record");
}

export function rootRecordHash(root: RootRecord): Hash {
  if (root.kind === "empty") return EMPTY_ROOT;
  return root.kind === "leaf" ? hashLeaf(root.keyHash, root.valueHash) : root.hash;
}

/** The offset after the slot at `offset` (and everything under it) in `page`. */
export function skipSlot(page: Uint8Array, offset: number): number {
  switch (page[offset]) {
    case SLOT_EMPTY:
      return offset + 1;
    case SLOT_LEAF:
      return offset + LEAF_SLOT_BYTES;
    case SLOT_INTERNAL:
      return skipSlot(page, skipSlot(page, offset + 1));
    case SLOT_PAGE:
      return readVarint(page, offset + 1).end + 32;
    case SLOT_VALUE_LEAF:
      return inlineValueAt(page, offset) + inlineValueLength(page, offset);
    default:
      throw new Error("corrupt tree page");
  }
}

/** The value in the 0x04 leaf slot at `offset` (a view). */
export function inlineValue(page: Uint8Array, offset: number): Uint8Array {
  const start = inlineValueAt(page, offset);
  return page.subarray(start, start + inlineValueLength(page, offset));
}

/** Where the value of the 0x04 leaf slot at `offset` starts: its length is one varint byte (at most INLINE_VALUE_BYTES). */
export function inlineValueAt(page: Uint8Array, offset: number): number {
  if (offset + 34 > page.length || page[offset + 33] > INLINE_VALUE_BYTES || offset + 34 + page[offset + 33] > page.length) throw new Error("corrupt tree page");
  return offset + 34;
}

export function inlineValueLength(page: Uint8Array, offset: number): number {
  return page[offset + 33];
}

/** The hash of the subtree the slot at `offset` in `page` holds (for proofs of versions not in memory). */
export function slotHash(page: Uint8Array, offset: number): Hash {
  switch (page[offset]) {
    case SLOT_EMPTY:
      return EMPTY_ROOT;
    case SLOT_LEAF:
      return hashLeaf(page.subarray(offset + 1, offset + 33), page.subarray(offset + 33, offset + 65));
    case SLOT_INTERNAL: {
      const right = skipSlot(page, offset + 1);
      return hashInternal(slotHash(page, offset + 1), slotHash(page, right));
    }
    case SLOT_PAGE: {
      return copy32(page, readVarint(page, offset + 1).end);
    }
    case SLOT_VALUE_LEAF:
      return hashLeaf(page.subarray(offset + 1, offset + 33), sha256(inlineValue(page, offset)));
    default:
      throw new Error("corrupt tree page");
  }
}

/** LEB128; versions are below 2^53. Returns the offset after it. */
export function writeVarint(bytes: Uint8Array, offset: number, value: number): number {
  while (value >= 0x80) {
    bytes[offset++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  bytes[offset++] = value;
  return offset;
}

export function readVarint(bytes: Uint8Array, offset: number): { value: number; end: number } {
  let value = 0;
  for (let scale = 1, i = 0; i < MAX_VARINT_BYTES && offset < bytes.length; i++, scale *= 0x80) {
    const byte = bytes[offset++];
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return { value, end: offset };
  }
  throw new Error("corrupt tree page");
}

/** A plain Uint8Array copy of 32 bytes of `bytes` (LevelDB hands out Buffers, whose slice() is a view). */
function copy32(bytes: Uint8Array, offset: number): Hash {
  const copy = new Uint8Array(32);
  copy.set(bytes.subarray(offset, offset + 32));
  return copy;
}

function versionKey(prefix: Uint8Array, tag: number, version: number): Uint8Array {
  const key = new Uint8Array(prefix.length + 1 + 8);
  key.set(prefix);
  key[prefix.length] = tag;
  writeU64(key, prefix.length + 1, version);
  return key;
}

// Versions are below 2^53, so the high word fits a double exactly.
export function writeU64(bytes: Uint8Array, offset: number, value: number): number {
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

export function readU64(bytes: Uint8Array, offset: number): number {
  return readU32(bytes, offset) * 2 ** 32 + readU32(bytes, offset + 4);
}

function readU32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0;
}
