// The pure Tendermint state machine, rule by rule (Algorithm 1 of "The latest gossip on BFT
// consensus"): proposals and prevotes, locking on a polka and unlocking through a POL round, commit
// on +2/3 precommits, round skips, timeouts growing with the round, and the checks on every input.
import { describe, expect, it } from "vitest";
import { verifyCommit } from "../../cometbft/verify-commit.ts";
import { PRECOMMIT, PREVOTE, blockKey } from "../../sequencer/consensus/messages.ts";
import { catchUpMessages, gossipMessages, initialState, proposerOf, step, type ConsensusState } from "../../sequencer/consensus/state-machine.ts";
import { STEP_COMMIT_TIMEOUT, STEP_PRECOMMIT_TIMEOUT, STEP_PREVOTE_TIMEOUT, STEP_PROPOSE_TIMEOUT } from "../../sequencer/consensus/timeouts.ts";
import { CHAIN_ID, machine, nonProposer, ofType, ownVote, precommit, prevote, proposal, run, TIMEOUTS, value, VALIDATORS, KEYS } from "./harness.ts";

const A = value("A");
const B = value("B");

/** Started, with the round-0 proposal for `v` received and judged valid: the node has prevoted. */
function prevotedFor(self: number, v = A): { state: ConsensusState; outputs: ReturnType<typeof run>["outputs"] } {
  let state = machine(self);
  state = run(state, { type: "start" }).state;
  return run(state, { type: "proposal", proposal: proposal(state, 0, v) }, { type: "validated", height: 1n, blockId: v.blockId, valid: true });
}

function others(self: number): number[] {
  return [0, 1, 2, 3].filter((i) => i !== self);
}

describe("state machine: propose and prevote", () => {
  const self = nonProposer();

  it("starts round 0 with a propose timeout, or asks the app for a block when it proposes", () => {
    const { outputs } = run(machine(self), { type: "start" });
    expect(ofType(outputs, "schedule").map((o) => o.timeout)).toEqual([{ height: 1n, round: 0, step: STEP_PROPOSE_TIMEOUT }]);
    expect(ofType(outputs, "build")).toEqual([]);
    const proposer = proposerOf(machine(undefined), 0);
    const asProposer = run(machine(proposer), { type: "start" });
    expect(ofType(asProposer.outputs, "build")).toEqual([{ type: "build", height: 1n, round: 0, lastCommit: undefined }]);
  });

  it("a proposer signs and broadcasts the block the app built, then prevotes it", () => {
    const proposer = proposerOf(machine(undefined), 0);
    let { state } = run(machine(proposer), { type: "start" });
    const { outputs, state: proposed } = run(state, { type: "built", height: 1n, round: 0, value: A });
    const sent = ofType(outputs, "broadcast").map((o) => o.message);
    expect(sent[0]).toMatchObject({ kind: "proposal", proposal: { height: 1n, round: 0, polRound: -1 } });
    expect(blockKey(ownVote(outputs, PREVOTE, 0)!.blockId)).toBe(blockKey(A.blockId));
    // A second build result for the same round is stale.
    state = proposed;
    expect(step(state, { type: "built", height: 1n, round: 0, value: B }).state).toBe(state);
  });

  it("drops a block built after its propose timeout already made it prevote nil", () => {
    const proposer = proposerOf(machine(undefined), 0);
    let { state } = run(machine(proposer), { type: "start" });
    state = run(state, { type: "timeout", timeout: { height: 1n, round: 0, step: STEP_PROPOSE_TIMEOUT } }).state;
    expect(state.step).toBe("prevote");
    expect(step(state, { type: "built", height: 1n, round: 0, value: A }).state).toBe(state);
  });

  it("asks the app to validate a proposal and prevotes only once the verdict is in", () => {
    let state = run(machine(self), { type: "start" }).state;
    const received = run(state, { type: "proposal", proposal: proposal(state, 0, A) });
    expect(ofType(received.outputs, "validate").map((o) => blockKey(o.value.blockId))).toEqual([blockKey(A.blockId)]);
    expect(ofType(received.outputs, "sign")).toEqual([]);
    state = received.state;
    const judged = run(state, { type: "validated", height: 1n, blockId: A.blockId, valid: true });
    expect(blockKey(ownVote(judged.outputs, PREVOTE, 0)!.blockId)).toBe(blockKey(A.blockId));
    expect(judged.state.step).toBe("prevote");
  });

  it("prevotes nil for an invalid block and on the propose timeout", () => {
    let state = run(machine(self), { type: "start" }).state;
    const invalid = run(state, { type: "proposal", proposal: proposal(state, 0, A) }, { type: "validated", height: 1n, blockId: A.blockId, valid: false });
    expect(ownVote(invalid.outputs, PREVOTE, 0)!.blockId.hash).toHaveLength(0);
    const timedOut = run(state, { type: "timeout", timeout: { height: 1n, round: 0, step: STEP_PROPOSE_TIMEOUT } });
    expect(ownVote(timedOut.outputs, PREVOTE, 0)!.blockId.hash).toHaveLength(0);
    expect(timedOut.state.step).toBe("prevote");
    // A stale timeout (another round or step) changes nothing.
    state = timedOut.state;
    expect(step(state, { type: "timeout", timeout: { height: 1n, round: 0, step: STEP_PROPOSE_TIMEOUT } }).state).toBe(state);
  });

  it("drops proposals that are forged, from the wrong proposer, for another height, or whose bytes do not match the signed id", () => {
    const state = run(machine(self), { type: "start" }).state;
    const notProposer = others(proposerOf(state, 0))[0];
    expect(step(state, { type: "proposal", proposal: proposal(state, 0, A, -1, notProposer) }).state).toBe(state);
    const forged = { ...proposal(state, 0, A), signature: new Uint8Array(64) };
    expect(step(state, { type: "proposal", proposal: forged }).state).toBe(state);
    expect(step(state, { type: "proposal", proposal: { ...proposal(state, 0, A), block: B.block } }).state).toBe(state);
    expect(step(state, { type: "proposal", proposal: { ...proposal(machine(self, 2n), 0, A) } }).state).toBe(state);
  });
});

