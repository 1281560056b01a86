// The validator network: a full mesh of direct, encrypted, allowlisted connections between the
// committee's validators, carrying topic broadcasts (consensus, mempool) on one gossip stream per
// peer and request/response protocols (block sync) on a stream per request.
//
// What callers get:
// - onMessage handlers run synchronously, in the order the sender sent, once per frame received.
//   The transport never re-sends: each broadcast()/sendTo() reaches each peer's handlers at most
//   once, and exactly once while the connection stays up. Messages in flight when a connection
//   drops are lost, not replayed, so a reconnect never produces a duplicate from the transport; a
//   caller that re-sends its state on onPeer("connect") (as consensus should) may of course see its
//   own re-sends arrive after earlier copies, and must treat messages idempotently.
// - onPeer reports each peer's connect and disconnect exactly once per transition.
// - Payloads handed to handlers are fresh copies the handler may keep.
import type { Logger } from "pino";
import { createLibp2p, type Libp2p } from "libp2p";
import { tcp } from "@libp2p/tcp";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { peerIdFromString } from "@libp2p/peer-id";
import type { Connection, PeerId, PrivateKey, Stream } from "@libp2p/interface";
import { multiaddr } from "@multiformats/multiaddr";
import { Registry } from "prom-client";
import { pinListenPorts } from "./addresses.ts";
import { DEFAULT_BACKOFF, type BackoffPolicy } from "./backoff.ts";
import { encodeGossip, FrameTooLargeError, FramingError, gossipOverhead } from "./framing.ts";
import { multiaddrPeerId, PeerAdmission, validatorGater } from "./gater.ts";
import { checkGossip, UNKNOWN_TOPIC } from "./inbound.ts";
import { channelLimits, checkTopicLimits, resolveLimits, type NetworkLimits, type NetworkLimitsInput } from "./limits.ts";
import { p2pMetrics, type P2pMetrics } from "./metrics.ts";
import { peerIdOf } from "./node-key.ts";
import { PeerSender } from "./peer-sender.ts";
import { PersistentPeers, type PersistentPeer } from "./persistent-peers.ts";
import { DEFAULT_TOPICS, GOSSIP_PROTOCOL } from "./protocols.ts";
import { RequestError, sendRequest, serveRequest, type RequestHandler } from "./request-response.ts";
import { Semaphore } from "./semaphore.ts";
import { SendQueue } from "./send-queue.ts";
import { readFrames } from "./stream-io.ts";
import { PeerThrottle } from "./throttle.ts";

export interface ValidatorNetworkOptions {
  /** The node key (see node-key.ts): ed25519, its PeerId is this validator's network identity. */
  privateKey: PrivateKey;
  /** Multiaddrs to listen on; loopback unless an operator says otherwise. */
  listen?: string | string[];
  /** Multiaddrs ending in /p2p/<peerId>, dialed at start and redialed forever. Self is skipped. */
  persistentPeers?: string[];
  /** Peer ids allowed to connect in either direction; everyone else is refused at the gater. */
  allowlist: string[];
  /** Broadcast topics this node sends and accepts. */
  topics?: readonly string[];
  limits?: NetworkLimitsInput;
  backoff?: Partial<BackoffPolicy>;
  /** Bound on one dial (TCP, Noise handshake and muxer negotiation). */
  dialTimeoutMs?: number;
  /** Registry for the p2p metrics; a private one if omitted. */
  registry?: Registry;
  logger: Logger;
}

export type MessageHandler = (from: string, payload: Uint8Array) => void;
export type PeerEvent = { peerId: string; type: "connect" | "disconnect" };
export type PeerHandler = (event: PeerEvent) => void;

export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const DEFAULT_DIAL_TIMEOUT_MS = 5_000;
/**
 * One long-lived stream per connection, plus room for its replacement while the old one closes. Each
 * may hold one maximal frame being assembled, so this also bounds what a peer can make us buffer.
 */
const MAX_GOSSIP_STREAMS_PER_CONNECTION = 2;

export function createValidatorNetwork(options: ValidatorNetworkOptions): ValidatorNetwork {
  return new ValidatorNetwork(options);
}

