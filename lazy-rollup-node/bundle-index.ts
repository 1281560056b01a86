// Bundle proofs by bundle id (the sequencer tx hash of the MsgSubmitBundle), built when a block with
// this rollup's bundle members is executed, while the whole sequencer block is at hand, and written
// in that block's commit batch. A rollback drops the proofs of the blocks it undoes.
//
// Every bundle of a block shares the block's header, commit and member rollups' entries (each member
// carries all of its rollup's entries in the block), so those are stored once per block and a bundle
// keeps only its reference: written whole per bundle, a busy block's proofs were its entries many
// times over, and most of a node's CPU went into encoding and writing them.
import type { AbstractSublevel } from "abstract-level";
import type { Db } from "../merkle-store/index.ts";
import { metro } from "../proto/index.ts";
import { decodeBundleProof, encodeBundleProof, type BundleProof } from "./bundle-proof.ts";
import { plainBytes } from "./plain-bytes.ts";
import type { ExtraWrites } from "./rollup-store.ts";
import type { BundleRef } from "./state-machine.ts";
import { uint64Key } from "./uint64.ts";

type Sublevel = AbstractSublevel<Db, string | Buffer | Uint8Array, Uint8Array, Uint8Array>;
const VIEW = { keyEncoding: "view", valueEncoding: "view" } as const;
const pbRef = metro.sequencer.v1.BundleRef;

/** height (u64 BE) ‖ encoded BundleRef. */
function encodeRef(height: bigint, bundle: BundleRef): Uint8Array {
  const ref = pbRef.encode({ bundleId: bundle.bundleId, memberChainIds: bundle.memberChainIds }).finish();
  return uint64Key(height, ref);
}

function decodeRef(bytes: Uint8Array): { height: bigint; bundle: BundleRef } {
  const ref = pbRef.decode(bytes.subarray(8));
  return { height: new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0), bundle: { bundleId: plainBytes(ref.bundleId), memberChainIds: ref.memberChainIds ?? [] } };
}

export class BundleIndex {
  /** height → a BundleProof with the block's header, commit and every member any of its bundles names (an empty bundle) */
  readonly #blocks: Sublevel;
  /** bundle id → height ‖ BundleRef */
  readonly #refs: Sublevel;
  /** bundle id → BundleProof, whole: how nodes before the shared block records stored them, still read */
  readonly #proofs: Sublevel;
  /** height ‖ bundle id → empty, to find a rolled-back block's proofs */
  readonly #byHeight: Sublevel;

  constructor(db: Db) {
    this.#blocks = db.sublevel<Uint8Array, Uint8Array>("bundle-blocks", VIEW) as unknown as Sublevel;
    this.#refs = db.sublevel<Uint8Array, Uint8Array>("bundle-refs", VIEW) as unknown as Sublevel;
    this.#proofs = db.sublevel<Uint8Array, Uint8Array>("bundles", VIEW) as unknown as Sublevel;
    this.#byHeight = db.sublevel<Uint8Array, Uint8Array>("bundle-heights", VIEW) as unknown as Sublevel;
  }

  /** The proofs of block `height`'s bundles (all from that one block), for its commit batch. */
  writes(height: bigint, proofs: readonly BundleProof[]): ExtraWrites {
    return (batch) => {
      if (proofs.length === 0) return;
      const members = new Map<string, BundleProof["members"][number]>();
      for (const proof of proofs) for (const member of proof.members) if (!members.has(member.secondaryChainId)) members.set(member.secondaryChainId, member);
      const { sequencerHeader, commit } = proofs[0];
      const shared = encodeBundleProof({ sequencerHeader, commit, bundle: { bundleId: new Uint8Array(), memberChainIds: [] }, members: [...members.values()] });
      batch.put(uint64Key(height), shared, { sublevel: this.#blocks });
      for (const proof of proofs) {
        batch.put(proof.bundle.bundleId, encodeRef(height, proof.bundle), { sublevel: this.#refs });
        batch.put(uint64Key(height, proof.bundle.bundleId), new Uint8Array(), { sublevel: this.#byHeight });
      }
    };
  }

  /** Deletions of the proofs above `height`, for the rollback's batch. */
  async dropAbove(height: bigint): Promise<ExtraWrites> {
    const keys = await this.#byHeight.keys({ gte: uint64Key(height + 1n) }).all();
    return (batch) => {
      for (const key of keys) {
        batch.del(key.subarray(0, 8), { sublevel: this.#blocks });
        batch.del(key.subarray(8), { sublevel: this.#refs });
        batch.del(key.subarray(8), { sublevel: this.#proofs });
        batch.del(key, { sublevel: this.#byHeight });
      }
    };
  }

  async proof(bundleId: Uint8Array): Promise<BundleProof | undefined> {
    const ref = await this.#refs.get(bundleId);
    if (ref === undefined) {
      const whole = await this.#proofs.get(bundleId);
      return whole === undefined ? undefined : decodeBundleProof(whole);
    }
    const { height, bundle } = decodeRef(ref);
    const shared = await this.#blocks.get(uint64Key(height));
    if (shared === undefined) throw new Error(`bundle ${Buffer.from(bundleId).toString("hex")} names rollup block ${height}, whose bundle record is missing`);
    const block = decodeBundleProof(shared);
    const members = [...new Set(bundle.memberChainIds)].map((id) => block.members.find((m) => m.secondaryChainId === id)!);
    return { ...block, bundle, members };
  }

  async encodedProof(bundleId: Uint8Array): Promise<Uint8Array | undefined> {
    const proof = await this.proof(bundleId);
    return proof === undefined ? undefined : encodeBundleProof(proof);
  }
}
