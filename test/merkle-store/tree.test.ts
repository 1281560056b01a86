// The pure core against an in-memory node map, with key hashes chosen to share long prefixes
// (down to differing in the last bit only), which real sha256 keys never reach in a test.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { EMPTY_ROOT, bitAt, hashLeaf, type Hash } from "../../merkle-store/hash.ts";
import { verifyKeyHashProof } from "../../merkle-store/proof.ts";
import { EMPTY, RESIDENT_DEPTH, applyUpdates, proveKeyHash, refHash, type Node, type NodeAddress, type NodeReader, type Ref, type StoredRef, type Update } from "../../merkle-store/tree.ts";
import { decodeNode, encodeNode } from "../../merkle-store/codec.ts";
import { hex, referenceRoot, type Leaf } from "./reference.ts";

const SEED = 20_260_522;

/**
 * Encoded nodes by address, as a database would hold them (a read returns a fresh copy); keeps
 * every version's nodes so that old versions stay provable.
 */
class MemoryNodes implements NodeReader {
  readonly nodes = new Map<string, Uint8Array>();
  reads = 0;

  read(at: NodeAddress): Promise<Node> {
    this.reads++;
    const bytes = this.nodes.get(addressKey(at));
    return bytes === undefined ? Promise.reject(new Error(`no node at ${addressKey(at)}`)) : Promise.resolve(decodeNode(bytes));
  }
}

function addressKey(at: NodeAddress): string {
  let bits = "";
  for (let i = 0; i < at.depth; i++) bits += bitAt(at.path, i);
  return `${at.version}/${bits}`;
}

/** A tree under test: applies commits and tracks which stored nodes each version made stale. */
class VersionedTree {
  readonly memory = new MemoryNodes();
  readonly roots: Ref[] = [EMPTY];
  readonly live = new Set<string>();

  get root(): Ref {
    return this.roots[this.roots.length - 1];
  }

  async commit(updates: readonly Update[]): Promise<{ writes: number }> {
    const version = this.roots.length;
    const change = await applyUpdates(this.memory, this.root, updates, version);
    for (const { at, node } of change.writes) {
      const key = addressKey(at);
      expect(this.memory.nodes.has(key), `rewrote ${key}`).toBe(false);
      this.memory.nodes.set(key, encodeNode(node));
      this.live.add(key);
    }
    for (const at of change.stale) expect(this.live.delete(addressKey(at)), `stale twice or unknown: ${addressKey(at)}`).toBe(true);
    this.roots.push(change.root);
    return { writes: change.writes.length };
  }

  /** Addresses of the nodes reachable from `ref`, which sits at `depth` on `path`. */
  reachable(ref: Ref = this.root, depth = 0, path = ""): string[] {
    if (ref.kind === "empty") return [];
    const key = `${ref.version}/${path}`;
    const bytes = this.memory.nodes.get(key);
    if (bytes === undefined) throw new Error(`dangling ref to ${key}`);
    const node = decodeNode(bytes);
    if (node.kind === "leaf") return [key];
    return [key, ...this.reachable(node.left, depth + 1, path + "0"), ...this.reachable(node.right, depth + 1, path + "1")];
  }
}

function bytes32(first: number, last: number): Hash {
  const hash = new Uint8Array(32);
  hash[0] = first;
  hash[31] = last;
  return hash;
}

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
const valueHashArb = fc.constantFrom(...[1, 2, 3].map((v) => bytes32(v, v)));

type Command = { op: "set"; keyHash: Hash; valueHash: Hash } | { op: "delete"; keyHash: Hash } | { op: "commit" };
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant("set" as const), keyHash: keyHashArb, valueHash: valueHashArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("delete" as const), keyHash: keyHashArb }) },
  { weight: 2, arbitrary: fc.constant({ op: "commit" as const }) },
);

/** The staged writes of one commit as the core takes them: last write wins, sorted by key hash. */
function sortedUpdates(staged: Map<string, Update>): Update[] {
  return [...staged].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, update]) => update);
}

function leavesOfModel(model: Map<string, Leaf>): Leaf[] {
  return [...model.values()];
}

