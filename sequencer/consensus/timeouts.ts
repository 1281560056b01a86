// Tendermint's timeouts. Each grows linearly with the round (base + delta x round) so that, once the
// network is timely again, some round is long enough for a correct proposer's block to reach
// everyone; they reset at every height. The commit timeout is the pause after a decision in which
// late precommits still join the commit, and it paces block production: the engine counts it from
// the start of the height, so it sets the interval between heights rather than adding to it.

export const STEP_PROPOSE_TIMEOUT = 1;
export const STEP_PREVOTE_TIMEOUT = 2;
export const STEP_PRECOMMIT_TIMEOUT = 3;
export const STEP_COMMIT_TIMEOUT = 4;

export type TimeoutStep = typeof STEP_PROPOSE_TIMEOUT | typeof STEP_PREVOTE_TIMEOUT | typeof STEP_PRECOMMIT_TIMEOUT | typeof STEP_COMMIT_TIMEOUT;

export interface Timeout {
  height: bigint;
  round: number;
  step: TimeoutStep;
}

export interface TimeoutConfig {
  proposeMs: number;
  proposeDeltaMs: number;
  prevoteMs: number;
  prevoteDeltaMs: number;
  precommitMs: number;
  precommitDeltaMs: number;
  commitMs: number;
}

/** CometBFT's defaults. */
export const DEFAULT_TIMEOUTS: TimeoutConfig = {
  proposeMs: 3000,
  proposeDeltaMs: 500,
  prevoteMs: 1000,
  prevoteDeltaMs: 500,
  precommitMs: 1000,
  precommitDeltaMs: 500,
  commitMs: 1000,
};

export function timeoutDuration(config: TimeoutConfig, step: TimeoutStep, round: number): number {
  switch (step) {
    case STEP_PROPOSE_TIMEOUT:
      return config.proposeMs + config.proposeDeltaMs * round;
    case STEP_PREVOTE_TIMEOUT:
      return config.prevoteMs + config.prevoteDeltaMs * round;
    case STEP_PRECOMMIT_TIMEOUT:
      return config.precommitMs + config.precommitDeltaMs * round;
    case STEP_COMMIT_TIMEOUT:
      return config.commitMs;
  }
}

export function validateTimeouts(config: TimeoutConfig): void {
  for (const [name, value] of Object.entries(config)) {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`timeout ${name} must be a non-negative number of milliseconds, got ${value}`);
  }
}
