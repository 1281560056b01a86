// Atomic bundles across rollups: proof that every member of a bundle landed in one sequencer block.
// It carries the block's header and commit, so anyone holding the sequencer's validator set of that
// block's height can check it without trusting whoever sent it, and for each member rollup that rollup's complete
// entries in the block with the proof of its leaf against the header's rollup_txs_root.
import type { Commit } from "../cometbft/vote.ts";
import { validatorSetHash } from "../cometbft/validator-set.ts";
import { CommitVerificationError, verifyCommit } from "../cometbft/verify-commit.ts";
import { metro } from "../proto/index.ts";
import { blockHash, commitFromProto, commitToProto, headerFromProto, headerToProto, type SequencerHeader } from "../sequencer/block/block.ts";
import { decodeEntry, proveRollupTxs, verifyRollupTxs, type BlockRollupData, type RollupTxsProof } from "../sequencer/block/rollup-data.ts";
import { plainBytes } from "./plain-bytes.ts";
import type { BundleRef } from "./state-machine.ts";
import type { ValidatorSetLookup } from "./validator-sets.ts";

const pb = metro.rollup.v1;

export interface BundleProof {
  sequencerHeader: SequencerHeader;
  /** The +2/3 precommits for that block (its own commit). */
  commit: Commit;
  bundle: BundleRef;
  /** One per distinct member chain id, in the order they first appear in bundle.memberChainIds. */
  members: RollupTxsProof[];
}

/** A sequencer block as the node holds it on the soft path. */
export interface CommittedSequencerBlock {
  header: SequencerHeader;
  /** The block's own commit. */
  commit: Commit;
  /** collectRollupData over the block's transactions (as the relayer's sourceBlock does). */
  rollupData: BlockRollupData;
}

export class BundleProofError extends Error {
  override name = "BundleProofError";
}

function distinct(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

/** The proof for `bundle` (an entry's BundleRef) from the block it landed in. */
export function proveBundle(block: CommittedSequencerBlock, bundle: BundleRef): BundleProof {
  if (!sameBytes(block.rollupData.rollupTxsRoot, block.header.rollupTxsRoot)) {
    throw new BundleProofError(`the rollup data is not that of sequencer block ${block.header.height}`);
  }
  const members = distinct(bundle.memberChainIds).map((id) => {
    const member = proveRollupTxs(block.rollupData, id);
    if (member === undefined) throw new BundleProofError(`sequencer block ${block.header.height} has no transactions for bundle member ${id}`);
    return member;
  });
  return { sequencerHeader: block.header, commit: block.commit, bundle, members };
}

/** How many of `entries` belong to the bundle; throws if one names the bundle with another member list. */
function bundleEntryCount(entries: readonly Uint8Array[], bundle: BundleRef, chainId: string): number {
  let count = 0;
  for (const bytes of entries) {
    let entry;
    try {
      entry = decodeEntry(bytes);
    } catch {
      continue; // not an entry of any bundle
    }
    if (entry.bundle === undefined || !sameBytes(entry.bundle.bundleId, bundle.bundleId)) continue;
    const members = entry.bundle.memberChainIds;
    if (members.length !== bundle.memberChainIds.length || members.some((id, i) => id !== bundle.memberChainIds[i])) {
      throw new BundleProofError(`an entry of ${chainId} names the bundle with members [${members.join(", ")}]`);
    }
    count++;
  }
  return count;
}

/**
 * Throws BundleProofError unless the proof shows that every member of `proof.bundle` is in one block
 * of sequencer chain `chainId`, committed by +2/3 of the validator set of that block's height, as
 * `validatorSets` gives it (the sets change over heights: node.validatorSets tracks them).
 */
export function verifyBundleProof(proof: BundleProof, chainId: string, validatorSets: ValidatorSetLookup): void {
  const { sequencerHeader: header, commit, bundle, members } = proof;
  if (header.chainId !== chainId) throw new BundleProofError(`the header is of chain ${JSON.stringify(header.chainId)}, not ${JSON.stringify(chainId)}`);
  const validators = validatorSets.at(Number(header.height));
  if (validators === undefined) throw new BundleProofError(`the validator set of sequencer height ${header.height} is not known`);
  if (!sameBytes(header.validatorsHash, validatorSetHash(validators))) throw new BundleProofError(`the header's validators_hash is not that of the validator set of height ${header.height}`);
  try {
    // The commit signs the block id: the header hash and the part set header, which only the commit carries.
    verifyCommit(chainId, validators, header.height, { hash: blockHash(header), partSetHeader: commit.blockId.partSetHeader }, commit);
  } catch (error) {
    if (error instanceof CommitVerificationError) throw new BundleProofError(`commit: ${error.message}`);
    throw error;
  }
  const expected = distinct(bundle.memberChainIds);
  if (expected.length === 0) throw new BundleProofError("the bundle names no members");
  if (members.length !== expected.length || members.some((m, i) => m.secondaryChainId !== expected[i])) {
    throw new BundleProofError(`the proof covers [${members.map((m) => m.secondaryChainId).join(", ")}], the bundle's members are [${expected.join(", ")}]`);
  }
  for (const member of members) {
    const id = member.secondaryChainId;
    if (!verifyRollupTxs(header.rollupTxsRoot, member)) throw new BundleProofError(`the entries of ${id} do not match the block's rollup_txs_root`);
    const wanted = bundle.memberChainIds.filter((m) => m === id).length;
    const found = bundleEntryCount(member.entries, bundle, id);
    if (found !== wanted) throw new BundleProofError(`${id} has ${found} of the bundle's entries in the block, the bundle has ${wanted}`);
  }
}

export function encodeBundleProof(p: BundleProof): Uint8Array {
  return pb.BundleProof.encode({
    sequencerHeader: headerToProto(p.sequencerHeader),
    commit: commitToProto(p.commit),
    bundle: { bundleId: p.bundle.bundleId, memberChainIds: p.bundle.memberChainIds },
    members: p.members.map((m) => ({ secondaryChainId: m.secondaryChainId, entries: m.entries, leafProof: m.leafProof })),
  }).finish();
}

/** Throws on bytes that are not a bundle proof; whether it proves anything is verifyBundleProof's to say. */
export function decodeBundleProof(bytes: Uint8Array): BundleProof {
  const p = pb.BundleProof.decode(bytes);
  if (!p.sequencerHeader || !p.commit || !p.bundle) throw new BundleProofError("bundle proof without its header, commit or bundle");
  return {
    sequencerHeader: headerFromProto(p.sequencerHeader),
    commit: commitFromProto(p.commit),
    bundle: { bundleId: plainBytes(p.bundle.bundleId), memberChainIds: p.bundle.memberChainIds ?? [] },
    members: (p.members ?? []).map((m) => ({
      secondaryChainId: m.secondaryChainId ?? "",
      entries: (m.entries ?? []).map(plainBytes),
      leafProof: { total: m.leafProof?.total ?? 0, index: m.leafProof?.index ?? 0, leafHash: plainBytes(m.leafProof?.leafHash), aunts: (m.leafProof?.aunts ?? []).map(plainBytes) },
    })),
  };
}
