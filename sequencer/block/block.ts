// Sequencer blocks: a CometBFT-style header with Metro's rollup roots, the transactions, and the
// commit for the previous block. Encoding, hashing and the part set a block is gossiped in.
import Long from "long";
import { headerHash, type BlockID, type Header } from "../../cometbft/header.ts";
import { sha256 } from "../../cometbft/hash.ts";
import type { Commit, CommitSig } from "../../cometbft/vote.ts";
import type { Timestamp } from "../../cometbft/time.ts";
import { merkleRoot } from "../../celestia/merkle.ts";
import { metro, type MetroProto } from "../../proto/index.ts";

const pb = metro.sequencer.v1;

export interface SequencerHeader extends Header {
  rollupTxsRoot: Uint8Array;
  rollupIdsRoot: Uint8Array;
}

export interface Block {
  header: SequencerHeader;
  txs: Uint8Array[];
  /** The +2/3 precommits for the previous block; absent at the first height. */
  lastCommit: Commit | undefined;
}

/** CometBFT splits a block into 64 KiB parts for gossip; the block id names their merkle root. */
export const BLOCK_PART_SIZE = 65536;

export function blockHash(header: SequencerHeader): Uint8Array {
  return headerHash(header, [header.rollupTxsRoot, header.rollupIdsRoot]);
}

/** Root over the transactions' hashes, as CometBFT's Txs.Hash. */
export function txsHash(txs: readonly Uint8Array[]): Uint8Array {
  return merkleRoot(txs.map(sha256));
}

export function blockParts(encoded: Uint8Array): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (let offset = 0; offset < encoded.length || parts.length === 0; offset += BLOCK_PART_SIZE) {
    parts.push(encoded.subarray(offset, offset + BLOCK_PART_SIZE));
  }
  return parts;
}

export function blockIdOf(block: Block, encoded: Uint8Array = encodeBlock(block)): BlockID {
  const parts = blockParts(encoded);
  return { hash: blockHash(block.header), partSetHeader: { total: parts.length, hash: merkleRoot(parts) } };
}

const toLong = (v: bigint) => Long.fromString(v.toString(), true);
const toSignedLong = (v: bigint) => Long.fromString(v.toString(), false);
const fromLong = (v: Long | number | null | undefined) => BigInt((v ?? 0).toString());

function timestampToProto(t: Timestamp) {
  return { seconds: toSignedLong(t.seconds), nanos: t.nanos };
}

function timestampFromProto(t: { seconds?: Long | number | null; nanos?: number | null } | null | undefined): Timestamp {
  return { seconds: fromLong(t?.seconds), nanos: t?.nanos ?? 0 };
}

function blockIdToProto(id: BlockID) {
  return { hash: id.hash, partSetHeader: { total: id.partSetHeader.total, hash: id.partSetHeader.hash } };
}

function blockIdFromProto(id: MetroProto.sequencer.v1.BlockID.$Properties | null | undefined): BlockID {
  return { hash: id?.hash ?? new Uint8Array(), partSetHeader: { total: id?.partSetHeader?.total ?? 0, hash: id?.partSetHeader?.hash ?? new Uint8Array() } };
}

export function commitToProto(c: Commit): MetroProto.sequencer.v1.Commit.$Properties {
  return {
    height: toLong(c.height),
    round: c.round,
    blockId: blockIdToProto(c.blockId),
    signatures: c.signatures.map((s) => ({ blockIdFlag: s.blockIdFlag, validatorAddress: s.validatorAddress, timestamp: timestampToProto(s.timestamp), signature: s.signature })),
  };
}

export function commitFromProto(c: MetroProto.sequencer.v1.Commit.$Properties): Commit {
  return {
    height: fromLong(c.height as Long),
    round: c.round ?? 0,
    blockId: blockIdFromProto(c.blockId),
    signatures: (c.signatures ?? []).map(
      (s): CommitSig => ({
        blockIdFlag: (s.blockIdFlag ?? 1) as CommitSig["blockIdFlag"],
        validatorAddress: s.validatorAddress ?? new Uint8Array(),
        timestamp: timestampFromProto(s.timestamp),
        signature: s.signature ?? new Uint8Array(),
      }),
    ),
  };
}

export function encodeCommit(c: Commit): Uint8Array {
  return pb.Commit.encode(commitToProto(c)).finish();
}

export function decodeCommit(bytes: Uint8Array): Commit {
  return commitFromProto(pb.Commit.decode(bytes));
}

export function headerToProto(h: SequencerHeader): MetroProto.sequencer.v1.Header.$Properties {
  return {
    versionBlock: toLong(h.version.block),
    versionApp: toLong(h.version.app),
    chainId: h.chainId,
    height: toLong(h.height),
    time: timestampToProto(h.time),
    lastBlockId: blockIdToProto(h.lastBlockId),
    lastCommitHash: h.lastCommitHash,
    dataHash: h.dataHash,
    validatorsHash: h.validatorsHash,
    nextValidatorsHash: h.nextValidatorsHash,
    consensusHash: h.consensusHash,
    appHash: h.appHash,
    lastResultsHash: h.lastResultsHash,
    evidenceHash: h.evidenceHash,
    proposerAddress: h.proposerAddress,
    rollupTxsRoot: h.rollupTxsRoot,
    rollupIdsRoot: h.rollupIdsRoot,
  };
}

export function headerFromProto(h: MetroProto.sequencer.v1.Header.$Properties): SequencerHeader {
  const bytesOf = (v: Uint8Array | null | undefined) => v ?? new Uint8Array();
  return {
    version: { block: fromLong(h.versionBlock as Long), app: fromLong(h.versionApp as Long) },
    chainId: h.chainId ?? "",
    height: fromLong(h.height as Long),
    time: timestampFromProto(h.time),
    lastBlockId: blockIdFromProto(h.lastBlockId),
    lastCommitHash: bytesOf(h.lastCommitHash),
    dataHash: bytesOf(h.dataHash),
    validatorsHash: bytesOf(h.validatorsHash),
    nextValidatorsHash: bytesOf(h.nextValidatorsHash),
    consensusHash: bytesOf(h.consensusHash),
    appHash: bytesOf(h.appHash),
    lastResultsHash: bytesOf(h.lastResultsHash),
    evidenceHash: bytesOf(h.evidenceHash),
    proposerAddress: bytesOf(h.proposerAddress),
    rollupTxsRoot: bytesOf(h.rollupTxsRoot),
    rollupIdsRoot: bytesOf(h.rollupIdsRoot),
  };
}

export function encodeBlock(b: Block): Uint8Array {
  return pb.Block.encode({
    header: headerToProto(b.header),
    txs: b.txs,
    lastCommit: b.lastCommit ? commitToProto(b.lastCommit) : null,
  }).finish();
}

/** Throws on bytes that are not a block (a peer that lies gets a clear error, not a crash). */
export function decodeBlock(bytes: Uint8Array): Block {
  const decoded = pb.Block.decode(bytes);
  if (!decoded.header) throw new Error("block has no header");
  return {
    header: headerFromProto(decoded.header),
    txs: decoded.txs,
    lastCommit: decoded.lastCommit ? commitFromProto(decoded.lastCommit) : undefined,
  };
}
