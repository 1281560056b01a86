// Light-client check of a commit: more than 2/3 of the validator set's voting power signed
// precommits for exactly this block at this height. What rollup nodes, relayer readers and light
// clients run instead of trusting an RPC.
import { ed25519Verify } from "./ed25519.ts";
import { toHexUpper } from "./hash.ts";
import type { BlockID } from "./header.ts";
import { validatorAddress, type Validator } from "./validator-set.ts";
import { voteSignBytes, PRECOMMIT, type Commit } from "./vote.ts";

export class CommitVerificationError extends Error {
  override name = "CommitVerificationError";
}

function sameBlockId(a: BlockID, b: BlockID): boolean {
  return (
    Buffer.compare(a.hash, b.hash) === 0 &&
    a.partSetHeader.total === b.partSetHeader.total &&
    Buffer.compare(a.partSetHeader.hash, b.partSetHeader.hash) === 0
  );
}

/**
 * Throws CommitVerificationError unless `commit` carries valid precommit signatures for `blockId` at
 * `height` from validators holding more than 2/3 of `validators`' voting power. Signatures are
 * matched to validators by position, as CometBFT orders them.
 */
export function verifyCommit(chainId: string, validators: readonly Validator[], height: bigint, blockId: BlockID, commit: Commit): void {
  if (commit.height !== height) throw new CommitVerificationError(`commit is for height ${commit.height}, expected ${height}`);
  if (!sameBlockId(commit.blockId, blockId)) throw new CommitVerificationError(`commit is for block ${toHexUpper(commit.blockId.hash)}, expected ${toHexUpper(blockId.hash)}`);
  if (commit.signatures.length !== validators.length) {
    throw new CommitVerificationError(`commit has ${commit.signatures.length} signatures for ${validators.length} validators`);
  }
  const total = validators.reduce((sum, v) => sum + v.votingPower, 0n);
  let signed = 0n;
  commit.signatures.forEach((sig, i) => {
    if (sig.blockIdFlag !== 2) return; // absent or nil: counts for nothing
    const validator = validators[i];
    if (Buffer.compare(sig.validatorAddress, validatorAddress(validator.pubKey)) !== 0) {
      throw new CommitVerificationError(`signature ${i} names validator ${toHexUpper(sig.validatorAddress)}, not the validator at that position`);
    }
    const bytes = voteSignBytes({ chainId, type: PRECOMMIT, height, round: commit.round, blockId, timestamp: sig.timestamp });
    if (!ed25519Verify(validator.pubKey, bytes, sig.signature)) throw new CommitVerificationError(`invalid signature from validator ${i} (${toHexUpper(sig.validatorAddress)})`);
    signed += validator.votingPower;
  });
  if (signed * 3n <= total * 2n) throw new CommitVerificationError(`only ${signed} of ${total} voting power signed; more than 2/3 is needed`);
}
