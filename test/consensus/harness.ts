// Test helpers for driving the pure state machine by hand: four validators with fixed keys, signed
// votes and proposals from any of them, and a loop that signs what the machine asks to sign.
import { ed25519FromSeed, ed25519Sign, type Ed25519Key } from "../../cometbft/ed25519.ts";
import { sha256 } from "../../cometbft/hash.ts";
import type { BlockID } from "../../cometbft/header.ts";
import { NIL_BLOCK_ID, proposalBytesToSign, voteBytesToSign, PREVOTE, PRECOMMIT, type SignedProposal, type SignedVote, type VoteType } from "../../sequencer/consensus/messages.ts";
import { prioritiesAtHeight } from "../../sequencer/consensus/proposer.ts";
import { initialState, machineConfig, proposerOf, step, type ConsensusState, type MachineInput, type MachineOutput, type Value } from "../../sequencer/consensus/state-machine.ts";
import type { TimeoutConfig } from "../../sequencer/consensus/timeouts.ts";

export const CHAIN_ID = "sm-test";
export const TIMEOUTS: TimeoutConfig = { proposeMs: 1000, proposeDeltaMs: 100, prevoteMs: 500, prevoteDeltaMs: 50, precommitMs: 400, precommitDeltaMs: 40, commitMs: 300 };
export const KEYS: Ed25519Key[] = [0, 1, 2, 3].map((i) => ed25519FromSeed(sha256(new TextEncoder().encode(`state-machine-test/${i}`))));
export const VALIDATORS = KEYS.map((k) => ({ pubKey: k.publicKey, votingPower: 1n }));
export const TIME = { seconds: 1_700_000_000n, nanos: 0 };

export function blockIdOf(bytes: Uint8Array): BlockID | undefined {
  if (bytes.length === 0) return undefined;
  return { hash: sha256(bytes), partSetHeader: { total: 1, hash: sha256(new Uint8Array([1, ...bytes])) } };
}

export function value(tag: string): Value {
  const block = new TextEncoder().encode(`block ${tag}`);
  return { blockId: blockIdOf(block)!, block };
}

export function machine(self: number | undefined, height = 1n, validators = VALIDATORS): ConsensusState {
  const config = machineConfig({ chainId: CHAIN_ID, validators, selfPubKey: self === undefined ? undefined : KEYS[self].publicKey, timeouts: TIMEOUTS, blockIdOf });
  return initialState(config, { height, priorities: prioritiesAtHeight(config.validators, 1n, height), lastCommit: undefined });
}

export function vote(i: number, type: VoteType, round: number, v: Value | undefined, height = 1n): SignedVote {
  const unsigned = { type, height, round, blockId: v ? v.blockId : NIL_BLOCK_ID, timestamp: TIME, validatorIndex: i };
  return { ...unsigned, signature: ed25519Sign(KEYS[i], voteBytesToSign(CHAIN_ID, unsigned)) };
}

export const prevote = (i: number, round: number, v: Value | undefined, height = 1n) => vote(i, PREVOTE, round, v, height);
export const precommit = (i: number, round: number, v: Value | undefined, height = 1n) => vote(i, PRECOMMIT, round, v, height);

/** A proposal signed by the round's proposer (or by `signer`, to forge one). */
export function proposal(state: ConsensusState, round: number, v: Value, polRound = -1, signer = proposerOf(state, round)): SignedProposal {
  const unsigned = { height: state.height, round, polRound, blockId: v.blockId, timestamp: TIME };
  return { ...unsigned, signature: ed25519Sign(KEYS[signer], proposalBytesToSign(CHAIN_ID, unsigned)), block: v.block };
}

/** Steps through `inputs`, signing whatever the machine asks (as its own validator) and feeding it back. */
export function run(state: ConsensusState, ...inputs: MachineInput[]): { state: ConsensusState; outputs: MachineOutput[] } {
  const outputs: MachineOutput[] = [];
  const queue = [...inputs];
  while (queue.length > 0) {
    const result = step(state, queue.shift()!);
    state = result.state;
    for (const output of result.outputs) {
      outputs.push(output);
      if (output.type !== "sign") continue;
      const r = output.request;
      const self = state.config.self!;
      if (r.kind === "vote") {
        const v = { ...r.vote, timestamp: TIME };
        queue.unshift({ type: "signed", message: { kind: "vote", vote: { ...v, signature: ed25519Sign(KEYS[self], voteBytesToSign(CHAIN_ID, v)) } } });
      } else {
        const p = { ...r.proposal, timestamp: TIME };
        queue.unshift({ type: "signed", message: { kind: "proposal", proposal: { ...p, signature: ed25519Sign(KEYS[self], proposalBytesToSign(CHAIN_ID, p)), block: r.block } } });
      }
    }
  }
  return { state, outputs };
}

export function ofType<T extends MachineOutput["type"]>(outputs: MachineOutput[], type: T): Extract<MachineOutput, { type: T }>[] {
  return outputs.filter((o): o is Extract<MachineOutput, { type: T }> => o.type === type);
}

/** The vote this node broadcast of `type` in `round`, if any. */
export function ownVote(outputs: MachineOutput[], type: VoteType, round: number): SignedVote | undefined {
  for (const o of ofType(outputs, "broadcast")) if (o.message.kind === "vote" && o.message.vote.type === type && o.message.vote.round === round) return o.message.vote;
  return undefined;
}

/** A validator that proposes in none of rounds 0..2 at height 1 (four equal validators take turns). */
export function nonProposer(): number {
  const s = machine(undefined);
  const self = proposerOf(s, 3);
  if ([0, 1, 2].some((r) => proposerOf(s, r) === self)) throw new Error("expected round-robin proposers");
  return self;
}