export class ValidatorNetwork {
  readonly peerId: string;
  readonly limits: NetworkLimits;
  readonly #o: ValidatorNetworkOptions;
  readonly #metrics: P2pMetrics;
  readonly #log: Logger;
  readonly #admission: PeerAdmission;
  readonly #throttle: PeerThrottle;
  readonly #allowed = new Map<string, PeerId>();
  readonly #topics: ReadonlySet<string>;
  readonly #maxGossipFrame: number;
  readonly #handlers = new Map<string, Set<MessageHandler>>();
  readonly #protocols = new Map<string, RequestHandler>();
  readonly #peerHandlers = new Set<PeerHandler>();
  readonly #connected = new Set<string>();
  readonly #senders = new Map<string, PeerSender>();
  /** Per "peer protocol": bounded by the allowlist times the protocols we request on. */
  readonly #requestSlots = new Map<string, Semaphore>();
  readonly #persistent: PersistentPeers;
  readonly #dialTimeoutMs: number;
  #listen: string[];
  #node: Libp2p | undefined;

  constructor(options: ValidatorNetworkOptions) {
    this.#o = options;
    this.peerId = peerIdOf(options.privateKey);
    this.#log = options.logger.child({ module: "p2p" });
    this.limits = resolveLimits(options.limits);
    this.#metrics = p2pMetrics(options.registry ?? new Registry());
    for (const id of options.allowlist) this.#allowed.set(id, peerIdFromString(id));
    this.#admission = new PeerAdmission(this.#allowed.keys());
    this.#throttle = new PeerThrottle(this.limits);
    this.#topics = new Set(options.topics ?? DEFAULT_TOPICS);
    checkTopicLimits(this.limits, this.#topics);
    for (const topic of this.#topics) this.#handlers.set(topic, new Set());
    this.#maxGossipFrame = Math.max(...[...this.#topics].map((t) => channelLimits(this.limits, t).maxMessageBytes + gossipOverhead(t)));
    this.#listen = typeof options.listen === "string" ? [options.listen] : (options.listen ?? ["/ip4/127.0.0.1/tcp/0"]);
    this.#dialTimeoutMs = options.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS;
    this.#persistent = new PersistentPeers({
      peers: this.#persistentPeers(options.persistentPeers ?? []),
      dial: async (address, signal) => {
        if (!this.#node) throw new Error("network stopped");
        await this.#node.dial(multiaddr(address), { signal });
      },
      isConnected: (peer) => this.#connected.has(peer),
      policy: { ...DEFAULT_BACKOFF, ...options.backoff },
      dialTimeoutMs: this.#dialTimeoutMs,
      log: this.#log,
      metrics: this.#metrics,
    });
  }

  /** Full multiaddrs (with /p2p/) this node listens on; empty while stopped. */
  get addresses(): string[] {
    return this.#node?.getMultiaddrs().map(String) ?? [];
  }

  async start(): Promise<void> {
    if (this.#node) throw new Error("validator network already started");
    const node = await createLibp2p({
      start: false,
      privateKey: this.#o.privateKey,
      addresses: { listen: this.#listen },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionGater: validatorGater(this.#admission, () => performance.now(), (peer, direction, reason) => {
        this.#metrics.refused.inc({ direction, reason });
        this.#log.warn({ peer, direction, reason }, "connection refused");
      }),
      connectionManager: {
        // Two per validator: both ends may dial each other at the same moment.
        maxConnections: 2 * this.#allowed.size + 4,
        maxIncomingPendingConnections: Math.max(10, this.#allowed.size),
        inboundConnectionThreshold: this.limits.inboundConnectionsPerSecond,
        dialTimeout: this.#dialTimeoutMs,
        inboundUpgradeTimeout: this.#dialTimeoutMs,
      },
    });
    node.addEventListener("peer:connect", (event) => this.#onConnect(event.detail.toString()));
    node.addEventListener("peer:disconnect", (event) => this.#onDisconnect(event.detail.toString()));
    await node.handle(GOSSIP_PROTOCOL, (stream, connection) => this.#onGossipStream(stream, connection), { maxInboundStreams: MAX_GOSSIP_STREAMS_PER_CONNECTION });
    for (const protocol of this.#protocols.keys()) await this.#register(node, protocol);
    // Set before starting: a peer may connect (and be sent to) as soon as we listen.
    this.#node = node;
    try {
      await node.start();
    } catch (error) {
      this.#node = undefined;
      await node.stop();
      throw error;
    }
    this.#listen = pinListenPorts(this.#listen, node.getMultiaddrs().map(String));
    this.#log.info({ peerId: this.peerId, addresses: this.addresses }, "validator network listening");
    this.#persistent.start();
  }

  async stop(): Promise<void> {
    const node = this.#node;
    if (!node) return;
    this.#node = undefined;
    this.#persistent.stop();
    for (const sender of this.#senders.values()) sender.close();
    this.#senders.clear();
    await node.stop();
    // libp2p reports most disconnects while stopping; whatever it did not, callers still hear of.
    for (const peer of [...this.#connected]) this.#onDisconnect(peer);
    this.#log.info({ peerId: this.peerId }, "validator network stopped");
  }

  /** Queues `payload` to every connected peer; returns how many. Throws on an unknown topic or an oversize payload. */
  broadcast(topic: string, payload: Uint8Array): number {
    const frame = this.#gossipFrame(topic, payload);
    let queued = 0;
    for (const peer of [...this.#senders.keys()]) if (this.#enqueue(peer, topic, frame)) queued += 1;
    this.#metrics.messagesSent.inc({ topic }, queued);
    this.#metrics.bytesSent.inc({ topic }, queued * payload.length);
    return queued;
  }

  /** Queues `payload` to one peer; false if it is not connected (or was just dropped as too slow). */
  sendTo(peerId: string, topic: string, payload: Uint8Array): boolean {
    const frame = this.#gossipFrame(topic, payload);
    if (!this.#enqueue(peerId, topic, frame)) return false;
    this.#metrics.messagesSent.inc({ topic });
    this.#metrics.bytesSent.inc({ topic }, payload.length);
    return true;
  }

  /** Adds a handler for `topic`; returns a function that removes it. */
  onMessage(topic: string, handler: MessageHandler): () => void {
    const handlers = this.#handlers.get(topic);
    if (!handlers) throw new Error(`unknown topic ${JSON.stringify(topic)}; topics: ${[...this.#topics].join(", ")}`);
    handlers.add(handler);
    return () => handlers.delete(handler);
  }

  /** Sends a request on `protocol` to a connected peer; rejects with a RequestError. */
  request(peerId: string, protocol: string, payload: Uint8Array, options: { timeoutMs?: number } = {}): Promise<Uint8Array> {
    const ctx = { connection: this.#connectionTo(peerId), maxMessageBytes: channelLimits(this.limits, protocol).maxMessageBytes, slots: this.#slots(peerId, protocol), metrics: this.#metrics };
    return sendRequest(ctx, peerId, protocol, payload, options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
  }

  /** Answers requests on `protocol` (one handler per protocol; a second call replaces the first). */
  async handle(protocol: string, handler: RequestHandler): Promise<void> {
    const registered = this.#protocols.has(protocol);
    this.#protocols.set(protocol, handler);
    if (this.#node && !registered) await this.#register(this.#node, protocol);
  }

  connectedPeers(): string[] {
    return [...this.#connected];
  }

  /** Adds a listener for peers connecting and disconnecting; returns a function that removes it. */
  onPeer(handler: PeerHandler): () => void {
    this.#peerHandlers.add(handler);
    return () => this.#peerHandlers.delete(handler);
  }

  /** Resolves once every queued message has been handed to its peer's stream: backpressure for bulk senders. */
  async drained(): Promise<void> {
    await Promise.all([...this.#senders.values()].map((sender) => sender.drained()));
  }

  #slots(peer: string, protocol: string): Semaphore {
    const key = `${peer} ${protocol}`;
    let slots = this.#requestSlots.get(key);
    if (!slots) {
      slots = new Semaphore(this.limits.maxConcurrentRequestsPerPeer);
      if (this.#allowed.has(peer)) this.#requestSlots.set(key, slots);
    }
    return slots;
  }

  #persistentPeers(addresses: string[]): PersistentPeer[] {
    const peers: PersistentPeer[] = [];
    for (const address of addresses) {
      const peerId = multiaddrPeerId(multiaddr(address));
      if (peerId === undefined) throw new Error(`persistent peer ${address} has no /p2p/<peerId>`);
      if (peerId === this.peerId) continue;
      if (!this.#allowed.has(peerId)) throw new Error(`persistent peer ${address} is not in the allowlist`);
      peers.push({ peerId, address });
    }
    return peers;
  }

  async #register(node: Libp2p, protocol: string): Promise<void> {
    await node.handle(protocol, (stream, connection) => this.#onRequestStream(protocol, stream, connection), {
      // Clients keep to maxConcurrentRequestsPerPeer; the slack covers streams still closing.
      maxInboundStreams: 2 * this.limits.maxConcurrentRequestsPerPeer,
    });
  }

  #gossipFrame(topic: string, payload: Uint8Array): Uint8Array {
    if (!this.#topics.has(topic)) throw new Error(`unknown topic ${JSON.stringify(topic)}; topics: ${[...this.#topics].join(", ")}`);
    const max = channelLimits(this.limits, topic).maxMessageBytes;
    if (payload.length > max) throw new RangeError(`${topic} message of ${payload.length} bytes exceeds the limit of ${max}`);
    return encodeGossip(topic, payload);
  }

  #enqueue(peer: string, topic: string, frame: Uint8Array): boolean {
    const sender = this.#senders.get(peer);
    if (!sender) return false;
    if (sender.enqueue(frame)) return true;
    this.#metrics.dropped.inc({ topic, reason: "send_queue_full" });
    this.#disconnect(peer, "slow", { queuedBytes: sender.queuedBytes });
    return false;
  }

  #connectionTo(peer: string): Connection | undefined {
    const id = this.#allowed.get(peer);
    if (!this.#node || !id) return undefined;
    return this.#node.getConnections(id).find((c) => c.status === "open");
  }

  #onConnect(peer: string): void {
    if (!this.#admission.isAllowlisted(peer) || this.#connected.has(peer)) return;
    this.#connected.add(peer);
    this.#metrics.peers.set(this.#connected.size);
    this.#senders.set(peer, this.#newSender(peer));
    this.#persistent.peerConnected(peer);
    this.#log.info({ peer }, "peer connected");
    this.#emit({ peerId: peer, type: "connect" });
  }

  #onDisconnect(peer: string): void {
    if (!this.#connected.delete(peer)) return;
    this.#metrics.peers.set(this.#connected.size);
    this.#senders.get(peer)?.close();
    this.#senders.delete(peer);
    this.#persistent.peerDisconnected(peer);
    this.#log.info({ peer }, "peer disconnected");
    this.#emit({ peerId: peer, type: "disconnect" });
  }

  #emit(event: PeerEvent): void {
    for (const handler of this.#peerHandlers) {
      try {
        handler(event);
      } catch (error) {
        this.#log.error({ err: error, peer: event.peerId }, "peer event handler failed");
      }
    }
  }

  #newSender(peer: string): PeerSender {
    return new PeerSender({
      peerId: peer,
      queue: new SendQueue(this.limits.sendQueueBytes, this.limits.sendQueueMessages),
      openStream: async () => {
        const connection = this.#connectionTo(peer);
        if (!connection) throw new Error(`no open connection to ${peer}`);
        return connection.newStream(GOSSIP_PROTOCOL, { signal: AbortSignal.timeout(this.#dialTimeoutMs) });
      },
      onDiscarded: (frames) => this.#metrics.dropped.inc({ topic: "all", reason: "stream_error" }, frames),
      log: this.#log,
    });
  }

  /** Closes the peer's connections now; a flooder is also refused for `banMs`, a slow peer may come back at once. */
  #disconnect(peer: string, reason: "flooding" | "slow" | "framing", details: Record<string, unknown> = {}): void {
    const id = this.#allowed.get(peer);
    if (!id || !this.#node) return;
    const banned = reason !== "slow";
    // Frames already received from a peer being dropped keep arriving until libp2p has closed its
    // connections; they must not count (or log) the same disconnect again.
    if (banned && this.#isBanned(peer)) return;
    if (banned) this.#admission.ban(peer, performance.now() + this.limits.banMs);
    // Stop queueing to it at once; the disconnect event follows when libp2p has closed the connections.
    this.#senders.get(peer)?.close();
    this.#senders.delete(peer);
    this.#metrics.disconnects.inc({ reason });
    this.#log.warn({ peer, reason, ...details, ...(banned ? { banMs: this.limits.banMs } : {}) }, "disconnecting peer");
    this.#node.hangUp(id).catch((error: unknown) => this.#log.debug({ peer, err: error }, "hang-up failed"));
  }

  #isBanned(peer: string): boolean {
    return this.#admission.refusal(peer, performance.now()) === "banned";
  }

  /** Rate limiting of one inbound message or request, with its metrics, logging and sanctions. */
  #admit(peer: string, channel: string, bytes: number): boolean {
    const admission = this.#throttle.admit(peer, channel, bytes, performance.now());
    if (admission.verdict === "accept") return true;
    this.#metrics.dropped.inc({ topic: channel, reason: "throttled" });
    if (admission.verdict === "disconnect") {
      this.#disconnect(peer, "flooding", { topic: channel });
    } else if (admission.report !== undefined) {
      const l = channelLimits(this.limits, channel);
      this.#log.warn({ peer, topic: channel, dropped: admission.report, messagesPerSecond: l.messagesPerSecond, bytesPerSecond: l.bytesPerSecond }, "peer throttled: over its rate limit, dropping its messages");
    }
    return false;
  }

  /** A protocol violation on a stream (bad framing, oversize, malformed): counted against the peer's drop budget. */
  #violation(peer: string, topic: string, error: FramingError): void {
    if (this.#isBanned(peer)) return;
    const reason = error instanceof FrameTooLargeError ? "oversize" : "malformed";
    this.#metrics.dropped.inc({ topic, reason });
    this.#log.warn({ peer, topic, reason, err: error.message }, "peer broke the gossip protocol; stream reset");
    if (!this.#throttle.penalize(peer, performance.now())) this.#disconnect(peer, "framing");
  }

  #onGossipStream(stream: Stream, connection: Connection): void {
    const from = connection.remotePeer.toString();
    if (!this.#admission.isAllowlisted(from)) {
      stream.abort(new Error("not allowlisted"));
      return;
    }
    // We never write on a peer's gossip stream; closing our half lets it end when the sender closes.
    stream.close().catch(() => {});
    readFrames(stream, this.#maxGossipFrame, (body) => this.#onGossipFrame(from, body), (error) => this.#violation(from, UNKNOWN_TOPIC, error));
  }

  #onGossipFrame(from: string, body: Uint8Array): boolean {
    // A banned peer's remaining frames are not worth decoding; ending the stream stops them.
    if (this.#isBanned(from)) return false;
    const check = checkGossip(body, this.#topics, this.limits);
    if (!check.ok && check.reason !== "unknown_topic") {
      const error = check.reason === "oversize" ? new FrameTooLargeError(body.length, channelLimits(this.limits, check.topic).maxMessageBytes) : new FramingError(check.reason);
      this.#violation(from, check.topic, error);
      return false;
    }
    // Unknown topics (a newer peer during a rolling upgrade) are dropped quietly, but still rate limited.
    if (!this.#admit(from, check.topic, body.length)) return true;
    if (!check.ok) {
      this.#metrics.dropped.inc({ topic: check.topic, reason: check.reason });
      return true;
    }
    this.#metrics.messagesReceived.inc({ topic: check.topic });
    this.#metrics.bytesReceived.inc({ topic: check.topic }, check.payload.length);
    for (const handler of this.#handlers.get(check.topic)!) {
      try {
        handler(from, check.payload);
      } catch (error) {
        this.#log.error({ err: error, peer: from, topic: check.topic }, "message handler failed");
      }
    }
    return true;
  }

  #onRequestStream(protocol: string, stream: Stream, connection: Connection): void {
    const from = connection.remotePeer.toString();
    const handler = this.#protocols.get(protocol);
    if (!handler || !this.#admission.isAllowlisted(from)) {
      stream.abort(new Error("refused"));
      return;
    }
    serveRequest(stream, handler, {
      from,
      protocol,
      maxMessageBytes: channelLimits(this.limits, protocol).maxMessageBytes,
      admit: (bytes) => this.#admit(from, protocol, bytes),
      metrics: this.#metrics,
      log: this.#log,
    }).catch((error: unknown) => this.#log.error({ err: error, peer: from, protocol }, "serving a request failed"));
  }
}

export { RequestError };
