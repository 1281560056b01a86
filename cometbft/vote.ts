// What a CometBFT validator signs for a vote, and the commit (the +2/3 precommits) in JSON.
import type { BlockID } from "cosmjs-types/tendermint/types/types";
import Long from "long";
import { tendermint } from "../proto/index.ts";
import { formatRfc3339Nano, type Timestamp } from "./time.ts";
import { blockIdJson, type BlockIdJson } from "./header.ts";
import { toBase64, toHexUpper } from "./hash.ts";

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
