// A counting semaphore whose waits can be abandoned. The client side of request/response uses one
// per (peer, protocol) to stay within the stream limit the server enforces, so a burst of block-sync
// requests queues here instead of having its excess streams reset by the peer.

export class Semaphore {
  #available: number;
  readonly #waiters: Array<() => void> = [];

  constructor(permits: number) {
    this.#available = permits;
  }

  /** Resolves with a release function once a permit is free; rejects with `signal.reason` if it fires first. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#available > 0) {
      this.#available -= 1;
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener("abort", abandon);
        resolve(this.#releaser());
      };
      const abandon = () => {
        this.#waiters.splice(this.#waiters.indexOf(grant), 1);
        reject(signal!.reason);
      };
      this.#waiters.push(grant);
      signal?.addEventListener("abort", abandon, { once: true });
    });
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // The permit passes straight to the oldest waiter, so it cannot be taken out of turn.
      const next = this.#waiters.shift();
      if (next) next();
      else this.#available += 1;
    };
  }
}
