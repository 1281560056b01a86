// MerkleStore on a real LevelDB: a model test against a Map, reopening from disk, atomic commits,
// read-your-writes, proofs (and their tampering), old versions and pruning.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import fc from "fast-check";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Level } from "level";
import { EMPTY_ROOT, MerkleStore, verifyProof, type Proof, type StoreOptions } from "../../merkle-store/index.ts";
import { hex, leavesOf, referenceRoot } from "./reference.ts";

const SEED = 7_340_033;
const utf8 = (text: string) => new TextEncoder().encode(text);

type Db = Level<string, string>;

/** A store in a fresh LevelDB directory, kept in the "state" sublevel as the chain would. */
class Harness {
  readonly dir = mkdtempSync(join(tmpdir(), "merkle-store-"));
  readonly options: StoreOptions;
  db!: Db;
  store!: MerkleStore;

  constructor(options: StoreOptions = {}) {
    this.options = options;
  }

  async open(): Promise<MerkleStore> {
    this.db = new Level(this.dir);
    this.store = await MerkleStore.open(this.db.sublevel("state"), this.options);
    return this.store;
  }

  async reopen(): Promise<MerkleStore> {
    await this.db.close();
    return this.open();
  }

  async dispose(): Promise<void> {
    await this.db?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** How many tree nodes the store keeps in LevelDB. */
  async nodeCount(): Promise<number> {
    // Node keys are the sublevel's prefix and the tag 'n' (see codec.ts).
    return (await this.db.keys({ gte: "!state!n", lt: "!state!o" }).all()).length;
  }
}

/** Proofs that each differ from `proof` in one way: a sibling more or less, a flipped bit, a leaf added or removed. None may verify. */
function tamperings(proof: Proof): Proof[] {
  const flip = (bytes: Uint8Array) => {
    const copy = Uint8Array.from(bytes);
    copy[copy.length - 1] ^= 1;
    return copy;
  };
  const out: Proof[] = [
    { ...proof, siblings: [...proof.siblings, EMPTY_ROOT] },
    { ...proof, leaf: proof.leaf === undefined ? { keyHash: new Uint8Array(32), valueHash: new Uint8Array(32) } : undefined },
  ];
  if (proof.siblings.length > 0) {
    out.push({ ...proof, siblings: proof.siblings.slice(1) });
    out.push({ ...proof, siblings: proof.siblings.map((s, i) => (i === proof.siblings.length - 1 ? flip(s) : s)) });
  }
  if (proof.leaf !== undefined) {
    out.push({ ...proof, leaf: { keyHash: proof.leaf.keyHash, valueHash: flip(proof.leaf.valueHash) } });
    out.push({ ...proof, leaf: { keyHash: flip(proof.leaf.keyHash), valueHash: proof.leaf.valueHash } });
  }
  return out;
}

describe("merkle-store MerkleStore", () => {
  let harness: Harness;
  beforeEach(() => {
    harness = new Harness();
  });
  afterEach(async () => {
    await harness.dispose();
  });

  for (const [what, options] of [
    ["", {}],
    [", holding no tree nodes in memory between commits", { cacheNodes: 0 }],
  ] as const) {
  it(`behaves like a Map, commit after commit and across reopens${what} (fast-check seed ${SEED})`, async () => {
    const keyPool = ["", "a", "b", "alice", "bob", "carol", "dave", "eve", "\u0000", "k".repeat(100)].map(utf8);
    const keyArb = fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...keyPool) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 24 }) });
    const valueArb = fc.uint8Array({ maxLength: 40 });
    const commandArb = fc.oneof(
      { weight: 6, arbitrary: fc.record({ op: fc.constant("set" as const), key: keyArb, value: valueArb }) },
      { weight: 3, arbitrary: fc.record({ op: fc.constant("delete" as const), key: keyArb }) },
      { weight: 3, arbitrary: fc.constant({ op: "commit" as const }) },
      { weight: 1, arbitrary: fc.constant({ op: "reopen" as const }) },
      { weight: 1, arbitrary: fc.constant({ op: "discard" as const }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant("prune" as const), keep: fc.nat(3) }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(commandArb, { maxLength: 40 }), async (commands) => {
        const h = new Harness(options);
        try {
          let store = await h.open();
          const committed = new Map<string, [Uint8Array, Uint8Array]>();
          let staged = new Map<string, [Uint8Array, Uint8Array | undefined]>();
          const expectReads = async () => {
            for (const key of keyPool) {
              const value = staged.has(hex(key)) ? staged.get(hex(key))![1] : committed.get(hex(key))?.[1];
              expect(await store.get(key)).toEqual(value);
            }
          };
          for (const command of commands) {
            switch (command.op) {
              case "set":
                store.set(command.key, command.value);
                staged.set(hex(command.key), [command.key, command.value]);
                break;
              case "delete":
                store.delete(command.key);
                staged.set(hex(command.key), [command.key, undefined]);
                break;
              case "discard":
                store.discard();
                staged = new Map();
                break;
              case "reopen":
                store = await h.reopen();
                staged = new Map();
                break;
              case "prune":
                await store.prune(Math.max(0, store.version - command.keep));
                break;
              case "commit": {
                const version = store.version;
                const { version: next, root } = await store.commit();
                for (const [id, [key, value]] of staged) {
                  if (value === undefined) committed.delete(id);
                  else committed.set(id, [key, value]);
                }
                staged = new Map();
                expect(next).toBe(version + 1);
                expect(hex(root)).toBe(hex(referenceRoot(leavesOf(committed.values()))));
                expect(hex(await store.root())).toBe(hex(root));
                for (const [key, value] of committed.values()) {
                  const proof = await store.prove(key);
                  expect(verifyProof(root, key, value, proof)).toBe(true);
                  expect(verifyProof(root, key, undefined, proof)).toBe(false);
                  expect(verifyProof(root, key, Uint8Array.of(...value, 0), proof)).toBe(false);
                  for (const forged of tamperings(proof)) expect(verifyProof(root, key, value, forged)).toBe(false);
                }
                for (const key of keyPool.filter((k) => !committed.has(hex(k)))) {
                  const proof = await store.prove(key);
                  expect(verifyProof(root, key, undefined, proof)).toBe(true);
                  expect(verifyProof(root, key, new Uint8Array(0), proof)).toBe(false);
                  for (const forged of tamperings(proof)) expect(verifyProof(root, key, undefined, forged)).toBe(false);
                }
                break;
              }
            }
            await expectReads();
          }
          store = await h.reopen();
          expect(hex(await store.root())).toBe(hex(referenceRoot(leavesOf(committed.values()))));
          staged = new Map();
          await expectReads();
          await store.prune(store.version);
          expect(await h.nodeCount()).toBe(await canonicalNodeCount(committed.values()));
        } finally {
          await h.dispose();
        }
      }),
      { seed: SEED, numRuns: 100 },
    );
  });
  }

  it("keeps roots and proofs right for thousands of keys with a small cache, across reopens, old versions and pruning", async () => {
    harness = new Harness({ cacheNodes: 300 });
    let store = await harness.open();
    const model = new Map<string, Uint8Array>();
    const snapshots: { root: Uint8Array; contents: Map<string, Uint8Array> }[] = [];
    let seed = 12345;
    const random = () => ((seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32);
    for (let version = 1; version <= 6; version++) {
      for (let i = 0; i < 1500; i++) {
        const key = `account-${Math.floor(random() * 4000)}`;
        if (random() < 0.15) {
          store.delete(utf8(key));
          model.delete(key);
        } else {
          store.set(utf8(key), utf8(`${key} at ${version}`));
          model.set(key, utf8(`${key} at ${version}`));
        }
      }
      const { root } = await store.commit();
      expect(hex(root)).toBe(hex(referenceRoot(leavesOf([...model].map(([k, v]) => [utf8(k), v] as const)))));
      snapshots.push({ root, contents: new Map(model) });
      if (version === 3) store = await harness.reopen();
    }
    const probes = Array.from({ length: 40 }, (_, i) => `account-${i * 97}`);
    for (const [index, { root, contents }] of snapshots.entries()) {
      for (const key of probes) expect(verifyProof(root, utf8(key), contents.get(key), await store.prove(utf8(key), index + 1))).toBe(true);
    }
    await store.prune(6);
    expect(await harness.nodeCount()).toBe(await canonicalNodeCount([...model].map(([key, value]) => [utf8(key), value] as const)));
  });

  it("proves the version it was asked for while a commit replaces it, pages being read meanwhile", async () => {
    harness = new Harness({ cacheNodes: 0 });
    const store = await harness.open();
    for (let i = 0; i < 500; i++) store.set(utf8(`key-${i}`), utf8(`value-${i}`));
    const { root, version } = await store.commit();
    for (let i = 0; i < 50; i++) store.set(utf8(`key-${i}`), utf8(`changed-${i}`));
    // Asked for while the commit is being written: most need pages the commit did not load, and
    // the commit replaces the tree in memory while they are read.
    let proofs: Promise<Proof>[] = [];
    const next = await store.commit(() => {
      proofs = Array.from({ length: 100 }, (_, i) => store.prove(utf8(`key-${i}`), version));
    });
    expect(next.version).toBe(version + 1);
    for (const [i, proof] of (await Promise.all(proofs)).entries()) expect(verifyProof(root, utf8(`key-${i}`), utf8(`value-${i}`), proof)).toBe(true);
    expect(verifyProof(next.root, utf8("key-2"), utf8("changed-2"), await store.prove(utf8("key-2")))).toBe(true);
  });

  it("starts empty at version 0 with EMPTY_ROOT, and a proof of absence against it", async () => {
    const store = await harness.open();
    expect(store.version).toBe(0);
    expect(await store.root()).toEqual(EMPTY_ROOT);
    const proof = await store.prove(utf8("anyone"));
    expect(proof).toEqual({ siblings: [] });
    expect(verifyProof(EMPTY_ROOT, utf8("anyone"), undefined, proof)).toBe(true);
  });

  it("commits with exactly one LevelDB batch, with the caller's extra operations in it", async () => {
    const store = await harness.open();
    const blocks = harness.db.sublevel("blocks");
    const batch = vi.spyOn(harness.db, "batch");
    const put = vi.spyOn(harness.db, "put");
    const del = vi.spyOn(harness.db, "del");
    for (let i = 0; i < 50; i++) store.set(utf8(`account-${i}`), utf8(`balance-${i}`));
    store.delete(utf8("account-7"));
    const { version, root } = await store.commit((b, commit) => b.put(String(commit.version), hex(commit.root), { sublevel: blocks }));
    expect(batch).toHaveBeenCalledTimes(1);
    expect(put).not.toHaveBeenCalled();
    expect(del).not.toHaveBeenCalled();
    expect(await blocks.get(String(version))).toBe(hex(root));
  });

  it("leaves no trace of staged writes that were never committed, or whose commit failed", async () => {
    let store = await harness.open();
    store.set(utf8("kept"), utf8("1"));
    const first = await store.commit();

    store.set(utf8("kept"), utf8("2"));
    store.set(utf8("lost"), utf8("x"));
    await expect(store.commit(() => {
      throw new Error("block encoding failed");
    })).rejects.toThrow("block encoding failed");
    expect(store.version).toBe(1);
    expect(await store.get(utf8("lost"))).toEqual(utf8("x"));

    store = await harness.reopen();
    expect(store.version).toBe(1);
    expect(await store.root()).toEqual(first.root);
    expect(await store.get(utf8("kept"))).toEqual(utf8("1"));
    expect(await store.get(utf8("lost"))).toBeUndefined();
  });

  it("reads its own staged writes before they are committed", async () => {
    const store = await harness.open();
    store.set(utf8("a"), utf8("1"));
    await store.commit();
    store.set(utf8("a"), utf8("2"));
    store.set(utf8("b"), utf8("3"));
    store.delete(utf8("a"));
    expect(await store.get(utf8("a"))).toBeUndefined();
    expect(await store.get(utf8("b"))).toEqual(utf8("3"));
    // Proofs and roots are of committed versions only.
    const proof = await store.prove(utf8("a"));
    expect(verifyProof(await store.root(), utf8("a"), utf8("1"), proof)).toBe(true);
  });

  it("copies values when staging them", async () => {
    const store = await harness.open();
    const value = utf8("before");
    store.set(utf8("k"), value);
    value.fill(0);
    await store.commit();
    expect(await store.get(utf8("k"))).toEqual(utf8("before"));
  });

  it("keeps values of up to 32 bytes in their leaves and longer ones apart, moving a key's value between the two", async () => {
    const store = await harness.open();
    const valueKeys = async () => (await harness.db.keys({ gte: "!state!v", lt: "!state!w" }).all()).length;
    const short = (i: number) => utf8(`short ${i}`);
    const long = (i: number) => utf8(`a value longer than thirty-two bytes ${i}`);
    for (let i = 0; i < 300; i++) store.set(utf8(`k${i}`), i % 2 === 0 ? short(i) : long(i));
    await store.commit();
    expect(await valueKeys()).toBe(150);
    // Long to short, short to long, deleted while stored apart and while inline: the stored values follow.
    for (let i = 0; i < 40; i++) store.set(utf8(`k${i}`), i % 2 === 0 ? long(i) : short(i));
    store.delete(utf8("k41"));
    store.delete(utf8("k42"));
    const { root } = await store.commit();
    expect(await valueKeys()).toBe(150 + 20 - 20 - 1);
    for (let pass = 0; pass < 2; pass++) {
      const s = pass === 0 ? store : await harness.reopen();
      for (let i = 0; i < 300; i++) {
        const expected = i === 41 || i === 42 ? undefined : (i < 40) === (i % 2 === 0) ? long(i) : short(i);
        expect(await s.get(utf8(`k${i}`))).toEqual(expected);
      }
      expect(await s.root()).toEqual(root);
    }
    expect(verifyProof(root, utf8("k1"), short(1), await harness.store.prove(utf8("k1")))).toBe(true);
    expect(verifyProof(root, utf8("k0"), long(0), await harness.store.prove(utf8("k0")))).toBe(true);
  });

  it("serves values kept in the tree across many commits (its value heap compacted), with a one-key tree's value in its root record", async () => {
    const store = await harness.open();
    store.set(utf8("only"), utf8("one"));
    await store.commit();
    expect(await (await harness.reopen()).get(utf8("only"))).toEqual(utf8("one"));
    const value = (i: number, round: number) => utf8(`${round}:${i}`.padEnd(30, "."));
    for (let round = 0; round < 30; round++) {
      for (let i = 0; i < 2_000; i++) harness.store.set(utf8(`key ${i}`), value(i, round));
      await harness.store.commit();
    }
    for (let i = 0; i < 2_000; i += 7) expect(await harness.store.get(utf8(`key ${i}`))).toEqual(value(i, 29));
    expect(await harness.store.get(utf8("only"))).toEqual(utf8("one"));
  });

  it("keeps the node cache within its bound while only reads load pages", async () => {
    const small = new Harness({ cacheNodes: 200 });
    try {
      const store = await small.open();
      const keys = Array.from({ length: 2_000 }, (_, i) => utf8(`key ${i}`));
      for (const key of keys) store.set(key, utf8("v"));
      await store.commit();
      const reopened = await small.reopen();
      for (const key of keys) expect(await reopened.get(key)).toEqual(utf8("v"));
      expect(reopened.cachedNodes).toBeLessThanOrEqual(200);
    } finally {
      await small.dispose();
    }
  });

  it("refuses writes and commits while a commit is in flight", async () => {
    const store = await harness.open();
    store.set(utf8("a"), utf8("1"));
    const commit = store.commit();
    expect(() => store.set(utf8("b"), utf8("2"))).toThrow(/in progress/);
    await expect(store.commit()).rejects.toThrow(/in progress/);
    await commit;
    expect(store.version).toBe(1);
  });

  it("answers a get() whose read of a value stored apart completes after a commit moved that value into its leaf", async () => {
    // Fault injection (LevelDB cannot be made to deliver completions in this order on demand): a proxy
    // of the database holds get() answers and delivers them right after the next batch is written,
    // before commit() resumes to adopt the new tree.
    const dir = mkdtempSync(join(tmpdir(), "merkle-store-race-"));
    const level = new Level<string, string>(dir);
    const state = level.sublevel("state");
    await state.open();
    const held: (() => Promise<void>)[] = [];
    let holding = false;
    const delayed = new Proxy(level, {
      get(target, prop) {
        if (prop === "get") {
          return (key: Uint8Array, options: object) =>
            holding ? new Promise((resolve) => held.push(async () => resolve(await target.get(key as never, options)))) : target.get(key as never, options);
        }
        if (prop === "batch") {
          return (...args: unknown[]) => {
            const batch = (target.batch as (...a: unknown[]) => { write(o?: object): Promise<void> })(...args);
            const write = batch.write.bind(batch);
            batch.write = async (o?: object) => {
              await write(o);
              for (const answer of held.splice(0)) await answer();
            };
            return batch;
          };
        }
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const db = { open: () => state.open(), prefixKey: state.prefixKey.bind(state), db: delayed } as unknown as Parameters<typeof MerkleStore.open>[0];
    try {
      const store = await MerkleStore.open(db);
      const key = utf8("account");
      store.set(key, new Uint8Array(40).fill(1)); // stored apart
      store.set(utf8("other"), Uint8Array.of(9));
      await store.commit();
      holding = true;
      const reading = store.get(key);
      store.set(key, Uint8Array.of(2)); // kept in its leaf: the commit deletes the stored-apart entry
      await store.commit();
      holding = false;
      expect([hex(new Uint8Array(40).fill(1)), hex(Uint8Array.of(2))]).toContain(hex((await reading)!));
    } finally {
      await level.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("rejects tampered proofs, roots and values, and malformed proofs, without throwing", async () => {
    const store = await harness.open();
    for (let i = 0; i < 200; i++) store.set(utf8(`key-${i}`), utf8(`value-${i}`));
    const { root } = await store.commit();
    const present = utf8("key-42");
    const absent = utf8("key-1000");
    const inclusion = await store.prove(present);
    const exclusion = await store.prove(absent);
    expect(verifyProof(root, present, utf8("value-42"), inclusion)).toBe(true);
    expect(verifyProof(root, absent, undefined, exclusion)).toBe(true);

    for (const forged of tamperings(inclusion)) expect(verifyProof(root, present, utf8("value-42"), forged)).toBe(false);
    for (const forged of tamperings(exclusion)) expect(verifyProof(root, absent, undefined, forged)).toBe(false);
    const otherRoot = Uint8Array.from(root);
    otherRoot[0] ^= 1;
    expect(verifyProof(otherRoot, present, utf8("value-42"), inclusion)).toBe(false);
    expect(verifyProof(root, present, utf8("value-43"), inclusion)).toBe(false);
    expect(verifyProof(root, absent, undefined, inclusion)).toBe(false);
    expect(verifyProof(root, present, undefined, exclusion)).toBe(false);

    const malformed = [null, {}, { siblings: "x" }, { siblings: [new Uint8Array(31)] }, { siblings: [], leaf: null }, { siblings: [], leaf: { keyHash: 1 } }];
    for (const proof of malformed) expect(verifyProof(root, present, utf8("value-42"), proof as unknown as Proof)).toBe(false);
    expect(verifyProof(root.subarray(1), present, utf8("value-42"), inclusion)).toBe(false);
  });

  it("proves old versions until they are pruned, and pruning keeps exactly the latest tree", async () => {
    const store = await harness.open();
    const roots: Uint8Array[] = [];
    const model = new Map<string, Uint8Array>();
    const snapshots: Map<string, Uint8Array>[] = [];
    for (let version = 1; version <= 5; version++) {
      for (let i = 0; i < 100; i++) {
        const key = `account-${(version * 37 + i) % 150}`;
        store.set(utf8(key), utf8(`v${version}`));
        model.set(key, utf8(`v${version}`));
      }
      store.delete(utf8(`account-${version * 20}`));
      model.delete(`account-${version * 20}`);
      roots.push((await store.commit()).root);
      snapshots.push(new Map(model));
    }
    const probes = ["account-20", "account-40", "account-99", "account-149"];
    const expectProvable = async (version: number) => {
      expect(await store.root(version)).toEqual(roots[version - 1]);
      for (const key of probes) {
        const proof = await store.prove(utf8(key), version);
        expect(verifyProof(roots[version - 1], utf8(key), snapshots[version - 1].get(key), proof)).toBe(true);
      }
    };
    for (let version = 1; version <= 5; version++) await expectProvable(version);
    await expect(store.root(6)).rejects.toThrow(RangeError);

    await store.prune(4);
    await expect(store.root(3)).rejects.toThrow(/pruned/);
    await expect(store.prove(utf8("account-40"), 3)).rejects.toThrow(/pruned/);
    await expectProvable(4);
    await expectProvable(5);

    await store.prune(5);
    await expectProvable(5);
    expect(await harness.nodeCount()).toBe(await canonicalNodeCount([...model].map(([key, value]) => [utf8(key), value] as const)));
    await expect(store.prune(6)).rejects.toThrow(RangeError);
  });
});

/**
 * The number of nodes of the tree holding `entries`. The tree's shape depends only on its contents,
 * so this is what a store holding them must keep once its old versions are pruned.
 */
async function canonicalNodeCount(entries: Iterable<readonly [Uint8Array, Uint8Array]>): Promise<number> {
  const h = new Harness();
  try {
    const store = await h.open();
    for (const [key, value] of entries) store.set(key, value);
    await store.commit();
    return await h.nodeCount();
  } finally {
    await h.dispose();
  }
}
