// Tendermint consensus for one validator as a pure function: step(state, input) -> {state, outputs}.
// It follows Algorithm 1 of "The latest gossip on BFT consensus" (Buchman, Kwon, Milosevic 2018):
// rounds of propose, prevote and precommit; a lock on a block after +2/3 prevotes for it (a polka),
// released only by a later polka (the proposal's POL round); a decision on +2/3 precommits for a
// block; a skip to a round where more than 1/3 of the power already is; timeouts that grow with the
// round. No I/O, clock or randomness: the engine turns outputs into signatures, broadcasts, timers
// and application calls, and feeds their results back as inputs.
//
// Beyond the paper's message log, the machine needs no trust in its inputs: every signed vote,
// proposal and commit is verified (signature, validator membership, height) before it counts,
// duplicates are dropped before paying for verification, and a validator's second, different vote
// in one round is kept as evidence and never counted. Memory is bounded: proposals per round are
// capped, and votes more than one round ahead only move a per-validator "highest round" tracker
// (what the round skip needs); the engine re-gossips the current round, so nothing needed is lost.
import type { BlockID } from "../../cometbft/header.ts";
import { validatorAddress, type Validator } from "../../cometbft/validator-set.ts";
import { verifyCommit } from "../../cometbft/verify-commit.ts";
import type { Commit, CommitSig } from "../../cometbft/vote.ts";
import {
  blockKey,
  NIL_BLOCK_ID,
  PRECOMMIT,
  PREVOTE,
  verifyProposalSignature,
  verifyVoteSignature,
  type ConsensusMessage,
  type Proposal,
  type SignedProposal,
  type SignedVote,
  type Vote,
  type VoteType,
} from "./messages.ts";
import { nextHeightPriorities, proposerIndex, type ProposerPriorities } from "./proposer.ts";
import {
  STEP_COMMIT_TIMEOUT,
  STEP_PRECOMMIT_TIMEOUT,
  STEP_PREVOTE_TIMEOUT,
  STEP_PROPOSE_TIMEOUT,
  timeoutDuration,
  type Timeout,
  type TimeoutConfig,
  type TimeoutStep,
} from "./timeouts.ts";
import { addVote, classifyVote, emptyVoteSet, exceedsOneThird, hasTwoThirdsAny, hasTwoThirdsFor, twoThirdsMajorities, type VoteSet } from "./vote-set.ts";

/** "commit": decided, collecting late precommits until the commit timeout starts the next height. */
export type Step = "propose" | "prevote" | "precommit" | "commit";

/** Distinct proposals kept per round: an honest proposer sends one; an equivocating one gets no more room. */
export const MAX_PROPOSALS_PER_ROUND = 2;

export interface ConsensusValidator extends Validator {
  address: Uint8Array;
}

export interface MachineConfig {
  readonly chainId: string;
  /** In commit order (the order of a commit's signatures). */
  readonly validators: readonly ConsensusValidator[];
  readonly totalPower: bigint;
  /** This node's validator index; undefined for a node that follows without voting. */
  readonly self: number | undefined;
  readonly timeouts: TimeoutConfig;
  /** The id a block's bytes hash to (undefined if they are not a block): binds a proposal's bytes to the id it signs. */
  readonly blockIdOf: (block: Uint8Array) => BlockID | undefined;
}

export function machineConfig(o: {
  chainId: string;
  validators: readonly Validator[];
  selfPubKey?: Uint8Array;
  timeouts: TimeoutConfig;
  blockIdOf: (block: Uint8Array) => BlockID | undefined;
}): MachineConfig {
  const validators = o.validators.map((v) => ({ pubKey: v.pubKey, votingPower: v.votingPower, address: validatorAddress(v.pubKey) }));
  const self = o.selfPubKey ? validators.findIndex((v) => Buffer.compare(v.pubKey, o.selfPubKey!) === 0) : -1;
  return {
    chainId: o.chainId,
    validators,
    totalPower: validators.reduce((sum, v) => sum + v.votingPower, 0n),
    self: self >= 0 ? self : undefined,
    timeouts: o.timeouts,
    blockIdOf: o.blockIdOf,
  };
}

/** A proposable block: its id and encoding. */
export interface Value {
  blockId: BlockID;
  block: Uint8Array;
}

