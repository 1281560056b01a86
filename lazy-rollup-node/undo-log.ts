// A block's undo log (metro.rollup.v1.UndoLog): what each of its writes overwrote. Written by hand on
// every block commit, a few thousand entries at a time: protobufjs builds an object per entry and
// grows its writer as it goes, which cost more than the rest of the block's bookkeeping. The bytes
// are the protobuf encoding, read back with the generated decoder (rollup-store.ts).
import type { StateWrite } from "./state-layer.ts";

const TAG_ENTRIES = (1 << 3) | 2;
const TAG_KEY = (1 << 3) | 2;
const TAG_PREVIOUS = (2 << 3) | 2;
const TAG_ABSENT = (3 << 3) | 0;

function varintSize(value: number): number {
  let size = 1;
  for (; value >= 0x80; value = Math.floor(value / 128)) size++;
  return size;
}

function writeVarint(out: Uint8Array, at: number, value: number): number {
  for (; value >= 0x80; value = Math.floor(value / 128)) out[at++] = (value % 128) | 0x80;
  out[at++] = value;
  return at;
}

/** A bytes field's size; proto3 omits an empty one. */
function bytesFieldSize(bytes: Uint8Array): number {
  return bytes.length === 0 ? 0 : 1 + varintSize(bytes.length) + bytes.length;
}

function entrySize(key: Uint8Array, previous: Uint8Array | null): number {
  return bytesFieldSize(key) + (previous === null ? 2 : bytesFieldSize(previous));
}

function writeBytesField(out: Uint8Array, at: number, tag: number, bytes: Uint8Array): number {
  if (bytes.length === 0) return at;
  out[at++] = tag;
  at = writeVarint(out, at, bytes.length);
  out.set(bytes, at);
  return at + bytes.length;
}

/** `previous[i]`: the value writes[i] overwrites, null if the key was absent. */
export function encodeUndoLog(writes: readonly StateWrite[], previous: readonly (Uint8Array | null)[]): Uint8Array {
  let size = 0;
  for (let i = 0; i < writes.length; i++) {
    const entry = entrySize(writes[i].key, previous[i]);
    size += 1 + varintSize(entry) + entry;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (let i = 0; i < writes.length; i++) {
    const { key } = writes[i];
    const before = previous[i];
    out[at++] = TAG_ENTRIES;
    at = writeVarint(out, at, entrySize(key, before));
    at = writeBytesField(out, at, TAG_KEY, key);
    if (before === null) {
      out[at++] = TAG_ABSENT;
      out[at++] = 1;
    } else {
      at = writeBytesField(out, at, TAG_PREVIOUS, before);
    }
  }
  return out;
}
