// Alarms: what an operator must look at, kept on disk (as the JSON the API serves) so they survive
// restarts. Each is also logged at error level and counted in metro_rollup_alarms_total{kind}.
import type { AbstractSublevel } from "abstract-level";
import type { Db } from "../merkle-store/index.ts";
import { uint64Key } from "./uint64.ts";

type Sublevel = AbstractSublevel<Db, string | Buffer | Uint8Array, Uint8Array, string>;

export type AlarmKind =
  /** The firm data (Celestia) disagreed with a block executed soft: the node rolled back and re-executed. */
  | "soft-firm-mismatch"
  /** Two blocks at one sequencer height, both committed by the validator set. */
  | "equivocation"
  /** A trusted signer signed a header whose state root differs from this node's. Evidence is kept. */
  | "header-conflict";

export interface Alarm {
  id: number;
  kind: AlarmKind;
  /** Unix ms when raised. */
  timeMs: number;
  /** Rollup height concerned, if any. */
  height?: number;
  message: string;
  /** JSON-ready details (hashes as hex). */
  details: Record<string, unknown>;
}

export class AlarmStore {
  readonly #alarms: Sublevel;
  #count: number;

  private constructor(alarms: Sublevel, count: number) {
    this.#alarms = alarms;
    this.#count = count;
  }

  static async open(db: Db): Promise<AlarmStore> {
    const alarms = db.sublevel<Uint8Array, string>("alarms", { keyEncoding: "view", valueEncoding: "utf8" }) as unknown as Sublevel;
    const [last] = await alarms.keys({ reverse: true, limit: 1 }).all();
    return new AlarmStore(alarms, last === undefined ? 0 : Number(new DataView(last.buffer, last.byteOffset, 8).getBigUint64(0)));
  }

  get count(): number {
    return this.#count;
  }

  async raise(kind: AlarmKind, message: string, details: Record<string, unknown>, height?: bigint): Promise<Alarm> {
    const alarm: Alarm = { id: this.#count + 1, kind, timeMs: Date.now(), ...(height === undefined ? {} : { height: Number(height) }), message, details };
    await this.#alarms.put(uint64Key(alarm.id), JSON.stringify(alarm));
    this.#count = alarm.id;
    return alarm;
  }

  /** All alarms, oldest first. */
  async list(): Promise<Alarm[]> {
    return (await this.#alarms.values().all()).map((json) => JSON.parse(json) as Alarm);
  }
}