export type Verdict = "pending" | "valid" | "invalid";

export interface RoundState {
  readonly prevotes: VoteSet;
  readonly precommits: VoteSet;
  /** Verified proposals from this round's proposer, in arrival order. */
  readonly proposals: readonly SignedProposal[];
}

export interface Decision {
  height: bigint;
  round: number;
  value: Value;
  commit: Commit;
  /** A proposal that carried the block, relayed to nodes still deciding. */
  proposal: SignedProposal;
}

export interface DuplicateVoteEvidence {
  kind: "duplicate-vote";
  height: bigint;
  round: number;
  type: VoteType;
  validatorIndex: number;
  validatorAddress: Uint8Array;
  first: SignedVote;
  second: SignedVote;
}

export type UnsignedProposal = Omit<Proposal, "timestamp">;
export type UnsignedVote = Omit<Vote, "timestamp">;

/** What the machine asks the engine to sign; the engine adds the timestamp. */
export type SignRequest = { kind: "proposal"; proposal: UnsignedProposal; block: Uint8Array } | { kind: "vote"; vote: UnsignedVote };

export type SignedMessage = { kind: "proposal"; proposal: SignedProposal } | { kind: "vote"; vote: SignedVote };

export type MachineInput =
  | { type: "start" }
  | { type: "proposal"; proposal: SignedProposal }
  | { type: "vote"; vote: SignedVote }
  | { type: "commit"; commit: Commit }
  | { type: "timeout"; timeout: Timeout }
  /** The application built the block for this node's proposal. */
  | { type: "built"; height: bigint; round: number; value: Value }
  /** The application's verdict on a block, asked for by a "validate" output. */
  | { type: "validated"; height: bigint; blockId: BlockID; valid: boolean }
  /** This node's own message, signed as a "sign" output asked. */
  | { type: "signed"; message: SignedMessage };

export type MachineOutput =
  | { type: "sign"; request: SignRequest }
  | { type: "broadcast"; message: ConsensusMessage }
  | { type: "schedule"; timeout: Timeout; delayMs: number }
  | { type: "build"; height: bigint; round: number; lastCommit: Commit | undefined }
  | { type: "validate"; height: bigint; value: Value }
  | { type: "decide"; decision: Decision }
  | { type: "evidence"; evidence: DuplicateVoteEvidence };

export interface ConsensusState {
  readonly config: MachineConfig;
  readonly height: bigint;
  /** -1 until started. */
  readonly round: number;
  readonly step: Step;
  /** The height's proposer priorities (round 0). */
  readonly priorities: ProposerPriorities;
  readonly lockedRound: number;
  readonly lockedValue: string | undefined;
  readonly validRound: number;
  readonly validValue: string | undefined;
  readonly rounds: ReadonlyMap<number, RoundState>;
  /** Blocks seen in verified proposals, by block key, with one proposal that carried each. */
  readonly values: ReadonlyMap<string, { value: Value; proposal: SignedProposal }>;
  readonly verdicts: ReadonlyMap<string, Verdict>;
  /** Highest round each validator was seen in (verified), for the round skip; -1 if none. */
  readonly highestRound: readonly number[];
  /** A verified commit for this height received from a peer. */
  readonly certificate: Commit | undefined;
  /** The paper's "for the first time" rules, for the current round. */
  readonly fired: { readonly prevoteWait: boolean; readonly precommitWait: boolean; readonly polka: boolean };
  readonly pendingSigns: readonly SignRequest[];
  /** Waiting for the application's block for this round's proposal. */
  readonly building: boolean;
  readonly decision: Decision | undefined;
  /** The commit for the previous height, which this height's proposal carries. */
  readonly lastCommit: Commit | undefined;
  /** The previous height's decision, relayed to nodes still at that height. */
  readonly lastDecision: Decision | undefined;
  readonly evidence: readonly DuplicateVoteEvidence[];
}

export interface StepResult {
  /** The same object as the input state when the input changed nothing. */
  state: ConsensusState;
  outputs: MachineOutput[];
}

