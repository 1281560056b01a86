// Time and timers for the consensus engine: the system's in a node, a simulated one in tests, so the
// engine runs unchanged inside the deterministic simulator.
export interface Clock {
  now(): number;
  /** Calls `fire` after `delayMs`; the returned function cancels it. */
  setTimer(delayMs: number, fire: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(delayMs, fire) {
    const timer = setTimeout(fire, delayMs);
    return () => clearTimeout(timer);
  },
};
