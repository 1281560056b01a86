// Who proposes at (height, round): CometBFT's weighted round robin by proposer priority. Every
// validator's priority grows by its voting power at each step and the one with the highest priority
// (ties: the smaller address) proposes and pays back the total power, so over any window each
// validator proposes in proportion to its power. The arithmetic mirrors CometBFT's int64 code
// (truncating division when rescaling, a flooring average, clipping at the int64 range), so a
// committee that ever runs next to CometBFT tooling agrees on every proposer.
//
// Heights: the set for the first height has been incremented once from all-zero priorities, and each
// later height increments once more (CometBFT's state transition). Rounds: the proposer of round r is
// the height's set incremented r times in one call, a pure function of (height, round), so nodes that
// reached round r by different paths (timeouts or a round skip) agree.

export interface ProposerCandidate {
  address: Uint8Array;
  votingPower: bigint;
}

/** Priorities in validator order, for one height (round 0) or after a round increment. */
export interface ProposerPriorities {
  readonly validators: readonly ProposerCandidate[];
  readonly priorities: readonly bigint[];
  /** Index of the proposer chosen by the last increment. */
  readonly proposer: number;
}

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);
/** CometBFT's PriorityWindowSizeFactor: priorities stay within 2 x total power of each other. */
const WINDOW_FACTOR = 2n;

const clip = (v: bigint) => (v > INT64_MAX ? INT64_MAX : v < INT64_MIN ? INT64_MIN : v);

function totalPower(validators: readonly ProposerCandidate[]): bigint {
  return validators.reduce((sum, v) => sum + v.votingPower, 0n);
}

function rescale(priorities: bigint[], diffMax: bigint): void {
  if (diffMax <= 0n) return;
  let max = INT64_MIN;
  let min = INT64_MAX;
  for (const p of priorities) {
    if (p > max) max = p;
    if (p < min) min = p;
  }
  const diff = max - min;
  if (diff <= diffMax) return;
  const ratio = (diff + diffMax - 1n) / diffMax;
  // BigInt division truncates toward zero, as Go's int64 division does.
  for (let i = 0; i < priorities.length; i++) priorities[i] /= ratio;
}

function shiftByAverage(priorities: bigint[]): void {
  const n = BigInt(priorities.length);
  const sum = priorities.reduce((a, b) => a + b, 0n);
  // Go's big.Int Div is Euclidean: for a positive divisor it floors.
  const avg = sum >= 0n ? sum / n : -((-sum + n - 1n) / n);
  for (let i = 0; i < priorities.length; i++) priorities[i] = clip(priorities[i] - avg);
}

function compareAddresses(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

function incrementOnce(validators: readonly ProposerCandidate[], priorities: bigint[], total: bigint): number {
  for (let i = 0; i < priorities.length; i++) priorities[i] = clip(priorities[i] + validators[i].votingPower);
  let best = 0;
  for (let i = 1; i < priorities.length; i++) {
    if (priorities[i] > priorities[best] || (priorities[i] === priorities[best] && compareAddresses(validators[i].address, validators[best].address) < 0)) best = i;
  }
  priorities[best] = clip(priorities[best] - total);
  return best;
}

/** CometBFT's IncrementProposerPriority(times): rescale and centre once, then `times` steps. */
export function incrementPriorities(set: ProposerPriorities, times: number): ProposerPriorities {
  if (set.validators.length === 0) throw new Error("empty validator set");
  if (!Number.isInteger(times) || times <= 0) throw new RangeError(`times must be a positive integer, got ${times}`);
  const total = totalPower(set.validators);
  const priorities = [...set.priorities];
  rescale(priorities, WINDOW_FACTOR * total);
  shiftByAverage(priorities);
  let proposer = set.proposer;
  for (let i = 0; i < times; i++) proposer = incrementOnce(set.validators, priorities, total);
  return { validators: set.validators, priorities, proposer };
}

/** A genesis set as CometBFT's NewValidatorSet leaves it: zero priorities, incremented once. */
export function genesisPriorities(validators: readonly ProposerCandidate[]): ProposerPriorities {
  return incrementPriorities({ validators, priorities: validators.map(() => 0n), proposer: 0 }, 1);
}

/** The set for `height` on a chain whose first height is `initialHeight`, computed from genesis. */
export function prioritiesAtHeight(validators: readonly ProposerCandidate[], initialHeight: bigint, height: bigint): ProposerPriorities {
  if (height < initialHeight) throw new RangeError(`height ${height} is below the initial height ${initialHeight}`);
  let set = genesisPriorities(validators);
  for (let h = initialHeight; h < height; h++) set = incrementPriorities(set, 1);
  return set;
}

/** The set of the next height. */
export function nextHeightPriorities(set: ProposerPriorities): ProposerPriorities {
  return incrementPriorities(set, 1);
}

const proposerMemo = new WeakMap<ProposerPriorities, Map<number, number>>();

/** Index of the proposer of `round`, given the height's set (memoised: asked for on every proposal). */
export function proposerIndex(set: ProposerPriorities, round: number): number {
  if (round === 0) return set.proposer;
  let byRound = proposerMemo.get(set);
  if (!byRound) proposerMemo.set(set, (byRound = new Map()));
  let index = byRound.get(round);
  if (index === undefined) {
    index = incrementPriorities(set, round).proposer;
    byRound.set(round, index);
  }
  return index;
}
