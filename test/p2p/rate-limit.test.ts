import { describe, expect, it } from "vitest";
import { TokenBucket } from "../../sequencer/p2p/token-bucket.ts";
import { PeerThrottle } from "../../sequencer/p2p/throttle.ts";
import { checkTopicLimits, resolveLimits } from "../../sequencer/p2p/limits.ts";

describe("token bucket", () => {
  it("starts full, pays costs it can cover and refills at its rate up to capacity", () => {
    const bucket = new TokenBucket(10, 5, 0);
    for (let i = 0; i < 5; i++) expect(bucket.tryTake(1, 0)).toBe(true);
    expect(bucket.tryTake(1, 0)).toBe(false);
    expect(bucket.tryTake(1, 99)).toBe(false);
    expect(bucket.tryTake(1, 100)).toBe(true);
    expect(bucket.available(10_000)).toBe(5);
  });

  it("refuses a cost it cannot fully cover without taking anything", () => {
    const bucket = new TokenBucket(1, 10, 0);
    expect(bucket.tryTake(11, 0)).toBe(false);
    expect(bucket.available(0)).toBe(10);
  });

  it("does not drain when the clock steps back", () => {
    const bucket = new TokenBucket(10, 10, 1000);
    bucket.tryTake(10, 1000);
    expect(bucket.available(500)).toBe(0);
    expect(bucket.available(1100)).toBeCloseTo(1);
  });
});

describe("peer throttle", () => {
  const limits = resolveLimits({
    channels: { consensus: { messagesPerSecond: 10, bytesPerSecond: 1000, burstSeconds: 1, maxMessageBytes: 500 } },
    floodDropsBeforeDisconnect: 5,
    floodWindowMs: 10_000,
  });

  it("admits up to the message bucket, then drops, per peer and per channel", () => {
    const throttle = new PeerThrottle(limits);
    for (let i = 0; i < 10; i++) expect(throttle.admit("p", "consensus", 1, 0).verdict).toBe("accept");
    expect(throttle.admit("p", "consensus", 1, 0).verdict).toBe("throttle");
    // Another peer, and another channel of the same peer, have their own buckets.
    expect(throttle.admit("q", "consensus", 1, 0).verdict).toBe("accept");
    expect(throttle.admit("p", "mempool", 1, 0).verdict).toBe("accept");
    expect(throttle.admit("p", "consensus", 1, 100).verdict).toBe("accept");
  });

  it("limits bytes, and a message refused for bytes costs no message token", () => {
    const throttle = new PeerThrottle(limits);
    expect(throttle.admit("p", "consensus", 500, 0).verdict).toBe("accept");
    expect(throttle.admit("p", "consensus", 500, 0).verdict).toBe("accept");
    expect(throttle.admit("p", "consensus", 1, 0).verdict).toBe("throttle");
    // 10 ms later: 10 bytes and 8.1 messages. Had the refused message paid, only 7 would pass.
    for (let i = 0; i < 8; i++) expect(throttle.admit("p", "consensus", 1, 10).verdict).toBe("accept");
    expect(throttle.admit("p", "consensus", 1, 10).verdict).toBe("throttle");
  });

  it("byte bucket holds at least one maximal message even when the rate is lower", () => {
    const tight = resolveLimits({ channels: { sync: { messagesPerSecond: 1, bytesPerSecond: 10, burstSeconds: 1, maxMessageBytes: 100 } } });
    expect(new PeerThrottle(tight).admit("p", "sync", 100, 0).verdict).toBe("accept");
  });

  it("reports the first drop at once, then aggregates drops per report interval", () => {
    const throttle = new PeerThrottle(resolveLimits({ ...limits, floodDropsBeforeDisconnect: 1000 }), 1000);
    for (let i = 0; i < 10; i++) throttle.admit("p", "consensus", 1, 0);
    expect(throttle.admit("p", "consensus", 1, 0)).toEqual({ verdict: "throttle", report: 1 });
    expect(throttle.admit("p", "consensus", 1, 1)).toEqual({ verdict: "throttle" });
    expect(throttle.admit("p", "consensus", 1, 2)).toEqual({ verdict: "throttle" });
    // 1 s later the bucket has 10 tokens again; exhaust it, and the next drop carries the count.
    for (let i = 0; i < 10; i++) throttle.admit("p", "consensus", 1, 1000);
    expect(throttle.admit("p", "consensus", 1, 1000)).toEqual({ verdict: "throttle", report: 3 });
  });

  it("disconnects a peer whose drops exceed its budget, however they were caused", () => {
    const throttle = new PeerThrottle(limits);
    for (let i = 0; i < 10; i++) throttle.admit("p", "consensus", 1, 0);
    const verdicts = Array.from({ length: 6 }, () => throttle.admit("p", "consensus", 1, 0).verdict);
    expect(verdicts).toEqual(["throttle", "throttle", "throttle", "throttle", "throttle", "disconnect"]);
    const other = new PeerThrottle(limits);
    for (let i = 0; i < 5; i++) expect(other.penalize("q", 0)).toBe(true);
    expect(other.penalize("q", 0)).toBe(false);
    // The budget refills over the flood window: 5 drops per 10 s.
    expect(other.penalize("q", 2000)).toBe(true);
  });
});

describe("limits", () => {
  it("overlays channel by channel and validates", () => {
    const limits = resolveLimits({ channels: { consensus: { messagesPerSecond: 7 }, "/x/1": { maxMessageBytes: 10 } } });
    expect(limits.channels.consensus.messagesPerSecond).toBe(7);
    expect(limits.channels.consensus.maxMessageBytes).toBe(10 * 1024 * 1024);
    expect(limits.channels["/x/1"]).toEqual({ ...limits.defaultChannel, maxMessageBytes: 10 });
    expect(() => resolveLimits({ channels: { consensus: { bytesPerSecond: 0 } } })).toThrow(/consensus.bytesPerSecond must be positive/);
    const small = resolveLimits({ sendQueueBytes: 1024, channels: { mempool: { maxMessageBytes: 1024 - 12 } } });
    expect(() => checkTopicLimits(small, ["mempool"])).not.toThrow();
    expect(() => checkTopicLimits(small, ["mempool", "consensus"])).toThrow(/consensus.maxMessageBytes \(10485760\) exceeds sendQueueBytes/);
    expect(() => resolveLimits({ banMs: -1 })).toThrow(/banMs/);
  });
});
