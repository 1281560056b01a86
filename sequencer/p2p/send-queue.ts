// Frames waiting to be written to one peer, bounded in bytes and count. A peer that cannot keep up
// fills its queue and is disconnected by the caller: memory stays bounded and the rest of the
// committee is not held back by one slow validator.

export class SendQueue {
  readonly maxBytes: number;
  readonly maxMessages: number;
  #frames: Uint8Array[] = [];
  /** Index of the oldest frame in #frames: shifting a long array on every send would be quadratic. */
  #head = 0;
  #bytes = 0;

  constructor(maxBytes: number, maxMessages: number) {
    this.maxBytes = maxBytes;
    this.maxMessages = maxMessages;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get length(): number {
    return this.#frames.length - this.#head;
  }

  /** Appends `frame`, or returns false (queue unchanged) if it would exceed a bound. */
  push(frame: Uint8Array): boolean {
    if (this.length + 1 > this.maxMessages || this.#bytes + frame.length > this.maxBytes) return false;
    this.#frames.push(frame);
    this.#bytes += frame.length;
    return true;
  }

  /**
   * The oldest frames, concatenated up to `maxBatchBytes` (always at least one frame): small messages
   * then share one muxer frame and one encryption, which is most of their cost.
   */
  takeBatch(maxBatchBytes: number): Uint8Array | undefined {
    if (this.length === 0) return undefined;
    let end = this.#head + 1;
    let size = this.#frames[this.#head].length;
    while (end < this.#frames.length && size + this.#frames[end].length <= maxBatchBytes) {
      size += this.#frames[end].length;
      end += 1;
    }
    const batch = end === this.#head + 1 ? this.#frames[this.#head] : concat(this.#frames, this.#head, end, size);
    for (let i = this.#head; i < end; i++) this.#frames[i] = EMPTY;
    this.#head = end;
    this.#bytes -= size;
    if (this.#head === this.#frames.length) {
      this.#frames = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#frames.length) {
      this.#frames = this.#frames.slice(this.#head);
      this.#head = 0;
    }
    return batch;
  }

  /** Empties the queue; returns how many frames were discarded. */
  clear(): number {
    const discarded = this.length;
    this.#frames = [];
    this.#head = 0;
    this.#bytes = 0;
    return discarded;
  }
}

const EMPTY = new Uint8Array(0);

function concat(frames: Uint8Array[], start: number, end: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let offset = 0;
  for (let i = start; i < end; i++) {
    out.set(frames[i], offset);
    offset += frames[i].length;
  }
  return out;
}
