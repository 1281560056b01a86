// The outbound half of one peer link: a bounded queue drained into one long-lived gossip stream.
// Frames are written only while the stream accepts them (no 'drain' pending), so what a slow peer
// costs us is the queue, which is bounded; the caller disconnects a peer whose queue is full.
//
// Delivery is at most once: a frame handed to a stream that then breaks is lost, never re-sent.
// Frames still in the queue when a stream breaks were never written, so they go out on the next
// stream without any risk of a duplicate.
import type { Logger } from "pino";
import type { Stream } from "@libp2p/interface";
import { SendQueue } from "./send-queue.ts";

/** Largest write to the stream: several small frames share one muxer frame and one encryption. */
const MAX_BATCH_BYTES = 64 * 1024;

export interface PeerSenderOptions {
  peerId: string;
  queue: SendQueue;
  /** Opens a gossip stream on the peer's current connection. */
  openStream: () => Promise<Stream>;
  /** Frames discarded because a stream could not be opened. */
  onDiscarded: (frames: number) => void;
  log: Logger;
}

export class PeerSender {
  readonly #o: PeerSenderOptions;
  #stream: Stream | undefined;
  #opening = false;
  #awaitingDrain = false;
  #scheduled = false;
  #closed = false;
  #drainedWaiters: Array<() => void> = [];

  constructor(options: PeerSenderOptions) {
    this.#o = options;
  }

  get queuedBytes(): number {
    return this.#o.queue.bytes;
  }

  /** Queues `frame`; false if the queue is full (the peer is not keeping up). */
  enqueue(frame: Uint8Array): boolean {
    if (this.#closed || !this.#o.queue.push(frame)) return false;
    // Written on the next microtask, so the frames of one synchronous burst go out as one batch.
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => {
        this.#scheduled = false;
        this.#pump();
      });
    }
    return true;
  }

  /** Resolves once everything queued so far has been handed to the stream (or the sender closed). */
  drained(): Promise<void> {
    if (this.#closed || this.#o.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainedWaiters.push(resolve));
  }

  /** Drops the queue and closes the stream; the sender is not used again. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#o.queue.clear();
    const stream = this.#stream;
    this.#stream = undefined;
    stream?.close().catch((error: unknown) => stream.abort(error instanceof Error ? error : new Error("sender closed")));
    this.#resolveDrained();
  }

  #pump(): void {
    if (this.#closed) return;
    const stream = this.#stream;
    if (stream === undefined) {
      if (!this.#opening && this.#o.queue.length > 0) this.#open();
      return;
    }
    const queue = this.#o.queue;
    while (queue.length > 0) {
      if (stream.writableNeedsDrain) {
        this.#awaitDrain(stream);
        return;
      }
      const batch = queue.takeBatch(MAX_BATCH_BYTES)!;
      try {
        stream.send(batch);
      } catch (error) {
        // The stream closed under us; its 'close' listener reopens for what is still queued.
        this.#o.log.debug({ peer: this.#o.peerId, err: error }, "gossip stream write failed");
        return;
      }
    }
    this.#resolveDrained();
  }

  #awaitDrain(stream: Stream): void {
    if (this.#awaitingDrain) return;
    this.#awaitingDrain = true;
    stream.addEventListener(
      "drain",
      () => {
        this.#awaitingDrain = false;
        this.#pump();
      },
      { once: true },
    );
  }

  #open(): void {
    this.#opening = true;
    this.#o.openStream().then(
      (stream) => {
        this.#opening = false;
        if (this.#closed) {
          stream.abort(new Error("sender closed"));
          return;
        }
        this.#stream = stream;
        stream.addEventListener("close", () => {
          if (this.#stream !== stream) return;
          this.#stream = undefined;
          this.#awaitingDrain = false;
          this.#pump();
        });
        this.#pump();
      },
      (error: unknown) => {
        this.#opening = false;
        if (this.#closed) return;
        // Without a stream the queue cannot go anywhere; dropping it keeps a dead link from holding
        // memory, and the next message tries a new stream.
        const discarded = this.#o.queue.clear();
        this.#o.log.debug({ peer: this.#o.peerId, err: error, discarded }, "could not open a gossip stream");
        this.#o.onDiscarded(discarded);
        this.#resolveDrained();
      },
    );
  }

  #resolveDrained(): void {
    const waiters = this.#drainedWaiters;
    this.#drainedWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
