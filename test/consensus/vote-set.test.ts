// Vote sets: power tallies, the strict +2/3 threshold, duplicates and equivocation.
import { describe, expect, it } from "vitest";
import { blockKey, PREVOTE } from "../../sequencer/consensus/messages.ts";
import { addVote, classifyVote, emptyVoteSet, exceedsOneThird, exceedsTwoThirds, hasTwoThirdsAny, hasTwoThirdsFor, twoThirdsMajorities, type VoteSet } from "../../sequencer/consensus/vote-set.ts";
import { prevote, precommit, value } from "./harness.ts";

const A = value("A");
const B = value("B");
const power = [3n, 3n, 3n, 1n];
const TOTAL = 10n;

function add(set: VoteSet, ...votes: ReturnType<typeof prevote>[]): VoteSet {
  for (const v of votes) {
    const r = addVote(set, v, power[v.validatorIndex]);
    if (r.outcome !== "added") throw new Error(`expected ${v.validatorIndex} to be added, got ${r.outcome}`);
    set = r.set;
  }
  return set;
}

describe("vote set", () => {
  it("thresholds are strict: more than 2/3 and more than 1/3 of the power", () => {
    expect(exceedsTwoThirds(6n, 9n)).toBe(false);
    expect(exceedsTwoThirds(7n, 9n)).toBe(true);
    expect(exceedsTwoThirds(7n, 10n)).toBe(true);
    expect(exceedsTwoThirds(6n, 10n)).toBe(false);
    expect(exceedsOneThird(3n, 9n)).toBe(false);
    expect(exceedsOneThird(4n, 9n)).toBe(true);
  });

  it("tallies power per block and in total, and finds the +2/3 block", () => {
    let set = add(emptyVoteSet(PREVOTE, 0, 4), prevote(0, 0, A), prevote(3, 0, undefined));
    expect(set.power).toBe(4n);
    expect(set.blocks.get(blockKey(A.blockId))!.power).toBe(3n);
    expect(set.blocks.get("")!.power).toBe(1n);
    expect(hasTwoThirdsAny(set, TOTAL)).toBe(false);
    set = add(set, prevote(1, 0, B));
    expect(hasTwoThirdsAny(set, TOTAL)).toBe(true);
    expect(twoThirdsMajorities(set, TOTAL)).toEqual([]);
    set = add(set, prevote(2, 0, A));
    expect(hasTwoThirdsFor(set, blockKey(A.blockId), TOTAL)).toBe(false);
    const all = add(emptyVoteSet(PREVOTE, 0, 4), prevote(0, 0, A), prevote(1, 0, A), prevote(2, 0, A));
    expect(twoThirdsMajorities(all, TOTAL)).toEqual([blockKey(A.blockId)]);
  });

  it("ignores the same vote twice and reports a different one from the same validator as a conflict", () => {
    const set = add(emptyVoteSet(PREVOTE, 0, 4), prevote(0, 0, A));
    expect(classifyVote(set, prevote(0, 0, A))).toBe("duplicate");
    expect(addVote(set, prevote(0, 0, A), 3n)).toEqual({ outcome: "duplicate" });
    expect(classifyVote(set, prevote(0, 0, B))).toBe("conflict");
    const conflict = addVote(set, prevote(0, 0, B), 3n);
    expect(conflict.outcome).toBe("conflict");
    if (conflict.outcome !== "conflict") return;
    expect(blockKey(conflict.existing.blockId)).toBe(blockKey(A.blockId));
    expect(conflict.set).toBeUndefined();
  });

  it("counts an equivocator once in total but for each block it signed when asked to", () => {
    const set = add(emptyVoteSet(PREVOTE, 0, 4), prevote(0, 0, A));
    const r = addVote(set, prevote(0, 0, B), 3n, true);
    if (r.outcome !== "conflict" || !r.set) throw new Error("expected a counted conflict");
    expect(r.set.power).toBe(3n);
    expect(r.set.blocks.get(blockKey(B.blockId))!.power).toBe(3n);
    expect(r.set.blocks.get(blockKey(A.blockId))!.power).toBe(3n);
    expect(classifyVote(r.set, prevote(0, 0, B))).toBe("duplicate");
  });

  it("refuses votes of another type or round", () => {
    expect(() => addVote(emptyVoteSet(PREVOTE, 0, 4), precommit(0, 0, A), 3n)).toThrow();
    expect(() => addVote(emptyVoteSet(PREVOTE, 0, 4), prevote(0, 1, A), 3n)).toThrow();
  });
});
