// The core (tree.ts) against in-memory pages, with key hashes chosen to share long prefixes (down to
// differing in the last bit only), which real sha256 keys never reach in a test. It runs in memory,
// with every page evicted after each commit (so that each commit reloads what it needs), and with
// node:crypto instead of the native hasher.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { SLOT_EMPTY, SLOT_LEAF, SLOT_PAGE, SLOT_VALUE_LEAF, decodeRootRecord, pageKey, readVarint, rootRecordHash, skipSlot, type RootRecord } from "../../merkle-store/codec.ts";
import { EMPTY_ROOT, hashLeaf, sha256, type Hash } from "../../merkle-store/hash.ts";
import { nativeJmtHasher, nativeOpenSslJmtHasher } from "../../merkle-store/native.ts";
import { verifyKeyHashProof } from "../../merkle-store/proof.ts";
import { Tree, provePast, type PageReader, type TreeChange, type TreeOptions, type Update } from "../../merkle-store/tree.ts";
import { hex, referenceRoot, type Leaf } from "./reference.ts";

const SEED = 20_260_522;
const NO_PREFIX = new Uint8Array(0);

/** Pages by key, as a database would hold them (a read returns a fresh copy); keeps every version's pages. */
class MemoryPages implements PageReader {
  readonly pages = new Map<string, Uint8Array>();
  reads = 0;

  async readPages(keys: readonly Uint8Array[]): Promise<Uint8Array[]> {
    this.reads += keys.length;
    return keys.map((key) => {
      const page = this.pages.get(hex(key));
      if (page === undefined) throw new Error(`no page ${hex(key)}`);
      return page.slice();
    });
  }
}

const CONFIGS: { name: string; options: TreeOptions; runs: number }[] = [
  { name: "in memory", options: { capacity: 1e9 }, runs: 300 },
  { name: "evicting every page after each commit", options: { capacity: 0 }, runs: 150 },
  { name: "hashing with node:crypto", options: { capacity: 1e9, native: null }, runs: 150 },
];

/** A tree under test: commits, writes the pages, and tracks which stored pages each version made stale. */
class VersionedTree {
  readonly memory = new MemoryPages();
  readonly roots: RootRecord[] = [{ kind: "empty" }];
  readonly live = new Set<string>();
  readonly options: TreeOptions;
  tree: Tree;

  constructor(options: TreeOptions = { capacity: 1e9 }) {
    this.options = options;
    this.tree = new Tree(NO_PREFIX, this.memory, options, { kind: "empty" });
  }

  get root(): RootRecord {
    return this.roots[this.roots.length - 1];
  }

  async commit(updates: readonly Update[]): Promise<TreeChange> {
    const change = await this.tree.apply(updates, this.roots.length);
    for (const { key, value } of change.pages) {
      expect(this.memory.pages.has(hex(key)), `rewrote ${hex(key)}`).toBe(false);
      this.memory.pages.set(hex(key), value.slice());
      this.live.add(hex(key));
    }
    for (const key of change.stale) expect(this.live.delete(hex(key)), `stale twice or unknown: ${hex(key)}`).toBe(true);
    this.roots.push(decodeRootRecord(change.rootRecord));
    expect(change.root).toEqual(rootRecordHash(this.root));
    this.tree.adopt(change);
    this.tree.trim();
    return change;
  }

  /** The tree as a node restarting from the latest root record would have it: nothing in memory. */
  reopen(): void {
    this.tree = new Tree(NO_PREFIX, this.memory, this.options, this.root);
  }

  /** Keys of the pages reachable from `root`. */
  reachable(root: RootRecord = this.root): string[] {
    if (root.kind !== "page") return [];
    const found: string[] = [];
    const visit = (version: number, depth: number, path: Uint8Array) => {
      const key = hex(pageKey(NO_PREFIX, version, depth, path));
      const page = this.memory.pages.get(key);
      if (page === undefined) throw new Error(`dangling ref to ${key}`);
      found.push(key);
      let offset = 0;
      const slot = (at: number, path: Uint8Array): void => {
        const tag = page[offset];
        if (tag === SLOT_EMPTY) offset += 1;
        else if (tag === SLOT_LEAF || tag === SLOT_VALUE_LEAF) offset = skipSlot(page, offset);
        else if (tag === SLOT_PAGE) {
          const { value, end } = readVarint(page, offset + 1);
          offset = end + 32;
          visit(value, at, path);
        } else {
          offset += 1;
          slot(at + 1, withBit(path, at, 0));
          slot(at + 1, withBit(path, at, 1));
        }
      };
      slot(depth + 1, withBit(path, depth, 0));
      slot(depth + 1, withBit(path, depth, 1));
    };
    visit(root.version, 0, new Uint8Array(32));
    return found;
  }
}

