// Rollup blocks: numbering follows the sequencer one to one; two independent nodes fed the same
// blocks reach the same roots and headers (fast-check, fixed seed); rollback and re-execution reach
// the same root again; the store reopens where it was.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import fc from "fast-check";
import { deriveHeader, executeRollupBlock, headerHash, initRollup, proveAccount, type RollupHeader, type TokenGenesis } from "../../lazy-rollup-node/index.ts";
import { CHAIN_ID, MACHINE, Node, PREFIX, addressOfKey, entry, testKey } from "./harness.ts";
import { signTokenTransfer } from "../../lazy-rollup-node/index.ts";
import { sha256 } from "../../celestia/sha256.ts";
import { metro } from "../../proto/index.ts";

const SEED = Number(process.env.FC_SEED ?? 20_261_122);
console.log(`lazy-rollup-node execution: fast-check seed ${SEED} (set FC_SEED to replay another)`);

const KEYS = [0, 1, 2, 3, 4].map(testKey);
const ADDRESSES = KEYS.map((key) => addressOfKey(key));
const GENESIS: TokenGenesis = { accounts: ADDRESSES.slice(0, 4).map((address, i) => ({ address, balance: BigInt(100 * (i + 1)) })) };

const transfer = (from: number, to: number, amount: bigint, nonce: bigint) => signTokenTransfer(KEYS[from], { chainId: CHAIN_ID, nonce, to: ADDRESSES[to], amount });

/** A transaction description fast-check generates; `nonceOffset` 0 is the sender's right nonce (as a model tracks it). */
type TxSpec = { kind: "transfer"; from: number; to: number; amount: bigint; nonceOffset: number } | { kind: "garbage"; bytes: Uint8Array } | { kind: "forged"; from: number; to: number };

const txSpec: fc.Arbitrary<TxSpec> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("transfer" as const), from: fc.nat(4), to: fc.nat(4), amount: fc.bigInt(0n, 150n), nonceOffset: fc.constantFrom(0, 0, 0, 1, -1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("garbage" as const), bytes: fc.uint8Array({ minLength: 0, maxLength: 80 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("forged" as const), from: fc.nat(4), to: fc.nat(4) }) },
);

const DA = (height: bigint) => ({ height: 1000n + height, commitment: sha256(new TextEncoder().encode(`blob ${height}`)) });

/**
 * Turns specs into tx bytes, and says which must apply and the balances they leave: a small model of
 * the token rollup (only applied transfers move funds and bump nonces).
 */
function materialize(blocks: TxSpec[][]): { txs: Uint8Array[][]; applies: boolean[][]; balances: bigint[] } {
  const nonces = KEYS.map(() => 0n);
  const balances = [...GENESIS.accounts.map((a) => a.balance), 0n];
  const applies: boolean[][] = [];
  const txs = blocks.map((specs) => {
    const flags: boolean[] = [];
    applies.push(flags);
    return specs.map((spec) => {
      flags.push(false);
      if (spec.kind === "garbage") return spec.bytes;
      if (spec.kind === "forged") {
        const tx = signTokenTransfer(KEYS[(spec.from + 1) % KEYS.length], { chainId: CHAIN_ID, nonce: nonces[spec.from], to: ADDRESSES[spec.to], amount: 1n });
        return tx.map((b, i) => (i === tx.length - 1 ? b ^ 1 : b)); // the signature's last byte
      }
      const nonce = nonces[spec.from] + BigInt(spec.nonceOffset);
      if (nonce < 0n) return transfer(spec.from, spec.to, spec.amount, 99n);
      if (spec.nonceOffset === 0 && spec.amount > 0n && balances[spec.from] >= spec.amount) {
        flags[flags.length - 1] = true;
        nonces[spec.from]++;
        balances[spec.from] -= spec.amount;
        balances[spec.to] += spec.amount;
      }
      return transfer(spec.from, spec.to, spec.amount, nonce);
    });
  });
  return { txs, applies, balances };
}

async function runChain(node: Node, blocks: Uint8Array[][], parent?: RollupHeader): Promise<{ roots: Uint8Array[]; headers: RollupHeader[]; outcomes: string[][] }> {
  const roots: Uint8Array[] = [];
  const headers: RollupHeader[] = parent === undefined ? [] : [parent];
  const outcomes: string[][] = [];
  for (const txs of blocks) {
    const { block, results } = await node.next(txs);
    roots.push(block.stateRoot);
    outcomes.push(results.map((r) => (r.ok ? "ok" : r.reason)));
    headers.push(deriveHeader(CHAIN_ID, block, headers.at(-1), DA(block.height)));
  }
  return { roots, headers: parent === undefined ? headers : headers.slice(1), outcomes };
}

