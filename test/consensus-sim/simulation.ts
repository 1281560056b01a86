// One simulated run of the committee, a pure function of its seed: N validators (the real engine
// around the real pure state machine, real ed25519 signatures from deterministic keys, the real
// double-sign guard and WAL over in-memory disks) on a simulated network and clock. The seed picks
// the committee, the Byzantine members (under 1/3 of the power) and a fault phase: message loss,
// duplication and reordering, partitions that heal, crashes with restarts (and lost or torn WAL
// tails), crashes right after the double-sign guard persisted a signature but before the WAL has the
// message, equivocating proposers, double-signing voters, mute validators and lying block-sync peers.
// Then everything heals and the run checks that consensus makes progress again.
//
// Checked throughout: agreement (no two honest nodes commit different blocks at a height), validity
// (no honest node commits an invalid block, and every commit verifies), no honest validator signs two
// different messages for one (height, round, type), and no unexpected engine error. After healing:
// every honest node gets at least two heights past the highest height reached before, within a bound.
import { ed25519FromSeed, type Ed25519Key } from "../../cometbft/ed25519.ts";
import { sha256 } from "../../cometbft/hash.ts";
import { validatorAddress, type Validator } from "../../cometbft/validator-set.ts";
import { commitHash } from "../../cometbft/vote.ts";
import { verifyCommit } from "../../cometbft/verify-commit.ts";
import { ConsensusEngine, SyncedBlockError } from "../../sequencer/consensus/engine.ts";
import { blockKey, decodeMessage } from "../../sequencer/consensus/messages.ts";
import { nextHeightPriorities, prioritiesAtHeight, proposerIndex } from "../../sequencer/consensus/proposer.ts";
import { DoubleSignError, PrivValidator } from "../../sequencer/consensus/privval.ts";
import type { TimeoutConfig } from "../../sequencer/consensus/timeouts.ts";
import type { ConsensusTransport } from "../../sequencer/consensus/transport.ts";
import { decodeFrames, Wal, type WalStorage } from "../../sequencer/consensus/wal.ts";
import { byzantineTransport, type ByzantineKind, type ByzantineStats, type Collusion } from "./byzantine.ts";
import { decodeFakeBlock, FakeChain, fakeApp, type ChainEntry } from "./fake-app.ts";
import { MemorySignStateStore, MemoryWalStorage } from "./memory-storage.ts";
import { SimNetwork, type LinkConditions, type NetworkStats } from "./network.ts";
import { Prng } from "./prng.ts";
import { Scheduler } from "./scheduler.ts";

const CHAIN_ID = "metro-sim";
const TIMEOUTS: TimeoutConfig = { proposeMs: 300, proposeDeltaMs: 100, prevoteMs: 150, prevoteDeltaMs: 100, precommitMs: 150, precommitDeltaMs: 100, commitMs: 400 };
const GOSSIP_INTERVAL_MS = 400;
const BLOCK_GOSSIP_EVERY = 3;
const SYNC_GRACE_MS = 800;
/** After healing, every honest node must be two heights further within this much simulated time. */
export const LIVENESS_BOUND_MS = 60_000;
const HEALED: LinkConditions = { lossRate: 0, duplicateRate: 0, minDelayMs: 1, maxDelayMs: 40 };

export interface SimStats {
  validators: number;
  byzantine: Record<ByzantineKind, number>;
  faultPhaseMs: number;
  lossRate: number;
  maxDelayMs: number;
  partitions: number;
  crashes: number;
  signCrashes: number;
  powerLossCrashes: number;
  walBytesLost: number;
  tornWalRecords: number;
  equivocatedProposals: number;
  invalidAlternatives: number;
  doubleSignedVotes: number;
  evidenceSeen: number;
  syncRequests: number;
  syncedBlocks: number;
  syncRejected: number;
  guardRefusals: number;
  maxRound: number;
  finalHeight: number;
  simulatedMs: number;
  network: NetworkStats;
}

export interface SimResult {
  seed: number;
  violations: string[];
  stats: SimStats;
}

interface Disk {
  wal: MemoryWalStorage;
  signState: MemorySignStateStore;
  chain: FakeChain;
}

interface SimNode {
  index: number;
  key: Ed25519Key;
  disk: Disk;
  byzantine: ReadonlySet<ByzantineKind> | undefined;
  offsetMs: number;
  up: boolean;
  incarnation: number;
  engine: ConsensusEngine | undefined;
}

/** Thrown where a simulated node dies mid-operation; its engine reports it and the sim ignores it. */
class SimulatedCrash extends Error {
  override name = "SimulatedCrash";
}

