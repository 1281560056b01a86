// Reading what the relayer posted, trusting nothing but the sequencer's genesis validator set: pure
// functions that decode a blob, join a batch's parts, and verify sequencer blocks (header hash,
// +2/3 commit signatures, the rollup id list against rollup_ids_root) and a rollup's transactions
// (against rollup_txs_root of a verified header, matched by block hash). Rollup nodes use exactly
// these; see README.md for the order to call them in.
//
// Anyone can post to any namespace, so refusals are ordinary: every function throws a
// RelayerFormatError or RelayerVerificationError for a blob that is not what it claims, and a reader
// skips that blob. The same block may arrive more than once (a relayer retry); dedupe by block hash.
import { toHexUpper } from "../../cometbft/hash.ts";
import { merkleLeafHash, merkleRoot, verifyMerkleProof } from "../../celestia/merkle.ts";
import { CommitVerificationError, verifyCommit } from "../../cometbft/verify-commit.ts";
import { ed25519Verify } from "../../cometbft/ed25519.ts";
import { EMPTY_BLOCK_ID } from "../../cometbft/header.ts";
import { validatorAddress, validatorSetHash, type Validator } from "../../cometbft/validator-set.ts";
import { PRECOMMIT, voteSignBytes, type Commit } from "../../cometbft/vote.ts";
import { blockHash, type SequencerHeader } from "../block/block.ts";
import { encodeLeaf, verifyRollupIds } from "../block/rollup-data.ts";
import { decompressBatch } from "./compression.ts";
import { RelayerFormatError, RelayerVerificationError } from "./errors.ts";
import { decodeBlobPart, decodeRollupBatch, decodeSequencerBatch, joinParts, type BlobPart, type RollupBlockTxs, type SequencerBlockMeta } from "./format.ts";

export { RelayerFormatError, RelayerVerificationError };
export type { BlobPart, RollupBlockTxs, SequencerBlockMeta };

/** What a reader trusts: the sequencer's chain id and validator set, from its genesis. */
export interface SequencerChain {
  chainId: string;
  validators: readonly Validator[];
}

/** A sequencer block whose header the validator set signed. */
export interface VerifiedBlock {
  height: number;
  hash: Uint8Array;
  header: SequencerHeader;
  commit: Commit;
  /** Sorted; a rollup not listed has no transactions in this block (proven by rollup_ids_root). */
  rollupIds: string[];
}

/** A rollup's transactions in one verified block. */
export interface VerifiedRollupTxs {
  height: number;
  blockHash: Uint8Array;
  secondaryChainId: string;
  /** Encoded RollupTxEntry messages in block order (decodeEntry reads one). */
  entries: Uint8Array[];
}

export type Batch = { kind: "sequencer"; blocks: SequencerBlockMeta[] } | { kind: "rollup"; records: RollupBlockTxs[] };

/** The largest batch a reader inflates by default: above any submission Celestia accepts, compressed 16x. */
export const DEFAULT_MAX_BATCH_BYTES = 128 * 1024 * 1024;

/** A blob's data -> the batch part it carries. */
export function readBlobPart(data: Uint8Array): BlobPart {
  return decodeBlobPart(data);
}

/** Every part of one batch -> the batch (joined, checked against its hash, decompressed, decoded). */
export function openBatch(parts: readonly BlobPart[], maxBatchBytes: number = DEFAULT_MAX_BATCH_BYTES): Batch {
  const joined = joinParts(parts);
  if (joined.batchSize > maxBatchBytes) throw new RelayerFormatError(`batch of ${joined.batchSize} bytes is over the reader's limit of ${maxBatchBytes}`);
  const raw = decompressBatch(joined.stored, joined.compression, joined.batchSize);
  return joined.kind === "sequencer" ? { kind: "sequencer", blocks: decodeSequencerBatch(raw) } : { kind: "rollup", records: decodeRollupBatch(raw) };
}

function fail(height: bigint, message: string): never {
  throw new RelayerVerificationError(`sequencer block ${height}: ${message}`);
}

