// The mempool against a model of its rules (fuzzed sequences of admissions and commits): sequence
// gaps, the affordable ready run, future transactions, stale and expired ones, duplicates, and the
// blocks it reaps. Admission resumes the ready run where it last stopped; the model recomputes it
// from scratch every time.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Secp256k1Signer } from "../../sequencer/client/signer.ts";
import { submitRollupTxMsg } from "../../sequencer/client/registry.ts";
import { Mempool } from "../../sequencer/mempool/mempool.ts";
import { DEFAULT_PARAMS, requiredFee } from "../../sequencer/params.ts";
import type { Account } from "../../sequencer/tx/ante.ts";
import { decodeTx } from "../../sequencer/tx/decode.ts";
import { TxError } from "../../sequencer/tx/errors.ts";
import { MSG_SEND } from "../../sequencer/tx/messages.ts";

const SEED = 20261123;
const CHAIN_ID = "metro-mempool-1";
const GAS_LIMIT = 40_000n;
const FEE = requiredFee(DEFAULT_PARAMS, GAS_LIMIT);
const ctx = { chainId: CHAIN_ID, params: DEFAULT_PARAMS };
const signers = [0, 1, 2].map((i) => new Secp256k1Signer(new Uint8Array(32).fill(i + 1)));
const recipient = new Secp256k1Signer(new Uint8Array(32).fill(99)).address;

const txCache = new Map<string, ReturnType<typeof decodeTx>>();
/** A rollup tx (amount 0) or a MsgSend of `amount` to signer `to` (3: an outside account). */
function makeTx(sender: number, sequence: bigint, amount: bigint, to = 3, feeTimes = 1n) {
  const id = `${sender}/${sequence}/${amount}/${to}/${feeTimes}`;
  let tx = txCache.get(id);
  if (!tx) {
    const s = signers[sender];
    const msg =
      amount === 0n
        ? submitRollupTxMsg(s.address, { secondaryChainId: "r", data: Uint8Array.of(1) })
        : { typeUrl: MSG_SEND, value: { fromAddress: s.address, toAddress: to < 3 ? signers[to].address : recipient, amount: [{ denom: "umetro", amount: String(amount) }] } };
    tx = decodeTx(s.sign([msg], { chainId: CHAIN_ID, accountNumber: BigInt(sender), sequence, gasLimit: GAS_LIMIT, fee: FEE * feeTimes }), DEFAULT_PARAMS);
    txCache.set(id, tx);
  }
  return tx;
}

interface ModelEntry {
  hashHex: string;
  cost: bigint;
  amount: bigint;
  to: number;
  gasPrice: number;
  admittedAt: number;
}

class Model {
  readonly accounts: Account[];
  readonly queues = signers.map(() => new Map<bigint, ModelEntry>());
  /** Senders with queued transactions, in the order the mempool first saw them (it evicts in that order on ties). */
  order: number[] = [];
  height = 0;

  constructor(balance: bigint) {
    this.accounts = signers.map((s, i) => ({ address: s.address, accountNumber: BigInt(i), sequence: 0n, balance }));
  }

  get size(): number {
    return this.queues.reduce((n, q) => n + q.size, 0);
  }

  ready(sender: number): bigint[] {
    const account = this.accounts[sender];
    const run: bigint[] = [];
    let spend = 0n;
    for (let seq = account.sequence; ; seq++) {
      const entry = this.queues[sender].get(seq);
      if (!entry || spend + entry.cost > account.balance) return run;
      run.push(seq);
      spend += entry.cost;
    }
  }

  remove(sender: number, seq: bigint): void {
    this.queues[sender].delete(seq);
    if (this.queues[sender].size === 0) this.order = this.order.filter((i) => i !== sender);
  }

