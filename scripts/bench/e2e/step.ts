// One step of the end-to-end benchmark: a fixed offered rate for a fixed time, every transaction
// followed from submission through C0, commit, soft, firm and header, and what each process
// spent meanwhile.
import { loadavg } from "node:os";
import { openLoop, RpcPool } from "./open-loop.ts";
import { watchProcesses, type ProcessUsage } from "./usage.ts";
import { ROLLUP_LEVELS, type CommitWatcher, type RollupWatcher } from "./watchers.ts";
import type { LoadTx } from "./workload.ts";

export const LEVELS = ["C0", "commit", ...ROLLUP_LEVELS] as const;
export type Level = (typeof LEVELS)[number];

export interface StepSetup {
  rpcPorts: number[];
  commits: CommitWatcher;
  /** Every rollup node, by the secondary chain id it runs. */
  nodes: { rollup: string; watcher: RollupWatcher }[];
  /** The devnet's processes and the generator's own, by name. */
  pids: ReadonlyMap<string, number>;
  /** After the last send, how long to wait for every transaction to reach a header. */
  drainMs: number;
}

export interface LevelResult {
  level: Level;
  reached: number;
  /** Sustained sequencer tx/s and rollup tx/s (a bundle is one of the first and two of the second). */
  txPerSecond: number;
  rollupTxPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export interface StepResult {
  rate: number;
  sent: number;
  /** broadcast_tx_sync answers other than code 0, and the first one's log. */
  refused: number;
  refusedExample?: string;
  sendLagP99Ms: number;
  loadAvgBefore: number;
  loadAvgAfter: number;
  levels: LevelResult[];
  /** Over the sending window. */
  processes: ProcessUsage[];
  machineCpuPercent: number;
}

interface Tracked {
  tx: LoadTx;
  sentAt: number;
  c0At?: number;
  c0Code?: number;
  c0Log?: string;
  height?: number;
  commitAt?: number;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/**
 * The rate sustained between the first time anything reached the level and the last: what came
 * after the first arrival over that span, so neither end's latency counts as lost throughput.
 */
function sustained(arrivals: { at: number; weight: number }[]): number {
  if (arrivals.length < 2) return NaN;
  arrivals.sort((a, b) => a.at - b.at);
  const first = arrivals[0].at;
  const span = arrivals.at(-1)!.at - first;
  const after = arrivals.reduce((sum, a) => sum + (a.at > first ? a.weight : 0), 0);
  return span > 0 ? (after * 1000) / span : NaN;
}

/** When the transaction reached a rollup level: on every node of every rollup it touches. */
function rollupLevelAt(t: Tracked, level: (typeof ROLLUP_LEVELS)[number], nodes: StepSetup["nodes"]): number | undefined {
  let latest = 0;
  for (const { rollup, watcher } of nodes) {
    if (!t.tx.rollups.includes(rollup)) continue;
    const at = watcher.levels[level].reachedAt(t.height!);
    if (at === undefined) return undefined;
    latest = Math.max(latest, at);
  }
  return latest;
}

function levelResult(level: Level, tracked: Tracked[], reachedAt: (t: Tracked) => number | undefined): LevelResult {
  const arrivals: { at: number; weight: number }[] = [];
  const latencies: number[] = [];
  for (const t of tracked) {
    const at = reachedAt(t);
    if (at === undefined) continue;
    arrivals.push({ at, weight: t.tx.rollups.length });
    latencies.push(at - t.sentAt);
  }
  latencies.sort((a, b) => a - b);
  return {
    level,
    reached: latencies.length,
    txPerSecond: sustained(arrivals.map((a) => ({ at: a.at, weight: 1 }))),
    rollupTxPerSecond: sustained(arrivals),
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
  };
}

export async function runStep(setup: StepSetup, txs: LoadTx[], rate: number): Promise<StepResult> {
  const tracked: Tracked[] = txs.map((tx) => ({ tx, sentAt: NaN }));
  for (const t of tracked) {
    setup.commits.watch(t.tx.base64, (height, at) => {
      t.height = height;
      t.commitAt = at;
    });
  }
  const answers: Promise<void>[] = [];
  const loadAvgBefore = loadavg()[0];
  const rpc = new RpcPool();
  const usage = watchProcesses(setup.pids);
  const schedule = await openLoop(txs.length, rate, (n, now) => {
    const t = tracked[n];
    t.sentAt = now;
    answers.push(
      rpc.broadcastTxSync(setup.rpcPorts[n % setup.rpcPorts.length], t.tx.body).then((answer) => {
        t.c0At = performance.now();
        t.c0Code = answer.code;
        t.c0Log = answer.log;
      }),
    );
  });
  const { processes, machineCpuPercent } = usage.finish();
  await Promise.all(answers);
  rpc.close();

  // Drain: until every admitted transaction is under a header on every rollup node, or the time is up.
  const admitted = tracked.filter((t) => t.c0Code === 0);
  const deadline = performance.now() + setup.drainMs;
  while (performance.now() < deadline) {
    const top = admitted.reduce((h, t) => Math.max(h, t.height ?? Infinity), 0);
    if (top !== Infinity && setup.nodes.every((n) => n.watcher.levels.header.height >= top)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const refused = tracked.filter((t) => t.c0Code !== 0);
  const lags = [...schedule.lagsMs].sort((a, b) => a - b);
  return {
    rate,
    sent: txs.length,
    refused: refused.length,
    ...(refused.length > 0 ? { refusedExample: refused[0].c0Log!.slice(0, 100) } : {}),
    sendLagP99Ms: percentile(lags, 0.99),
    loadAvgBefore,
    loadAvgAfter: loadavg()[0],
    levels: [
      levelResult("C0", admitted, (t) => t.c0At),
      levelResult("commit", admitted, (t) => t.commitAt),
      ...ROLLUP_LEVELS.map((level) => levelResult(level, admitted, (t) => (t.height === undefined ? undefined : rollupLevelAt(t, level, setup.nodes)))),
    ],
    processes,
    machineCpuPercent,
  };
}