describe("state machine: locking, unlocking, deciding", () => {
  const self = nonProposer();

  it("locks on a polka (+2/3 prevotes for the proposal) and precommits it", () => {
    let { state } = prevotedFor(self);
    const [x, y] = others(self);
    state = run(state, { type: "vote", vote: prevote(x, 0, A) }).state;
    expect(state.lockedRound).toBe(-1);
    const { state: locked, outputs } = run(state, { type: "vote", vote: prevote(y, 0, A) });
    expect(locked.lockedRound).toBe(0);
    expect(locked.lockedValue).toBe(blockKey(A.blockId));
    expect(locked.validRound).toBe(0);
    expect(blockKey(ownVote(outputs, PRECOMMIT, 0)!.blockId)).toBe(blockKey(A.blockId));
    expect(locked.step).toBe("precommit");
  });

  it("precommits nil on +2/3 nil prevotes, and waits out +2/3 mixed prevotes with the prevote timeout", () => {
    let { state } = prevotedFor(self);
    const [x, y, z] = others(self);
    const mixed = run(state, { type: "vote", vote: prevote(x, 0, undefined) }, { type: "vote", vote: prevote(y, 0, B) });
    expect(ofType(mixed.outputs, "schedule").map((o) => o.timeout.step)).toEqual([STEP_PREVOTE_TIMEOUT]);
    expect(ofType(mixed.outputs, "schedule")[0].delayMs).toBe(TIMEOUTS.prevoteMs);
    state = mixed.state;
    const timedOut = run(state, { type: "timeout", timeout: { height: 1n, round: 0, step: STEP_PREVOTE_TIMEOUT } });
    expect(ownVote(timedOut.outputs, PRECOMMIT, 0)!.blockId.hash).toHaveLength(0);
    const nils = run(prevotedFor(self).state, { type: "vote", vote: prevote(x, 0, undefined) }, { type: "vote", vote: prevote(y, 0, undefined) }, { type: "vote", vote: prevote(z, 0, undefined) });
    expect(ownVote(nils.outputs, PRECOMMIT, 0)!.blockId.hash).toHaveLength(0);
  });

  it("decides on +2/3 precommits with a commit that verifies, then starts the next height after the commit timeout", () => {
    let { state } = prevotedFor(self);
    const [x, y] = others(self);
    state = run(state, { type: "vote", vote: prevote(x, 0, A) }, { type: "vote", vote: prevote(y, 0, A) }).state;
    const decided = run(state, { type: "vote", vote: precommit(x, 0, A) }, { type: "vote", vote: precommit(y, 0, A) });
    const [decision] = ofType(decided.outputs, "decide").map((o) => o.decision);
    expect(decision.height).toBe(1n);
    expect(blockKey(decision.value.blockId)).toBe(blockKey(A.blockId));
    expect(() => verifyCommit(CHAIN_ID, VALIDATORS, 1n, A.blockId, decision.commit)).not.toThrow();
    expect(decision.commit.signatures.filter((s) => s.blockIdFlag === 2)).toHaveLength(3);
    expect(ofType(decided.outputs, "schedule").map((o) => o.timeout)).toContainEqual({ height: 1n, round: 0, step: STEP_COMMIT_TIMEOUT });
    state = decided.state;
    expect(state.step).toBe("commit");
    // A late precommit joins the commit the next height's proposal carries.
    const [z] = others(self).filter((i) => i !== x && i !== y);
    state = run(state, { type: "vote", vote: precommit(z, 0, A) }).state;
    const next = run(state, { type: "timeout", timeout: { height: 1n, round: 0, step: STEP_COMMIT_TIMEOUT } });
    expect(next.state.height).toBe(2n);
    expect(next.state.round).toBe(0);
    expect(next.state.lastCommit!.signatures.filter((s) => s.blockIdFlag === 2)).toHaveLength(4);
    expect(next.state.lockedRound).toBe(-1);
  });

  it("a node locked on A prevotes nil for a fresh proposal of B in a later round", () => {
    let { state } = prevotedFor(self);
    const [x, y] = others(self);
    state = run(state, { type: "vote", vote: prevote(x, 0, A) }, { type: "vote", vote: prevote(y, 0, A) }).state;
    expect(state.lockedRound).toBe(0);
    state = run(state, { type: "vote", vote: precommit(x, 0, undefined) }, { type: "vote", vote: precommit(y, 0, undefined) }, { type: "timeout", timeout: { height: 1n, round: 0, step: STEP_PRECOMMIT_TIMEOUT } }).state;
    expect(state.round).toBe(1);
    const fresh = run(state, { type: "proposal", proposal: proposal(state, 1, B) }, { type: "validated", height: 1n, blockId: B.blockId, valid: true });
    expect(ownVote(fresh.outputs, PREVOTE, 1)!.blockId.hash).toHaveLength(0);
    // The locked block itself, re-proposed with its POL round, is prevoted.
    const again = run(state, { type: "proposal", proposal: proposal(state, 1, A, 0) });
    expect(blockKey(ownVote(again.outputs, PREVOTE, 1)!.blockId)).toBe(blockKey(A.blockId));
  });

  it("unlocks for a block with +2/3 prevotes in a POL round at or after its lock, and needs those prevotes", () => {
    let { state } = prevotedFor(self);
    const [x, y, z] = others(self);
    state = run(state, { type: "vote", vote: prevote(x, 0, A) }, { type: "vote", vote: prevote(y, 0, A) }).state;
    expect(state.lockedValue).toBe(blockKey(A.blockId));
    // Round 1: this node sees nothing in time; the others prevote B (+2/3 without it).
    state = run(state, { type: "vote", vote: precommit(x, 0, undefined) }, { type: "vote", vote: precommit(y, 0, undefined) }, { type: "timeout", timeout: { height: 1n, round: 0, step: STEP_PRECOMMIT_TIMEOUT } }).state;
    state = run(state, { type: "timeout", timeout: { height: 1n, round: 1, step: STEP_PROPOSE_TIMEOUT } }).state;
    state = run(state, { type: "proposal", proposal: proposal(state, 1, B) }, { type: "validated", height: 1n, blockId: B.blockId, valid: true }).state;
    state = run(state, { type: "vote", vote: precommit(x, 1, undefined) }, { type: "vote", vote: precommit(y, 1, undefined) }, { type: "vote", vote: precommit(z, 1, undefined) }).state;
    state = run(state, { type: "timeout", timeout: { height: 1n, round: 1, step: STEP_PRECOMMIT_TIMEOUT } }).state;
    expect(state.round).toBe(2);
    // Round 2 re-proposes B with POL round 1: without the round-1 polka this node cannot accept it.
    const withoutPol = run(state, { type: "proposal", proposal: proposal(state, 2, B, 1) });
    expect(ownVote(withoutPol.outputs, PREVOTE, 2)).toBeUndefined();
    const withPol = run(withoutPol.state, { type: "vote", vote: prevote(x, 1, B) }, { type: "vote", vote: prevote(y, 1, B) }, { type: "vote", vote: prevote(z, 1, B) });
    expect(blockKey(ownVote(withPol.outputs, PREVOTE, 2)!.blockId)).toBe(blockKey(B.blockId));
    // A polka of an earlier round does not move the valid value; only the current round's does.
    expect(withPol.state.validValue).toBe(blockKey(A.blockId));
    expect(withPol.state.lockedValue).toBe(blockKey(A.blockId));
  });

  it("a proposer with a valid value re-proposes it with its valid round as the POL round", () => {
    const proposer1 = proposerOf(machine(undefined), 1);
    let state = run(machine(proposer1), { type: "start" }).state;
    const rest = others(proposer1);
    state = run(state, { type: "proposal", proposal: proposal(state, 0, A) }, { type: "validated", height: 1n, blockId: A.blockId, valid: true }).state;
    state = run(state, ...rest.slice(0, 2).map((i) => ({ type: "vote" as const, vote: prevote(i, 0, A) }))).state;
    expect(state.validRound).toBe(0);
    state = run(state, ...rest.map((i) => ({ type: "vote" as const, vote: precommit(i, 0, undefined) }))).state;
    const next = run(state, { type: "timeout", timeout: { height: 1n, round: 0, step: STEP_PRECOMMIT_TIMEOUT } });
    expect(ofType(next.outputs, "build")).toEqual([]);
    const sent = ofType(next.outputs, "broadcast").find((o) => o.message.kind === "proposal")!.message;
    expect(sent).toMatchObject({ kind: "proposal", proposal: { round: 1, polRound: 0 } });
  });

  it("decides from a relayed commit once it holds the block", () => {
    let { state } = prevotedFor(self);
    const [x, y] = others(self);
    const other = run(machine(x), { type: "start" }).state;
    let peer = run(other, { type: "proposal", proposal: proposal(other, 0, A) }, { type: "validated", height: 1n, blockId: A.blockId, valid: true }).state;
    peer = run(peer, { type: "vote", vote: prevote(self, 0, A) }, { type: "vote", vote: prevote(y, 0, A) }).state;
    const decided = run(peer, { type: "vote", vote: precommit(self, 0, A) }, { type: "vote", vote: precommit(y, 0, A) });
    const commit = ofType(decided.outputs, "decide")[0].decision.commit;
    const { outputs } = run(state, { type: "commit", commit });
    expect(ofType(outputs, "decide")).toHaveLength(1);
    // A commit with a forged signature is ignored.
    const forged = { ...commit, signatures: commit.signatures.map((s) => (s.blockIdFlag === 2 ? { ...s, signature: new Uint8Array(64).fill(1) } : s)) };
    state = prevotedFor(self).state;
    expect(step(state, { type: "commit", commit: forged }).state).toBe(state);
  });
});

