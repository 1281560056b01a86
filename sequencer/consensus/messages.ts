// The consensus messages (proposal, vote, commit), their wire encoding, the canonical bytes their
// signatures cover (CometBFT's, so chain id, height, round and type are all signed), and signature
// checks. Decoding rejects malformed fields, so everything past it can rely on their shape.
import Long from "long";
import { ed25519Verify } from "../../cometbft/ed25519.ts";
import type { BlockID } from "../../cometbft/header.ts";
import { proposalSignBytes } from "../../cometbft/proposal.ts";
import type { Timestamp } from "../../cometbft/time.ts";
import { commitFromProto, commitToProto } from "../block/block.ts";
import { voteSignBytes, PRECOMMIT, PREVOTE, type Commit } from "../../cometbft/vote.ts";
import { metro, type MetroProto } from "../../proto/index.ts";

const pb = metro.consensus.v1;

export type VoteType = typeof PREVOTE | typeof PRECOMMIT;
export { PREVOTE, PRECOMMIT };

/** Rounds are int32 on the wire; anything larger is junk. */
const MAX_ROUND = 0x7fffffff;
const HASH_SIZE = 32;
const SIGNATURE_SIZE = 64;

export interface Proposal {
  height: bigint;
  round: number;
  /** Round of the proof of lock (+2/3 prevotes) for this block the proposer saw, or -1. */
  polRound: number;
  blockId: BlockID;
  timestamp: Timestamp;
}

export interface SignedProposal extends Proposal {
  signature: Uint8Array;
  /** The proposed block's encoding. */
  block: Uint8Array;
}

export interface Vote {
  type: VoteType;
  height: bigint;
  round: number;
  /** An empty hash is nil. */
  blockId: BlockID;
  timestamp: Timestamp;
  validatorIndex: number;
}

export interface SignedVote extends Vote {
  signature: Uint8Array;
}

export type ConsensusMessage = { kind: "proposal"; proposal: SignedProposal } | { kind: "vote"; vote: SignedVote } | { kind: "commit"; commit: Commit };

export const NIL_BLOCK_ID: BlockID = { hash: new Uint8Array(), partSetHeader: { total: 0, hash: new Uint8Array() } };

function isNil(id: BlockID): boolean {
  return id.hash.length === 0;
}

/** A block id as a map key; "" is nil. */
export function blockKey(id: BlockID): string {
  if (isNil(id)) return "";
  return `${Buffer.from(id.hash).toString("hex")}:${id.partSetHeader.total}:${Buffer.from(id.partSetHeader.hash).toString("hex")}`;
}

export function messageHeight(m: ConsensusMessage): bigint {
  return m.kind === "proposal" ? m.proposal.height : m.kind === "vote" ? m.vote.height : m.commit.height;
}

export function proposalBytesToSign(chainId: string, p: Proposal): Uint8Array {
  return proposalSignBytes({ chainId, height: p.height, round: p.round, polRound: p.polRound, blockId: p.blockId, timestamp: p.timestamp });
}

export function voteBytesToSign(chainId: string, v: Vote): Uint8Array {
  return voteSignBytes({ chainId, type: v.type, height: v.height, round: v.round, blockId: v.blockId, timestamp: v.timestamp });
}

export function verifyProposalSignature(chainId: string, proposerPubKey: Uint8Array, p: SignedProposal): boolean {
  return ed25519Verify(proposerPubKey, proposalBytesToSign(chainId, p), p.signature);
}

export function verifyVoteSignature(chainId: string, validatorPubKey: Uint8Array, v: SignedVote): boolean {
  return ed25519Verify(validatorPubKey, voteBytesToSign(chainId, v), v.signature);
}

// ---- wire encoding ----

export class MalformedMessageError extends Error {
  override name = "MalformedMessageError";
}

const u64 = (v: bigint) => Long.fromString(v.toString(), true);
const i64 = (v: bigint) => Long.fromString(v.toString(), false);
const big = (v: Long | number | null | undefined) => BigInt((v ?? 0).toString());

function blockIdToProto(id: BlockID): MetroProto.sequencer.v1.BlockID.$Properties {
  return { hash: id.hash, partSetHeader: { total: id.partSetHeader.total, hash: id.partSetHeader.hash } };
}

function blockIdFromProto(id: MetroProto.sequencer.v1.BlockID.$Properties | null | undefined): BlockID {
  return { hash: id?.hash ?? new Uint8Array(), partSetHeader: { total: id?.partSetHeader?.total ?? 0, hash: id?.partSetHeader?.hash ?? new Uint8Array() } };
}

function timestampToProto(t: Timestamp) {
  return { seconds: i64(t.seconds), nanos: t.nanos };
}

function timestampFromProto(t: { seconds?: Long | number | null; nanos?: number | null } | null | undefined): Timestamp {
  return { seconds: big(t?.seconds), nanos: t?.nanos ?? 0 };
}

