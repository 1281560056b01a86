// The local DA server's disk: headers, block bodies and the head height in LevelDB. A block is
// written in one batch together with the new head, so after a crash (even kill -9) the store holds
// every block it ever confirmed and nothing half-written.
import { Level } from "level";
import Long from "long";
import { metro, type MetroProto } from "../../proto/index.ts";
import type { ExtendedHeaderJson } from "../header.ts";
import type { Blob } from "../blob.ts";

const { StoredBlock } = metro.da.v1;

export interface StoredBlockData {
  height: number;
  squareSize: number;
  blobs: Blob[];
}

export interface LocalDaMeta {
  head: number;
  /** The funded account's balance in utia after the head block's fees. */
  balance: bigint;
}

function heightKey(height: number): Uint8Array {
  const key = new Uint8Array(8);
  new DataView(key.buffer).setBigUint64(0, BigInt(height));
  return key;
}

export class LocalDaStore {
  readonly #db: Level<Uint8Array, Uint8Array>;
  readonly #headers;
  readonly #blocks;
  readonly #meta;

  constructor(path: string) {
    this.#db = new Level<Uint8Array, Uint8Array>(path, { keyEncoding: "view", valueEncoding: "view" });
    this.#headers = this.#db.sublevel<Uint8Array, string>("h", { keyEncoding: "view", valueEncoding: "utf8" });
    this.#blocks = this.#db.sublevel<Uint8Array, Uint8Array>("b", { keyEncoding: "view", valueEncoding: "view" });
    this.#meta = this.#db.sublevel<string, string>("m", { keyEncoding: "utf8", valueEncoding: "utf8" });
  }

  async open(): Promise<void> {
    await this.#db.open();
  }

  async close(): Promise<void> {
    await this.#db.close();
  }

  async meta(): Promise<LocalDaMeta | undefined> {
    const raw = await this.#meta.get("meta");
    if (raw === undefined) return undefined;
    const parsed = JSON.parse(raw) as { head: number; balance: string };
    return { head: parsed.head, balance: BigInt(parsed.balance) };
  }

  async putBlock(header: ExtendedHeaderJson, block: StoredBlockData, meta: LocalDaMeta): Promise<void> {
    const key = heightKey(block.height);
    const body = StoredBlock.encode({
      height: Long.fromNumber(block.height, true),
      squareSize: block.squareSize,
      blobs: block.blobs.map((b) => ({ namespace: b.namespace, data: b.data, shareVersion: b.shareVersion, signer: b.signer ?? new Uint8Array(), commitment: b.commitment, index: b.index })),
    }).finish();
    await this.#db
      .batch()
      .put(key, JSON.stringify(header), { sublevel: this.#headers })
      .put(key, body, { sublevel: this.#blocks })
      .put("meta", JSON.stringify({ head: meta.head, balance: String(meta.balance) }), { sublevel: this.#meta })
      .write();
  }

  async header(height: number): Promise<ExtendedHeaderJson | undefined> {
    const raw = await this.#headers.get(heightKey(height));
    return raw === undefined ? undefined : (JSON.parse(raw) as ExtendedHeaderJson);
  }

  async block(height: number): Promise<StoredBlockData | undefined> {
    const raw = await this.#blocks.get(heightKey(height));
    if (raw === undefined) return undefined;
    const decoded = StoredBlock.decode(raw);
    return {
      height: Number(decoded.height),
      squareSize: decoded.squareSize,
      blobs: (decoded.blobs as MetroProto.da.v1.StoredBlob[]).map((b) => ({
        namespace: b.namespace,
        data: b.data,
        shareVersion: b.shareVersion as 0 | 1,
        signer: b.shareVersion === 1 ? b.signer : undefined,
        commitment: b.commitment,
        index: b.index,
      })),
    };
  }
}
