// The mempool: transactions admitted but not yet in a block, per sender in sequence order.
//
// A sender's queue holds a *ready* run (sequences continuing the committed account's sequence, each
// affordable after the ones before it) and *future* transactions up to `maxFutureSequences` ahead,
// which become ready when the gap before them fills. Blocks take ready transactions in arrival order.
//
// Eviction, when the pool is at its count or byte limit: a newcomer may push out the cheapest (by gas
// price) transaction that is last in its sender's queue, so no queue gets a gap, and only if it pays a
// strictly higher gas price; otherwise it is refused with "mempool is full". Future transactions that
// are still waiting after `futureTtlBlocks` blocks are dropped.
import type { Account, AnteContext } from "../tx/ante.ts";
import { checkGasAndFee, checkTx, spendOf } from "../tx/ante.ts";
import type { DecodedTx } from "../tx/decode.ts";
import { sdkError } from "../tx/errors.ts";

export interface MempoolLimits {
  maxTxs: number;
  maxBytes: number;
  maxFutureSequences: number;
  futureTtlBlocks: number;
}

export const DEFAULT_MEMPOOL_LIMITS: MempoolLimits = { maxTxs: 50_000, maxBytes: 64 * 1024 * 1024, maxFutureSequences: 64, futureTtlBlocks: 50 };

export interface MempoolEntry {
  tx: DecodedTx;
  hashHex: string;
  /** Arrival order, for fair block building. */
  arrival: number;
  /** Height at admission, for the future-transaction TTL. */
  admittedAt: number;
  gasUsed: bigint;
  /** Offered fee per unit of gas, for eviction. */
  gasPrice: number;
}

interface SenderQueue {
  /** The account as of the last committed block. */
  account: Account;
  bySequence: Map<bigint, MempoolEntry>;
  /** The ready run as far as it is known, for `account`; dropped when an entry is removed. */
  ready?: ReadyTotals;
}

interface ReadyTotals {
  account: Account;
  sequence: bigint;
  balance: bigint;
  /** The sequence after the run. */
  next: bigint;
  spend: bigint;
}

export type AdmitResult = { status: "ready" | "future"; entry: MempoolEntry };

export class Mempool {
  readonly limits: MempoolLimits;
  readonly #senders = new Map<string, SenderQueue>();
  readonly #byHash = new Map<string, MempoolEntry>();
  #bytes = 0;
  #arrivals = 0;
  #height = 0;

  constructor(limits: MempoolLimits = DEFAULT_MEMPOOL_LIMITS) {
    this.limits = limits;
  }

  get size(): number {
    return this.#byHash.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  has(hashHex: string): boolean {
    return this.#byHash.has(hashHex);
  }

  get(hashHex: string): MempoolEntry | undefined {
    return this.#byHash.get(hashHex);
  }

  /** The next sequence the sender's next new transaction should carry, counting pending ones. */
  nextSequence(sender: string, committed: Account): bigint {
    const queue = this.#senders.get(sender);
    let next = committed.sequence;
    while (queue?.bySequence.has(next)) next++;
    return next;
  }

  /**
   * Admits `tx` from a sender whose committed account is `account`, or throws a TxError. The
   * signature is verified here, once; `hashHex` is the upper-case hex tx hash.
   */
  admit(tx: DecodedTx, hashHex: string, account: Account | undefined, ctx: AnteContext): AdmitResult {
    if (this.#byHash.has(hashHex)) throw sdkError("txInMempoolCache", "tx already exists in cache");
    const gasUsed = checkGasAndFee(tx, ctx.params);
    if (!account) throw sdkError("unknownAddress", `account ${tx.signer} not found`);

    const queue = this.#senders.get(tx.signer) ?? { account, bySequence: new Map() };
    queue.account = account;
    const { next: expected, spend: readySpend } = this.#readyTotals(queue);
    if (tx.sequence < expected) {
      // A pending transaction already holds this sequence: a replacement is not supported.
      throw sdkError("wrongSequence", `account sequence mismatch, expected ${expected}, got ${tx.sequence}`);
    }
    if (tx.sequence > expected + BigInt(this.limits.maxFutureSequences)) {
      throw sdkError("wrongSequence", `account sequence mismatch, expected ${expected}, got ${tx.sequence} (at most ${this.limits.maxFutureSequences} ahead are queued)`);
    }
    if (queue.bySequence.has(tx.sequence)) throw sdkError("txInMempoolCache", `a transaction with sequence ${tx.sequence} is already queued`);
    // Checked as if every pending transaction before it had been included.
    const view: Account = { ...account, sequence: tx.sequence, balance: account.balance - readySpend };
    checkTx(tx, view, ctx);

    const entry: MempoolEntry = {
      tx,
      hashHex,
      arrival: this.#arrivals++,
      admittedAt: this.#height,
      gasUsed,
      gasPrice: Number(tx.fee) / Number(tx.gasLimit),
    };
    this.#makeRoom(entry);
    queue.bySequence.set(tx.sequence, entry);
    this.#senders.set(tx.signer, queue);
    this.#byHash.set(hashHex, entry);
    this.#bytes += tx.bytes.length;
    return { status: tx.sequence === expected ? "ready" : "future", entry };
  }

  /**
   * Where the sender's ready run ends and what it spends, as #readyRun finds them, but resumed from
   * where the last call stopped: admission only ever appends to a queue, so the run found so far
   * stays ready until an entry is removed or the account changes.
   */
  #readyTotals(queue: SenderQueue): ReadyTotals {
    const account = queue.account;
    let ready = queue.ready;
    if (!ready || ready.account !== account || ready.sequence !== account.sequence || ready.balance !== account.balance) {
      ready = { account, sequence: account.sequence, balance: account.balance, next: account.sequence, spend: 0n };
      queue.ready = ready;
    }
    for (;;) {
      const entry = queue.bySequence.get(ready.next);
      if (!entry) break;
      const cost = entry.tx.fee + spendOf(entry.tx);
      if (ready.spend + cost > ready.balance) break;
      ready.spend += cost;
      ready.next++;
    }
    return ready;
  }

