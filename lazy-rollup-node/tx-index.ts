// Per-transaction results by rollup tx hash (sha256 of the tx data, the hash the sequencer reports),
// written in the block's own commit batch, so a block and its results are on disk together or not at
// all. The same bytes can land more than once (anyone may resubmit a signed transfer), so a hash maps
// to every block and index it appeared at.
import type { AbstractSublevel } from "abstract-level";
import type { Db } from "../merkle-store/index.ts";
import { metro } from "../proto/index.ts";
import type { RollupTxResult } from "./execute-block.ts";
import { plainBytes } from "./plain-bytes.ts";
import type { ExtraWrites } from "./rollup-store.ts";
import type { BundleRef, RollupEvent } from "./state-machine.ts";
import { fromLong, toLong } from "./uint64.ts";

const pb = metro.rollup.v1;
type Sublevel = AbstractSublevel<Db, string | Buffer | Uint8Array, Uint8Array, Uint8Array>;
const VIEW = { keyEncoding: "view", valueEncoding: "view" } as const;

/** A transaction's result as stored: the outcome, where it landed, and its bundle if it came in one. */
export interface TxRecord {
  hash: Uint8Array;
  /** Rollup height. */
  height: bigint;
  index: number;
  ok: boolean;
  /** Why it reverted; undefined when ok. */
  reason?: string;
  events: RollupEvent[];
  bundle?: BundleRef;
}

/** height (u64 BE) ‖ index (u32 BE): block order. */
function position(height: bigint, index: number): Uint8Array {
  const key = new Uint8Array(12);
  const view = new DataView(key.buffer);
  view.setBigUint64(0, height);
  view.setUint32(8, index);
  return key;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function encodeRecord(height: bigint, r: RollupTxResult): Uint8Array {
  return pb.TxRecord.encode({
    height: toLong(height),
    index: r.index,
    ok: r.ok,
    reason: r.ok ? "" : r.reason,
    events: r.ok ? r.events.map((e) => ({ type: e.type, attributes: e.attributes })) : [],
    bundle: r.bundle ? { bundleId: r.bundle.bundleId, memberChainIds: r.bundle.memberChainIds } : null,
  }).finish();
}

function decodeRecord(hash: Uint8Array, bytes: Uint8Array): TxRecord {
  const r = pb.TxRecord.decode(bytes);
  return {
    hash,
    height: fromLong(r.height),
    index: r.index ?? 0,
    ok: r.ok === true,
    reason: r.ok ? undefined : (r.reason ?? ""),
    events: (r.events ?? []).map((e) => ({ type: e.type ?? "", attributes: (e.attributes ?? []).map((a) => ({ key: a.key ?? "", value: a.value ?? "" })) })),
    bundle: r.bundle ? { bundleId: plainBytes(r.bundle.bundleId), memberChainIds: r.bundle.memberChainIds ?? [] } : undefined,
  };
}

export class TxIndex {
  /** hash ‖ position → TxRecord */
  readonly #byHash: Sublevel;
  /** position → hash, to find a rolled-back block's records */
  readonly #byPosition: Sublevel;

  constructor(db: Db) {
    this.#byHash = db.sublevel<Uint8Array, Uint8Array>("txs", VIEW) as unknown as Sublevel;
    this.#byPosition = db.sublevel<Uint8Array, Uint8Array>("tx-positions", VIEW) as unknown as Sublevel;
  }

  /** The records of block `height`'s results, for its commit batch. */
  writes(height: bigint, results: readonly RollupTxResult[]): ExtraWrites {
    return (batch) => {
      for (const r of results) {
        const at = position(height, r.index);
        batch.put(concat(r.hash, at), encodeRecord(height, r), { sublevel: this.#byHash });
        batch.put(at, r.hash, { sublevel: this.#byPosition });
      }
    };
  }

  /** Deletions of every record above `height`, for the rollback's batch. */
  async dropAbove(height: bigint): Promise<ExtraWrites> {
    const gt = position(height, 0xffff_ffff);
    const entries = await this.#byPosition.iterator({ gt }).all();
    return (batch) => {
      for (const [at, hash] of entries) {
        batch.del(concat(hash, at), { sublevel: this.#byHash });
        batch.del(at, { sublevel: this.#byPosition });
      }
    };
  }

  /** Every landing of a tx with this hash, in block order (empty when unknown). */
  async lookup(hash: Uint8Array): Promise<TxRecord[]> {
    if (hash.length !== 32) return [];
    const values = await this.#byHash.values({ gte: concat(hash, new Uint8Array(12)), lte: concat(hash, new Uint8Array(12).fill(0xff)) }).all();
    return values.map((bytes) => decodeRecord(hash, bytes));
  }
}