/**
 * verifyCommit counts the signatures for the block; this checks the rest, so that no byte of a commit
 * goes unchecked: an absent validator's entry carries nothing, and a nil vote is that validator's
 * signature for no block.
 */
function checkUncountedSignatures(chain: SequencerChain, commit: Commit): void {
  commit.signatures.forEach((sig, i) => {
    if (sig.blockIdFlag === 2) return;
    if (sig.blockIdFlag === 1) {
      if (sig.validatorAddress.length > 0 || sig.signature.length > 0 || sig.timestamp.seconds !== 0n || sig.timestamp.nanos !== 0) fail(commit.height, `absent signature ${i} carries data`);
      return;
    }
    if (sig.blockIdFlag !== 3) fail(commit.height, `signature ${i} has block_id_flag ${sig.blockIdFlag}`);
    const validator = chain.validators[i];
    if (!validator || Buffer.compare(sig.validatorAddress, validatorAddress(validator.pubKey)) !== 0) fail(commit.height, `nil vote ${i} is not from the validator at that position`);
    const bytes = voteSignBytes({ chainId: chain.chainId, type: PRECOMMIT, height: commit.height, round: commit.round, blockId: EMPTY_BLOCK_ID, timestamp: sig.timestamp });
    if (!ed25519Verify(validator.pubKey, bytes, sig.signature)) fail(commit.height, `nil vote ${i} has an invalid signature`);
  });
}

/** Checks one block's metadata against the chain: the commit signs this header, and the id list is the header's. */
export function verifySequencerBlock(meta: SequencerBlockMeta, chain: SequencerChain): VerifiedBlock {
  const { header, commit, rollupIds } = meta;
  if (header.chainId !== chain.chainId) fail(header.height, `chain id ${JSON.stringify(header.chainId)}, expected ${JSON.stringify(chain.chainId)}`);
  if (header.height < 1n || header.height > BigInt(Number.MAX_SAFE_INTEGER)) fail(header.height, "height out of range");
  if (Buffer.compare(header.validatorsHash, validatorSetHash(chain.validators)) !== 0) fail(header.height, "validators_hash is not the trusted validator set's");
  const hash = blockHash(header);
  if (Buffer.compare(commit.blockId.hash, hash) !== 0) fail(header.height, `commit is for block ${toHexUpper(commit.blockId.hash)}, the header hashes to ${toHexUpper(hash)}`);
  checkUncountedSignatures(chain, commit);
  try {
    verifyCommit(chain.chainId, chain.validators, header.height, commit.blockId, commit);
  } catch (error) {
    if (error instanceof CommitVerificationError) fail(header.height, error.message);
    throw error;
  }
  if (!verifyRollupIds(header.rollupIdsRoot, rollupIds)) fail(header.height, "the rollup id list does not match rollup_ids_root (or is not sorted)");
  return { height: Number(header.height), hash, header, commit, rollupIds };
}

export function verifySequencerBatch(blocks: readonly SequencerBlockMeta[], chain: SequencerChain): VerifiedBlock[] {
  return blocks.map((meta) => verifySequencerBlock(meta, chain));
}

