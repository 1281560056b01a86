// Proposer rotation against CometBFT's own expectations (types/validator_set_test.go:
// TestProposerSelection1/2, TestAveragingInIncrementProposerPriority and ...WithVotingPower).
import { describe, expect, it } from "vitest";
import { genesisPriorities, incrementPriorities, nextHeightPriorities, prioritiesAtHeight, proposerIndex, type ProposerCandidate, type ProposerPriorities } from "../../sequencer/consensus/proposer.ts";

const text = (s: string) => new TextEncoder().encode(s);
const addr = (last: number) => Uint8Array.from({ length: 20 }, (_, i) => (i === 19 ? last : 0));

function sequence(validators: ProposerCandidate[], count: number): number[] {
  let set = genesisPriorities(validators);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    out.push(set.proposer);
    set = incrementPriorities(set, 1);
  }
  return out;
}

describe("proposer priorities (CometBFT)", () => {
  it("reproduces TestProposerSelection1's 99 proposers for powers 1000/300/330", () => {
    const names = ["foo", "bar", "baz"];
    const validators = [
      { address: text("foo"), votingPower: 1000n },
      { address: text("bar"), votingPower: 300n },
      { address: text("baz"), votingPower: 330n },
    ];
    const expected =
      "foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar" +
      " foo foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar" +
      " foo baz foo foo bar foo baz foo foo bar foo baz foo foo foo baz bar foo foo foo baz" +
      " foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo" +
      " foo bar foo baz foo foo bar foo baz foo foo bar foo baz foo foo";
    expect(sequence(validators, 99).map((i) => names[i]).join(" ")).toBe(expected);
  });

  it("goes by address for equal power and lets more power propose more (TestProposerSelection2)", () => {
    expect(sequence([0, 1, 2].map((i) => ({ address: addr(i), votingPower: 100n })), 15)).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2]);
    expect(sequence([{ address: addr(0), votingPower: 100n }, { address: addr(1), votingPower: 100n }, { address: addr(2), votingPower: 400n }], 2)).toEqual([2, 0]);
    expect(sequence([{ address: addr(0), votingPower: 100n }, { address: addr(1), votingPower: 100n }, { address: addr(2), votingPower: 401n }], 3)).toEqual([2, 2, 0]);
    const counts = [0, 0, 0];
    for (const i of sequence([{ address: addr(0), votingPower: 4n }, { address: addr(1), votingPower: 5n }, { address: addr(2), votingPower: 3n }], 120)) counts[i]++;
    expect(counts).toEqual([40, 50, 30]);
  });

  it("centres priorities on their flooring average (TestAveragingInIncrementProposerPriority)", () => {
    const cases: { priorities: bigint[]; times: number; avg: bigint }[] = [
      { priorities: [1n, 2n, 3n], times: 1, avg: 2n },
      { priorities: [10n, -10n, 1n], times: 11, avg: 0n },
      { priorities: [100n, -10n, 1n], times: 1, avg: 30n },
    ];
    for (const c of cases) {
      const set: ProposerPriorities = { validators: ["a", "b", "c"].map((a) => ({ address: text(a), votingPower: 0n })), priorities: c.priorities, proposer: 0 };
      expect(incrementPriorities(set, c.times).priorities).toEqual(c.priorities.map((p) => p - c.avg));
    }
  });

  it("moves priorities by power and total as TestAveragingInIncrementProposerPriorityWithVotingPower expects", () => {
    const [vp0, vp1, vp2] = [10n, 1n, 1n];
    const total = vp0 + vp1 + vp2;
    const set: ProposerPriorities = { validators: [0, 1, 2].map((i) => ({ address: Uint8Array.of(i), votingPower: [vp0, vp1, vp2][i] })), priorities: [0n, 0n, 0n], proposer: 0 };
    const cases: { times: number; want: bigint[]; proposer: number }[] = [
      { times: 1, want: [vp0 - total, vp1, vp2], proposer: 0 },
      { times: 2, want: [2n * (vp0 - total), 2n * vp1, 2n * vp2], proposer: 0 },
      { times: 3, want: [3n * (vp0 - total), 3n * vp1, 3n * vp2], proposer: 0 },
      { times: 4, want: [4n * (vp0 - total), 4n * vp1, 4n * vp2], proposer: 0 },
      { times: 5, want: [4n * (vp0 - total) + vp0, 5n * vp1 - total, 5n * vp2], proposer: 1 },
      { times: 6, want: [6n * vp0 - 5n * total, 6n * vp1 - total, 6n * vp2], proposer: 0 },
      { times: 7, want: [7n * vp0 - 6n * total, 7n * vp1 - total, 7n * vp2], proposer: 0 },
    ];
    for (const c of cases) {
      const after = incrementPriorities(set, c.times);
      expect(after.priorities).toEqual(c.want);
      expect(after.proposer).toBe(c.proposer);
    }
  });

  it("names the round-r proposer as a pure function of (height, round)", () => {
    const validators = [{ address: addr(3), votingPower: 7n }, { address: addr(1), votingPower: 2n }, { address: addr(2), votingPower: 5n }, { address: addr(9), votingPower: 1n }];
    const h5 = prioritiesAtHeight(validators, 1n, 5n);
    let stepwise = h5;
    for (let h = 5n; h < 9n; h++) stepwise = nextHeightPriorities(stepwise);
    expect(prioritiesAtHeight(validators, 1n, 9n)).toEqual(stepwise);
    // Round r: the height's set incremented r times, however the node got to round r.
    let oneByOne = h5;
    for (let r = 1; r <= 12; r++) {
      oneByOne = incrementPriorities(oneByOne, 1);
      expect(proposerIndex(h5, r)).toBe(oneByOne.proposer);
      expect(proposerIndex(h5, r)).toBe(incrementPriorities(h5, r).proposer);
    }
    expect(proposerIndex(h5, 0)).toBe(h5.proposer);
  });
});