export function initialState(config: MachineConfig, o: { height: bigint; priorities: ProposerPriorities; lastCommit: Commit | undefined; lastDecision?: Decision }): ConsensusState {
  return {
    config,
    height: o.height,
    round: -1,
    step: "propose",
    priorities: o.priorities,
    lockedRound: -1,
    lockedValue: undefined,
    validRound: -1,
    validValue: undefined,
    rounds: new Map(),
    values: new Map(),
    verdicts: new Map(),
    highestRound: config.validators.map(() => -1),
    certificate: undefined,
    fired: { prevoteWait: false, precommitWait: false, polka: false },
    pendingSigns: [],
    building: false,
    decision: undefined,
    lastCommit: o.lastCommit,
    lastDecision: o.lastDecision,
    evidence: [],
  };
}

export function step(state: ConsensusState, input: MachineInput): StepResult {
  const out: MachineOutput[] = [];
  const next = apply(state, input, out);
  return { state: next === state ? state : fire(next, out), outputs: out };
}

/** The proposer of `round` at the state's height. */
export function proposerOf(state: ConsensusState, round: number): number {
  return proposerIndex(state.priorities, round);
}

/**
 * The next height's state after a block for this height was committed outside consensus (block
 * sync), started at round 0.
 */
export function afterSyncedBlock(state: ConsensusState, commit: Commit): StepResult {
  const out: MachineOutput[] = [];
  const next = enterHeight(state, commit, undefined, out);
  return { state: fire(next, out), outputs: out };
}

/**
 * What a node re-broadcasts periodically, because the network may lose messages and the paper
 * assumes gossip eventually delivers everything: its own votes in this round, the prevotes that
 * justify a proposal's POL round, and once decided the commit; with `blocks`, also the messages that
 * carry a block (this round's proposals, the decided one), which cost far more to repeat.
 */
export function gossipMessages(state: ConsensusState, blocks: boolean): ConsensusMessage[] {
  if (state.decision) {
    const commit: ConsensusMessage = { kind: "commit", commit: currentCommit(state) };
    const proposal = state.decision.proposal;
    return blocks && !heldByAll(state, proposal) ? [{ kind: "proposal", proposal }, commit] : [commit];
  }
  if (state.round < 0) return [];
  const messages: ConsensusMessage[] = [];
  const round = state.rounds.get(state.round);
  for (const proposal of round?.proposals ?? []) {
    if (blocks && !heldByAll(state, proposal)) messages.push({ kind: "proposal", proposal });
    if (proposal.polRound >= 0) {
      const key = blockKey(proposal.blockId);
      for (const vote of state.rounds.get(proposal.polRound)?.prevotes.blocks.get(key)?.votes ?? []) {
        if (vote) messages.push({ kind: "vote", vote });
      }
    }
  }
  const self = state.config.self;
  if (self !== undefined && round) {
    for (const vote of [round.prevotes.votes[self], round.precommits.votes[self]]) if (vote) messages.push({ kind: "vote", vote });
  }
  return messages;
}

/**
 * Whether every other validator has voted for the proposal's block in its round. A correct validator
 * votes for a block only once it holds the proposal (lines 22, 28, 36), and logs it before signing,
 * so re-sending the block, the largest message by far, would only cost every peer a decode.
 */
function heldByAll(state: ConsensusState, proposal: SignedProposal): boolean {
  const round = state.rounds.get(proposal.round);
  if (!round) return false;
  const key = blockKey(proposal.blockId);
  const prevotes = round.prevotes.blocks.get(key)?.votes;
  const precommits = round.precommits.blocks.get(key)?.votes;
  return state.config.validators.every((_, i) => i === state.config.self || prevotes?.[i] !== undefined || precommits?.[i] !== undefined);
}

/**
 * For a node still in an earlier `round` of this height: what this node sent there (its votes and
 * the round's proposals), which it may have missed before this node moved on without it.
 */
export function roundMessages(state: ConsensusState, round: number): ConsensusMessage[] {
  const r = state.rounds.get(round);
  if (!r) return [];
  const messages: ConsensusMessage[] = r.proposals.map((proposal) => ({ kind: "proposal", proposal }));
  const self = state.config.self;
  if (self !== undefined) for (const vote of [r.prevotes.votes[self], r.precommits.votes[self]]) if (vote) messages.push({ kind: "vote", vote });
  return messages;
}

/**
 * For a node still at the previous height: its commit, which is enough for a node that holds the
 * block, and with `block` (for a node the commit alone did not move) the block too, when this node
 * decided it itself rather than restarting since.
 */
