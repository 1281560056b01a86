// The sequencer's disk, one LevelDB: the account state (an authenticated merkle-store whose root is
// the app hash), blocks, commits, per-block results, a tx index and an event index for tx_search,
// and C0 receipts. Everything a block changes is written in one batch, so after a crash (kill -9
// included) the node is at the previous block or at this one, never between.
import { Level } from "level";
import Long from "long";
import { MerkleStore, type ExtraOps } from "../../merkle-store/index.ts";
import { merkleRoot } from "../../celestia/merkle.ts";
import { metro, type MetroProto } from "../../proto/index.ts";
import { parseAddress } from "../tx/address.ts";
import type { Account } from "../tx/ante.ts";
import type { Commit } from "../../cometbft/vote.ts";
import { toHexUpper, fromHex } from "../../cometbft/hash.ts";
import { EMPTY_BLOCK_ID, type BlockID } from "../../cometbft/header.ts";
import { decodeBlock, decodeCommit, encodeCommit, type Block } from "../block/block.ts";
import type { TxOutcome } from "../state/execute.ts";
import { toLong } from "../state/results.ts";

const pb = metro.sequencer.v1;
type StoreBatch = Parameters<ExtraOps>[0];

export interface ChainHead {
  height: number;
  /** Block id of the head block (empty at genesis). */
  blockId: BlockID;
  /** Root over the head block's transaction results (the next header's last_results_hash). */
  resultsHash: Uint8Array;
  /** State root after the head block (the next header's app_hash). */
  appHash: Uint8Array;
  timeMs: number;
  nextAccountNumber: bigint;
}

interface HeadJson {
  height: number;
  hash: string;
  partsTotal: number;
  partsHash: string;
  resultsHash: string;
  appHash: string;
  timeMs: number;
  nextAccountNumber: string;
}

export interface CommittedBlock {
  block: Block;
  encoded: Uint8Array;
  blockId: { hash: Uint8Array; partSetHeader: { total: number; hash: Uint8Array } };
}

export interface StoredTxResult {
  gasWanted: bigint;
  gasUsed: bigint;
  events: { type: string; attributes: { key: string; value: string }[] }[];
  rollupTxHashes: Uint8Array[];
}

/** last_results_hash of a block after one with no transactions: the root over nothing. */
const EMPTY_RESULTS_HASH = merkleRoot([]);
const NEXT_ACCOUNT_NUMBER_KEY = new TextEncoder().encode("next_account_number");
const ACCOUNT_PREFIX = new TextEncoder().encode("acc/");
const ACCOUNT_CACHE_LIMIT = 200_000;

function accountKey(address: string): Uint8Array {
  const raw = parseAddress(address);
  const key = new Uint8Array(ACCOUNT_PREFIX.length + raw.length);
  key.set(ACCOUNT_PREFIX);
  key.set(raw, ACCOUNT_PREFIX.length);
  return key;
}

function encodeAccount(a: Account): Uint8Array {
  return pb.AccountState.encode({
    accountNumber: Long.fromString(a.accountNumber.toString(), true),
    sequence: Long.fromString(a.sequence.toString(), true),
    balance: a.balance.toString(),
    pubKey: a.pubKey ?? new Uint8Array(),
  }).finish();
}

function decodeAccount(address: string, bytes: Uint8Array): Account {
  const s = pb.AccountState.decode(bytes);
  return {
    address,
    accountNumber: BigInt(s.accountNumber.toString()),
    sequence: BigInt(s.sequence.toString()),
    balance: BigInt(s.balance),
    pubKey: s.pubKey.length > 0 ? s.pubKey : undefined,
  };
}

function u64(n: number | bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
}

const EMPTY = new Uint8Array();
const VIEW = { keyEncoding: "view", valueEncoding: "view" } as const;
const INDEX_SLAB_BYTES = 64 * 1024;
const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
const utf8 = new TextEncoder();

