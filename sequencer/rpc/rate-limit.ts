// A token bucket per client address: `ratePerSecond` calls a second on average, in bursts of up to
// the same number. Idle addresses are forgotten so the table cannot grow without bound.

interface Bucket {
  tokens: number;
  updatedMs: number;
}

const PRUNE_AT = 10_000;

export class RateLimiter {
  readonly ratePerSecond: number;
  readonly #buckets = new Map<string, Bucket>();
  readonly #now: () => number;
  #prunedAtMs = 0;

  /** A non-positive rate disables limiting. */
  constructor(ratePerSecond: number, now: () => number = Date.now) {
    this.ratePerSecond = ratePerSecond;
    this.#now = now;
  }

  /** Takes one token for `address`; otherwise returns how many milliseconds until one is free. */
  take(address: string): { ok: true } | { ok: false; retryAfterMs: number } {
    if (this.ratePerSecond <= 0) return { ok: true };
    const now = this.#now();
    const bucket = this.#refill(this.#buckets.get(address), now);
    this.#buckets.set(address, bucket);
    if (this.#buckets.size > PRUNE_AT && now - this.#prunedAtMs >= 1000) this.#prune(now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil(((1 - bucket.tokens) * 1000) / this.ratePerSecond) };
  }

  #refill(bucket: Bucket | undefined, now: number): Bucket {
    if (!bucket) return { tokens: this.ratePerSecond, updatedMs: now };
    const tokens = Math.min(this.ratePerSecond, bucket.tokens + ((now - bucket.updatedMs) * this.ratePerSecond) / 1000);
    return { tokens, updatedMs: now };
  }

  // Buckets that have refilled completely carry no information.
  #prune(now: number): void {
    this.#prunedAtMs = now;
    for (const [address, bucket] of this.#buckets) {
      if (this.#refill(bucket, now).tokens >= this.ratePerSecond) this.#buckets.delete(address);
    }
  }
}