describe("merkle-store tree (pure core)", () => {
  it(`matches a from-scratch root after every commit, with proofs and no node leaks (fast-check seed ${SEED})`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(commandArb, { maxLength: 60 }), fc.array(keyHashArb, { minLength: 4, maxLength: 4 }), async (commands, probes) => {
        const tree = new VersionedTree();
        const model = new Map<string, Leaf>();
        const history: Map<string, Leaf>[] = [new Map()];
        let staged = new Map<string, Update>();
        for (const command of [...commands, { op: "commit" } as const]) {
          if (command.op === "set") staged.set(hex(command.keyHash), { keyHash: command.keyHash, valueHash: command.valueHash });
          else if (command.op === "delete") staged.set(hex(command.keyHash), { keyHash: command.keyHash, valueHash: undefined });
          else {
            await tree.commit(sortedUpdates(staged));
            for (const [id, { keyHash, valueHash }] of staged) {
              if (valueHash === undefined) model.delete(id);
              else model.set(id, { keyHash, valueHash });
            }
            staged = new Map();
            history.push(new Map(model));

            const root = refHash(tree.root);
            expect(hex(root)).toBe(hex(referenceRoot(leavesOfModel(model))));
            // Exactly the nodes written and not yet made stale are reachable: stale lists are
            // complete (no leak) and sound (pruning them never breaks the latest version).
            expect(new Set(tree.reachable())).toEqual(tree.live);
            for (const leaf of model.values()) {
              const proof = await proveKeyHash(tree.memory, tree.root, leaf.keyHash);
              expect(verifyKeyHashProof(root, leaf.keyHash, leaf.valueHash, proof)).toBe(true);
            }
            for (const probe of probes) {
              const proof = await proveKeyHash(tree.memory, tree.root, probe);
              const present = model.get(hex(probe));
              expect(verifyKeyHashProof(root, probe, present?.valueHash, proof)).toBe(true);
              expect(verifyKeyHashProof(root, probe, present === undefined ? bytes32(9, 9) : undefined, proof)).toBe(false);
            }
          }
        }
        // Every earlier version is still provable against its own contents.
        for (const [version, contents] of history.entries()) {
          const root = refHash(tree.roots[version]);
          expect(hex(root)).toBe(hex(referenceRoot(leavesOfModel(contents))));
          for (const probe of probes) {
            const proof = await proveKeyHash(tree.memory, tree.roots[version], probe);
            expect(verifyKeyHashProof(root, probe, contents.get(hex(probe))?.valueHash, proof)).toBe(true);
          }
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it(`gives the same root whatever the insertion order and commit grouping (fast-check seed ${SEED})`, async () => {
    const entriesArb = fc.uniqueArray(fc.record({ keyHash: keyHashArb, valueHash: valueHashArb }), { selector: (e) => hex(e.keyHash), maxLength: 40 });
    await fc.assert(
      fc.asyncProperty(entriesArb.chain((entries) => fc.tuple(fc.constant(entries), fc.shuffledSubarray(entries, { minLength: entries.length }), fc.array(fc.nat(entries.length), { maxLength: 5 }))), async ([entries, shuffled, cuts]) => {
        const tree = new VersionedTree();
        const bounds = [0, ...[...cuts].sort((a, b) => a - b), shuffled.length];
        for (let i = 1; i < bounds.length; i++) {
          const group = new Map(shuffled.slice(bounds[i - 1], bounds[i]).map((e) => [hex(e.keyHash), e] as const));
          await tree.commit(sortedUpdates(group));
        }
        expect(hex(refHash(tree.root))).toBe(hex(referenceRoot(entries)));
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it("roots the empty tree at EMPTY_ROOT and a one-key tree at that key's leaf", async () => {
    const tree = new VersionedTree();
    expect(refHash(tree.root)).toBe(EMPTY_ROOT);
    expect(Buffer.from(EMPTY_ROOT).toString("latin1")).toBe("SPARSE_MERKLE_PLACEHOLDER_HASH__");
    const keyHash = bytes32(0x80, 1);
    const valueHash = bytes32(2, 2);
    await tree.commit([{ keyHash, valueHash }]);
    expect(hex(refHash(tree.root))).toBe(hex(hashLeaf(keyHash, valueHash)));
    await tree.commit([{ keyHash, valueHash: undefined }]);
    expect(refHash(tree.root)).toBe(EMPTY_ROOT);
  });

  it("places two keys that differ only in the last bit 256 levels down, and lifts the survivor to the root on delete", async () => {
    const tree = new VersionedTree();
    const a = { keyHash: bytes32(0, 0), valueHash: bytes32(1, 1) };
    const b = { keyHash: bytes32(0, 1), valueHash: bytes32(2, 2) };
    expect((await tree.commit([a, b])).writes).toBe(256 + 2);
    const proof = await proveKeyHash(tree.memory, tree.root, b.keyHash);
    expect(proof.siblings.length).toBe(256);
    expect(verifyKeyHashProof(refHash(tree.root), b.keyHash, b.valueHash, proof)).toBe(true);
    expect((await tree.commit([{ keyHash: a.keyHash, valueHash: undefined }])).writes).toBe(1);
    expect(hex(refHash(tree.root))).toBe(hex(hashLeaf(b.keyHash, b.valueHash)));
  });

  it("rewrites nothing for writes that change nothing", async () => {
    const tree = new VersionedTree();
    const entries = [0x00, 0x40, 0x80, 0xc0].map((f) => ({ keyHash: bytes32(f, 0), valueHash: bytes32(1, 1) }));
    await tree.commit(entries);
    const before = tree.root;
    const { writes } = await tree.commit([{ keyHash: bytes32(0x20, 0), valueHash: undefined }, entries[1]]);
    expect(writes).toBe(0);
    expect(tree.root).toBe(before);
  });

  it("touches only the updated key's path: one read, one write and one stale node per level", async () => {
    const tree = new VersionedTree();
    // 256 keys whose first bytes are 0..255: a complete tree 8 levels deep.
    await tree.commit(Array.from({ length: 256 }, (_, i) => ({ keyHash: bytes32(i, 0), valueHash: bytes32(1, 1) })));
    // The root as decoded from a root record, with nothing held in memory: every node is read.
    const { kind, version, hash } = tree.root as StoredRef;
    tree.memory.reads = 0;
    const change = await applyUpdates(tree.memory, { kind, version, hash }, [{ keyHash: bytes32(77, 0), valueHash: bytes32(2, 2) }], 2);
    expect(change.writes.length).toBe(9);
    expect(change.stale.length).toBe(9);
    expect(tree.memory.reads).toBe(9);
  });

  it(`keeps the top ${RESIDENT_DEPTH} levels of the latest tree in memory, and reads only below them`, async () => {
    const tree = new VersionedTree();
    // Two keys sharing their first 20 bits: a chain of internal nodes down to depth 20.
    const a = bytes32(0, 0);
    const b = bytes32(0, 0);
    a[2] = 0x01;
    b[2] = 0x02;
    await tree.commit([{ keyHash: a, valueHash: bytes32(1, 1) }, { keyHash: b, valueHash: bytes32(1, 1) }]);
    tree.memory.reads = 0;
    await tree.commit([{ keyHash: a, valueHash: bytes32(2, 2) }]);
    // The internal nodes at depths 16 to 22 and the leaf at 23.
    expect(tree.memory.reads).toBe(23 - RESIDENT_DEPTH + 1);
    tree.memory.reads = 0;
    await tree.commit([{ keyHash: a, valueHash: bytes32(3, 3) }]);
    expect(tree.memory.reads).toBe(23 - RESIDENT_DEPTH + 1);
  });

  it("refuses updates that are not sorted and distinct", async () => {
    const tree = new VersionedTree();
    const a = { keyHash: bytes32(1, 0), valueHash: bytes32(1, 1) };
    const b = { keyHash: bytes32(2, 0), valueHash: bytes32(1, 1) };
    await expect(tree.commit([b, a])).rejects.toThrow(/sorted/);
    await expect(tree.commit([a, a])).rejects.toThrow(/sorted/);
  });
});