  /** The error code admission must give, or the status. */
  admit(sender: number, sequence: bigint, tx: { hashHex: string; fee: bigint; amount: bigint; to: number }, maxFuture: number, maxTxs: number): number | "ready" | "future" {
    const queue = this.queues[sender];
    if (this.queues.some((q) => [...q.values()].some((e) => e.hashHex === tx.hashHex))) return 19;
    const account = this.accounts[sender];
    const ready = this.ready(sender);
    const expected = account.sequence + BigInt(ready.length);
    if (sequence < expected || sequence > expected + BigInt(maxFuture)) return 32;
    if (queue.has(sequence)) return 19;
    const readySpend = ready.reduce((n, seq) => n + queue.get(seq)!.cost, 0n);
    const cost = tx.fee + tx.amount;
    if (account.balance - readySpend < cost) return 5;
    const gasPrice = Number(tx.fee) / Number(GAS_LIMIT);
    while (this.size >= maxTxs) {
      // The cheapest last-in-queue transaction of another sender, the first seen on a tie.
      let victim: [number, bigint, ModelEntry] | undefined;
      for (const i of this.order) {
        if (i === sender) continue;
        const last = [...this.queues[i].keys()].reduce((a, b) => (b > a ? b : a));
        const entry = this.queues[i].get(last)!;
        if (!victim || entry.gasPrice < victim[2].gasPrice) victim = [i, last, entry];
      }
      if (!victim || victim[2].gasPrice >= gasPrice) return 20;
      this.remove(victim[0], victim[1]);
    }
    queue.set(sequence, { hashHex: tx.hashHex, cost, amount: tx.amount, to: tx.to, gasPrice, admittedAt: this.height });
    if (!this.order.includes(sender)) this.order.push(sender);
    return sequence === expected ? "ready" : "future";
  }

  nextSequence(sender: number): bigint {
    let next = this.accounts[sender].sequence;
    while (this.queues[sender].has(next)) next++;
    return next;
  }
}

