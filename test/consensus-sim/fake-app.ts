// A deterministic stand-in for the sequencer application: a block is a few header fields and some
// payload bytes, valid when it extends the node's head with a later time and carries the "valid"
// flag (a Byzantine proposer can clear it). The chain it appends to is the node's disk and survives
// crashes; a dead incarnation's calls never settle, so a crashed node cannot write after death.
import { sha256 } from "../../cometbft/hash.ts";
import type { BlockID } from "../../cometbft/header.ts";
import type { Validator } from "../../cometbft/validator-set.ts";
import type { Commit } from "../../cometbft/vote.ts";
import type { ConsensusApp } from "../../sequencer/consensus/engine.ts";
import type { Value } from "../../sequencer/consensus/state-machine.ts";
import type { Scheduler } from "./scheduler.ts";

const HEADER = 50;

export interface FakeBlock {
  height: bigint;
  parent: Uint8Array;
  timeMs: number;
  proposer: number;
  valid: boolean;
  payload: Uint8Array;
}

export function encodeFakeBlock(b: FakeBlock): Uint8Array {
  const bytes = new Uint8Array(HEADER + b.payload.length);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, b.height);
  bytes.set(b.parent, 8);
  view.setBigUint64(40, BigInt(b.timeMs));
  bytes[48] = b.proposer;
  bytes[49] = b.valid ? 1 : 0;
  bytes.set(b.payload, HEADER);
  return bytes;
}

export function decodeFakeBlock(bytes: Uint8Array): FakeBlock | undefined {
  if (bytes.length < HEADER) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    height: view.getBigUint64(0),
    parent: bytes.slice(8, 40),
    timeMs: Number(view.getBigUint64(40)),
    proposer: bytes[48],
    valid: bytes[49] === 1,
    payload: bytes.slice(HEADER),
  };
}

const PART_TAG = new TextEncoder().encode("part");

export function fakeBlockId(bytes: Uint8Array): BlockID | undefined {
  if (!decodeFakeBlock(bytes)) return undefined;
  return { hash: sha256(bytes), partSetHeader: { total: 1, hash: sha256(new Uint8Array([...PART_TAG, ...bytes])) } };
}

export interface ChainEntry {
  height: bigint;
  value: Value;
  commit: Commit;
  timeMs: number;
}

/** The committed chain on a node's disk. */
export class FakeChain {
  readonly entries: ChainEntry[] = [];

  get height(): bigint {
    return BigInt(this.entries.length);
  }

  get head(): ChainEntry | undefined {
    return this.entries.at(-1);
  }

  at(height: bigint): ChainEntry | undefined {
    return this.entries[Number(height) - 1];
  }
}

export interface FakeAppOptions {
  chainId: string;
  validators: readonly Validator[];
  chain: FakeChain;
  node: number;
  scheduler: Scheduler;
  alive: () => boolean;
  /** Payload for a block this node builds (deterministic per run). */
  payload: (height: bigint, round: number) => Uint8Array;
  /** How long a validation takes, in simulated ms. */
  validationDelayMs: () => number;
  onCommit: (node: number, entry: ChainEntry) => void;
}

const never = <T>() => new Promise<T>(() => {});

export function fakeApp(o: FakeAppOptions): ConsensusApp {
  const later = <T>(delayMs: number, value: () => T): Promise<T> =>
    o.alive()
      ? new Promise((resolve) =>
          o.scheduler.after(delayMs, () => {
            if (o.alive()) resolve(value());
          }),
        )
      : never();
  return {
    chainId: o.chainId,
    validators: o.validators,
    initialHeight: 1n,
    async committed() {
      return { height: o.chain.height, commit: o.chain.head?.commit };
    },
    blockIdOf: fakeBlockId,
    buildBlock({ height, round, timeMs }) {
      if (!o.alive()) return never();
      const head = o.chain.head;
      const block = encodeFakeBlock({
        height,
        parent: head ? head.value.blockId.hash : new Uint8Array(32),
        timeMs: Math.max(timeMs, (head?.timeMs ?? 0) + 1),
        proposer: o.node,
        valid: true,
        payload: o.payload(height, round),
      });
      return later(1, () => ({ blockId: fakeBlockId(block)!, block }));
    },
    validateBlock(height, value) {
      return later(o.validationDelayMs(), () => {
        const b = decodeFakeBlock(value.block);
        const head = o.chain.head;
        return (
          b !== undefined &&
          b.valid &&
          b.height === height &&
          height === o.chain.height + 1n &&
          Buffer.compare(b.parent, head ? head.value.blockId.hash : new Uint8Array(32)) === 0 &&
          b.timeMs > (head?.timeMs ?? 0) &&
          b.proposer < o.validators.length
        );
      });
    },
    async commitBlock(height, value, commit) {
      if (!o.alive()) return never();
      if (height !== o.chain.height + 1n) throw new Error(`node ${o.node}: commit at ${height} on a chain at ${o.chain.height}`);
      const entry = { height, value, commit, timeMs: decodeFakeBlock(value.block)!.timeMs };
      o.chain.entries.push(entry);
      o.onCommit(o.node, entry);
    },
  };
}
