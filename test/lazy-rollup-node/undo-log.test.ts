import { describe, expect, it } from "vitest";
import { metro } from "../../proto/index.ts";
import { keyId } from "../../lazy-rollup-node/state-layer.ts";
import { encodeUndoLog } from "../../lazy-rollup-node/undo-log.ts";

const write = (key: Uint8Array) => ({ id: keyId(key), key, value: Uint8Array.of(1) });

describe("undo log encoding", () => {
  it("is the protobuf encoding of UndoLog, byte for byte, for present, absent, empty and long values", () => {
    // Lengths around the one- and two-byte varint boundary (127/128) and beyond, for keys and values.
    const sizes = [0, 1, 20, 127, 128, 300, 20_000];
    const keys = sizes.filter((n) => n > 0).map((n, i) => Uint8Array.from({ length: n }, (_, j) => (i * 31 + j) & 0xff));
    const writes = [...keys, ...keys].map(write);
    const previous = writes.map((_, i) => (i % 3 === 0 ? null : Uint8Array.from({ length: sizes[i % sizes.length] }, (_, j) => (j * 7 + i) & 0xff)));

    const encoded = encodeUndoLog(writes, previous);
    const expected = metro.rollup.v1.UndoLog.encode({
      entries: writes.map(({ key }, i) => (previous[i] === null ? { key, absent: true } : { key, previous: previous[i] })),
    }).finish();
    expect(Buffer.from(encoded).equals(Buffer.from(expected))).toBe(true);

    const decoded = metro.rollup.v1.UndoLog.decode(encoded).entries;
    expect(decoded.map((e) => [Buffer.from(e.key ?? []).toString("hex"), e.absent ? null : Buffer.from(e.previous ?? []).toString("hex")])).toEqual(
      writes.map(({ key }, i) => [Buffer.from(key).toString("hex"), previous[i] === null ? null : Buffer.from(previous[i]!).toString("hex")]),
    );
  });

  it("encodes an empty block as no bytes", () => {
    expect(encodeUndoLog([], [])).toEqual(new Uint8Array(0));
  });
});
