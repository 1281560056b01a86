// Simulated time: a queue of events ordered by (time, insertion), run one at a time. Nothing in a
// simulation reads the real clock, so a run depends only on its seed.
import type { Clock } from "../../sequencer/consensus/clock.ts";

interface Event {
  time: number;
  seq: number;
  run: () => void;
}

export class Scheduler {
  now = 0;
  #seq = 0;
  readonly #heap: Event[] = [];

  at(time: number, run: () => void): void {
    const event = { time: Math.max(time, this.now), seq: this.#seq++, run };
    const heap = this.#heap;
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }

  after(delayMs: number, run: () => void): void {
    this.at(this.now + Math.max(0, delayMs), run);
  }

  get idle(): boolean {
    return this.#heap.length === 0;
  }

  /** Runs the earliest event; false when none is left. */
  runNext(): boolean {
    const heap = this.#heap;
    if (heap.length === 0) return false;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l], heap[m])) m = l;
        if (r < heap.length && before(heap[r], heap[m])) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    }
    this.now = top.time;
    top.run();
    return true;
  }

  /**
   * A node's clock: its own offset from simulated time, and timers that die with the node
   * (`alive` turns false when it crashes).
   */
  clock(offsetMs: number, alive: () => boolean): Clock {
    return {
      now: () => this.now + offsetMs,
      setTimer: (delayMs, fire) => {
        let cancelled = false;
        this.after(delayMs, () => {
          if (!cancelled && alive()) fire();
        });
        return () => {
          cancelled = true;
        };
      },
    };
  }
}

function before(a: Event, b: Event): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
