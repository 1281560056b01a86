// Mempool gossip between validators, batched: transactions admitted from clients within a short
// window travel to the other validators as one message. Sent one by one, each transaction costs a
// muxer frame, an encryption, a socket write and their counterparts at every receiver, which at a
// thousand transactions a second was a quarter of a validator's CPU; a batch pays them once.
//
// A batch is the transactions one after another, each as a frame of the p2p framing (LEB128 length,
// bytes), so a receiver bounds each transaction's size before buffering it.
import { encodeFrame, FrameDecoder, FramingError } from "../p2p/framing.ts";

export interface TxGossipOptions {
  /** Hands one encoded batch to the network (every other validator). */
  send: (batch: Uint8Array) => void;
  /** A batch goes out once it holds this many bytes... */
  maxBatchBytes: number;
  /** ...or this long after its first transaction arrived, whichever comes first. */
  flushMs: number;
  setTimer?: (delayMs: number, fire: () => void) => () => void;
}

export const DEFAULT_GOSSIP_BATCH_BYTES = 64 * 1024;
/** Small next to a block time (the transaction only has to reach the next proposer), large next to the gap between client requests. */
export const DEFAULT_GOSSIP_FLUSH_MS = 20;

export class TxGossip {
  readonly #o: TxGossipOptions;
  #frames: Uint8Array[] = [];
  #bytes = 0;
  #cancel: (() => void) | undefined;

  constructor(options: TxGossipOptions) {
    this.#o = options;
  }

  /** Queues a transaction for the next batch. */
  add(tx: Uint8Array): void {
    const frame = encodeFrame(tx);
    // A transaction that would overflow the batch starts the next one, so a batch stays within the
    // limit unless a single transaction is larger.
    if (this.#bytes > 0 && this.#bytes + frame.length > this.#o.maxBatchBytes) this.flush();
    this.#frames.push(frame);
    this.#bytes += frame.length;
    if (this.#bytes >= this.#o.maxBatchBytes) this.flush();
    else this.#cancel ??= (this.#o.setTimer ?? defaultTimer)(this.#o.flushMs, () => this.flush());
  }

  /** Sends what is queued now. */
  flush(): void {
    this.#cancel?.();
    this.#cancel = undefined;
    if (this.#frames.length === 0) return;
    const batch = this.#frames.length === 1 ? this.#frames[0] : Buffer.concat(this.#frames, this.#bytes);
    this.#frames = [];
    this.#bytes = 0;
    this.#o.send(batch);
  }

  /** Drops what is queued (the network is going away). */
  stop(): void {
    this.#cancel?.();
    this.#cancel = undefined;
    this.#frames = [];
    this.#bytes = 0;
  }
}

function defaultTimer(delayMs: number, fire: () => void): () => void {
  const timer = setTimeout(fire, delayMs);
  return () => clearTimeout(timer);
}

/** The transactions of a batch, each a copy; throws FramingError if it is not one (truncated, or a transaction over `maxTxBytes`). */
export function decodeTxBatch(batch: Uint8Array, maxTxBytes: number): Uint8Array[] {
  const decoder = new FrameDecoder(maxTxBytes);
  // As a plain Uint8Array the decoder copies each transaction out (Buffer's slice would be a view),
  // so a kept transaction does not pin its whole batch.
  const txs = decoder.push(new Uint8Array(batch.buffer, batch.byteOffset, batch.length));
  if (decoder.bufferedBytes > 0) throw new FramingError("truncated transaction batch");
  return txs;
}
