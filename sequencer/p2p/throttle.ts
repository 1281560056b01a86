// Per-peer, per-channel admission of inbound messages: a message bucket and a byte bucket for each
// (peer, channel), and per peer a budget of dropped messages. Dropping is the first answer to a peer
// over its rate; a peer that keeps flooding past its drop budget is disconnected (and banned by the
// caller), because at that point it is spending our CPU on decryption for nothing.
//
// State is kept per allowlisted peer and registered channel only, so memory is bounded by the
// committee; it survives reconnects so a flooder cannot refill its buckets by reconnecting.
import { channelLimits, type NetworkLimits } from "./limits.ts";
import { TokenBucket } from "./token-bucket.ts";

export type Admission =
  | { verdict: "accept" }
  /** `report` is set when a log line is due: drops since the last one (the first drop reports at once). */
  | { verdict: "throttle"; report?: number }
  | { verdict: "disconnect" };

interface ChannelState {
  messages: TokenBucket;
  bytes: TokenBucket;
  unreported: number;
  lastReportMs: number;
}

interface PeerState {
  channels: Map<string, ChannelState>;
  dropBudget: TokenBucket;
}

export class PeerThrottle {
  readonly #limits: NetworkLimits;
  readonly #reportIntervalMs: number;
  readonly #peers = new Map<string, PeerState>();

  constructor(limits: NetworkLimits, reportIntervalMs = 5_000) {
    this.#limits = limits;
    this.#reportIntervalMs = reportIntervalMs;
  }

  admit(peer: string, channel: string, bytes: number, nowMs: number): Admission {
    const state = this.#channel(this.#peer(peer, nowMs), channel, nowMs);
    // Check both buckets before paying either, so a message refused for its bytes costs no message token.
    if (state.messages.available(nowMs) >= 1 && state.bytes.available(nowMs) >= bytes) {
      state.messages.tryTake(1, nowMs);
      state.bytes.tryTake(bytes, nowMs);
      return { verdict: "accept" };
    }
    if (!this.penalize(peer, nowMs)) return { verdict: "disconnect" };
    state.unreported += 1;
    if (nowMs - state.lastReportMs < this.#reportIntervalMs) return { verdict: "throttle" };
    const report = state.unreported;
    state.unreported = 0;
    state.lastReportMs = nowMs;
    return { verdict: "throttle", report };
  }

  /**
   * Charges one dropped message to `peer`'s budget, whatever the reason it was dropped (a frame that
   * breaks the protocol costs the same as one over the rate); false once the budget is spent.
   */
  penalize(peer: string, nowMs: number): boolean {
    return this.#peer(peer, nowMs).dropBudget.tryTake(1, nowMs);
  }

  #peer(peer: string, nowMs: number): PeerState {
    let state = this.#peers.get(peer);
    if (!state) {
      const { floodDropsBeforeDisconnect, floodWindowMs } = this.#limits;
      state = { channels: new Map(), dropBudget: new TokenBucket((floodDropsBeforeDisconnect * 1000) / floodWindowMs, floodDropsBeforeDisconnect, nowMs) };
      this.#peers.set(peer, state);
    }
    return state;
  }

  #channel(peer: PeerState, channel: string, nowMs: number): ChannelState {
    let state = peer.channels.get(channel);
    if (!state) {
      const l = channelLimits(this.#limits, channel);
      state = {
        messages: new TokenBucket(l.messagesPerSecond, Math.max(1, l.messagesPerSecond * l.burstSeconds), nowMs),
        // Never smaller than one maximal message, or such a message could never pass.
        bytes: new TokenBucket(l.bytesPerSecond, Math.max(l.bytesPerSecond * l.burstSeconds, l.maxMessageBytes), nowMs),
        unreported: 0,
        lastReportMs: Number.NEGATIVE_INFINITY,
      };
      peer.channels.set(channel, state);
    }
    return state;
  }
}
