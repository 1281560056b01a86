// The byte layout: round trips, versions past 32 bits, key order and path masking, corruption.
import { describe, expect, it } from "vitest";
import { decodeKeyList, decodeNode, decodeRef, encodeKeyList, encodeNode, encodeRef, nodeKey, rootKey, versionOfKey } from "../../merkle-store/codec.ts";
import { EMPTY, type Node, type Ref } from "../../merkle-store/tree.ts";

const PREFIX = new TextEncoder().encode("!state!");
const hash = (byte: number) => new Uint8Array(32).fill(byte);
const compare = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b);

describe("merkle-store codec", () => {
  it("round-trips nodes and refs, with versions past 2^32", () => {
    const big = 2 ** 40 + 12_345;
    const refs: Ref[] = [EMPTY, { kind: "leaf", version: big, hash: hash(1) }, { kind: "internal", version: 7, hash: hash(2) }];
    for (const ref of refs) expect(decodeRef(encodeRef(ref))).toEqual(ref);
    const nodes: Node[] = [
      { kind: "leaf", keyHash: hash(3), valueHash: hash(4) },
      { kind: "internal", left: refs[1], right: refs[2] },
      { kind: "internal", left: refs[2], right: EMPTY },
    ];
    for (const node of nodes) expect(decodeNode(encodeNode(node))).toEqual(node);
    expect(versionOfKey(PREFIX, rootKey(PREFIX, big))).toBe(big);
  });

  it("decodes an empty child to the shared EMPTY ref, which the core compares by identity", () => {
    const node = decodeNode(encodeNode({ kind: "internal", left: EMPTY, right: { kind: "leaf", version: 1, hash: hash(1) } }));
    expect(node.kind === "internal" && node.left).toBe(EMPTY);
  });

  it("orders node keys by version first and ignores path bits past the depth", () => {
    const path = hash(0xff);
    const key = nodeKey(PREFIX, { version: 5, depth: 3, path });
    expect(key.subarray(PREFIX.length)).toEqual(Uint8Array.of(0x6e, 0, 0, 0, 0, 0, 0, 0, 5, 0, 3, 0b1110_0000));
    expect(nodeKey(PREFIX, { version: 5, depth: 3, path: hash(0xe0) })).toEqual(key);
    expect(compare(nodeKey(PREFIX, { version: 5, depth: 200, path }), nodeKey(PREFIX, { version: 6, depth: 0, path }))).toBeLessThan(0);
    expect(compare(rootKey(PREFIX, 255), rootKey(PREFIX, 256))).toBeLessThan(0);
  });

  it("round-trips stale key lists", () => {
    const keys = [nodeKey(new Uint8Array(0), { version: 1, depth: 0, path: hash(0) }), nodeKey(new Uint8Array(0), { version: 9, depth: 256, path: hash(0xab) })];
    expect(decodeKeyList(encodeKeyList(keys))).toEqual(keys);
  });

  it("refuses corrupt bytes", () => {
    expect(() => decodeNode(Uint8Array.of(9))).toThrow(/corrupt/);
    expect(() => decodeNode(encodeNode({ kind: "leaf", keyHash: hash(1), valueHash: hash(2) }).subarray(0, 64))).toThrow(/corrupt/);
    expect(() => decodeRef(Uint8Array.of(1, 2, 3))).toThrow(/corrupt/);
  });
});