export function catchUpMessages(state: ConsensusState, block: boolean): ConsensusMessage[] {
  const messages: ConsensusMessage[] = [];
  if (block && state.lastDecision) messages.push({ kind: "proposal", proposal: state.lastDecision.proposal });
  if (state.lastCommit) messages.push({ kind: "commit", commit: state.lastCommit });
  return messages;
}

// ---- inputs ----

function apply(s: ConsensusState, input: MachineInput, out: MachineOutput[]): ConsensusState {
  switch (input.type) {
    case "start":
      return s.round >= 0 ? s : startRound(s, 0, out);
    case "proposal":
      return receiveProposal(s, input.proposal, out);
    case "vote":
      return receiveVote(s, input.vote, out);
    case "commit":
      return receiveCertificate(s, input.commit);
    case "timeout":
      return onTimeout(s, input.timeout, out);
    case "built":
      return onBuilt(s, input, out);
    case "validated":
      return onValidated(s, input);
    case "signed":
      return onSigned(s, input.message, out);
  }
}

function roundState(s: ConsensusState, round: number): RoundState {
  return (
    s.rounds.get(round) ?? {
      prevotes: emptyVoteSet(PREVOTE, round, s.config.validators.length),
      precommits: emptyVoteSet(PRECOMMIT, round, s.config.validators.length),
      proposals: [],
    }
  );
}

function withRound(s: ConsensusState, round: number, r: RoundState): ConsensusState {
  const rounds = new Map(s.rounds);
  rounds.set(round, r);
  return { ...s, rounds };
}

function seenInRound(s: ConsensusState, validator: number, round: number): ConsensusState {
  if (s.highestRound[validator] >= round) return s;
  const highestRound = [...s.highestRound];
  highestRound[validator] = round;
  return { ...s, highestRound };
}

/** Rounds whose messages are stored: any past round (bounded by progress) and the next one. */
function storable(s: ConsensusState, round: number): boolean {
  return round <= Math.max(s.round, 0) + 1;
}

/** A block some quorum or commit is about, so its proposal is kept even past the per-round cap. */
function wanted(s: ConsensusState, round: number, key: string): boolean {
  const r = s.rounds.get(round);
  const total = s.config.totalPower;
  return (r !== undefined && (hasTwoThirdsFor(r.prevotes, key, total) || hasTwoThirdsFor(r.precommits, key, total))) || (s.certificate !== undefined && blockKey(s.certificate.blockId) === key);
}

function receiveProposal(s: ConsensusState, p: SignedProposal, out: MachineOutput[]): ConsensusState {
  // A proposal too far ahead is dropped (its proposer's votes will show where it is), which also
  // keeps the proposer computation, linear in the round, bounded by rounds actually reached.
  if (p.height !== s.height || s.decision || !storable(s, p.round)) return s;
  const r = s.rounds.get(p.round);
  if (r?.proposals.some((q) => Buffer.compare(q.signature, p.signature) === 0)) return s;
  const proposer = proposerOf(s, p.round);
  const key = blockKey(p.blockId);
  if ((r?.proposals.length ?? 0) >= MAX_PROPOSALS_PER_ROUND && !wanted(s, p.round, key)) return s;
  if (r?.proposals.some((q) => blockKey(q.blockId) === key && q.polRound === p.polRound)) return s;
  if (!verifyProposalSignature(s.config.chainId, s.config.validators[proposer].pubKey, p)) return s;
  const id = s.config.blockIdOf(p.block);
  // Bytes that do not hash to the signed id are dropped, not judged: a correct copy may follow.
  if (!id || blockKey(id) !== key) return s;
  return storeProposal(seenInRound(s, proposer, p.round), p, out);
}

function storeProposal(s: ConsensusState, p: SignedProposal, out: MachineOutput[]): ConsensusState {
  const r = roundState(s, p.round);
  let next = withRound(s, p.round, { ...r, proposals: [...r.proposals, p] });
  const key = blockKey(p.blockId);
  if (!next.values.has(key)) {
    const values = new Map(next.values);
    values.set(key, { value: { blockId: p.blockId, block: p.block }, proposal: p });
    next = { ...next, values };
  }
  if (!next.verdicts.has(key)) {
    const verdicts = new Map(next.verdicts);
    verdicts.set(key, "pending");
    next = { ...next, verdicts };
    out.push({ type: "validate", height: s.height, value: { blockId: p.blockId, block: p.block } });
  }
  return next;
}

