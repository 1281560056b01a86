// The relayer's progress on disk (LevelDB): the last sequencer height posted, and for each posted
// batch where its blobs are (DA height, namespace, commitment). A batch and the new height are one
// atomic write, so after a crash (kill -9 included) the relayer resumes right after the last batch it
// knows landed. A batch that landed but was not recorded is posted again; readers dedupe.
import Long from "long";
import { Level } from "level";
import { metro } from "../../proto/index.ts";
import { BATCH_KIND, type BatchKind } from "./format.ts";

const pb = metro.relayer.v1;

export interface PostedBlobRecord {
  kind: BatchKind;
  namespace: Uint8Array;
  commitment: Uint8Array;
  daHeight: number;
  part: number;
  parts: number;
}

export interface PostedBatchRecord {
  firstHeight: number;
  lastHeight: number;
  blobs: PostedBlobRecord[];
  postedAtMs: number;
}

interface Meta {
  chainId: string;
  lastPostedHeight: number;
  /** Header time of that block, Unix ms (for lag in seconds after a restart). */
  lastPostedTimeMs: number;
}

function heightKey(height: number): Uint8Array {
  const key = new Uint8Array(8);
  new DataView(key.buffer).setBigUint64(0, BigInt(height));
  return key;
}

const u64 = (n: number) => Long.fromNumber(n, true);

function encodeBatch(b: PostedBatchRecord): Uint8Array {
  return pb.PostedBatch.encode({
    firstHeight: u64(b.firstHeight),
    lastHeight: u64(b.lastHeight),
    postedAtMs: u64(b.postedAtMs),
    blobs: b.blobs.map((blob) => ({ kind: BATCH_KIND[blob.kind], namespace: blob.namespace, commitment: blob.commitment, daHeight: u64(blob.daHeight), part: blob.part, parts: blob.parts })),
  }).finish();
}

function decodeBatch(bytes: Uint8Array): PostedBatchRecord {
  const b = pb.PostedBatch.decode(bytes);
  return {
    firstHeight: Number(b.firstHeight),
    lastHeight: Number(b.lastHeight),
    postedAtMs: Number(b.postedAtMs),
    blobs: b.blobs.map((blob) => ({
      kind: blob.kind === BATCH_KIND.sequencer ? "sequencer" : "rollup",
      namespace: blob.namespace ?? new Uint8Array(),
      commitment: blob.commitment ?? new Uint8Array(),
      daHeight: Number(blob.daHeight),
      part: blob.part ?? 0,
      parts: blob.parts ?? 1,
    })),
  };
}

export class ProgressStore {
  readonly #db: Level<Uint8Array, Uint8Array>;
  readonly #batches;
  readonly #meta;
  #state: Meta;

  private constructor(db: Level<Uint8Array, Uint8Array>, state: Meta) {
    this.#db = db;
    this.#batches = db.sublevel<Uint8Array, Uint8Array>("batches", { keyEncoding: "view", valueEncoding: "view" });
    this.#meta = db.sublevel<string, string>("meta", { keyEncoding: "utf8", valueEncoding: "utf8" });
    this.#state = state;
  }

  /** Opens (or creates) the store of a relayer for `chainId`; refuses one that belongs to another chain. */
  static async open(path: string, chainId: string): Promise<ProgressStore> {
    const db = new Level<Uint8Array, Uint8Array>(path, { keyEncoding: "view", valueEncoding: "view" });
    await db.open();
    const meta = db.sublevel<string, string>("meta", { keyEncoding: "utf8", valueEncoding: "utf8" });
    const raw = await meta.get("progress");
    const state: Meta = raw === undefined ? { chainId, lastPostedHeight: 0, lastPostedTimeMs: 0 } : (JSON.parse(raw) as Meta);
    // A new store is claimed for its chain at once, before anything is posted.
    if (raw === undefined) await meta.put("progress", JSON.stringify(state));
    if (state.chainId !== chainId) {
      await db.close();
      throw new Error(`the relayer store at ${path} belongs to chain ${JSON.stringify(state.chainId)}, not ${JSON.stringify(chainId)}`);
    }
    return new ProgressStore(db, state);
  }

  get lastPostedHeight(): number {
    return this.#state.lastPostedHeight;
  }

  get lastPostedTimeMs(): number {
    return this.#state.lastPostedTimeMs;
  }

  /** Records a batch that landed completely and moves the posted height to its end, in one write. */
  async recordBatch(batch: PostedBatchRecord, lastBlockTimeMs: number): Promise<void> {
    if (batch.firstHeight !== this.#state.lastPostedHeight + 1 || batch.lastHeight < batch.firstHeight) {
      throw new Error(`batch ${batch.firstHeight}..${batch.lastHeight} does not follow the posted height ${this.#state.lastPostedHeight}`);
    }
    const state = { ...this.#state, lastPostedHeight: batch.lastHeight, lastPostedTimeMs: lastBlockTimeMs };
    await this.#db
      .batch()
      .put(heightKey(batch.firstHeight), encodeBatch(batch), { sublevel: this.#batches })
      .put("progress", JSON.stringify(state), { sublevel: this.#meta })
      .write();
    this.#state = state;
  }

  /** The posted batch that holds `height`, if it was posted. */
  async batchContaining(height: number): Promise<PostedBatchRecord | undefined> {
    if (height < 1 || height > this.#state.lastPostedHeight) return undefined;
    const [entry] = await this.#batches.values({ lte: heightKey(height), reverse: true, limit: 1 }).all();
    const batch = entry === undefined ? undefined : decodeBatch(entry);
    return batch && batch.lastHeight >= height ? batch : undefined;
  }

  async close(): Promise<void> {
    await this.#db.close();
  }
}
