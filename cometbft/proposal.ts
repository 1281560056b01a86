// What a CometBFT proposer signs: the length-delimited CanonicalProposal.
import type { BlockID } from "cosmjs-types/tendermint/types/types";
import Long from "long";
import { tendermint } from "../proto/index.ts";
import type { Timestamp } from "./time.ts";
import { PROPOSAL } from "./vote.ts";

const { CanonicalProposal } = tendermint.types;

export interface ProposalToSign {
  chainId: string;
  height: bigint;
  round: number;
  /** The round of the proof of lock the proposer saw for this block, or -1. */
  polRound: number;
  blockId: BlockID;
  timestamp: Timestamp;
}

/** Exactly CometBFT's ProposalSignBytes. */
export function proposalSignBytes(p: ProposalToSign): Uint8Array {
  const message = CanonicalProposal.create({
    type: PROPOSAL,
    height: Long.fromString(p.height.toString()),
    round: Long.fromNumber(p.round),
    polRound: Long.fromNumber(p.polRound),
    blockId: { hash: p.blockId.hash, partSetHeader: { total: p.blockId.partSetHeader.total, hash: p.blockId.partSetHeader.hash } },
    timestamp: { seconds: Long.fromString(p.timestamp.seconds.toString()), nanos: p.timestamp.nanos },
    chainId: p.chainId,
  });
  return CanonicalProposal.encodeDelimited(message).finish();
}