describe("rollup block execution", () => {
  let node: Node;
  beforeEach(async () => {
    node = new Node();
    await node.init(GENESIS);
  });
  afterEach(() => node.dispose());

  it("is deterministic: two independent nodes fed the same blocks reach the same roots and headers", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(txSpec, { maxLength: 12 }), { minLength: 1, maxLength: 6 }), async (specs) => {
        const { txs: blocks, applies, balances } = materialize(specs);
        const a = new Node();
        const b = new Node();
        try {
          await a.init(GENESIS);
          await b.init(GENESIS);
          // b reopens its database half-way, a keeps no cache: neither may change the outcome.
          await a.reopen(0);
          const runA = await runChain(a, blocks);
          const half = Math.floor(blocks.length / 2);
          const first = await runChain(b, blocks.slice(0, half));
          await b.reopen();
          const second = await runChain(b, blocks.slice(half), first.headers.at(-1));
          expect([...first.roots, ...second.roots]).toEqual(runA.roots);
          expect([...first.outcomes, ...second.outcomes]).toEqual(runA.outcomes);
          expect([...first.headers, ...second.headers].map(headerHash)).toEqual(runA.headers.map(headerHash));
          // The model's transfers are exactly the ones that applied, and leave the same balances.
          expect(runA.outcomes.map((block) => block.map((o) => o === "ok"))).toEqual(applies);
          expect((await Promise.all(ADDRESSES.map((address) => proveAccount(a.store, address, PREFIX)))).map((p) => p.balance)).toEqual(balances);
        } finally {
          await a.dispose();
          await b.dispose();
        }
      }),
      { seed: SEED, numRuns: 25 },
    );
  });

  it("numbers rollup blocks from the sequencer start height, one per sequencer block, empty or not", async () => {
    const late = new Node();
    try {
      await late.init(GENESIS, 1000n);
      const empty = await late.next([]);
      expect(empty.block).toMatchObject({ height: 1n, sequencerHeight: 1000n, txCount: 0, txsRoot: sha256(new Uint8Array()) });
      expect(empty.block.stateRoot).toEqual((await late.store.block(0n))!.stateRoot);
      const input = late.input([]);
      await expect(executeRollupBlock(late.store, MACHINE, { ...input, sequencerHeight: 1002n })).rejects.toThrow("rollup block 2 is sequencer block 1001, not 1002");
      await expect(executeRollupBlock(late.store, MACHINE, { ...input, rollupHeight: 3n, sequencerHeight: 1002n })).rejects.toThrow("rollup block 3 does not follow the head at 1");
      await expect(executeRollupBlock(late.store, MACHINE, { ...input, sequencerBlockHash: new Uint8Array(20) })).rejects.toThrow(/32 bytes/);
      expect((await late.next([])).block).toMatchObject({ height: 2n, sequencerHeight: 1001n });
    } finally {
      await late.dispose();
    }
  });

  it("refuses to execute before genesis, and a start height of 0", async () => {
    const fresh = new Node();
    try {
      await fresh.open();
      await expect(executeRollupBlock(fresh.store, MACHINE, { rollupHeight: 1n, sequencerHeight: 1n, sequencerBlockHash: new Uint8Array(32), blockTimeMs: 0, entries: [] })).rejects.toThrow(/no genesis/);
      await expect(initRollup(fresh.store, { chainId: CHAIN_ID, sequencerStartHeight: 0n }, MACHINE, GENESIS)).rejects.toThrow(/at least 1/);
      await expect(initRollup(fresh.store, { chainId: "Not_An_Id", sequencerStartHeight: 1n }, MACHINE, GENESIS)).rejects.toThrow();
    } finally {
      await fresh.dispose();
    }
  });

  it("reopens at its head with the chain it holds", async () => {
    await node.next([transfer(0, 1, 5n, 0n)]);
    const head = node.store.head!;
    const store = await node.reopen();
    expect(store.head).toEqual(head);
    expect(store.chain).toEqual({ chainId: CHAIN_ID, sequencerStartHeight: 1n });
    expect(await proveAccount(store, ADDRESSES[1], PREFIX)).toMatchObject({ balance: 205n });
  });

  describe("rollback", () => {
    it("rolls back to a firm height and re-executes to the same roots, or to new ones", async () => {
      const blocks = [[transfer(0, 1, 10n, 0n)], [transfer(1, 2, 20n, 0n), transfer(0, 4, 1n, 1n)], [transfer(4, 0, 1n, 0n)], []];
      const { roots, headers } = await runChain(node, blocks);
      const firm = node.store.head!.height - 3n; // height 1

      await node.store.rollbackTo(firm);
      expect(node.store.head).toMatchObject({ height: 1n, stateRoot: roots[0] });
      expect(await proveAccount(node.store, ADDRESSES[4], PREFIX)).toMatchObject({ balance: 0n, nonce: 0n }); // created at height 2: gone
      expect(await node.store.block(2n)).toBeUndefined();
      const again = await runChain(node, blocks.slice(1), headers[0]);
      expect(again.roots).toEqual(roots.slice(1));
      expect(again.headers).toEqual(headers.slice(1));

      // The firm data disagreed: height 2 differs this time.
      await node.store.rollbackTo(1n);
      const { block } = await node.next([transfer(1, 3, 1n, 0n)]);
      expect(block.height).toBe(2n);
      expect(block.stateRoot).not.toEqual(roots[1]);
      const fresh = new Node();
      try {
        await fresh.init(GENESIS);
        expect((await runChain(fresh, [blocks[0], [transfer(1, 3, 1n, 0n)]])).roots[1]).toEqual(block.stateRoot);
      } finally {
        await fresh.dispose();
      }
    });

    it("survives a reopen, and rolls back to genesis", async () => {
      const genesisRoot = node.store.head!.stateRoot;
      await runChain(node, [[transfer(0, 4, 10n, 0n)], [transfer(4, 1, 3n, 0n)]]);
      await node.store.rollbackTo(0n);
      const store = await node.reopen();
      expect(store.head).toMatchObject({ height: 0n, stateRoot: genesisRoot });
      expect(await proveAccount(store, ADDRESSES[4], PREFIX)).toMatchObject({ balance: 0n, nonce: 0n });
      expect(await proveAccount(store, ADDRESSES[0], PREFIX)).toMatchObject({ balance: 100n, nonce: 0n });
      expect((await node.next([transfer(0, 4, 10n, 0n)])).block.height).toBe(1n);
    });

    it("a corrupt undo log aborts the rollback with nothing written", async () => {
      await runChain(node, [[transfer(0, 1, 1n, 0n)], [transfer(0, 1, 1n, 1n)]]);
      const head = node.store.head!;
      const undo = node.db.sublevel("rollup").sublevel<Uint8Array, Uint8Array>("undo", { keyEncoding: "view", valueEncoding: "view" });
      const key = new Uint8Array(8);
      key[7] = 2;
      const log = metro.rollup.v1.UndoLog.decode((await undo.get(key))!);
      log.entries[0].previous = Uint8Array.of(0x08, 0x01); // a balance of 1 that never was
      await undo.put(key, metro.rollup.v1.UndoLog.encode(log).finish());
      await expect(node.store.rollbackTo(1n)).rejects.toThrow(/did not restore its state root/);
      expect(node.store.head).toEqual(head);
      const store = await node.reopen();
      expect(store.head).toEqual(head);
      expect((await node.next([transfer(0, 1, 1n, 2n)])).results[0].ok).toBe(true);
    });

    it("refuses heights above the head and below what was pruned", async () => {
      await runChain(node, [[transfer(0, 1, 1n, 0n)], [transfer(0, 1, 1n, 1n)], [transfer(0, 1, 1n, 2n)]]);
      await expect(node.store.rollbackTo(4n)).rejects.toThrow(/the head is at 3/);
      await node.store.prune(2n);
      await expect(node.store.rollbackTo(1n)).rejects.toThrow(/undo log of height 2 was pruned/);
      expect(node.store.head!.height).toBe(3n);
      await node.store.rollbackTo(2n);
      expect(node.store.head!.stateRoot).toEqual((await node.store.block(2n))!.stateRoot);
      await expect(node.store.prove(new Uint8Array(21), 1n)).rejects.toThrow(/pruned/);
    });
  });

  it("a block's commit and a concurrent one cannot interleave", async () => {
    const input = node.input([entry(transfer(0, 1, 1n, 0n))]);
    const results = await Promise.allSettled([executeRollupBlock(node.store, MACHINE, input), executeRollupBlock(node.store, MACHINE, input)]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(node.store.head!.height).toBe(1n);
  });
});
