// The engine with the real sequencer application: four validators, each with its own LevelDB chain
// store, file WAL and file double-sign guard, over an in-process broadcast bus and real timers.
// They agree on every block; a validator stopped for a while restarts from its WAL and catches up
// through block sync (applySyncedBlock), which refuses a block its commit does not cover.
import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ed25519FromSeed } from "../../cometbft/ed25519.ts";
import { sha256, toHexUpper } from "../../cometbft/hash.ts";
import { timestampFromMs } from "../../cometbft/time.ts";
import { CommitVerificationError } from "../../cometbft/verify-commit.ts";
import { SequencerApp } from "../../sequencer/app.ts";
import { ConsensusEngine, SyncedBlockError } from "../../sequencer/consensus/engine.ts";
import { PrivValidator } from "../../sequencer/consensus/privval.ts";
import { sequencerConsensusApp } from "../../sequencer/consensus/sequencer-app.ts";
import type { ConsensusTransport } from "../../sequencer/consensus/transport.ts";
import { fileWalStorage, Wal } from "../../sequencer/consensus/wal.ts";
import type { Genesis } from "../../sequencer/genesis.ts";
import { Mempool } from "../../sequencer/mempool/mempool.ts";
import { DEFAULT_PARAMS } from "../../sequencer/params.ts";
import { ChainStore } from "../../sequencer/store/chain-store.ts";

const TIMEOUTS = { proposeMs: 400, proposeDeltaMs: 100, prevoteMs: 150, prevoteDeltaMs: 50, precommitMs: 150, precommitDeltaMs: 50, commitMs: 30 };
const keys = [0, 1, 2, 3].map((i) => ed25519FromSeed(sha256(new TextEncoder().encode(`engine-test/${i}`))));
const genesis: Genesis = {
  chainId: "metro-bft-test",
  genesisTime: timestampFromMs(1_700_000_000_000),
  initialHeight: 1n,
  validators: keys.map((k, i) => ({ name: `v${i}`, pubKey: k.publicKey, votingPower: 10n })),
  params: DEFAULT_PARAMS,
  accounts: [],
};

