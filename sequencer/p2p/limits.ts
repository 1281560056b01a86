// How much a validator accepts from each peer, per topic or request protocol (a "channel"), and how
// much it buffers for each peer. Defaults are sized for a committee of up to 20 validators with
// 8 MiB blocks; they bound memory per peer and keep one peer from starving others.
import { gossipOverhead } from "./framing.ts";
import { BLOCKSYNC_PROTOCOL, TOPIC_CONSENSUS, TOPIC_MEMPOOL } from "./protocols.ts";

export interface ChannelLimits {
  /** Largest payload sent or accepted on the channel (a request or a response for protocols). */
  maxMessageBytes: number;
  /** Sustained messages per second accepted from one peer. */
  messagesPerSecond: number;
  /** Sustained payload bytes per second accepted from one peer. */
  bytesPerSecond: number;
  /** Depth of both buckets, in seconds of the sustained rate: the burst a peer may send at once. */
  burstSeconds: number;
}

export interface NetworkLimits {
  /** Per topic and per request protocol. */
  channels: Record<string, ChannelLimits>;
  /** For a topic or protocol without an entry in `channels`. */
  defaultChannel: ChannelLimits;
  /** Bytes waiting to be written to one peer; past this the peer is too slow and is disconnected. */
  sendQueueBytes: number;
  /** Messages waiting to be written to one peer (same consequence). */
  sendQueueMessages: number;
  /** Throttled messages a peer may cause per `floodWindowMs` before it is disconnected and banned. */
  floodDropsBeforeDisconnect: number;
  floodWindowMs: number;
  /** How long a peer dropped for flooding is refused (both directions). */
  banMs: number;
  /** New inbound connections accepted per second from one IP before the handshake (libp2p's limiter). */
  inboundConnectionsPerSecond: number;
  /** Requests one peer may have in flight on one connection, per protocol. */
  maxConcurrentRequestsPerPeer: number;
}

export type NetworkLimitsInput = Partial<Omit<NetworkLimits, "channels" | "defaultChannel">> & {
  channels?: Record<string, Partial<ChannelLimits>>;
  defaultChannel?: Partial<ChannelLimits>;
};

const MiB = 1024 * 1024;

export const DEFAULT_LIMITS: NetworkLimits = {
  channels: {
    // Proposals carry their whole block (maxBlockBytes is 8 MiB of transactions, plus their encoding
    // and the header); votes are small.
    [TOPIC_CONSENSUS]: { maxMessageBytes: 10 * MiB, messagesPerSecond: 2_000, bytesPerSecond: 64 * MiB, burstSeconds: 2 },
    // A batch of transactions (mempool/gossip.ts: up to 64 KiB, or one transaction of up to maxTxBytes, 256 KiB).
    [TOPIC_MEMPOOL]: { maxMessageBytes: 1 * MiB, messagesPerSecond: 20_000, bytesPerSecond: 32 * MiB, burstSeconds: 2 },
    // A response carries a block (8 MiB) with its commit.
    [BLOCKSYNC_PROTOCOL]: { maxMessageBytes: 16 * MiB, messagesPerSecond: 50, bytesPerSecond: 1 * MiB, burstSeconds: 2 },
  },
  defaultChannel: { maxMessageBytes: 4 * MiB, messagesPerSecond: 100, bytesPerSecond: 4 * MiB, burstSeconds: 2 },
  sendQueueBytes: 32 * MiB,
  sendQueueMessages: 20_000,
  floodDropsBeforeDisconnect: 1_000,
  floodWindowMs: 10_000,
  banMs: 60_000,
  inboundConnectionsPerSecond: 32,
  maxConcurrentRequestsPerPeer: 16,
};

/** Defaults overlaid with `input`, channel by channel; throws on a limit that cannot work. */
export function resolveLimits(input: NetworkLimitsInput = {}): NetworkLimits {
  const defaultChannel = { ...DEFAULT_LIMITS.defaultChannel, ...input.defaultChannel };
  const channels: Record<string, ChannelLimits> = {};
  for (const name of new Set([...Object.keys(DEFAULT_LIMITS.channels), ...Object.keys(input.channels ?? {})])) {
    channels[name] = { ...(DEFAULT_LIMITS.channels[name] ?? defaultChannel), ...input.channels?.[name] };
  }
  const limits: NetworkLimits = { ...DEFAULT_LIMITS, ...input, channels, defaultChannel };
  for (const [name, channel] of [...Object.entries(channels), ["default", defaultChannel] as const]) {
    for (const [key, value] of Object.entries(channel)) {
      if (!(value > 0)) throw new Error(`p2p limits: ${name}.${key} must be positive, got ${value}`);
    }
  }
  for (const key of ["sendQueueBytes", "sendQueueMessages", "floodDropsBeforeDisconnect", "floodWindowMs", "banMs", "inboundConnectionsPerSecond", "maxConcurrentRequestsPerPeer"] as const) {
    if (!(limits[key] > 0)) throw new Error(`p2p limits: ${key} must be positive, got ${limits[key]}`);
  }
  return limits;
}

/** Throws if a message of some topic could never fit in a peer's send queue. */
export function checkTopicLimits(limits: NetworkLimits, topics: Iterable<string>): void {
  for (const topic of topics) {
    const max = channelLimits(limits, topic).maxMessageBytes;
    // The queue holds frames: the payload plus the topic and at most a 4-byte length prefix.
    if (max + gossipOverhead(topic) + 4 > limits.sendQueueBytes) throw new Error(`p2p limits: ${topic}.maxMessageBytes (${max}) exceeds sendQueueBytes (${limits.sendQueueBytes})`);
  }
}

export function channelLimits(limits: NetworkLimits, channel: string): ChannelLimits {
  return limits.channels[channel] ?? limits.defaultChannel;
}
