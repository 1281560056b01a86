// A token bucket on an injected clock: `ratePerSecond` tokens accrue up to `capacity`; a cost is paid
// only if it is fully available. Starts full, so a freshly connected peer can send a burst at once.

export class TokenBucket {
  readonly ratePerSecond: number;
  readonly capacity: number;
  #tokens: number;
  #updatedMs: number;

  constructor(ratePerSecond: number, capacity: number, nowMs: number) {
    this.ratePerSecond = ratePerSecond;
    this.capacity = capacity;
    this.#tokens = capacity;
    this.#updatedMs = nowMs;
  }

  available(nowMs: number): number {
    // A clock that steps back (NTP) must not drain the bucket, so elapsed time is never negative.
    const elapsedMs = Math.max(0, nowMs - this.#updatedMs);
    this.#tokens = Math.min(this.capacity, this.#tokens + (elapsedMs * this.ratePerSecond) / 1000);
    this.#updatedMs = Math.max(this.#updatedMs, nowMs);
    return this.#tokens;
  }

  /** Pays `cost` and returns true, or returns false and leaves the bucket as it was. */
  tryTake(cost: number, nowMs: number): boolean {
    if (this.available(nowMs) < cost) return false;
    this.#tokens -= cost;
    return true;
  }
}