/** Delivers every broadcast to every other subscriber on a later turn of the event loop. */
class Bus {
  readonly #handlers = new Map<number, (from: string, bytes: Uint8Array) => void>();
  transport(node: number): ConsensusTransport & { close(): void } {
    return {
      broadcast: (bytes) => {
        for (const [to, handler] of this.#handlers) if (to !== node) setImmediate(() => this.#handlers.get(to) === handler && handler(`v${node}`, bytes));
      },
      onMessage: (handler) => void this.#handlers.set(node, handler),
      close: () => void this.#handlers.delete(node),
    };
  }
}

interface Node {
  dir: string;
  store: ChainStore;
  app: SequencerApp;
  engine: ConsensusEngine;
  close(): Promise<void>;
  /** Cuts the node off the bus (it keeps running, alone). */
  detach(): void;
  errors: unknown[];
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function openNode(i: number, bus: Bus, dir: string, sync?: (node: Node, height: bigint) => void): Promise<Node> {
  const store = await ChainStore.open(join(dir, "chain"));
  if (!store.head) await store.initGenesis([], 1_700_000_000_000);
  const app = new SequencerApp(genesis, store, new Mempool());
  const walStorage = fileWalStorage(join(dir, "cs.wal"));
  const transport = bus.transport(i);
  const errors: unknown[] = [];
  const node = { dir, store, app, errors } as Node;
  node.engine = new ConsensusEngine({
    app: sequencerConsensusApp(app),
    privval: new PrivValidator(keys[i], join(dir, "priv_validator_state.json")),
    wal: new Wal(walStorage),
    transport,
    timeouts: TIMEOUTS,
    gossipIntervalMs: 200,
    syncGraceMs: 200,
    onBehind: (height) => sync?.(node, height),
    onError: (error) => errors.push(error),
  });
  node.detach = () => transport.close();
  node.close = async () => {
    transport.close();
    await node.engine.stop();
    walStorage.close();
    await store.close();
  };
  await node.engine.start();
  return node;
}

async function until(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function blockHashes(node: Node, upTo: number): Promise<string[]> {
  const hashes: string[] = [];
  for (let h = 1; h <= upTo; h++) hashes.push(toHexUpper((await node.store.block(h))!.blockId.hash));
  return hashes;
}

describe("consensus engine with the sequencer app", () => {
  it("four validators agree on every block; a restarted validator replays its WAL and catches up by block sync", async () => {
    const bus = new Bus();
    const dirs = [0, 1, 2, 3].map(() => mkdtempSync(join(tmpdir(), "metro-bft-")));
    cleanups.push(async () => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
    const nodes: Node[] = [];
    let syncs = 0;
    const sync = (node: Node, height: bigint) => {
      void (async () => {
        syncs++;
        for (let h = Number(height); h <= nodes[0].app.head.height; h++) {
          const block = await nodes[0].store.block(h);
          const commit = await nodes[0].store.commit(h);
          if (!block || !commit) return;
          await node.engine.applySyncedBlock(block.encoded, commit);
        }
      })().catch(() => {});
    };
    for (let i = 0; i < 4; i++) nodes.push(await openNode(i, bus, dirs[i], sync));
    cleanups.push(async () => {
      for (const n of nodes) await n.close().catch(() => {});
    });

    await until("height 3 everywhere", () => nodes.every((n) => n.app.head.height >= 3));
    const reference = await blockHashes(nodes[0], 3);
    for (const n of nodes) expect(await blockHashes(n, 3)).toEqual(reference);
    // Every block's proposer is a validator, and blocks after the first carry a commit for their parent.
    const second = (await nodes[1].store.block(2))!.block;
    expect(second.lastCommit!.height).toBe(1n);

    // Validator 3 stops; the other three (30 of 40 power) keep going.
    await nodes[3].close();
    const stoppedAt = nodes[3].app.head.height;
    await until("three heights without validator 3", () => nodes[0].app.head.height >= stoppedAt + 3);
    nodes[3] = await openNode(3, bus, dirs[3], sync);
    await until("validator 3 caught up", () => nodes[3].app.head.height >= nodes[0].app.head.height - 1 && nodes[3].app.head.height > stoppedAt + 3);
    expect(syncs).toBeGreaterThan(0);
    const height = nodes[3].app.head.height;
    expect(await blockHashes(nodes[3], height)).toEqual(await blockHashes(nodes[0], height));
    for (const n of nodes) expect(n.errors).toEqual([]);

    // Block sync refuses a block that is not the one its commit covers, or a commit short of +2/3.
    nodes[3].detach();
    // Past any decision it was completing (its commit timeout), it is stuck at this height alone.
    await until("validator 3 alone at its height", () => nodes[3].engine.status().step !== "commit");
    const next = nodes[3].engine.status().height;
    await until("a block ahead of validator 3", () => nodes[0].app.head.height >= Number(next));
    const block = (await nodes[0].store.block(Number(next)))!;
    const commit = (await nodes[0].store.commit(Number(next)))!;
    const other = (await nodes[0].store.block(Number(next) - 1))!;
    await expect(nodes[3].engine.applySyncedBlock(other.encoded, commit)).rejects.toThrow(SyncedBlockError);
    const weak = { ...commit, signatures: commit.signatures.map((s, i) => (i < 2 ? { ...s, blockIdFlag: 1 as const } : s)) };
    await expect(nodes[3].engine.applySyncedBlock(block.encoded, weak)).rejects.toThrow(CommitVerificationError);
    expect(await nodes[3].engine.applySyncedBlock(block.encoded, commit)).toBe(true);
    expect(nodes[3].engine.status().height).toBe(next + 1n);
    expect(nodes[3].app.head.height).toBe(Number(next));
  }, 60_000);
});
