// When to redial a persistent peer. Exponential with jitter, capped, forever: validators restart and
// must find each other again without an operator. Jitter spreads the redials of a committee that all
// lost the same peer at once; a connection that drops soon after it was made does not reset the
// schedule, so a peer that accepts and then refuses us is not hammered at the initial delay.

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** Fraction of each delay that is random: the delay lies in [d * (1 - jitter), d]. */
  jitter: number;
  /** A connection that lasted this long resets the schedule when it drops. */
  stableMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 250, maxMs: 10_000, factor: 2, jitter: 0.5, stableMs: 10_000 };

/** Delay before redial number `attempt` of a run (0 for the first), `random` in [0, 1). */
export function redialDelayMs(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * policy.factor ** Math.min(attempt, 64));
  return Math.round(ceiling * (1 - policy.jitter * random()));
}

/**
 * Where in the schedule to continue after a connection that lasted `connectedMs` dropped: from the
 * start if it was stable, else where the run of failed dials left off.
 */
export function attemptAfterDisconnect(attempt: number, connectedMs: number, policy: BackoffPolicy): number {
  return connectedMs >= policy.stableMs ? 0 : attempt;
}