describe("state machine: rounds and timeouts", () => {
  const self = nonProposer();

  it("timeouts grow with the round", () => {
    let { state } = run(machine(self), { type: "start" });
    const delays: number[] = [];
    for (let round = 0; round < 3; round++) {
      state = run(state, { type: "timeout", timeout: { height: 1n, round, step: STEP_PROPOSE_TIMEOUT } }).state;
      const prevotes = others(self).map((i) => ({ type: "vote" as const, vote: prevote(i, round, undefined) }));
      state = run(state, ...prevotes).state;
      const precommits = run(state, ...others(self).map((i) => ({ type: "vote" as const, vote: precommit(i, round, undefined) })));
      delays.push(ofType(precommits.outputs, "schedule").find((o) => o.timeout.step === STEP_PRECOMMIT_TIMEOUT)!.delayMs);
      const next = run(precommits.state, { type: "timeout", timeout: { height: 1n, round, step: STEP_PRECOMMIT_TIMEOUT } });
      const propose = ofType(next.outputs, "schedule").find((o) => o.timeout.step === STEP_PROPOSE_TIMEOUT)!;
      expect(propose.delayMs).toBe(TIMEOUTS.proposeMs + TIMEOUTS.proposeDeltaMs * (round + 1));
      state = next.state;
      if (ofType(next.outputs, "build").length > 0) state = run(state, { type: "built", height: 1n, round: round + 1, value: value(`r${round + 1}`) }).state;
    }
    expect(delays).toEqual([0, 1, 2].map((r) => TIMEOUTS.precommitMs + TIMEOUTS.precommitDeltaMs * r));
  });

  it("skips to a round where more than 1/3 of the power is, and not on 1/3 or less", () => {
    const state = run(machine(self), { type: "start" }).state;
    const [x, y] = others(self);
    const one = run(state, { type: "vote", vote: prevote(x, 5, undefined) });
    expect(one.state.round).toBe(0);
    const two = run(one.state, { type: "vote", vote: precommit(y, 4, undefined) });
    // x is at round 5 and y at 4: together (2 of 4) they show a correct node reached round 4.
    expect(two.state.round).toBe(4);
  });

  it("helps a node one height back with the commit, and the block when it decided it itself", () => {
    let { state } = prevotedFor(self);
    const [x, y] = others(self);
    state = run(state, { type: "vote", vote: prevote(x, 0, A) }, { type: "vote", vote: prevote(y, 0, A) }, { type: "vote", vote: precommit(x, 0, A) }, { type: "vote", vote: precommit(y, 0, A) }).state;
    const next = run(state, { type: "timeout", timeout: { height: 1n, round: 0, step: STEP_COMMIT_TIMEOUT } }).state;
    expect(catchUpMessages(next, false).map((m) => m.kind)).toEqual(["commit"]);
    expect(catchUpMessages(next, true).map((m) => m.kind)).toEqual(["proposal", "commit"]);
    // After a restart only the stored commit is known; it is enough for a node holding the block.
    const restarted = initialState(next.config, { height: 2n, priorities: next.priorities, lastCommit: next.lastCommit });
    expect(catchUpMessages(restarted, true).map((m) => m.kind)).toEqual(["commit"]);
  });

  it("re-gossips its current round: its own votes, and the proposal when blocks are included", () => {
    const { state } = prevotedFor(self);
    expect(gossipMessages(state, true).map((m) => m.kind)).toEqual(["proposal", "vote"]);
    expect(gossipMessages(state, false).map((m) => m.kind)).toEqual(["vote"]);
  });

  it("stops re-sending a block once every other validator has voted for it (they hold it)", () => {
    let { state } = prevotedFor(self);
    const [x, y, z] = others(self);
    state = run(state, { type: "vote", vote: prevote(x, 0, A) }, { type: "vote", vote: precommit(y, 0, A) }).state;
    expect(gossipMessages(state, true).map((m) => m.kind)).toEqual(["proposal", "vote"]);
    // A nil vote does not show the block is held.
    const nil = run(state, { type: "vote", vote: prevote(z, 0, undefined) }).state;
    expect(gossipMessages(nil, true).map((m) => m.kind)).toEqual(["proposal", "vote"]);
    // The last prevote is also the polka: this node's prevote and precommit go out, the block does not.
    const all = run(state, { type: "vote", vote: prevote(z, 0, A) }).state;
    expect(gossipMessages(all, true).map((m) => m.kind)).toEqual(["vote", "vote"]);
  });
});