function receiveVote(s: ConsensusState, v: SignedVote, out: MachineOutput[]): ConsensusState {
  const validators = s.config.validators;
  if (v.height !== s.height || v.validatorIndex < 0 || v.validatorIndex >= validators.length) return s;
  // Once decided, only precommits of the deciding round still matter: they enlarge the commit.
  if (s.decision && !(v.type === PRECOMMIT && v.round === s.decision.round)) return s;
  const validator = validators[v.validatorIndex];
  if (!storable(s, v.round)) {
    if (v.round <= s.highestRound[v.validatorIndex] || !verifyVoteSignature(s.config.chainId, validator.pubKey, v)) return s;
    return seenInRound(s, v.validatorIndex, v.round);
  }
  const r = roundState(s, v.round);
  const set = v.type === PREVOTE ? r.prevotes : r.precommits;
  const kind = classifyVote(set, v);
  if (kind === "duplicate") return s;
  const key = blockKey(v.blockId);
  // An equivocator's other vote counts for its block only if we hold that block, which bounds what
  // a faulty validator can make us store to the (capped) proposals.
  const countable = key === "" || s.values.has(key);
  const known = s.evidence.some((e) => e.validatorIndex === v.validatorIndex && e.round === v.round && e.type === v.type);
  if (kind === "conflict" && known && !countable) return s;
  if (!verifyVoteSignature(s.config.chainId, validator.pubKey, v)) return s;
  const added = addVote(set, v, validator.votingPower, countable);
  if (added.outcome === "duplicate") return s;
  let next = s;
  if (added.outcome === "conflict" && !known) {
    const evidence: DuplicateVoteEvidence = {
      kind: "duplicate-vote",
      height: s.height,
      round: v.round,
      type: v.type,
      validatorIndex: v.validatorIndex,
      validatorAddress: validator.address,
      first: added.existing,
      second: v,
    };
    out.push({ type: "evidence", evidence });
    next = { ...next, evidence: [...next.evidence, evidence] };
  }
  if (!added.set) return next;
  next = withRound(next, v.round, v.type === PREVOTE ? { ...r, prevotes: added.set } : { ...r, precommits: added.set });
  return seenInRound(next, v.validatorIndex, v.round);
}

function receiveCertificate(s: ConsensusState, commit: Commit): ConsensusState {
  if (commit.height !== s.height || s.decision || s.certificate) return s;
  try {
    verifyCommit(s.config.chainId, s.config.validators, s.height, commit.blockId, commit);
  } catch {
    return s;
  }
  return { ...s, certificate: commit };
}

function onTimeout(s: ConsensusState, t: Timeout, out: MachineOutput[]): ConsensusState {
  if (t.height !== s.height) return s;
  switch (t.step) {
    case STEP_PROPOSE_TIMEOUT:
      return t.round === s.round && s.step === "propose" ? castVote(s, PREVOTE, NIL_BLOCK_ID, "prevote", out) : s;
    case STEP_PREVOTE_TIMEOUT:
      return t.round === s.round && s.step === "prevote" ? castVote(s, PRECOMMIT, NIL_BLOCK_ID, "precommit", out) : s;
    case STEP_PRECOMMIT_TIMEOUT:
      return t.round === s.round && !s.decision ? startRound(s, s.round + 1, out) : s;
    case STEP_COMMIT_TIMEOUT:
      return s.decision && t.round === s.decision.round ? enterHeight(s, currentCommit(s), s.decision, out) : s;
  }
}

function onBuilt(s: ConsensusState, input: { height: bigint; round: number; value: Value }, out: MachineOutput[]): ConsensusState {
  // Once this node prevoted (its propose timeout fired first) a proposal would come too late, and
  // signing one after a prevote of the same round would go backwards for the double-sign guard.
  if (input.height !== s.height || input.round !== s.round || !s.building || s.step !== "propose") return s;
  const key = blockKey(input.value.blockId);
  const verdicts = new Map(s.verdicts);
  verdicts.set(key, "valid");
  return requestSignature({ ...s, building: false, verdicts }, { kind: "proposal", proposal: { height: s.height, round: s.round, polRound: -1, blockId: input.value.blockId }, block: input.value.block }, out);
}

