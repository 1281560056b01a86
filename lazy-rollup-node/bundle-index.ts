// Bundle proofs by bundle id (the sequencer tx hash of the MsgSubmitBundle), built when a block with
// this rollup's bundle members is executed, while the whole sequencer block is at hand, and written
// in that block's commit batch. A rollback drops the proofs of the blocks it undoes.
import type { AbstractSublevel } from "abstract-level";
import type { Db } from "../merkle-store/index.ts";
import { decodeBundleProof, encodeBundleProof, type BundleProof } from "./bundle-proof.ts";
import type { ExtraWrites } from "./rollup-store.ts";

type Sublevel = AbstractSublevel<Db, string | Buffer | Uint8Array, Uint8Array, Uint8Array>;
const VIEW = { keyEncoding: "view", valueEncoding: "view" } as const;

function heightKey(height: bigint, bundleId: Uint8Array = new Uint8Array()): Uint8Array {
  const key = new Uint8Array(8 + bundleId.length);
  new DataView(key.buffer).setBigUint64(0, height);
  key.set(bundleId, 8);
  return key;
}

export class BundleIndex {
  readonly #proofs: Sublevel;
  /** height ‖ bundle id → empty, to find a rolled-back block's proofs */
  readonly #byHeight: Sublevel;

  constructor(db: Db) {
    this.#proofs = db.sublevel<Uint8Array, Uint8Array>("bundles", VIEW) as unknown as Sublevel;
    this.#byHeight = db.sublevel<Uint8Array, Uint8Array>("bundle-heights", VIEW) as unknown as Sublevel;
  }

  /** The proofs of block `height`'s bundles, for its commit batch. */
  writes(height: bigint, proofs: readonly BundleProof[]): ExtraWrites {
    return (batch) => {
      for (const proof of proofs) {
        batch.put(proof.bundle.bundleId, encodeBundleProof(proof), { sublevel: this.#proofs });
        batch.put(heightKey(height, proof.bundle.bundleId), new Uint8Array(), { sublevel: this.#byHeight });
      }
    };
  }

  /** Deletions of the proofs above `height`, for the rollback's batch. */
  async dropAbove(height: bigint): Promise<ExtraWrites> {
    const keys = await this.#byHeight.keys({ gte: heightKey(height + 1n) }).all();
    return (batch) => {
      for (const key of keys) {
        batch.del(key.subarray(8), { sublevel: this.#proofs });
        batch.del(key, { sublevel: this.#byHeight });
      }
    };
  }

  async proof(bundleId: Uint8Array): Promise<BundleProof | undefined> {
    const bytes = await this.#proofs.get(bundleId);
    return bytes === undefined ? undefined : decodeBundleProof(bytes);
  }

  async encodedProof(bundleId: Uint8Array): Promise<Uint8Array | undefined> {
    return this.#proofs.get(bundleId);
  }
}
