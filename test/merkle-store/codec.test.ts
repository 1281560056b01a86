// The byte layout: root records, versions past 32 bits, key order and path masking, the page slot
// format as proofs of old versions read it, stale key lists, corruption.
import { describe, expect, it } from "vitest";
import {
  SLOT_EMPTY,
  SLOT_INTERNAL,
  SLOT_LEAF,
  SLOT_PAGE,
  SLOT_VALUE_LEAF,
  decodeKeyList,
  decodeRootRecord,
  encodeKeyList,
  encodeRootRecord,
  pageKey,
  readVarint,
  rootKey,
  rootRecordHash,
  skipSlot,
  slotHash,
  versionOfKey,
  writeVarint,
  type RootRecord,
} from "../../merkle-store/codec.ts";
import { createHash } from "node:crypto";
import { EMPTY_ROOT, hashInternal, hashLeaf, sha256, sha256Packed } from "../../merkle-store/hash.ts";
import { nativeJmtHasher, nativeOpenSslJmtHasher } from "../../merkle-store/native.ts";

const PREFIX = new TextEncoder().encode("!state!");
const hash = (byte: number) => new Uint8Array(32).fill(byte);
const compare = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b);

describe("merkle-store codec", () => {
  it("round-trips root records, with versions past 2^32, as plain Uint8Arrays", () => {
    const big = 2 ** 40 + 12_345;
    const value = Uint8Array.of(1, 2, 3);
    const records: RootRecord[] = [
      { kind: "empty" },
      { kind: "leaf", keyHash: hash(1), valueHash: hash(2) },
      { kind: "page", version: big, hash: hash(3) },
      { kind: "leaf", keyHash: hash(4), valueHash: sha256(value), value },
    ];
    for (const record of records) {
      const decoded = decodeRootRecord(Buffer.from(encodeRootRecord(record)));
      expect(decoded).toEqual(record);
      for (const bytes of Object.values(decoded).filter((v) => v instanceof Uint8Array)) expect(Buffer.isBuffer(bytes)).toBe(false);
    }
    expect(rootRecordHash(records[0])).toEqual(EMPTY_ROOT);
    expect(rootRecordHash(records[1])).toEqual(hashLeaf(hash(1), hash(2)));
    expect(rootRecordHash(records[2])).toEqual(hash(3));
    expect(rootRecordHash(records[3])).toEqual(hashLeaf(hash(4), sha256(value)));
    expect(versionOfKey(PREFIX, rootKey(PREFIX, big))).toBe(big);
  });

  it("orders page keys by version first and ignores path bits past the depth", () => {
    const path = hash(0xff);
    const key = pageKey(PREFIX, 5, 3, path);
    expect(key.subarray(PREFIX.length)).toEqual(Uint8Array.of(0x6e, 0, 0, 0, 0, 0, 0, 0, 5, 0, 3, 0b1110_0000));
    expect(pageKey(PREFIX, 5, 3, hash(0xe0))).toEqual(key);
    expect(pageKey(PREFIX, 5, 8, path).length).toBe(PREFIX.length + 12);
    expect(pageKey(PREFIX, 5, 0, path).length).toBe(PREFIX.length + 11);
    expect(compare(pageKey(PREFIX, 5, 252, path), pageKey(PREFIX, 6, 0, path))).toBeLessThan(0);
    expect(compare(rootKey(PREFIX, 255), rootKey(PREFIX, 256))).toBeLessThan(0);
  });

  it("reads page slots: their extent and the hash of what they hold, with varint versions", () => {
    for (const version of [0, 1, 127, 128, 300, 2 ** 31, 2 ** 53 - 1]) {
      const bytes = new Uint8Array(9);
      const end = writeVarint(bytes, 0, version);
      expect(readVarint(bytes, 0)).toEqual({ value: version, end });
    }
    // An internal node over a leaf and a sub-page, then an empty slot.
    const ref = new Uint8Array(1 + 2 + 32);
    ref[0] = SLOT_PAGE;
    ref.set(hash(9), writeVarint(ref, 1, 200));
    const page = Buffer.concat([Uint8Array.of(SLOT_INTERNAL, SLOT_LEAF), hash(1), hash(2), ref, Uint8Array.of(SLOT_EMPTY)]);
    expect(skipSlot(page, 0)).toBe(page.length - 1);
    expect(skipSlot(page, page.length - 1)).toBe(page.length);
    expect(slotHash(page, 0)).toEqual(hashInternal(hashLeaf(hash(1), hash(2)), hash(9)));
    expect(slotHash(page, page.length - 1)).toEqual(EMPTY_ROOT);
    expect(Buffer.isBuffer(slotHash(page, 1 + 65))).toBe(false);
    // A leaf with its value (up to 32 bytes, its length in one byte) beside an empty slot.
    const inline = Buffer.concat([Uint8Array.of(SLOT_INTERNAL, SLOT_VALUE_LEAF), hash(5), Uint8Array.of(3, 7, 8, 9, SLOT_EMPTY)]);
    expect(skipSlot(inline, 0)).toBe(inline.length);
    expect(slotHash(inline, 0)).toEqual(hashInternal(hashLeaf(hash(5), sha256(Uint8Array.of(7, 8, 9))), EMPTY_ROOT));
    expect(() => skipSlot(Buffer.concat([Uint8Array.of(SLOT_VALUE_LEAF), hash(5), Uint8Array.of(33), new Uint8Array(33)]), 0)).toThrow(/corrupt/);
    expect(() => skipSlot(inline.subarray(0, inline.length - 2), 1)).toThrow(/corrupt/);
  });

  it("round-trips stale key lists", () => {
    const keys = [pageKey(new Uint8Array(0), 1, 0, hash(0)), pageKey(new Uint8Array(0), 9, 252, hash(0xab))];
    expect(decodeKeyList(encodeKeyList(keys))).toEqual(keys);
  });

  it("refuses corrupt bytes", () => {
    expect(() => decodeRootRecord(Uint8Array.of(1, 2, 3))).toThrow(/corrupt/);
    expect(() => decodeRootRecord(encodeRootRecord({ kind: "leaf", keyHash: hash(1), valueHash: hash(2) }).subarray(0, 64))).toThrow(/corrupt/);
    expect(() => skipSlot(Uint8Array.of(9), 0)).toThrow(/corrupt/);
    expect(() => readVarint(Uint8Array.of(0x80, 0x80), 0)).toThrow(/corrupt/);
  });

  it.each([
    ["native", nativeJmtHasher],
    ["native openssl", nativeOpenSslJmtHasher],
    ["node:crypto", undefined],
  ])("hashes a commit's keys and values at once as it hashes one (sha256Packed, %s)", (_, native) => {
    const items = [new Uint8Array(0), Uint8Array.of(1), Uint8Array.of(2), new Uint8Array(80).fill(7), Buffer.from("an account value").subarray(3), new Uint8Array(200).fill(9), new Uint8Array(200).fill(8)];
    const ends = new Int32Array(items.length);
    items.reduce((end, item, i) => (ends[i] = end + item.length), 0);
    const out = new Uint8Array(32 * items.length);
    sha256Packed(Buffer.concat(items), ends, out, native);
    expect(Buffer.from(out).toString("binary")).toEqual(items.map((item) => createHash("sha256").update(item).digest("binary")).join(""));
    if (native !== undefined) expect(() => native.sha256Packed(new Uint8Array(4), Int32Array.of(3, 2), new Uint8Array(64))).toThrow(/out of order/);
  });
});
