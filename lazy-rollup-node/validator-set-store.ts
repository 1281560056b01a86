// The sequencer validator set changes the node has followed, on disk so that a restart (or a crash)
// resumes with the set of the next height: each is written before any block of its height is
// verified. Key: the height it signs from (8 bytes, big-endian); value: the set as CometBFT JSON.
import type { AbstractSublevel } from "abstract-level";
import { validatorFromJson, validatorJson, type ValidatorJson } from "../cometbft/validator-set.ts";
import type { Db } from "../merkle-store/index.ts";
import type { ValidatorSetChange } from "./validator-sets.ts";
import { uint64Key } from "./uint64.ts";

type Sublevel = AbstractSublevel<Db, string | Buffer | Uint8Array, Uint8Array, string>;

export class ValidatorSetStore {
  readonly #changes: Sublevel;

  private constructor(changes: Sublevel) {
    this.#changes = changes;
  }

  static open(db: Db): ValidatorSetStore {
    return new ValidatorSetStore(db.sublevel<Uint8Array, string>("validator-sets", { keyEncoding: "view", valueEncoding: "utf8" }) as unknown as Sublevel);
  }

  /** Every stored change, oldest first. */
  async changes(): Promise<ValidatorSetChange[]> {
    const entries = await this.#changes.iterator().all();
    return entries.map(([key, json]) => ({
      height: Number(new DataView(key.buffer, key.byteOffset, 8).getBigUint64(0)),
      validators: (JSON.parse(json) as ValidatorJson[]).map(validatorFromJson),
    }));
  }

  async delete(height: number): Promise<void> {
    await this.#changes.del(uint64Key(height));
  }

  async put(change: ValidatorSetChange): Promise<void> {
    await this.#changes.put(uint64Key(change.height), JSON.stringify(change.validators.map((v) => validatorJson(v))));
  }
}