describe("state machine: vote checks and evidence", () => {
  const self = nonProposer();

  it("ignores duplicates, forgeries, non-validators and other heights", () => {
    const state = run(machine(self), { type: "start" }).state;
    const [x] = others(self);
    const once = step(state, { type: "vote", vote: prevote(x, 0, A) }).state;
    expect(once).not.toBe(state);
    expect(step(once, { type: "vote", vote: prevote(x, 0, A) }).state).toBe(once);
    expect(step(state, { type: "vote", vote: { ...prevote(x, 0, A), signature: new Uint8Array(64) } }).state).toBe(state);
    expect(step(state, { type: "vote", vote: { ...prevote(x, 0, A), validatorIndex: 9 } }).state).toBe(state);
    expect(step(state, { type: "vote", vote: { ...prevote(x, 0, A), validatorIndex: others(self)[1] } }).state).toBe(state);
    expect(step(state, { type: "vote", vote: prevote(x, 0, A, 2n) }).state).toBe(state);
  });

  it("records a double vote as evidence and counts the validator once", () => {
    let state = run(machine(self), { type: "start" }).state;
    const [x] = others(self);
    state = run(state, { type: "vote", vote: prevote(x, 0, A) }).state;
    const { state: after, outputs } = run(state, { type: "vote", vote: prevote(x, 0, B) });
    const [evidence] = ofType(outputs, "evidence").map((o) => o.evidence);
    expect(evidence).toMatchObject({ kind: "duplicate-vote", height: 1n, round: 0, type: PREVOTE, validatorIndex: x });
    expect(blockKey(evidence.first.blockId)).toBe(blockKey(A.blockId));
    expect(blockKey(evidence.second.blockId)).toBe(blockKey(B.blockId));
    expect(after.rounds.get(0)!.prevotes.power).toBe(1n);
    expect(after.evidence).toHaveLength(1);
    // The same pair again is not new evidence.
    expect(ofType(run(after, { type: "vote", vote: prevote(x, 0, B) }).outputs, "evidence")).toHaveLength(0);
  });

  it("counts an equivocator's vote for a block it holds, so a polka others saw is not lost", () => {
    let { state } = prevotedFor(self);
    const [x, y] = others(self);
    // x's nil prevote arrived first; its prevote for A (relayed by a peer) still counts for A.
    state = run(state, { type: "vote", vote: prevote(x, 0, undefined) }, { type: "vote", vote: prevote(y, 0, A) }).state;
    const { state: locked } = run(state, { type: "vote", vote: prevote(x, 0, A) });
    expect(locked.lockedValue).toBe(blockKey(A.blockId));
    expect(locked.rounds.get(0)!.prevotes.power).toBe(3n);
  });

  it("a node that is not a validator follows without signing", () => {
    const { outputs, state } = run(machine(undefined), { type: "start" }, { type: "timeout", timeout: { height: 1n, round: 0, step: STEP_PROPOSE_TIMEOUT } });
    expect(ofType(outputs, "sign")).toEqual([]);
    expect(state.step).toBe("prevote");
    expect(KEYS).toHaveLength(4);
  });
});