function withBit(path: Uint8Array, index: number, bit: 0 | 1): Uint8Array {
  const copy = path.slice();
  const mask = 0x80 >> (index & 7);
  copy[index >> 3] = bit === 1 ? copy[index >> 3] | mask : copy[index >> 3] & ~mask;
  return copy;
}

function bytes32(first: number, last: number): Hash {
  const hash = new Uint8Array(32);
  hash[0] = first;
  hash[31] = last;
  return hash;
}

const digestOf = (bytes: Uint8Array) => Buffer.from(bytes).toString("latin1");
const set = (keyHash: Hash, valueHash: Hash, value?: Uint8Array): Update => ({ keyHash: digestOf(keyHash), valueHash: digestOf(valueHash), value });
const del = (keyHash: Hash): Update => ({ keyHash: digestOf(keyHash), valueHash: undefined });

// Mostly from a small pool, so that keys repeat (updates, deletes) and share up to 255 bits. Some
// are Buffers, whose slice() is a view rather than a copy: the core must never write through one.
const keyHashArb = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom(0x00, 0x01, 0x80, 0xff), fc.constantFrom(0x00, 0x01, 0x02, 0x03, 0x40, 0x80, 0xfe, 0xff), fc.boolean())
      .map(([first, last, asBuffer]) => (asBuffer ? Buffer.from(bytes32(first, last)) : bytes32(first, last))),
  },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 32, maxLength: 32 }) },
);
// Values stored apart (the tree sees their hashes only) and values kept in the tree (up to 32 bytes).
const inlineValues = [new Uint8Array(0), Uint8Array.of(7), new Uint8Array(32).fill(9)];
const valueHashArb = fc.constantFrom(...[1, 2, 3].map((v) => bytes32(v, v)), ...inlineValues.map(sha256));
const inlineValueOf = (valueHash: Hash) => inlineValues.find((value) => hex(sha256(value)) === hex(valueHash));

type Command = { op: "set"; keyHash: Hash; valueHash: Hash } | { op: "delete"; keyHash: Hash } | { op: "commit" } | { op: "reopen" };
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant("set" as const), keyHash: keyHashArb, valueHash: valueHashArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("delete" as const), keyHash: keyHashArb }) },
  { weight: 2, arbitrary: fc.constant({ op: "commit" as const }) },
  { weight: 1, arbitrary: fc.constant({ op: "reopen" as const }) },
);

/** The staged writes of one commit as the core takes them: last write wins, sorted by key hash. */
function sortedUpdates(staged: Map<string, Update>): Update[] {
  return [...staged.values()].sort((a, b) => (a.keyHash < b.keyHash ? -1 : 1));
}

function leavesOfModel(model: Map<string, Leaf>): Leaf[] {
  return [...model.values()];
}