function expect(ok: boolean, what: string): void {
  if (!ok) throw new MalformedMessageError(what);
}

function checkBlockId(id: BlockID, nilAllowed: boolean): void {
  if (isNil(id)) {
    expect(nilAllowed && id.partSetHeader.total === 0 && id.partSetHeader.hash.length === 0, "nil block id with a part set header");
    return;
  }
  expect(id.hash.length === HASH_SIZE && id.partSetHeader.hash.length === HASH_SIZE && id.partSetHeader.total >= 1, "malformed block id");
}

function checkTimestamp(t: Timestamp): void {
  expect(Number.isInteger(t.nanos) && t.nanos >= 0 && t.nanos < 1e9, "malformed timestamp");
}

function proposalToProto(p: SignedProposal): MetroProto.consensus.v1.Proposal.$Properties {
  return { height: u64(p.height), round: p.round, polRound: p.polRound, blockId: blockIdToProto(p.blockId), timestamp: timestampToProto(p.timestamp), signature: p.signature, block: p.block };
}

function proposalFromProto(p: MetroProto.consensus.v1.Proposal.$Properties): SignedProposal {
  const proposal: SignedProposal = {
    height: big(p.height as Long),
    round: p.round ?? 0,
    polRound: p.polRound ?? 0,
    blockId: blockIdFromProto(p.blockId),
    timestamp: timestampFromProto(p.timestamp),
    signature: p.signature ?? new Uint8Array(),
    block: p.block ?? new Uint8Array(),
  };
  expect(proposal.height >= 1n, "proposal height below 1");
  expect(proposal.round >= 0 && proposal.polRound >= -1 && proposal.polRound < proposal.round, "proposal rounds out of range");
  checkBlockId(proposal.blockId, false);
  checkTimestamp(proposal.timestamp);
  expect(proposal.signature.length === SIGNATURE_SIZE, "proposal signature size");
  return proposal;
}

function voteToProto(v: SignedVote): MetroProto.consensus.v1.Vote.$Properties {
  return { type: v.type, height: u64(v.height), round: v.round, blockId: blockIdToProto(v.blockId), timestamp: timestampToProto(v.timestamp), validatorIndex: v.validatorIndex, signature: v.signature };
}

function voteFromProto(v: MetroProto.consensus.v1.Vote.$Properties): SignedVote {
  const type = v.type ?? 0;
  expect(type === PREVOTE || type === PRECOMMIT, `unknown vote type ${type}`);
  const vote: SignedVote = {
    type: type as VoteType,
    height: big(v.height as Long),
    round: v.round ?? 0,
    blockId: blockIdFromProto(v.blockId),
    timestamp: timestampFromProto(v.timestamp),
    validatorIndex: v.validatorIndex ?? 0,
    signature: v.signature ?? new Uint8Array(),
  };
  expect(vote.height >= 1n && vote.round >= 0, "vote height or round out of range");
  checkBlockId(vote.blockId, true);
  checkTimestamp(vote.timestamp);
  expect(vote.signature.length === SIGNATURE_SIZE, "vote signature size");
  return vote;
}

function checkCommit(c: Commit): void {
  expect(c.height >= 1n && c.round >= 0 && c.round <= MAX_ROUND, "commit height or round out of range");
  checkBlockId(c.blockId, false);
  for (const s of c.signatures) {
    expect(s.blockIdFlag === 1 || s.blockIdFlag === 2 || s.blockIdFlag === 3, "commit signature flag");
    checkTimestamp(s.timestamp);
  }
}

export function messageToProto(m: ConsensusMessage): MetroProto.consensus.v1.ConsensusMessage.$Properties {
  switch (m.kind) {
    case "proposal":
      return { proposal: proposalToProto(m.proposal) };
    case "vote":
      return { vote: voteToProto(m.vote) };
    case "commit":
      return { commit: commitToProto(m.commit) };
  }
}

export function messageFromProto(m: MetroProto.consensus.v1.ConsensusMessage): ConsensusMessage {
  if (m.proposal) return { kind: "proposal", proposal: proposalFromProto(m.proposal) };
  if (m.vote) return { kind: "vote", vote: voteFromProto(m.vote) };
  if (m.commit) {
    const commit = commitFromProto(m.commit);
    checkCommit(commit);
    return { kind: "commit", commit };
  }
  throw new MalformedMessageError("empty consensus message");
}

export function encodeMessage(m: ConsensusMessage): Uint8Array {
  return pb.ConsensusMessage.encode(messageToProto(m)).finish();
}

/** Throws MalformedMessageError (or a protobuf decoding error) on bytes that are not a message. */
export function decodeMessage(bytes: Uint8Array): ConsensusMessage {
  return messageFromProto(pb.ConsensusMessage.decode(bytes));
}
