// Keeps a connection to each persistent peer: dials at start, and after every failed dial or lost
// connection dials again on the backoff schedule, forever. A connection the peer made to us counts
// as well: there is nothing to dial while one is open.
import type { Logger } from "pino";
import { attemptAfterDisconnect, redialDelayMs, type BackoffPolicy } from "./backoff.ts";
import type { P2pMetrics } from "./metrics.ts";

export interface PersistentPeer {
  peerId: string;
  address: string;
}

export interface PersistentPeersOptions {
  peers: readonly PersistentPeer[];
  /** Resolves once connected (libp2p returns an existing connection if there is one). */
  dial: (address: string, signal: AbortSignal) => Promise<void>;
  isConnected: (peerId: string) => boolean;
  policy: BackoffPolicy;
  dialTimeoutMs: number;
  log: Logger;
  metrics: P2pMetrics;
  now?: () => number;
  random?: () => number;
}

/** Failed dials in a row before it is worth a warning: peers starting in any order fail a few times. */
const WARN_AFTER_FAILURES = 3;

interface PeerState {
  peer: PersistentPeer;
  attempt: number;
  timer: NodeJS.Timeout | undefined;
  dialing: boolean;
  connectedAt: number | undefined;
  /** Dials failed in a row; the warning is logged once per run. */
  failures: number;
}

export class PersistentPeers {
  readonly #o: PersistentPeersOptions;
  readonly #states = new Map<string, PeerState>();
  readonly #now: () => number;
  #running = false;
  #abort = new AbortController();

  constructor(options: PersistentPeersOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    for (const peer of options.peers) {
      this.#states.set(peer.peerId, { peer, attempt: 0, timer: undefined, dialing: false, connectedAt: undefined, failures: 0 });
    }
  }

  start(): void {
    this.#running = true;
    this.#abort = new AbortController();
    for (const state of this.#states.values()) {
      state.attempt = 0;
      state.connectedAt = undefined;
      state.failures = 0;
      this.#dial(state);
    }
  }

  stop(): void {
    this.#running = false;
    this.#abort.abort(new Error("network stopping"));
    for (const state of this.#states.values()) {
      clearTimeout(state.timer);
      state.timer = undefined;
    }
  }

  peerConnected(peerId: string): void {
    const state = this.#states.get(peerId);
    if (!state) return;
    clearTimeout(state.timer);
    state.timer = undefined;
    state.connectedAt ??= this.#now();
    if (state.failures >= WARN_AFTER_FAILURES) this.#o.log.info({ peer: peerId, address: state.peer.address, failures: state.failures }, "persistent peer reachable again");
    state.failures = 0;
  }

  peerDisconnected(peerId: string): void {
    const state = this.#states.get(peerId);
    if (!state || !this.#running) return;
    const connectedMs = state.connectedAt === undefined ? 0 : this.#now() - state.connectedAt;
    state.connectedAt = undefined;
    state.attempt = attemptAfterDisconnect(state.attempt, connectedMs, this.#o.policy);
    this.#schedule(state);
  }

  /** Arms the redial timer; returns its delay (undefined if no redial is due). */
  #schedule(state: PeerState): number | undefined {
    if (!this.#running || state.timer !== undefined || state.dialing) return undefined;
    const delayMs = redialDelayMs(state.attempt, this.#o.policy, this.#o.random);
    state.attempt += 1;
    state.timer = setTimeout(() => {
      state.timer = undefined;
      this.#dial(state);
    }, delayMs);
    return delayMs;
  }

  #dial(state: PeerState): void {
    if (!this.#running || state.dialing) return;
    if (this.#o.isConnected(state.peer.peerId)) {
      this.peerConnected(state.peer.peerId);
      return;
    }
    state.dialing = true;
    const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#o.dialTimeoutMs)]);
    this.#o.dial(state.peer.address, signal).then(
      () => {
        state.dialing = false;
        this.#o.metrics.dials.inc({ result: "ok" });
        this.peerConnected(state.peer.peerId);
        // The connection may have closed while the dial was settling; then no disconnect will come.
        if (this.#running && !this.#o.isConnected(state.peer.peerId)) this.peerDisconnected(state.peer.peerId);
      },
      (error: unknown) => {
        state.dialing = false;
        if (!this.#running) return;
        this.#o.metrics.dials.inc({ result: "error" });
        // An inbound connection from the peer may have arrived while our dial was failing.
        if (this.#o.isConnected(state.peer.peerId)) {
          this.peerConnected(state.peer.peerId);
          return;
        }
        state.failures += 1;
        const fields = { peer: state.peer.peerId, address: state.peer.address, failures: state.failures, nextDialMs: this.#schedule(state), err: (error as Error)?.message ?? String(error) };
        if (state.failures === WARN_AFTER_FAILURES) this.#o.log.warn(fields, "persistent peer unreachable; redialing with backoff");
        else this.#o.log.debug(fields, "dial failed");
      },
    );
  }
}
