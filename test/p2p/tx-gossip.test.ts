import { describe, expect, it } from "vitest";
import { encodeFrame, FramingError, FrameTooLargeError } from "../../sequencer/p2p/framing.ts";
import { decodeTxBatch, TxGossip } from "../../sequencer/mempool/gossip.ts";

/** A TxGossip whose flush timer is fired by hand. */
function harness(maxBatchBytes: number) {
  const sent: Uint8Array[][] = [];
  const timers: { delayMs: number; fire: () => void; cancelled: boolean }[] = [];
  const gossip = new TxGossip({
    send: (batch) => sent.push(decodeTxBatch(batch, 1 << 20)),
    maxBatchBytes,
    flushMs: 20,
    setTimer: (delayMs, fire) => {
      const timer = { delayMs, fire, cancelled: false };
      timers.push(timer);
      return () => void (timer.cancelled = true);
    },
  });
  const fireLive = () => timers.filter((t) => !t.cancelled).forEach((t) => t.fire());
  return { gossip, sent, timers, fireLive };
}

const tx = (n: number, size = 100) => new Uint8Array(size).fill(n);

describe("mempool gossip batches", () => {
  it("sends the transactions of one window as one batch, in order, when the timer fires", () => {
    const { gossip, sent, timers, fireLive } = harness(64 * 1024);
    for (let n = 0; n < 5; n++) gossip.add(tx(n));
    expect(sent).toEqual([]);
    expect(timers.map((t) => t.delayMs)).toEqual([20]);
    fireLive();
    expect(sent).toEqual([[tx(0), tx(1), tx(2), tx(3), tx(4)]]);
    // The next transaction opens a new window.
    gossip.add(tx(9));
    expect(timers.filter((t) => !t.cancelled && t !== timers[0]).length).toBe(1);
    timers.at(-1)!.fire();
    expect(sent).toEqual([[tx(0), tx(1), tx(2), tx(3), tx(4)], [tx(9)]]);
  });

  it("sends as soon as a batch is full, never exceeding the limit unless one transaction does", () => {
    const frame = encodeFrame(tx(0)).length; // 101 bytes
    const { gossip, sent, timers } = harness(3 * frame);
    for (let n = 0; n < 7; n++) gossip.add(tx(n));
    expect(sent).toEqual([
      [tx(0), tx(1), tx(2)],
      [tx(3), tx(4), tx(5)],
    ]);
    // A full batch cancels its timer; the seventh waits in a fresh window.
    expect(timers.filter((t) => !t.cancelled).length).toBe(1);
    gossip.add(tx(7, 1000));
    expect(sent.at(-2)).toEqual([tx(6)]);
    expect(sent.at(-1)).toEqual([tx(7, 1000)]);
  });

  it("drops what is queued on stop", () => {
    const { gossip, sent, fireLive } = harness(64 * 1024);
    gossip.add(tx(1));
    gossip.stop();
    fireLive();
    gossip.flush();
    expect(sent).toEqual([]);
  });

  it("refuses a truncated batch or one with an oversize transaction", () => {
    const batch = Buffer.concat([encodeFrame(tx(1)), encodeFrame(tx(2))]);
    expect(decodeTxBatch(batch, 100)).toEqual([tx(1), tx(2)]);
    expect(decodeTxBatch(new Uint8Array(0), 100)).toEqual([]);
    expect(() => decodeTxBatch(batch.subarray(0, batch.length - 1), 100)).toThrow(FramingError);
    expect(() => decodeTxBatch(batch, 99)).toThrow(FrameTooLargeError);
  });
});
