// Which blocks are firm and where each was confirmed on Celestia, and the DA height the firm
// follower resumes from. A firm record is written in the block's commit batch when the block is
// executed from firm data, or in a batch of its own when it confirms a soft block; the latest record
// is the firm height. The DA cursor is written on its own and only ever names a DA height whose data
// is all applied, so after a crash the follower at worst reads some heights again.
import type { AbstractSublevel } from "abstract-level";
import type { Db } from "../merkle-store/index.ts";
import { metro } from "../proto/index.ts";
import type { DaLocation } from "./header.ts";
import { plainBytes } from "./plain-bytes.ts";
import type { ExtraWrites } from "./rollup-store.ts";
import { fromLong, toLong, uint64Key } from "./uint64.ts";

const pb = metro.rollup.v1;
type Sublevel = AbstractSublevel<Db, string | Buffer | Uint8Array, Uint8Array, Uint8Array>;
const VIEW = { keyEncoding: "view", valueEncoding: "view" } as const;
const DA_CURSOR_KEY = new TextEncoder().encode("da-cursor");

export class FirmStore {
  readonly #firm: Sublevel;
  readonly #meta: Sublevel;
  #height: bigint;
  #daCursor: number;

  private constructor(firm: Sublevel, meta: Sublevel, height: bigint, daCursor: number) {
    this.#firm = firm;
    this.#meta = meta;
    this.#height = height;
    this.#daCursor = daCursor;
  }

  static async open(db: Db): Promise<FirmStore> {
    const firm = db.sublevel<Uint8Array, Uint8Array>("firm", VIEW) as unknown as Sublevel;
    const meta = db.sublevel<Uint8Array, Uint8Array>("firm-meta", VIEW) as unknown as Sublevel;
    const [latest] = await firm.keys({ reverse: true, limit: 1 }).all();
    const cursor = await meta.get(DA_CURSOR_KEY);
    const height = latest === undefined ? 0n : new DataView(latest.buffer, latest.byteOffset, 8).getBigUint64(0);
    return new FirmStore(firm, meta, height, cursor === undefined ? 0 : Number(new DataView(cursor.buffer, cursor.byteOffset, 8).getBigUint64(0)));
  }

  /** The highest firm rollup height (0: nothing is firm yet; the genesis state needs no confirmation). */
  get height(): bigint {
    return this.#height;
  }

  /** The DA height through which everything read has been applied (0: nothing read yet). */
  get daCursor(): number {
    return this.#daCursor;
  }

  async location(height: bigint): Promise<DaLocation | undefined> {
    const bytes = await this.#firm.get(uint64Key(height));
    if (bytes === undefined) return undefined;
    const r = pb.FirmRecord.decode(bytes);
    return { height: fromLong(r.daHeight), commitment: plainBytes(r.daCommitment) };
  }

  /** The record making `height` firm, for the batch that commits it; call `advanced` once it is written. */
  writes(height: bigint, da: DaLocation): ExtraWrites {
    if (height !== this.#height + 1n) throw new RangeError(`block ${height} cannot become firm: the firm height is ${this.#height}`);
    const record = pb.FirmRecord.encode({ daHeight: toLong(da.height), daCommitment: da.commitment }).finish();
    return (batch) => batch.put(uint64Key(height), record, { sublevel: this.#firm });
  }

  advanced(height: bigint): void {
    this.#height = height;
  }

  /** Makes an already executed block firm, in a write of its own. */
  async mark(height: bigint, da: DaLocation): Promise<void> {
    const write = this.writes(height, da);
    const batch = this.#firm.db.batch();
    write(batch as Parameters<ExtraWrites>[0]);
    await batch.write();
    this.advanced(height);
  }

  async saveDaCursor(daHeight: number): Promise<void> {
    if (daHeight === this.#daCursor) return;
    const value = new Uint8Array(8);
    new DataView(value.buffer).setBigUint64(0, BigInt(daHeight));
    await this.#meta.put(DA_CURSOR_KEY, value);
    this.#daCursor = daHeight;
  }
}
