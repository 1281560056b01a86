// The votes of one type (prevote or precommit) in one round of one height, tallied by voting power.
//
// A validator's first vote counts in the "any" tally (what the timeouts wait for) once. A second,
// different vote from it is equivocation, which the caller keeps as evidence. Whether that second
// vote also counts for its block is the caller's choice: a signed prevote for B is a prevote for B,
// and quorum intersection (two +2/3 quorums share a correct validator, which never signs twice)
// does not care what else a faulty validator signed. Counting it matters for liveness: without it,
// nodes that saw an equivocator's other vote first can never confirm a polka or a commit that the
// rest saw (CometBFT counts such votes once a peer claims +2/3 for the block). The caller bounds
// memory by counting only blocks it holds a proposal for.
//
// Immutable: adding a vote returns a new set, so the state machine stays a pure function.
import { blockKey, type SignedVote, type VoteType } from "./messages.ts";

export interface BlockTally {
  readonly power: bigint;
  /** Each validator's vote for this block, by validator index. */
  readonly votes: readonly (SignedVote | undefined)[];
}

export interface VoteSet {
  readonly type: VoteType;
  readonly round: number;
  /** First vote seen from each validator, by validator index. */
  readonly votes: readonly (SignedVote | undefined)[];
  /** Power of every validator that voted, whatever for, each counted once. */
  readonly power: bigint;
  /** Votes per block key ("" is nil). */
  readonly blocks: ReadonlyMap<string, BlockTally>;
}

export type VoteClass = "new" | "duplicate" | "conflict";

export type AddVoteResult =
  | { outcome: "added"; set: VoteSet }
  | { outcome: "duplicate" }
  /** The validator already voted for another block here; `set` is present when the vote was counted for its block. */
  | { outcome: "conflict"; existing: SignedVote; set?: VoteSet };

export function emptyVoteSet(type: VoteType, round: number, validatorCount: number): VoteSet {
  return { type, round, votes: new Array<SignedVote | undefined>(validatorCount).fill(undefined), power: 0n, blocks: new Map() };
}

/** More than two thirds of `total`: the quorum every Tendermint rule waits for. */
export function exceedsTwoThirds(power: bigint, total: bigint): boolean {
  return power * 3n > total * 2n;
}

/** More than one third of `total`: at least one correct validator is among them. */
export function exceedsOneThird(power: bigint, total: bigint): boolean {
  return power * 3n > total;
}

/**
 * What this vote is to the set, without checking its signature, so gossip repeats are dropped
 * before paying for verification.
 */
export function classifyVote(set: VoteSet, vote: SignedVote): VoteClass {
  const existing = set.votes[vote.validatorIndex];
  if (!existing) return "new";
  const key = blockKey(vote.blockId);
  if (blockKey(existing.blockId) === key || set.blocks.get(key)?.votes[vote.validatorIndex]) return "duplicate";
  return "conflict";
}

function withBlockVote(set: VoteSet, key: string, vote: SignedVote, power: bigint): ReadonlyMap<string, BlockTally> {
  const tally = set.blocks.get(key) ?? { power: 0n, votes: new Array<SignedVote | undefined>(set.votes.length).fill(undefined) };
  const votes = [...tally.votes];
  votes[vote.validatorIndex] = vote;
  const blocks = new Map(set.blocks);
  blocks.set(key, { power: tally.power + power, votes });
  return blocks;
}

/**
 * Adds a vote already verified to be of this set's type and round, from validator
 * `vote.validatorIndex` with `power`. A conflicting vote is counted for its block only if
 * `countConflict`.
 */
export function addVote(set: VoteSet, vote: SignedVote, power: bigint, countConflict = false): AddVoteResult {
  if (vote.type !== set.type || vote.round !== set.round) throw new Error(`vote ${vote.type}/${vote.round} does not belong to set ${set.type}/${set.round}`);
  const kind = classifyVote(set, vote);
  if (kind === "duplicate") return { outcome: "duplicate" };
  const key = blockKey(vote.blockId);
  if (kind === "conflict") {
    const existing = set.votes[vote.validatorIndex]!;
    if (!countConflict) return { outcome: "conflict", existing };
    return { outcome: "conflict", existing, set: { ...set, blocks: withBlockVote(set, key, vote, power) } };
  }
  const votes = [...set.votes];
  votes[vote.validatorIndex] = vote;
  return { outcome: "added", set: { type: set.type, round: set.round, votes, power: set.power + power, blocks: withBlockVote(set, key, vote, power) } };
}

export function hasTwoThirdsAny(set: VoteSet, total: bigint): boolean {
  return exceedsTwoThirds(set.power, total);
}

export function hasTwoThirdsFor(set: VoteSet, key: string, total: bigint): boolean {
  return exceedsTwoThirds(set.blocks.get(key)?.power ?? 0n, total);
}

/** Block keys ("" for nil) with more than two thirds of the power: at most one unless over 1/3 is faulty. */
export function twoThirdsMajorities(set: VoteSet, total: bigint): string[] {
  return [...set.blocks].filter(([, tally]) => exceedsTwoThirds(tally.power, total)).map(([key]) => key);
}