function onValidated(s: ConsensusState, input: { height: bigint; blockId: BlockID; valid: boolean }): ConsensusState {
  const key = blockKey(input.blockId);
  if (input.height !== s.height || s.verdicts.get(key) !== "pending") return s;
  const verdicts = new Map(s.verdicts);
  verdicts.set(key, input.valid ? "valid" : "invalid");
  return { ...s, verdicts };
}

function sameRequest(request: SignRequest, message: SignedMessage): boolean {
  if (request.kind === "proposal" && message.kind === "proposal") {
    const a = request.proposal;
    const b = message.proposal;
    return a.height === b.height && a.round === b.round && a.polRound === b.polRound && blockKey(a.blockId) === blockKey(b.blockId);
  }
  if (request.kind === "vote" && message.kind === "vote") {
    const a = request.vote;
    const b = message.vote;
    return a.type === b.type && a.height === b.height && a.round === b.round && a.validatorIndex === b.validatorIndex && blockKey(a.blockId) === blockKey(b.blockId);
  }
  return false;
}

function onSigned(s: ConsensusState, message: SignedMessage, out: MachineOutput[]): ConsensusState {
  const index = s.pendingSigns.findIndex((r) => sameRequest(r, message));
  if (index < 0) return s;
  const pendingSigns = s.pendingSigns.filter((_, i) => i !== index);
  let next: ConsensusState = { ...s, pendingSigns };
  if (message.kind === "proposal") {
    next = storeProposal(seenInRound(next, proposerOf(next, message.proposal.round), message.proposal.round), message.proposal, out);
  } else {
    const v = message.vote;
    const r = roundState(next, v.round);
    const set = v.type === PREVOTE ? r.prevotes : r.precommits;
    const added = addVote(set, v, s.config.validators[v.validatorIndex].votingPower);
    if (added.outcome === "added") next = seenInRound(withRound(next, v.round, v.type === PREVOTE ? { ...r, prevotes: added.set } : { ...r, precommits: added.set }), v.validatorIndex, v.round);
  }
  out.push({ type: "broadcast", message });
  return next;
}

// ---- transitions ----

function schedule(s: ConsensusState, step: TimeoutStep, round: number, out: MachineOutput[]): void {
  out.push({ type: "schedule", timeout: { height: s.height, round, step }, delayMs: timeoutDuration(s.config.timeouts, step, round) });
}

function requestSignature(s: ConsensusState, request: SignRequest, out: MachineOutput[]): ConsensusState {
  out.push({ type: "sign", request });
  return { ...s, pendingSigns: [...s.pendingSigns, request] };
}

/** Broadcasts (through a signature) this node's vote and moves to `nextStep`; a non-validator only moves. */
function castVote(s: ConsensusState, type: VoteType, blockId: BlockID, nextStep: Step, out: MachineOutput[]): ConsensusState {
  const moved: ConsensusState = { ...s, step: nextStep };
  const self = s.config.self;
  if (self === undefined) return moved;
  return requestSignature(moved, { kind: "vote", vote: { type, height: s.height, round: s.round, blockId, validatorIndex: self } }, out);
}

function startRound(s: ConsensusState, round: number, out: MachineOutput[]): ConsensusState {
  let next: ConsensusState = { ...s, round, step: "propose", fired: { prevoteWait: false, precommitWait: false, polka: false }, pendingSigns: [], building: false };
  if (s.config.self !== undefined && proposerOf(s, round) === s.config.self) {
    const valid = next.validValue !== undefined ? next.values.get(next.validValue) : undefined;
    if (valid) {
      next = requestSignature(next, { kind: "proposal", proposal: { height: s.height, round, polRound: next.validRound, blockId: valid.value.blockId }, block: valid.value.block }, out);
    } else {
      out.push({ type: "build", height: s.height, round, lastCommit: s.lastCommit });
      next = { ...next, building: true };
    }
  }
  // The proposer waits too, so a slow or failing block builder ends in a nil prevote, not a stall.
  schedule(next, STEP_PROPOSE_TIMEOUT, round, out);
  return next;
}