/** One incarnation's handle on the node's WAL: after its crash it cannot write anymore. */
function incarnationWal(storage: MemoryWalStorage, alive: () => boolean): WalStorage {
  return {
    read: () => storage.read(),
    append: (bytes) => void (alive() && storage.append(bytes)),
    sync: () => void (alive() && storage.sync()),
    truncate: (length) => void (alive() && storage.truncate(length)),
    replace: (bytes) => void (alive() && storage.replace(bytes)),
  };
}

export function replayHint(seed: number): string {
  return `replay: SEED=${seed} npx vitest run test/consensus-sim   or   npm run soak -- --seed ${seed}`;
}

const drain = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function runSimulation(seed: number): Promise<SimResult> {
  const prng = new Prng(seed);
  const scenario = prng.fork(1);
  const netPrng = prng.fork(2);
  const misc = prng.fork(3);
  const scheduler = new Scheduler();
  const violations: string[] = [];
  const violate = (what: string) => {
    if (violations.length < 20) violations.push(`t=${scheduler.now}ms ${what}`);
  };

  // ---- the committee ----
  const n = scenario.int(4, 7);
  const equalPower = scenario.chance(0.5);
  const keys = [...Array(n).keys()].map((i) => ed25519FromSeed(sha256(new TextEncoder().encode(`metro-sim/${seed}/${i}`))));
  const validators: Validator[] = keys.map((k) => ({ pubKey: k.publicKey, votingPower: equalPower ? 1n : BigInt(scenario.int(1, 5)) }));
  const total = validators.reduce((s, v) => s + v.votingPower, 0n);

  // Byzantine members, keeping their power under a third.
  const byzantineOf = new Map<number, Set<ByzantineKind>>();
  let faultyPower = 0n;
  for (const i of scenario.shuffle([...Array(n).keys()])) {
    if (!scenario.chance(0.6)) continue;
    if ((faultyPower + validators[i].votingPower) * 3n >= total) continue;
    faultyPower += validators[i].votingPower;
    const kinds = new Set<ByzantineKind>();
    if (scenario.chance(0.15)) kinds.add("mute");
    else {
      if (scenario.chance(0.7)) kinds.add("equivocating-proposer");
      if (scenario.chance(0.7) || kinds.size === 0) kinds.add("double-signer");
    }
    byzantineOf.set(i, kinds);
  }

  // ---- the fault phase ----
  const faultPhaseMs = scenario.int(3_000, 15_000);
  const faulty: LinkConditions = {
    lossRate: scenario.pick([0, 0, 0.02, 0.1, 0.3]),
    duplicateRate: scenario.pick([0, 0.02, 0.1]),
    minDelayMs: scenario.int(1, 20),
    maxDelayMs: scenario.pick([40, 200, 600, 1500]),
  };
  /** Chance that a signature's persistence is the last thing a node does before crashing. */
  const signCrashRate = scenario.pick([0, 0, 0.01, 0.05]);
  const stats: SimStats = {
    validators: n,
    byzantine: { "equivocating-proposer": 0, "double-signer": 0, mute: 0 },
    faultPhaseMs,
    lossRate: faulty.lossRate,
    maxDelayMs: faulty.maxDelayMs,
    partitions: 0,
    crashes: 0,
    signCrashes: 0,
    powerLossCrashes: 0,
    walBytesLost: 0,
    tornWalRecords: 0,
    equivocatedProposals: 0,
    invalidAlternatives: 0,
    doubleSignedVotes: 0,
    evidenceSeen: 0,
    syncRequests: 0,
    syncedBlocks: 0,
    syncRejected: 0,
    guardRefusals: 0,
    maxRound: 0,
    finalHeight: 0,
    simulatedMs: 0,
    network: { sent: 0, delivered: 0, lost: 0, blockedByPartition: 0, duplicated: 0 },
  };
  for (const kinds of byzantineOf.values()) for (const k of kinds) stats.byzantine[k]++;

  const network = new SimNetwork(scheduler, netPrng, n, faulty);
  const byzantineStats: ByzantineStats = { equivocatedProposals: 0, invalidAlternatives: 0, doubleSignedVotes: 0, mutedMessages: 0 };
  const collusion: Collusion = { alternatives: new Map() };
  const nodes: SimNode[] = keys.map((key, index) => ({
    index,
    key,
    disk: { wal: new MemoryWalStorage(), signState: new MemorySignStateStore(), chain: new FakeChain() },
    byzantine: byzantineOf.get(index),
    offsetMs: scenario.int(-100, 100),
    up: false,
    incarnation: 0,
    engine: undefined,
  }));
  const honest = nodes.filter((node) => !node.byzantine);

  // ---- safety checks ----
  const decided = new Map<bigint, string>();
  const onCommit = (index: number, entry: ChainEntry) => {
    if (nodes[index].byzantine) return;
    const key = blockKey(entry.value.blockId);
    const first = decided.get(entry.height);
    if (first === undefined) decided.set(entry.height, key);
    else if (first !== key) violate(`agreement: node ${index} committed ${key.slice(0, 16)} at height ${entry.height}, another honest node ${first.slice(0, 16)}`);
    if (!decodeFakeBlock(entry.value.block)?.valid) violate(`validity: node ${index} committed an invalid block at height ${entry.height}`);
    const commitId = Buffer.from(commitHash(entry.commit)).toString("hex");
    if (verifiedCommits.has(commitId)) return;
    verifiedCommits.add(commitId);
    try {
      verifyCommit(CHAIN_ID, validators, entry.height, entry.value.blockId, entry.commit);
    } catch (error) {
      violate(`node ${index} committed height ${entry.height} with a bad commit: ${(error as Error).message}`);
    }
  };
  const verifiedCommits = new Set<string>();
  // Proposer schedule, to tell a node's own proposals from the ones it relays.
  const heightSets = [prioritiesAtHeight(validators.map((v, i) => ({ address: validatorAddress(keys[i].publicKey), votingPower: v.votingPower })), 1n, 1n)];
  const proposerAt = (height: bigint, round: number) => {
    while (heightSets.length < Number(height)) heightSets.push(nextHeightPriorities(heightSets.at(-1)!));
    return proposerIndex(heightSets[Number(height) - 1], round);
  };
  /** What each honest validator signed, by (height, round, type). */
  const signed = new Map<string, string>();
  const watchSignatures = (index: number, inner: ConsensusTransport): ConsensusTransport => ({
    onMessage: (handler) => inner.onMessage(handler),
    onPeerConnected: (handler) => inner.onPeerConnected!(handler),
    broadcast(bytes) {
      const m = decodeMessage(bytes);
      let slot: string | undefined;
      let content = "";
      if (m.kind === "vote" && m.vote.validatorIndex === index) {
        slot = `${index}/${m.vote.height}/${m.vote.round}/v${m.vote.type}`;
        content = blockKey(m.vote.blockId);
      } else if (m.kind === "proposal" && proposerAt(m.proposal.height, m.proposal.round) === index) {
        slot = `${index}/${m.proposal.height}/${m.proposal.round}/p`;
        content = `${blockKey(m.proposal.blockId)}/${m.proposal.polRound}`;
      }
      if (slot) {
        const before = signed.get(slot);
        if (before === undefined) signed.set(slot, content);
        else if (before !== content) violate(`honest validator ${index} signed two different messages for ${slot}`);
      }
      inner.broadcast(bytes);
    },
  });

  // ---- node lifecycle ----
  const startNode = async (node: SimNode) => {
    if (node.up) return;
    node.up = true;
    const incarnation = ++node.incarnation;
    const alive = () => node.up && node.incarnation === incarnation;
    let started = false;
    if (decodeFrames(node.disk.wal.read()).torn) stats.tornWalRecords++;
    const appPrng = misc.fork(node.index * 1000 + incarnation);
    const plain = network.transport(node.index, alive);
    const transport = node.byzantine
      ? byzantineTransport({ node: node.index, kinds: node.byzantine, key: node.key, chainId: CHAIN_ID, network, prng: appPrng.fork(7), collusion, stats: byzantineStats, alive })
      : watchSignatures(node.index, plain);
    const engine = new ConsensusEngine({
      app: fakeApp({
        chainId: CHAIN_ID,
        validators,
        chain: node.disk.chain,
        node: node.index,
        scheduler,
        alive,
        payload: (height, round) => sha256(new TextEncoder().encode(`${seed}/${node.index}/${height}/${round}`)),
        validationDelayMs: () => appPrng.int(1, 30),
        onCommit,
      }),
      privval: new PrivValidator(node.key, {
        load: () => node.disk.signState.load(),
        save: (state) => {
          if (!alive()) throw new SimulatedCrash();
          node.disk.signState.save(state);
          // The signature is on disk; the node dies before its WAL has the signed message.
          if (started && healedAt === undefined && !node.byzantine && misc.chance(signCrashRate)) {
            stats.signCrashes++;
            crash(node);
            scheduler.after(misc.int(50, 2_000), () => void (healedAt === undefined && startNode(node)));
            throw new SimulatedCrash();
          }
        },
      }),
      wal: new Wal(incarnationWal(node.disk.wal, alive)),
      transport,
      clock: scheduler.clock(node.offsetMs, alive),
      timeouts: TIMEOUTS,
      gossipIntervalMs: GOSSIP_INTERVAL_MS,
      blockGossipEvery: BLOCK_GOSSIP_EVERY,
      syncGraceMs: SYNC_GRACE_MS,
      onBehind: (height) => requestSync(node, height, incarnation),
      onEvidence: () => {
        if (!node.byzantine) stats.evidenceSeen++;
      },
      onError: (error) => {
        if (!alive()) return;
        if (error instanceof DoubleSignError) stats.guardRefusals++;
        else violate(`node ${node.index} engine error: ${(error as Error).stack ?? error}`);
      },
    });
    node.engine = engine;
    try {
      await engine.start();
      started = true;
    } catch (error) {
      if (alive()) violate(`node ${node.index} failed to start: ${(error as Error).stack ?? error}`);
    }
  };

  const crash = (node: SimNode) => {
    if (!node.up) return;
    node.up = false;
    network.detach(node.index);
    stats.crashes++;
    const powerLoss = misc.chance(0.5);
    if (powerLoss) stats.powerLossCrashes++;
    stats.walBytesLost += node.disk.wal.crash(misc, powerLoss);
  };

  // Block sync: fetch committed blocks one by one from a reachable peer (a Byzantine one may lie).
  const requestSync = (node: SimNode, fromHeight: bigint, incarnation: number) => {
    stats.syncRequests++;
    scheduler.after(misc.int(20, 200), () => {
      const alive = () => node.up && node.incarnation === incarnation;
      if (!alive()) return;
      const sources = nodes.filter((peer) => peer !== node && peer.up && network.connected(node.index, peer.index) && peer.disk.chain.height >= fromHeight);
      if (sources.length === 0) return;
      const source = misc.pick(sources);
      const fetch = (height: bigint) => {
        const entry = source.disk.chain.at(height);
        if (!entry || !alive() || !source.up) return;
        let block = entry.value.block;
        if (source.byzantine && misc.chance(0.5)) {
          block = block.slice();
          block[block.length - 1] ^= 0xff;
        }
        node.engine!.applySyncedBlock(block, entry.commit).then(
          (applied) => {
            if (applied) stats.syncedBlocks++;
            if (applied || node.engine!.status().height > height) scheduler.after(misc.int(5, 20), () => fetch(node.engine!.status().height));
          },
          (error) => {
            if (error instanceof SyncedBlockError) stats.syncRejected++;
            else violate(`node ${node.index} rejected a synced block unexpectedly: ${(error as Error).message}`);
          },
        );
      };
      fetch(fromHeight);
    });
  };

  // ---- the fault schedule ----
  for (let p = scenario.int(0, 3); p > 0; p--) {
    const start = scenario.int(0, faultPhaseMs - 500);
    const duration = scenario.int(500, 8_000);
    const groups = nodes.map(() => scenario.int(0, 1));
    scheduler.at(start, () => {
      stats.partitions++;
      network.partition(groups);
    });
    scheduler.at(Math.min(start + duration, faultPhaseMs), () => network.heal());
  }
  for (let c = scenario.int(0, 3); c > 0; c--) {
    const node = scenario.pick(honest);
    const at = scenario.int(100, faultPhaseMs - 100);
    const downtime = scenario.int(50, 4_000);
    scheduler.at(at, () => crash(node));
    scheduler.at(Math.min(at + downtime, faultPhaseMs), () => {
      if (!node.up) void startNode(node);
    });
  }
  let healedAt: number | undefined;
  let target = 0n;
  scheduler.at(faultPhaseMs, () => {
    network.heal();
    network.conditions = HEALED;
    for (const node of nodes) if (!node.up) void startNode(node);
    healedAt = scheduler.now;
    target = honest.reduce((max, node) => (node.disk.chain.height > max ? node.disk.chain.height : max), 0n) + 2n;
  });

  // ---- run ----
  for (const node of nodes) await startNode(node);
  for (;;) {
    if (!scheduler.runNext()) {
      violate("the simulation ran out of events");
      break;
    }
    await drain();
    for (const node of honest) if (node.up && node.engine) stats.maxRound = Math.max(stats.maxRound, node.engine.state.round);
    if (violations.length > 0) break;
    if (healedAt !== undefined) {
      if (honest.every((node) => node.disk.chain.height >= target)) break;
      if (scheduler.now > healedAt + LIVENESS_BOUND_MS) {
        const heights = honest.map((node) => `${node.index}:${node.disk.chain.height}@r${node.engine?.state.round}`).join(" ");
        violate(`liveness: not every honest node reached height ${target} within ${LIVENESS_BOUND_MS}ms of healing (${heights})`);
        break;
      }
    }
  }
  for (const node of nodes) node.up = false;
  stats.equivocatedProposals = byzantineStats.equivocatedProposals;
  stats.invalidAlternatives = byzantineStats.invalidAlternatives;
  stats.doubleSignedVotes = byzantineStats.doubleSignedVotes;
  stats.finalHeight = Number(honest.reduce((min, node) => (node.disk.chain.height < min ? node.disk.chain.height : min), honest[0].disk.chain.height));
  stats.simulatedMs = scheduler.now;
  stats.network = { ...network.stats };
  return { seed, violations, stats };
}