describe("merkle-store tree (core)", () => {
  for (const config of CONFIGS) {
    it(`matches a from-scratch root after every commit, with proofs and no page leaks, ${config.name} (fast-check seed ${SEED})`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(commandArb, { maxLength: 60 }), fc.array(keyHashArb, { minLength: 4, maxLength: 4 }), async (commands, probes) => {
          const tree = new VersionedTree(config.options);
          const model = new Map<string, Leaf>();
          const history: Map<string, Leaf>[] = [new Map()];
          let staged = new Map<string, Update>();
          for (const command of [...commands, { op: "commit" } as const]) {
            if (command.op === "set") staged.set(hex(command.keyHash), set(command.keyHash, command.valueHash, inlineValueOf(command.valueHash)));
            else if (command.op === "delete") staged.set(hex(command.keyHash), del(command.keyHash));
            else if (command.op === "reopen") tree.reopen();
            else {
              await tree.commit(sortedUpdates(staged));
              for (const [id, { keyHash, valueHash }] of staged) {
                if (valueHash === undefined) model.delete(id);
                else model.set(id, { keyHash: Buffer.from(keyHash, "latin1"), valueHash: Buffer.from(valueHash, "latin1") });
              }
              staged = new Map();
              history.push(new Map(model));

              const root = tree.tree.rootHash;
              expect(hex(root)).toBe(hex(referenceRoot(leavesOfModel(model))));
              // Exactly the pages written and not yet made stale are reachable: stale lists are
              // complete (no leak) and sound (pruning them never breaks the latest version).
              expect(new Set(tree.reachable())).toEqual(tree.live);
              for (const leaf of model.values()) {
                const proof = (await tree.tree.prove(leaf.keyHash))!;
                expect(verifyKeyHashProof(root, leaf.keyHash, leaf.valueHash, proof)).toBe(true);
              }
              for (const probe of probes) {
                const present = model.get(hex(probe));
                for (const proof of [(await tree.tree.prove(probe))!, await provePast(tree.memory, NO_PREFIX, tree.root, probe)]) {
                  expect(verifyKeyHashProof(root, probe, present?.valueHash, proof)).toBe(true);
                  expect(verifyKeyHashProof(root, probe, present === undefined ? bytes32(9, 9) : undefined, proof)).toBe(false);
                }
              }
            }
          }
          // Every earlier version is still provable against its own contents, from its pages.
          for (const [version, contents] of history.entries()) {
            const root = rootRecordHash(tree.roots[version]);
            expect(hex(root)).toBe(hex(referenceRoot(leavesOfModel(contents))));
            for (const probe of probes) {
              const proof = await provePast(tree.memory, NO_PREFIX, tree.roots[version], probe);
              expect(verifyKeyHashProof(root, probe, contents.get(hex(probe))?.valueHash, proof)).toBe(true);
            }
          }
        }),
        { seed: SEED, numRuns: config.runs },
      );
    });
  }

  it(`gives the same root whatever the insertion order and commit grouping (fast-check seed ${SEED})`, async () => {
    const entriesArb = fc.uniqueArray(fc.record({ keyHash: keyHashArb, valueHash: valueHashArb }), { selector: (e) => hex(e.keyHash), maxLength: 40 });
    await fc.assert(
      fc.asyncProperty(entriesArb.chain((entries) => fc.tuple(fc.constant(entries), fc.shuffledSubarray(entries, { minLength: entries.length }), fc.array(fc.nat(entries.length), { maxLength: 5 }))), async ([entries, shuffled, cuts]) => {
        const tree = new VersionedTree();
        const bounds = [0, ...[...cuts].sort((a, b) => a - b), shuffled.length];
        for (let i = 1; i < bounds.length; i++) {
          const group = new Map(shuffled.slice(bounds[i - 1], bounds[i]).map((e) => [hex(e.keyHash), set(e.keyHash, e.valueHash)] as const));
          await tree.commit(sortedUpdates(group));
        }
        expect(hex(tree.tree.rootHash)).toBe(hex(referenceRoot(entries)));
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it("roots the empty tree at EMPTY_ROOT and a one-key tree at that key's leaf, in its root record", async () => {
    const tree = new VersionedTree();
    expect(tree.tree.rootHash).toEqual(EMPTY_ROOT);
    expect(Buffer.from(EMPTY_ROOT).toString("latin1")).toBe("SPARSE_MERKLE_PLACEHOLDER_HASH__");
    const keyHash = bytes32(0x80, 1);
    const valueHash = bytes32(2, 2);
    const change = await tree.commit([set(keyHash, valueHash)]);
    expect(change.pages).toHaveLength(0);
    expect(tree.root).toEqual({ kind: "leaf", keyHash, valueHash });
    expect(hex(tree.tree.rootHash)).toBe(hex(hashLeaf(keyHash, valueHash)));
    await tree.commit([del(keyHash)]);
    expect(tree.tree.rootHash).toEqual(EMPTY_ROOT);
  });

  it("places two keys that differ only in the last bit 256 levels down, and lifts the survivor to the root on delete", async () => {
    const tree = new VersionedTree();
    const a = { keyHash: bytes32(0, 0), valueHash: bytes32(1, 1) };
    const b = { keyHash: bytes32(0, 1), valueHash: bytes32(2, 2) };
    const first = await tree.commit([set(a.keyHash, a.valueHash), set(b.keyHash, b.valueHash)]);
    expect(first.nodes).toBe(256 + 2);
    expect(first.pages).toHaveLength(256 / 4);
    const proof = (await tree.tree.prove(b.keyHash))!;
    expect(proof.siblings.length).toBe(256);
    expect(verifyKeyHashProof(tree.tree.rootHash, b.keyHash, b.valueHash, proof)).toBe(true);
    const second = await tree.commit([del(a.keyHash)]);
    // The survivor's leaf moves up as it is: nothing to build, 64 pages made stale.
    expect(second.nodes).toBe(0);
    expect(second.stale).toHaveLength(256 / 4);
    expect(hex(tree.tree.rootHash)).toBe(hex(hashLeaf(b.keyHash, b.valueHash)));
    expect(tree.live.size).toBe(0);
  });

  it("rewrites nothing for writes that change nothing", async () => {
    const tree = new VersionedTree();
    const entries = [0x00, 0x40, 0x80, 0xc0].map((f) => ({ keyHash: bytes32(f, 0), valueHash: bytes32(1, 1) }));
    await tree.commit(entries.map((e) => set(e.keyHash, e.valueHash)));
    const before = tree.root;
    const change = await tree.commit([del(bytes32(0x20, 0)), set(entries[1].keyHash, entries[1].valueHash)]);
    expect(change.nodes).toBe(0);
    expect(change.pages).toHaveLength(0);
    expect(change.stale).toHaveLength(0);
    expect(tree.root).toEqual(before);
  });

  it("touches only the updated key's path: a page read, written and made stale per page level", async () => {
    const tree = new VersionedTree();
    // 256 keys whose first bytes are 0..255: a complete tree 8 levels deep, in pages at depths 0 and 4.
    await tree.commit(Array.from({ length: 256 }, (_, i) => set(bytes32(i, 0), bytes32(1, 1))));
    // From the root record alone, as after a restart: every page on the path is read.
    tree.reopen();
    tree.memory.reads = 0;
    const change = await tree.commit([set(bytes32(77, 0), bytes32(2, 2))]);
    expect(tree.memory.reads).toBe(2);
    expect(change.pages).toHaveLength(2);
    expect(change.stale).toHaveLength(2);
    expect(change.nodes).toBe(8 + 1);
    expect(hex(tree.tree.rootHash)).toBe(hex(referenceRoot(Array.from({ length: 256 }, (_, i) => ({ keyHash: bytes32(i, 0), valueHash: i === 77 ? bytes32(2, 2) : bytes32(1, 1) })))));
  });

  it("keeps the pages it loads or writes in memory, and reads them again once evicted", async () => {
    const tree = new VersionedTree();
    const keys = Array.from({ length: 256 }, (_, i) => bytes32(i, 0));
    await tree.commit(keys.map((k) => set(k, bytes32(1, 1))));
    tree.reopen();
    tree.memory.reads = 0;
    await tree.commit([set(keys[5], bytes32(2, 2))]);
    expect(tree.memory.reads).toBe(2);
    // Written by the last commit, so in memory: the next commits on the same path read nothing.
    tree.memory.reads = 0;
    await tree.commit([set(keys[5], bytes32(3, 3))]);
    await tree.commit([set(keys[6], bytes32(3, 3))]);
    expect(tree.memory.reads).toBe(0);
    // Loaded pages stay too: every key's path was loaded by now or is below a page that was.
    tree.reopen();
    for (const key of keys) await tree.tree.prove(key);
    tree.memory.reads = 0;
    await tree.commit(keys.map((k) => set(k, bytes32(4, 4))));
    expect(tree.memory.reads).toBe(0);

    // With room for nothing, everything is evicted after each commit and read again by the next.
    const small = new VersionedTree({ capacity: 0 });
    await small.commit(keys.map((k) => set(k, bytes32(1, 1))));
    expect(small.tree.size.nodes).toBe(1);
    small.memory.reads = 0;
    await small.commit([set(keys[5], bytes32(2, 2))]);
    expect(small.memory.reads).toBe(2);
    expect(hex(small.tree.rootHash)).toBe(hex(referenceRoot(keys.map((keyHash, i) => ({ keyHash, valueHash: i === 5 ? bytes32(2, 2) : bytes32(1, 1) })))));
  });

  it("frees the nodes a commit replaces and reuses them: memory stays flat", async () => {
    const tree = new VersionedTree();
    const keys = Array.from({ length: 1000 }, (_, i) => Uint8Array.from(Buffer.alloc(32, i * 7919)));
    await tree.commit(sortedUpdates(new Map(keys.map((k) => [hex(k), set(k, bytes32(1, 1))]))));
    const size = tree.tree.size.nodes;
    for (let round = 2; round < 10; round++) {
      await tree.commit(sortedUpdates(new Map(keys.slice(round * 50, round * 50 + 100).map((k) => [hex(k), set(k, bytes32(round, round))]))));
      expect(tree.tree.size.nodes).toBe(size);
    }
  });

  it("refuses a page that does not hash to its reference, and updates that are not sorted and distinct", async () => {
    const tree = new VersionedTree();
    const keys = Array.from({ length: 64 }, (_, i) => bytes32(i * 4, 0));
    await tree.commit(keys.map((k) => set(k, bytes32(1, 1))));
    const [rootPage] = tree.reachable();
    const page = tree.memory.pages.get(rootPage)!;
    page[page.length - 1] ^= 1;
    tree.reopen();
    await expect(tree.tree.apply([set(keys[0], bytes32(2, 2))], 2)).rejects.toThrow(/does not match its hash/);
    page[page.length - 1] ^= 1;

    const a = set(bytes32(1, 0), bytes32(1, 1));
    const b = set(bytes32(2, 0), bytes32(1, 1));
    await expect(tree.tree.apply([b, a], 2)).rejects.toThrow(/sorted/);
    await expect(tree.tree.apply([a, a], 2)).rejects.toThrow(/sorted/);
    // A failed update leaves the tree as it was.
    const change = await tree.tree.apply([a], 2);
    tree.tree.discard(change);
    expect(tree.tree.rootHash).toEqual(rootRecordHash(tree.root));
  });

  it("hashes as the reference does with every hasher this machine has: SHA extensions, OpenSSL, node:crypto", async () => {
    const keys = Array.from({ length: 3000 }, (_, i) => Uint8Array.from(Buffer.alloc(32, (i * 2654435761) >>> 0)).map((byte, j) => (byte * (j + 1) + i) & 0xff));
    // Every other value kept in the tree.
    const value = (i: number) => (i % 2 === 0 ? Uint8Array.of(i & 0xff, i >> 8) : undefined);
    const model = new Map(keys.map((k, i) => [hex(k), { keyHash: k, valueHash: i % 2 === 0 ? sha256(value(i)!) : bytes32(i & 0xff, 1), value: value(i) }]));
    const updates = sortedUpdates(new Map([...model].map(([id, leaf]) => [id, set(leaf.keyHash, leaf.valueHash, leaf.value)])));
    const deletions = updates.filter((_, i) => i % 3 === 0).map(({ keyHash }) => ({ keyHash, valueHash: undefined }));
    for (const { keyHash } of deletions) model.delete(hex(Buffer.from(keyHash, "latin1")));
    const expected = hex(referenceRoot([...model.values()]));
    // node:crypto (null) always; the native hashers wherever the addon is built, as npm install does.
    const hashers = [nativeJmtHasher, nativeOpenSslJmtHasher, null].filter((hasher) => hasher !== undefined);
    // The pages too, byte for byte: the native encoder's and the JavaScript one's (node:crypto, null).
    const pages: string[][] = [];
    for (const native of hashers) {
      const tree = new VersionedTree({ capacity: 1e9, native });
      const written: string[] = [];
      for (const batch of [updates, deletions]) {
        const change = await tree.commit(batch);
        written.push(...change.pages.map(({ key, value }) => `${hex(key)}:${hex(value)}`));
      }
      expect(hex(tree.tree.rootHash)).toBe(expected);
      pages.push(written);
    }
    for (const written of pages) expect(written).toEqual(pages[pages.length - 1]);
    expect(pages[0].length).toBeGreaterThan(100);
  });
});