describe("mempool", () => {
  it("admits, evicts, queues and reaps as the model says, whatever the order of offers and commits (fuzzed)", () => {
    const op = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({
          kind: fc.constant("admit" as const),
          sender: fc.nat(2),
          offset: fc.integer({ min: -1, max: 5 }),
          amount: fc.constantFrom(0n, 0n, 1_500n, 4_000n),
          to: fc.nat(3),
          feeTimes: fc.constantFrom(1n, 1n, 2n, 3n),
          fresh: fc.boolean(),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("commit" as const), take: fc.nat(6) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("tick" as const) }) },
    );
    const outcomes = new Map<string, number>();
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), fc.constantFrom(8_000n, 20_000n, 10n ** 9n), fc.constantFrom(4, 1_000), (ops, balance, maxTxs) => {
        const limits = { maxTxs, maxBytes: 1 << 24, maxFutureSequences: 3, futureTtlBlocks: 2 };
        const mempool = new Mempool(limits);
        const model = new Model(balance);
        for (const o of ops) {
          if (o.kind === "admit") {
            const account = model.accounts[o.sender];
            const sequence = account.sequence + BigInt(o.offset);
            if (sequence < 0n) continue;
            const tx = makeTx(o.sender, sequence, o.amount, o.to, o.feeTimes);
            const want = model.admit(o.sender, sequence, { hashHex: tx.hashHex, fee: tx.fee, amount: o.amount, to: o.to }, limits.maxFutureSequences, maxTxs);
            let got: number | string;
            try {
              // The store hands out the same account object until a commit changes it; a fresh copy must do too.
              got = mempool.admit(tx, tx.hashHex, o.fresh ? { ...account } : account, ctx).status;
            } catch (error) {
              if (!(error instanceof TxError)) throw error;
              got = error.code;
            }
            expect(got).toBe(want);
            outcomes.set(String(got), (outcomes.get(String(got)) ?? 0) + 1);
          } else {
            const reaped = mempool.reap(Number.MAX_SAFE_INTEGER);
            signers.forEach((s, i) => expect(reaped.filter((t) => t.signer === s.address).map((t) => t.sequence)).toEqual(model.ready(i)));
            // Commit a prefix of what was reaped (which keeps each sender's order), or nothing.
            const included = o.kind === "commit" ? reaped.slice(0, o.take) : [];
            const changed = new Map<string, Account>();
            for (const t of included) {
              const i = signers.findIndex((s) => s.address === t.signer);
              const entry = model.queues[i].get(t.sequence)!;
              const before = model.accounts[i];
              model.accounts[i] = { ...before, sequence: before.sequence + 1n, balance: before.balance - entry.cost };
              changed.set(t.signer, model.accounts[i]);
              if (entry.amount > 0n && entry.to < 3) {
                model.accounts[entry.to] = { ...model.accounts[entry.to], balance: model.accounts[entry.to].balance + entry.amount };
                changed.set(signers[entry.to].address, model.accounts[entry.to]);
              }
              model.remove(i, t.sequence);
            }
            model.height++;
            mempool.update(model.height, included.map((t) => t.hashHex), changed);
            model.queues.forEach((queue, i) => {
              for (const seq of [...queue.keys()]) if (seq < model.accounts[i].sequence) model.remove(i, seq);
            });
            model.queues.forEach((queue, i) => {
              const ready = new Set(model.ready(i));
              for (const [seq, entry] of [...queue]) if (model.height - entry.admittedAt > limits.futureTtlBlocks && !ready.has(seq)) model.remove(i, seq);
            });
          }
          signers.forEach((s, i) => expect(mempool.nextSequence(s.address, model.accounts[i])).toBe(model.nextSequence(i)));
          expect(mempool.size).toBe(model.size);
        }
      }),
      { seed: SEED, numRuns: 400 },
    );
    // Every outcome the rules allow was exercised.
    for (const outcome of ["ready", "future", "5", "19", "20", "32"]) expect(outcomes.get(outcome), outcome).toBeGreaterThan(0);
  });

  it("forgets the ready run it knew when a transaction in it is evicted", () => {
    const mempool = new Mempool({ maxTxs: 3, maxBytes: 1 << 24, maxFutureSequences: 8, futureTtlBlocks: 8 });
    const account = (i: number): Account => ({ address: signers[i].address, accountNumber: BigInt(i), sequence: 0n, balance: 10n ** 9n });
    const a = account(0);
    const admit = (tx: ReturnType<typeof makeTx>, acc: Account) => mempool.admit(tx, tx.hashHex, acc, ctx).status;
    expect(admit(makeTx(0, 0n, 0n), a)).toBe("ready");
    expect(admit(makeTx(0, 1n, 0n), a)).toBe("ready");
    // A second offer for sequence 1 is refused, after the run 0..1 has been walked.
    expect(() => admit(makeTx(0, 1n, 1_500n), a)).toThrow(/sequence mismatch, expected 2, got 1/);
    expect(admit(makeTx(1, 0n, 0n), account(1))).toBe("ready");
    // A better-paying newcomer evicts the first sender's tail, sequence 1, which is free again.
    expect(admit(makeTx(2, 0n, 0n, 3, 2n), account(2))).toBe("ready");
    expect(mempool.nextSequence(a.address, a)).toBe(1n);
    expect(admit(makeTx(0, 1n, 0n, 3, 3n), a)).toBe("ready");
  });

  it("extends the ready run when a committed block raises the balance that stopped it", () => {
    const mempool = new Mempool({ maxTxs: 100, maxBytes: 1 << 24, maxFutureSequences: 8, futureTtlBlocks: 8 });
    const account: Account = { address: signers[0].address, accountNumber: 0n, sequence: 0n, balance: 2n * FEE };
    const admit = (tx: ReturnType<typeof makeTx>, acc: Account) => mempool.admit(tx, tx.hashHex, acc, ctx).status;
    expect(admit(makeTx(0, 0n, 0n), account)).toBe("ready");
    // Affordable after the ready run (0) alone, so queued as future...
    expect(admit(makeTx(0, 2n, 0n), account)).toBe("future");
    // ...but once 1 fills the gap, 0..2 cost more than the balance, and the run stops at 2.
    expect(admit(makeTx(0, 1n, 0n), account)).toBe("ready");
    expect(() => admit(makeTx(0, 3n, 0n), account)).toThrow(/spendable balance 0umetro/);
    // A transfer from another sender lands: the same sequence, a higher balance, a new account object.
    const richer: Account = { ...account, balance: 4n * FEE };
    mempool.update(1, [], new Map([[account.address, richer]]));
    expect(admit(makeTx(0, 3n, 0n), richer)).toBe("ready");
    expect(mempool.reap(Number.MAX_SAFE_INTEGER).map((t) => t.sequence)).toEqual([0n, 1n, 2n, 3n]);
  });

  it("evicts the cheapest tail for a better-paying newcomer, and refuses when nothing is cheaper", () => {
    const mempool = new Mempool({ maxTxs: 2, maxBytes: 1 << 24, maxFutureSequences: 8, futureTtlBlocks: 8 });
    const account = (i: number): Account => ({ address: signers[i].address, accountNumber: BigInt(i), sequence: 0n, balance: 10n ** 9n });
    const a = makeTx(0, 0n, 0n);
    const b = makeTx(1, 0n, 0n);
    mempool.admit(a, a.hashHex, account(0), ctx);
    mempool.admit(b, b.hashHex, account(1), ctx);
    const c = makeTx(2, 0n, 0n);
    expect(() => mempool.admit(c, c.hashHex, account(2), ctx)).toThrow(/mempool is full/);
    expect(mempool.size).toBe(2);
  });
});
