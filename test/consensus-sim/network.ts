// A simulated network between the nodes of one run: every message gets its own random delay (so
// messages reorder), may be lost or duplicated, and never crosses a partition. Conditions change
// during a run (the fault phase, then a healed phase). Like the validator network, it tells a node
// when a peer (re)connects: after that peer restarts, and when a partition heals.
import type { ConsensusTransport } from "../../sequencer/consensus/transport.ts";
import type { Prng } from "./prng.ts";
import type { Scheduler } from "./scheduler.ts";

export interface LinkConditions {
  lossRate: number;
  duplicateRate: number;
  minDelayMs: number;
  maxDelayMs: number;
}

export interface NetworkStats {
  sent: number;
  delivered: number;
  lost: number;
  blockedByPartition: number;
  duplicated: number;
}

type Handler = (from: string, bytes: Uint8Array) => void;

export class SimNetwork {
  conditions: LinkConditions;
  readonly stats: NetworkStats = { sent: 0, delivered: 0, lost: 0, blockedByPartition: 0, duplicated: 0 };
  readonly #scheduler: Scheduler;
  readonly #prng: Prng;
  readonly #handlers: (Handler | undefined)[];
  readonly #connected: (((peer: string) => void) | undefined)[];
  /** Group of each node while partitioned. */
  #groups: number[] | undefined;

  constructor(scheduler: Scheduler, prng: Prng, nodeCount: number, conditions: LinkConditions) {
    this.#scheduler = scheduler;
    this.#prng = prng;
    this.#handlers = new Array<Handler | undefined>(nodeCount).fill(undefined);
    this.#connected = new Array<((peer: string) => void) | undefined>(nodeCount).fill(undefined);
    this.conditions = conditions;
  }

  get nodeCount(): number {
    return this.#handlers.length;
  }

  partition(groups: number[]): void {
    this.#groups = groups;
  }

  heal(): void {
    if (this.#groups === undefined) return;
    const groups = this.#groups;
    this.#groups = undefined;
    for (let a = 0; a < this.nodeCount; a++) for (let b = 0; b < this.nodeCount; b++) if (groups[a] !== groups[b]) this.#announce(a, b);
  }

  /** Tells `to` that `peer` is connected (a little later, as a real dial takes). */
  #announce(to: number, peer: number): void {
    this.#scheduler.after(this.#prng.int(1, 20), () => {
      if (this.#handlers[peer] && this.connected(to, peer)) this.#connected[to]?.(`node-${peer}`);
    });
  }

  connected(a: number, b: number): boolean {
    return this.#groups === undefined || this.#groups[a] === this.#groups[b];
  }

  /** Detaches a crashed node; its in-flight messages are lost. */
  detach(node: number): void {
    this.#handlers[node] = undefined;
    this.#connected[node] = undefined;
  }

  send(from: number, to: number, bytes: Uint8Array): void {
    this.stats.sent++;
    if (!this.connected(from, to)) {
      this.stats.blockedByPartition++;
      return;
    }
    const c = this.conditions;
    if (this.#prng.chance(c.lossRate)) {
      this.stats.lost++;
      return;
    }
    const copies = this.#prng.chance(c.duplicateRate) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      this.#scheduler.after(this.#prng.int(c.minDelayMs, c.maxDelayMs), () => {
        const handler = this.#handlers[to];
        if (!handler || !this.connected(from, to)) return;
        this.stats.delivered++;
        handler(`node-${from}`, bytes);
      });
    }
  }

  broadcast(from: number, bytes: Uint8Array): void {
    for (let to = 0; to < this.#handlers.length; to++) if (to !== from) this.send(from, to, bytes);
  }

  /** A node incarnation's transport; it goes silent once `alive` turns false. */
  transport(node: number, alive: () => boolean): ConsensusTransport {
    return {
      broadcast: (bytes) => {
        if (alive()) this.broadcast(node, bytes);
      },
      sendTo: (peer, bytes) => {
        if (alive()) this.send(node, Number(peer.slice("node-".length)), bytes);
      },
      onMessage: (handler) => {
        this.#handlers[node] = (from, bytes) => {
          if (alive()) handler(from, bytes);
        };
        for (let peer = 0; peer < this.nodeCount; peer++) {
          if (peer === node || !this.#handlers[peer]) continue;
          this.#announce(peer, node);
          this.#announce(node, peer);
        }
      },
      onPeerConnected: (handler) => {
        this.#connected[node] = (peer) => {
          if (alive()) handler(peer);
        };
      },
    };
  }
}
