// The byte layout: root records, versions past 32 bits, key order and path masking, the page slot
// format as proofs of old versions read it, stale key lists, corruption.
import { describe, expect, it } from "vitest";
import {
  SLOT_EMPTY,
  SLOT_INTERNAL,
  SLOT_LEAF,
  SLOT_PAGE,
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
import { EMPTY_ROOT, digest, digests, hashInternal, hashLeaf } from "../../merkle-store/hash.ts";

const PREFIX = new TextEncoder().encode("!state!");
const hash = (byte: number) => new Uint8Array(32).fill(byte);
const compare = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b);

describe("merkle-store codec", () => {
  it("round-trips root records, with versions past 2^32, as plain Uint8Arrays", () => {
    const big = 2 ** 40 + 12_345;
    const records: RootRecord[] = [{ kind: "empty" }, { kind: "leaf", keyHash: hash(1), valueHash: hash(2) }, { kind: "page", version: big, hash: hash(3) }];
    for (const record of records) {
      const decoded = decodeRootRecord(Buffer.from(encodeRootRecord(record)));
      expect(decoded).toEqual(record);
      for (const bytes of Object.values(decoded).filter((v) => v instanceof Uint8Array)) expect(Buffer.isBuffer(bytes)).toBe(false);
    }
    expect(rootRecordHash(records[0])).toEqual(EMPTY_ROOT);
    expect(rootRecordHash(records[1])).toEqual(hashLeaf(hash(1), hash(2)));
    expect(rootRecordHash(records[2])).toEqual(hash(3));
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

  it("hashes a commit's values at once as it hashes one (digests, native or not)", () => {
    const values = [new Uint8Array(0), Uint8Array.of(1), new Uint8Array(80).fill(7), Buffer.from("an account value").subarray(3), new Uint8Array(200).fill(9)];
    const expected = values.map((value) => createHash("sha256").update(value).digest("binary"));
    expect(digests(values)).toEqual(expected);
    expect(values.map(digest)).toEqual(expected);
    expect(digests([])).toEqual([]);
  });
});