  // The sender's ready run and what it spends in total.
  #readyRun(queue: SenderQueue): { ready: MempoolEntry[]; readySpend: bigint } {
    const ready: MempoolEntry[] = [];
    let readySpend = 0n;
    for (let seq = queue.account.sequence; ; seq++) {
      const entry = queue.bySequence.get(seq);
      if (!entry) break;
      const cost = entry.tx.fee + spendOf(entry.tx);
      if (readySpend + cost > queue.account.balance) break;
      ready.push(entry);
      readySpend += cost;
    }
    return { ready, readySpend };
  }

  #fits(newcomer: MempoolEntry): boolean {
    return this.#byHash.size < this.limits.maxTxs && this.#bytes + newcomer.tx.bytes.length <= this.limits.maxBytes;
  }

  #makeRoom(newcomer: MempoolEntry): void {
    while (!this.#fits(newcomer)) {
      const victim = this.#cheapestTail(newcomer.tx.signer);
      if (!victim || victim.gasPrice >= newcomer.gasPrice) {
        throw sdkError("mempoolIsFull", `mempool is full: ${this.#byHash.size} txs, ${this.#bytes} bytes; offer a higher gas price than ${victim?.gasPrice ?? "the pending transactions"}`);
      }
      this.#remove(victim);
    }
  }

  #cheapestTail(exceptSender: string): MempoolEntry | undefined {
    let cheapest: MempoolEntry | undefined;
    for (const [sender, queue] of this.#senders) {
      if (sender === exceptSender) continue;
      let last: MempoolEntry | undefined;
      for (const entry of queue.bySequence.values()) if (!last || entry.tx.sequence > last.tx.sequence) last = entry;
      if (last && (!cheapest || last.gasPrice < cheapest.gasPrice)) cheapest = last;
    }
    return cheapest;
  }

  #remove(entry: MempoolEntry): void {
    const queue = this.#senders.get(entry.tx.signer);
    if (queue) queue.ready = undefined;
    queue?.bySequence.delete(entry.tx.sequence);
    if (queue && queue.bySequence.size === 0) this.#senders.delete(entry.tx.signer);
    this.#byHash.delete(entry.hashHex);
    this.#bytes -= entry.tx.bytes.length;
  }

  /**
   * Ready transactions for the next block, in arrival order (each sender's in sequence order),
   * within the block's byte budget.
   */
  reap(maxBytes: number, maxTxs = Number.POSITIVE_INFINITY): DecodedTx[] {
    const runs = new Map<string, MempoolEntry[]>();
    const all: MempoolEntry[] = [];
    for (const [sender, queue] of this.#senders) {
      const { ready } = this.#readyRun(queue);
      if (ready.length === 0) continue;
      runs.set(sender, ready);
      all.push(...ready);
    }
    all.sort((a, b) => a.arrival - b.arrival);
    // Each sender keeps the slots its transactions arrived in, filled in sequence order: a gap filled
    // late does not let a higher sequence jump ahead of a lower one.
    const taken = new Map<string, number>();
    const blocked = new Set<string>();
    const picked: DecodedTx[] = [];
    let bytes = 0;
    for (const slot of all) {
      if (picked.length >= maxTxs) break;
      const sender = slot.tx.signer;
      if (blocked.has(sender)) continue;
      const index = taken.get(sender) ?? 0;
      const entry = runs.get(sender)![index];
      if (bytes + entry.tx.bytes.length > maxBytes) {
        blocked.add(sender); // the rest of this sender's run must wait for the next block
        continue;
      }
      taken.set(sender, index + 1);
      picked.push(entry.tx);
      bytes += entry.tx.bytes.length;
    }
    return picked;
  }

  /**
   * After a block commits at `height`: drop what it included and what the new state makes stale
   * (sequences now used), and forget future transactions older than the TTL. `accounts` holds the
   * committed state of every account the block changed.
   */
  update(height: number, includedHashes: Iterable<string>, accounts: ReadonlyMap<string, Account>): void {
    this.#height = height;
    for (const hashHex of includedHashes) {
      const entry = this.#byHash.get(hashHex);
      if (entry) this.#remove(entry);
    }
    for (const [address, account] of accounts) {
      const queue = this.#senders.get(address);
      if (!queue) continue;
      queue.account = account;
      for (const entry of [...queue.bySequence.values()]) if (entry.tx.sequence < account.sequence) this.#remove(entry);
    }
    for (const queue of [...this.#senders.values()]) {
      const expired = [...queue.bySequence.values()].filter((e) => height - e.admittedAt > this.limits.futureTtlBlocks);
      if (expired.length === 0) continue;
      const ready = new Set(this.#readyRun(queue).ready);
      for (const entry of expired) if (!ready.has(entry)) this.#remove(entry);
    }
  }
}