function enterHeight(s: ConsensusState, lastCommit: Commit, lastDecision: Decision | undefined, out: MachineOutput[]): ConsensusState {
  const next = initialState(s.config, { height: s.height + 1n, priorities: nextHeightPriorities(s.priorities), lastCommit, lastDecision });
  return startRound(next, 0, out);
}

/** The commit as of now: the deciding round's precommits (late ones included), or the certificate decided on. */
function currentCommit(s: ConsensusState): Commit {
  const d = s.decision!;
  const r = s.rounds.get(d.round);
  if (!r || !hasTwoThirdsFor(r.precommits, blockKey(d.value.blockId), s.config.totalPower)) return d.commit;
  return commitFromVotes(s.config, s.height, d.round, d.value.blockId, r.precommits);
}

const ABSENT: CommitSig = { blockIdFlag: 1, validatorAddress: new Uint8Array(), timestamp: { seconds: 0n, nanos: 0 }, signature: new Uint8Array() };

/** CometBFT's commit from a precommit set: signatures in validator order; nil votes flagged nil, votes for other blocks absent. */
function commitFromVotes(config: MachineConfig, height: bigint, round: number, blockId: BlockID, precommits: VoteSet): Commit {
  const forBlock = precommits.blocks.get(blockKey(blockId))?.votes;
  const signatures = precommits.votes.map((first, i): CommitSig => {
    const vote = forBlock?.[i];
    if (vote) return { blockIdFlag: 2, validatorAddress: config.validators[i].address, timestamp: vote.timestamp, signature: vote.signature };
    if (first && blockKey(first.blockId) === "") return { blockIdFlag: 3, validatorAddress: config.validators[i].address, timestamp: first.timestamp, signature: first.signature };
    return ABSENT;
  });
  return { height, round, blockId, signatures };
}

// ---- upon rules ----

/** Applies upon rules until none fires. Each rule returns the same state when it does not fire. */
function fire(s: ConsensusState, out: MachineOutput[]): ConsensusState {
  const rules = [decideRule, roundSkipRule, proposalRule, polProposalRule, prevoteWaitRule, polkaRule, nilPolkaRule, precommitWaitRule];
  for (;;) {
    if (s.round < 0) return s;
    let fired = false;
    for (const rule of rules) {
      const next = rule(s, out);
      if (next !== s) {
        s = next;
        fired = true;
        break;
      }
    }
    if (!fired) return s;
  }
}

function verdictOf(s: ConsensusState, key: string): Verdict | undefined {
  return s.verdicts.get(key);
}

/** Line 49: a block with +2/3 precommits in any round (or a verified commit), which we hold and the app accepts. */
function decideRule(s: ConsensusState, out: MachineOutput[]): ConsensusState {
  if (s.decision) return s;
  const total = s.config.totalPower;
  const candidates: { round: number; key: string; commit: () => Commit }[] = [];
  for (const [round, r] of s.rounds) {
    for (const key of twoThirdsMajorities(r.precommits, total)) {
      if (key) candidates.push({ round, key, commit: () => commitFromVotes(s.config, s.height, round, s.values.get(key)!.value.blockId, r.precommits) });
    }
  }
  const cert = s.certificate;
  if (cert) candidates.push({ round: cert.round, key: blockKey(cert.blockId), commit: () => cert });
  for (const c of candidates) {
    const held = s.values.get(c.key);
    if (!held || verdictOf(s, c.key) !== "valid") continue;
    const decision: Decision = { height: s.height, round: c.round, value: held.value, commit: c.commit(), proposal: held.proposal };
    out.push({ type: "decide", decision });
    schedule(s, STEP_COMMIT_TIMEOUT, c.round, out);
    return { ...s, step: "commit", decision, pendingSigns: [], building: false };
  }
  return s;
}

/** Line 55: more than 1/3 of the power was seen in a higher round; jump to the highest such round. */
function roundSkipRule(s: ConsensusState, out: MachineOutput[]): ConsensusState {
  if (s.decision) return s;
  const seen = s.config.validators.map((v, i) => ({ round: s.highestRound[i], power: v.votingPower })).filter((x) => x.round > s.round);
  seen.sort((a, b) => b.round - a.round);
  let power = 0n;
  for (const x of seen) {
    power += x.power;
    // Every validator counted so far is at x.round or beyond, and more than 1/3 means a correct one is.
    if (exceedsOneThird(power, s.config.totalPower)) return startRound(s, x.round, out);
  }
  return s;
}

