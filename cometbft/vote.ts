// What a CometBFT validator signs for a vote, and the commit (the +2/3 precommits) in JSON.
import type { BlockID } from "cosmjs-types/tendermint/types/types";
import Long from "long";
import { CommitSig as CometCommitSig } from "cosmjs-types/tendermint/types/types";
import { merkleRoot } from "../celestia/merkle.ts";
import { tendermint } from "../proto/index.ts";
import { formatRfc3339Nano, parseRfc3339, type Timestamp } from "./time.ts";
import { blockIdJson, type BlockIdJson } from "./header.ts";
import { fromBase64, fromHex, toBase64, toHexUpper } from "./hash.ts";

export const PREVOTE = 1;
export const PRECOMMIT = 2;
export const PROPOSAL = 32;

const { CanonicalVote } = tendermint.types;

const long = (v: bigint) => Long.fromString(v.toString());

export interface VoteToSign {
  chainId: string;
  type: typeof PREVOTE | typeof PRECOMMIT;
  height: bigint;
  round: number;
  /** A nil vote (no block) has an empty hash. */
  blockId: BlockID;
  timestamp: Timestamp;
}

/** Length-delimited CanonicalVote, exactly CometBFT's VoteSignBytes. */
export function voteSignBytes(v: VoteToSign): Uint8Array {
  const isNil = v.blockId.hash.length === 0;
  const message = CanonicalVote.create({
    type: v.type,
    height: long(v.height),
    round: long(BigInt(v.round)),
    blockId: isNil ? null : { hash: v.blockId.hash, partSetHeader: { total: v.blockId.partSetHeader.total, hash: v.blockId.partSetHeader.hash } },
    timestamp: { seconds: long(v.timestamp.seconds), nanos: v.timestamp.nanos },
    chainId: v.chainId,
  });
  return CanonicalVote.encodeDelimited(message).finish();
}

/** block_id_flag: 1 absent, 2 commit, 3 nil. */
export interface CommitSig {
  blockIdFlag: 1 | 2 | 3;
  validatorAddress: Uint8Array;
  timestamp: Timestamp;
  signature: Uint8Array;
}

export interface Commit {
  height: bigint;
  round: number;
  blockId: BlockID;
  signatures: CommitSig[];
}

export interface CommitJson {
  height: string;
  round: number;
  block_id: BlockIdJson;
  signatures: { block_id_flag: number; validator_address: string; timestamp: string; signature: string | null }[];
}

export function commitJson(c: Commit): CommitJson {
  return {
    height: String(c.height),
    round: c.round,
    block_id: blockIdJson(c.blockId),
    signatures: c.signatures.map((s) => ({
      block_id_flag: s.blockIdFlag,
      validator_address: s.blockIdFlag === 1 ? "" : toHexUpper(s.validatorAddress),
      timestamp: s.blockIdFlag === 1 ? "0001-01-01T00:00:00Z" : formatRfc3339Nano(s.timestamp),
      signature: s.blockIdFlag === 1 ? null : toBase64(s.signature),
    })),
  };
}

/** CometBFT's Commit.Hash: the root over each CommitSig's protobuf encoding; empty without a commit. */
export function commitHash(commit: Commit | undefined): Uint8Array {
  if (!commit) return new Uint8Array();
  return merkleRoot(
    commit.signatures.map((s) =>
      CometCommitSig.encode({ blockIdFlag: s.blockIdFlag, validatorAddress: s.validatorAddress, timestamp: s.timestamp, signature: s.signature }).finish(),
    ),
  );
}

export function commitFromJson(json: CommitJson): Commit {
  return {
    height: BigInt(json.height),
    round: json.round,
    blockId: { hash: fromHex(json.block_id.hash), partSetHeader: { total: json.block_id.parts.total, hash: fromHex(json.block_id.parts.hash) } },
    signatures: json.signatures.map((s) => ({
      blockIdFlag: s.block_id_flag as CommitSig["blockIdFlag"],
      validatorAddress: fromHex(s.validator_address),
      timestamp: s.block_id_flag === 1 ? { seconds: 0n, nanos: 0 } : parseRfc3339(s.timestamp),
      signature: s.signature === null ? new Uint8Array() : fromBase64(s.signature),
    })),
  };
}