/**
 * A block's tx-index and event-index entries, written straight into the root database's batch under
 * the two sublevels' prefixes. The batch's `sublevel` option would re-encode and re-prefix each of
 * them (a block of 5,000 rollup transactions has 15,000) and cost about a third of the block's
 * commit. Keys are carved from one buffer per block: LevelDB copies each put into its batch.
 */
class IndexWriter {
  readonly #batch: StoreBatch;
  readonly #txPrefix: Uint8Array;
  readonly #eventPrefix: Uint8Array;
  readonly #height: Long;
  #slab = Buffer.allocUnsafe(0);
  #used = 0;

  constructor(batch: StoreBatch, txPrefix: Uint8Array, eventPrefix: Uint8Array, height: number) {
    this.#batch = batch;
    this.#txPrefix = txPrefix;
    this.#eventPrefix = eventPrefix;
    this.#height = Long.fromNumber(height, true);
  }

  /** hash -> TxLocation{height, index}. */
  tx(hash: Uint8Array, index: number): void {
    const key = this.#take(this.#txPrefix.length + hash.length);
    key.set(this.#txPrefix);
    key.set(hash, this.#txPrefix.length);
    this.#batch.put(key, pb.TxLocation.encode({ height: this.#height, index }).finish(), VIEW);
  }

  /** Event index key: `type.key=value` 0x00 height(8) index(4), empty value. */
  event(compositeKey: string, value: string, index: number): void {
    const prefix = this.#eventPrefix;
    const text = `${compositeKey}=${value}`;
    const key = this.#take(prefix.length + 3 * text.length + 13);
    key.set(prefix);
    const end = prefix.length + key.write(text, prefix.length);
    key[end] = 0;
    key.writeUInt32BE(this.#height.high >>> 0, end + 1);
    key.writeUInt32BE(this.#height.low >>> 0, end + 5);
    key.writeUInt32BE(index, end + 9);
    this.#batch.put(key.subarray(0, end + 13), EMPTY, VIEW);
  }

  #take(length: number): Buffer {
    if (this.#used + length > this.#slab.length) {
      this.#slab = Buffer.allocUnsafe(Math.max(INDEX_SLAB_BYTES, length));
      this.#used = 0;
    }
    const bytes = this.#slab.subarray(this.#used, this.#used + length);
    this.#used += length;
    return bytes;
  }
}

/**
 * Event attributes tx_search can find by default. Indexing every attribute of every transaction
 * costs about a fifth of block throughput; tx.hash and tx.height are always searchable.
 */
export const DEFAULT_INDEXED_EVENTS: readonly string[] = ["message.sender", "transfer.sender", "transfer.recipient", "rollup_tx.hash"];

export function eventPrefix(compositeKey: string, value: string): Uint8Array {
  return concat(utf8.encode(`${compositeKey}=${value}`), Uint8Array.of(0));
}

export class ChainStore {
  readonly db: Level<Uint8Array, Uint8Array>;
  readonly state: MerkleStore;
  readonly #blocks;
  readonly #commits;
  readonly #hashes;
  readonly #results;
  readonly #txs;
  readonly #events;
  readonly #receipts;
  readonly #meta;
  /** The txs and events sublevels' key prefixes in the root database (see IndexWriter). */
  readonly #txsPrefix: Uint8Array;
  readonly #eventsPrefix: Uint8Array;
  /** Event types that some indexed `type.key` may belong to: events of other types are skipped whole. */
  readonly #indexedTypes = new Set<string>();
  readonly #accounts = new Map<string, Account | null>();
  #head: ChainHead | undefined;
  /** `type.key` composite keys the event index holds. */
  readonly indexedEvents: ReadonlySet<string>;

  private constructor(db: Level<Uint8Array, Uint8Array>, state: MerkleStore, head: ChainHead | undefined, indexedEvents: readonly string[]) {
    this.db = db;
    this.state = state;
    this.indexedEvents = new Set(indexedEvents);
    const view = { keyEncoding: "view", valueEncoding: "view" } as const;
    this.#blocks = db.sublevel<Uint8Array, Uint8Array>("blocks", view);
    this.#commits = db.sublevel<Uint8Array, Uint8Array>("commits", view);
    this.#hashes = db.sublevel<Uint8Array, Uint8Array>("hashes", view);
    this.#results = db.sublevel<Uint8Array, Uint8Array>("results", view);
    this.#txs = db.sublevel<Uint8Array, Uint8Array>("txs", view);
    this.#events = db.sublevel<Uint8Array, Uint8Array>("events", view);
    this.#receipts = db.sublevel<Uint8Array, Uint8Array>("receipts", view);
    this.#meta = db.sublevel<string, string>("meta", { keyEncoding: "utf8", valueEncoding: "utf8" });
    this.#txsPrefix = this.#txs.prefixKey(EMPTY, "view");
    this.#eventsPrefix = this.#events.prefixKey(EMPTY, "view");
    // A type may itself hold dots, so every split of a composite key names a candidate type.
    for (const compositeKey of indexedEvents) {
      for (let dot = compositeKey.indexOf("."); dot >= 0; dot = compositeKey.indexOf(".", dot + 1)) this.#indexedTypes.add(compositeKey.slice(0, dot));
    }
    this.#head = head;
  }

  static async open(path: string, indexedEvents: readonly string[] = DEFAULT_INDEXED_EVENTS): Promise<ChainStore> {
    const db = new Level<Uint8Array, Uint8Array>(path, { keyEncoding: "view", valueEncoding: "view" });
    await db.open();
    const state = await MerkleStore.open(db.sublevel<Uint8Array, Uint8Array>("state", { keyEncoding: "view", valueEncoding: "view" }));
    const raw = await db.sublevel<string, string>("meta", { keyEncoding: "utf8", valueEncoding: "utf8" }).get("head");
    const head = raw === undefined ? undefined : headFromJson(JSON.parse(raw) as HeadJson);
    return new ChainStore(db, state, head, indexedEvents);
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  /** The last committed block, or undefined before genesis. */
  get head(): ChainHead | undefined {
    return this.#head;
  }

  /** Writes the genesis accounts as height 0 (the state the first block starts from). */
  async initGenesis(accounts: readonly { address: string; balance: bigint }[], genesisTimeMs: number): Promise<ChainHead> {
    if (this.#head) throw new Error("the store already holds a chain");
    accounts.forEach((a, i) => this.state.set(accountKey(a.address), encodeAccount({ address: a.address, accountNumber: BigInt(i), sequence: 0n, balance: a.balance })));
    const nextAccountNumber = BigInt(accounts.length);
    this.state.set(NEXT_ACCOUNT_NUMBER_KEY, u64(nextAccountNumber));
    let head: ChainHead | undefined;
    await this.state.commit((batch, commit) => {
      head = { height: 0, blockId: EMPTY_BLOCK_ID, resultsHash: EMPTY_RESULTS_HASH, appHash: commit.root, timeMs: genesisTimeMs, nextAccountNumber };
      batch.put("head", JSON.stringify(headToJson(head)), { sublevel: this.#meta });
    });
    this.#head = head;
    return head!;
  }

  async account(address: string): Promise<Account | undefined> {
    const cached = this.#accounts.get(address);
    if (cached !== undefined) return cached ?? undefined;
    let key;
    try {
      key = accountKey(address);
    } catch {
      return undefined;
    }
    const raw = await this.state.get(key);
    const account = raw === undefined ? undefined : decodeAccount(address, raw);
    if (this.#accounts.size >= ACCOUNT_CACHE_LIMIT) this.#accounts.clear();
    this.#accounts.set(address, account ?? null);
    return account;
  }

  /** Loads the given accounts (for synchronous execution of a block). */
  async accounts(addresses: Iterable<string>): Promise<Map<string, Account | undefined>> {
    const result = new Map<string, Account | undefined>();
    for (const address of addresses) if (!result.has(address)) result.set(address, await this.account(address));
    return result;
  }

  async accountProof(address: string) {
    return this.state.prove(accountKey(address));
  }

  /**
   * Commits block `block` (already executed: `outcomes` and `changed`) with its `commit`, in one
   * batch, and moves the head.
   */
  async commitBlock(args: {
    committed: CommittedBlock;
    commit: Commit;
    txHashes: Uint8Array[];
    outcomes: TxOutcome[];
    resultsHash: Uint8Array;
    changed: ReadonlyMap<string, Account>;
    nextAccountNumber: bigint;
    timeMs: number;
  }): Promise<ChainHead> {
    const { committed, commit, txHashes, outcomes, changed, nextAccountNumber } = args;
    const height = Number(committed.block.header.height);
    if (height !== (this.#head?.height ?? 0) + 1) throw new Error(`cannot commit height ${height} on top of ${this.#head?.height ?? 0}`);
    for (const account of changed.values()) this.state.set(accountKey(account.address), encodeAccount(account));
    this.state.set(NEXT_ACCOUNT_NUMBER_KEY, u64(nextAccountNumber));
    const key = u64(height);
    const results = pb.BlockResults.encode({
      txs: outcomes.map((o) => ({
        gasWanted: toLong(o.gasWanted),
        gasUsed: toLong(o.gasUsed),
        events: o.events,
        rollupTxHashes: o.rollupTxHashes,
      })),
    }).finish();
    let head: ChainHead | undefined;
    await this.state.commit((batch, stateCommit) => {
      batch.put(key, committed.encoded, { sublevel: this.#blocks });
      batch.put(key, encodeCommit(commit), { sublevel: this.#commits });
      batch.put(committed.blockId.hash, key, { sublevel: this.#hashes });
      batch.put(key, results, { sublevel: this.#results });
      const index = new IndexWriter(batch, this.#txsPrefix, this.#eventsPrefix, height);
      for (let i = 0; i < txHashes.length; i++) {
        index.tx(txHashes[i], i);
        for (const event of outcomes[i].events) {
          if (!this.#indexedTypes.has(event.type)) continue;
          for (const attribute of event.attributes) {
            const compositeKey = `${event.type}.${attribute.key}`;
            if (this.indexedEvents.has(compositeKey)) index.event(compositeKey, attribute.value, i);
          }
        }
      }
      head = { height, blockId: committed.blockId, resultsHash: args.resultsHash, appHash: stateCommit.root, timeMs: args.timeMs, nextAccountNumber };
      batch.put("head", JSON.stringify(headToJson(head)), { sublevel: this.#meta });
    });
    for (const account of changed.values()) this.#accounts.set(account.address, account);
    this.#head = head;
    return head!;
  }

  async block(height: number): Promise<CommittedBlock | undefined> {
    const encoded = await this.#blocks.get(u64(height));
    if (encoded === undefined) return undefined;
    const block = decodeBlock(encoded);
    const commit = await this.commit(height);
    return { block, encoded, blockId: commit?.blockId ?? { hash: new Uint8Array(), partSetHeader: { total: 0, hash: new Uint8Array() } } };
  }

  async heightOfHash(hash: Uint8Array): Promise<number | undefined> {
    const raw = await this.#hashes.get(hash);
    return raw === undefined ? undefined : Number(new DataView(raw.buffer, raw.byteOffset).getBigUint64(0));
  }

  async commit(height: number): Promise<Commit | undefined> {
    const raw = await this.#commits.get(u64(height));
    return raw === undefined ? undefined : decodeCommit(raw);
  }

  async results(height: number): Promise<StoredTxResult[] | undefined> {
    const raw = await this.#results.get(u64(height));
    if (raw === undefined) return undefined;
    return (pb.BlockResults.decode(raw).txs as MetroProto.sequencer.v1.TxResult[]).map((t) => ({
      gasWanted: BigInt(t.gasWanted.toString()),
      gasUsed: BigInt(t.gasUsed.toString()),
      events: (t.events as MetroProto.sequencer.v1.Event[]).map((e) => ({ type: e.type, attributes: (e.attributes as MetroProto.sequencer.v1.EventAttribute[]).map((a) => ({ key: a.key, value: a.value })) })),
      rollupTxHashes: t.rollupTxHashes,
    }));
  }

  async txLocation(hash: Uint8Array): Promise<{ height: number; index: number } | undefined> {
    const raw = await this.#txs.get(hash);
    if (raw === undefined) return undefined;
    const loc = pb.TxLocation.decode(raw);
    return { height: Number(loc.height), index: loc.index };
  }

  /** Locations of transactions with event attribute `compositeKey` = `value`, in height order. */
  async eventLocations(compositeKey: string, value: string, limit = 10_000): Promise<{ height: number; index: number }[]> {
    const prefix = eventPrefix(compositeKey, value);
    const upper = concat(prefix.subarray(0, -1), Uint8Array.of(1));
    const keys = await this.#events.keys({ gte: prefix, lt: upper, limit }).all();
    return keys.map((k) => {
      const view = new DataView(k.buffer, k.byteOffset + prefix.length);
      return { height: Number(view.getBigUint64(0)), index: view.getUint32(8) };
    });
  }

  /**
   * Every indexed value of event attribute `compositeKey` with its location, in value order, at most
   * `limit` of them (for tx_search conditions other than equality: CONTAINS, EXISTS, ranges).
   */
  async eventEntries(compositeKey: string, limit: number): Promise<{ value: string; height: number; index: number }[]> {
    const prefix = utf8.encode(`${compositeKey}=`);
    // '>' follows '=' in ASCII, so this bounds exactly the keys that start with `compositeKey=`.
    const upper = utf8.encode(`${compositeKey}>`);
    const keys = await this.#events.keys({ gte: prefix, lt: upper, limit }).all();
    const text = new TextDecoder();
    // A key ends with 0x00, height (8 bytes) and index (4 bytes); the value lies between.
    return keys.map((k) => {
      const tail = k.length - 12;
      const view = new DataView(k.buffer, k.byteOffset + tail);
      return { value: text.decode(k.subarray(prefix.length, tail - 1)), height: Number(view.getBigUint64(0)), index: view.getUint32(8) };
    });
  }

  /** Records when transactions were received (their C0 receipts are signed from this on request). */
  async putReceivedTimes(entries: readonly (readonly [txHash: Uint8Array, receivedAtMs: number])[]): Promise<void> {
    await this.#receipts.batch(entries.map(([key, ms]) => ({ type: "put" as const, key, value: u64(ms) })));
  }

  async receivedTime(txHash: Uint8Array): Promise<number | undefined> {
    const raw = await this.#receipts.get(txHash);
    return raw === undefined ? undefined : Number(new DataView(raw.buffer, raw.byteOffset).getBigUint64(0));
  }
}

function headToJson(h: ChainHead): HeadJson {
  return {
    height: h.height,
    hash: toHexUpper(h.blockId.hash),
    partsTotal: h.blockId.partSetHeader.total,
    partsHash: toHexUpper(h.blockId.partSetHeader.hash),
    resultsHash: toHexUpper(h.resultsHash),
    appHash: toHexUpper(h.appHash),
    timeMs: h.timeMs,
    nextAccountNumber: String(h.nextAccountNumber),
  };
}

function headFromJson(j: HeadJson): ChainHead {
  return {
    height: j.height,
    blockId: { hash: fromHex(j.hash), partSetHeader: { total: j.partsTotal, hash: fromHex(j.partsHash) } },
    resultsHash: fromHex(j.resultsHash),
    appHash: fromHex(j.appHash),
    timeMs: j.timeMs,
    nextAccountNumber: BigInt(j.nextAccountNumber),
  };
}