function currentProposals(s: ConsensusState): readonly SignedProposal[] {
  return s.rounds.get(s.round)?.proposals ?? [];
}

/** Line 22: a fresh proposal (no POL round) in the propose step. */
function proposalRule(s: ConsensusState, out: MachineOutput[]): ConsensusState {
  if (s.step !== "propose" || s.decision) return s;
  for (const p of currentProposals(s)) {
    if (p.polRound !== -1) continue;
    const key = blockKey(p.blockId);
    const verdict = verdictOf(s, key);
    if (verdict === "pending" || verdict === undefined) continue;
    const accept = verdict === "valid" && (s.lockedRound === -1 || s.lockedValue === key);
    return castVote(s, PREVOTE, accept ? p.blockId : NIL_BLOCK_ID, "prevote", out);
  }
  return s;
}

/** Line 28: a re-proposal justified by +2/3 prevotes in its POL round. */
function polProposalRule(s: ConsensusState, out: MachineOutput[]): ConsensusState {
  if (s.step !== "propose" || s.decision) return s;
  for (const p of currentProposals(s)) {
    const vr = p.polRound;
    if (vr < 0 || vr >= s.round) continue;
    const key = blockKey(p.blockId);
    const pol = s.rounds.get(vr);
    if (!pol || !hasTwoThirdsFor(pol.prevotes, key, s.config.totalPower)) continue;
    const verdict = verdictOf(s, key);
    if (verdict === "pending" || verdict === undefined) continue;
    const accept = verdict === "valid" && (s.lockedRound <= vr || s.lockedValue === key);
    return castVote(s, PREVOTE, accept ? p.blockId : NIL_BLOCK_ID, "prevote", out);
  }
  return s;
}

/** Line 34: +2/3 prevotes for anything: wait a bounded time for a polka. */
function prevoteWaitRule(s: ConsensusState, out: MachineOutput[]): ConsensusState {
  if (s.step !== "prevote" || s.fired.prevoteWait) return s;
  const r = s.rounds.get(s.round);
  if (!r || !hasTwoThirdsAny(r.prevotes, s.config.totalPower)) return s;
  schedule(s, STEP_PREVOTE_TIMEOUT, s.round, out);
  return { ...s, fired: { ...s.fired, prevoteWait: true } };
}

/** Line 36: a proposal with +2/3 prevotes in this round: lock on it (if still prevoting) and remember it as valid. */
function polkaRule(s: ConsensusState, out: MachineOutput[]): ConsensusState {
  if ((s.step !== "prevote" && s.step !== "precommit") || s.fired.polka || s.decision) return s;
  const r = s.rounds.get(s.round);
  if (!r) return s;
  for (const p of r.proposals) {
    const key = blockKey(p.blockId);
    if (!hasTwoThirdsFor(r.prevotes, key, s.config.totalPower) || verdictOf(s, key) !== "valid") continue;
    let next: ConsensusState = { ...s, fired: { ...s.fired, polka: true }, validValue: key, validRound: s.round };
    if (s.step === "prevote") {
      next = castVote({ ...next, lockedValue: key, lockedRound: s.round }, PRECOMMIT, p.blockId, "precommit", out);
    }
    return next;
  }
  return s;
}

/** Line 44: +2/3 prevotes for nil: precommit nil. */
function nilPolkaRule(s: ConsensusState, out: MachineOutput[]): ConsensusState {
  if (s.step !== "prevote") return s;
  const r = s.rounds.get(s.round);
  if (!r || !hasTwoThirdsFor(r.prevotes, "", s.config.totalPower)) return s;
  return castVote(s, PRECOMMIT, NIL_BLOCK_ID, "precommit", out);
}

/** Line 47: +2/3 precommits for anything: give the round a bounded time to decide, then move on. */
function precommitWaitRule(s: ConsensusState, out: MachineOutput[]): ConsensusState {
  if (s.fired.precommitWait || s.decision) return s;
  const r = s.rounds.get(s.round);
  if (!r || !hasTwoThirdsAny(r.precommits, s.config.totalPower)) return s;
  schedule(s, STEP_PRECOMMIT_TIMEOUT, s.round, out);
  return { ...s, fired: { ...s.fired, precommitWait: true } };
}