function indexOfSorted(ids: readonly string[], id: string): number {
  let lo = 0;
  let hi = ids.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (ids[mid] === id) return mid;
    if (ids[mid] < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Checks one rollup record against its (verified) block: these are exactly the rollup's entries in it. */
export function verifyRollupTxs(record: RollupBlockTxs, block: VerifiedBlock): VerifiedRollupTxs {
  const where = `rollup ${JSON.stringify(record.secondaryChainId)} in sequencer block ${block.height}`;
  if (Buffer.compare(record.blockHash, block.hash) !== 0) throw new RelayerVerificationError(`${where}: the record names block ${toHexUpper(record.blockHash)}`);
  const index = indexOfSorted(block.rollupIds, record.secondaryChainId);
  if (index < 0) throw new RelayerVerificationError(`${where}: the block has no transactions for this rollup`);
  const leaf = encodeLeaf(record.secondaryChainId, merkleRoot(record.entries), record.entries.length);
  const proof = { total: block.rollupIds.length, index, leafHash: merkleLeafHash(leaf), aunts: record.aunts };
  if (!verifyMerkleProof(block.header.rollupTxsRoot, proof, leaf)) throw new RelayerVerificationError(`${where}: the entries do not prove against rollup_txs_root`);
  return { height: block.height, blockHash: block.hash, secondaryChainId: record.secondaryChainId, entries: record.entries };
}

/**
 * Checks rollup records against verified blocks found by hash. Records whose block is not known
 * (yet) come back unmatched, for the caller to retry once it has read more sequencer blobs.
 */
export function verifyRollupBatch(
  records: readonly RollupBlockTxs[],
  blockByHash: (hash: Uint8Array) => VerifiedBlock | undefined,
): { verified: VerifiedRollupTxs[]; unmatched: RollupBlockTxs[] } {
  const verified: VerifiedRollupTxs[] = [];
  const unmatched: RollupBlockTxs[] = [];
  for (const record of records) {
    const block = blockByHash(record.blockHash);
    if (block) verified.push(verifyRollupTxs(record, block));
    else unmatched.push(record);
  }
  return { verified, unmatched };
}

/**
 * A rollup's transactions in a verified block: none when the block's id list leaves the rollup out
 * (that is proven), the verified entries when they were found, undefined while they are still missing.
 */
export function rollupTxsInBlock(block: VerifiedBlock, secondaryChainId: string, found: VerifiedRollupTxs | undefined): Uint8Array[] | undefined {
  if (indexOfSorted(block.rollupIds, secondaryChainId) < 0) return [];
  return found?.entries;
}

/** A single-part sequencer blob -> its verified blocks (the common case: a batch fits one blob). */
export function readSequencerBlob(data: Uint8Array, chain: SequencerChain): VerifiedBlock[] {
  const batch = openBatch([readBlobPart(data)]);
  if (batch.kind !== "sequencer") throw new RelayerFormatError("a rollup batch where a sequencer batch was expected");
  return verifySequencerBatch(batch.blocks, chain);
}

/** A single-part rollup blob -> its records, verified where their block is known. */
export function readRollupBlob(data: Uint8Array, blockByHash: (hash: Uint8Array) => VerifiedBlock | undefined): ReturnType<typeof verifyRollupBatch> {
  const batch = openBatch([readBlobPart(data)]);
  if (batch.kind !== "rollup") throw new RelayerFormatError("a sequencer batch where a rollup batch was expected");
  return verifyRollupBatch(batch.records, blockByHash);
}

/**
 * Collects the parts of batches too large for one blob, which may arrive over several DA heights,
 * until each batch is complete. Holds at most `maxPendingBatches` incomplete batches (the oldest is
 * dropped first), so parts nobody completes cannot grow a reader's memory.
 */
export class PartCollector {
  readonly #pending = new Map<string, Map<number, BlobPart>>();
  readonly #maxPendingBatches: number;
  readonly #maxBatchBytes: number;

  constructor(o: { maxPendingBatches?: number; maxBatchBytes?: number } = {}) {
    this.#maxPendingBatches = o.maxPendingBatches ?? 64;
    this.#maxBatchBytes = o.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
  }

  /** Adds a part; returns all parts of its batch when this one completes it. */
  add(part: BlobPart): BlobPart[] | undefined {
    if (part.parts === 1) return [part];
    if (part.batchSize > this.#maxBatchBytes) throw new RelayerFormatError(`batch of ${part.batchSize} bytes is over the reader's limit of ${this.#maxBatchBytes}`);
    const key = `${part.kind}:${toHexUpper(part.batchHash)}`;
    let parts = this.#pending.get(key);
    if (!parts) {
      if (this.#pending.size >= this.#maxPendingBatches) this.#pending.delete(this.#pending.keys().next().value!);
      this.#pending.set(key, (parts = new Map()));
    }
    parts.set(part.part, part);
    if (parts.size < part.parts) return undefined;
    this.#pending.delete(key);
    return [...parts.values()];
  }
}
