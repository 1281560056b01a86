// A block's undo log (metro.rollup.v1.UndoLog): what each of its writes overwrote. Written by hand on
// every block commit, a few thousand entries at a time: protobufjs builds an object per entry and
// grows its writer as it goes, which cost more than the rest of the block's bookkeeping. The bytes
// are the protobuf encoding, read back with the generated decoder (rollup-store.ts).
import { bytesFieldLength, varintLength, writeBytesField, writeVarint } from "../proto/wire-writer.ts";
import type { StateWrite } from "./state-layer.ts";

const TAG_ENTRIES = (1 << 3) | 2;
const TAG_KEY = (1 << 3) | 2;
const TAG_PREVIOUS = (2 << 3) | 2;
const TAG_ABSENT = (3 << 3) | 0;

function entrySize(key: Uint8Array, previous: Uint8Array | null): number {
  return bytesFieldLength(key) + (previous === null ? 2 : bytesFieldLength(previous));
}

/** `previous[i]`: the value writes[i] overwrites, null if the key was absent. */
export function encodeUndoLog(writes: readonly StateWrite[], previous: readonly (Uint8Array | null)[]): Uint8Array {
  let size = 0;
  for (let i = 0; i < writes.length; i++) {
    const entry = entrySize(writes[i].key, previous[i]);
    size += 1 + varintLength(entry) + entry;
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
