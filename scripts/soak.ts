// `npm run soak [-- --seeds N] [--from S] [--workers W]`: runs the consensus simulator over many
// seeds in worker threads and prints what was exercised (each fault kind: in how many runs, how
// often) and every violation, which must be none. `npm run soak -- --seed N` replays one seed and
// prints its details. Exits 1 on any violation.
import { availableParallelism } from "node:os";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { replayHint, runSimulation, type SimResult, type SimStats } from "../test/consensus-sim/simulation.ts";

interface Job {
  seeds: number[];
}

if (!isMainThread) {
  const { seeds } = workerData as Job;
  for (const seed of seeds) {
    const started = performance.now();
    const result = await runSimulation(seed);
    parentPort!.postMessage({ result, ms: performance.now() - started });
  }
} else {
  await main();
}

function option(name: string): string | undefined {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(): Promise<void> {
  const single = option("seed");
  if (single !== undefined) {
    const result = await runSimulation(Number(single));
    console.log(JSON.stringify(result.stats, null, 2));
    for (const v of result.violations) console.log(`VIOLATION ${v}`);
    console.log(result.violations.length === 0 ? `seed ${single}: ok` : `seed ${single}: ${result.violations.length} violation(s)`);
    process.exit(result.violations.length === 0 ? 0 : 1);
  }
  const count = Number(option("seeds") ?? 2000);
  const from = Number(option("from") ?? 1);
  const workers = Math.max(1, Math.min(Number(option("workers") ?? availableParallelism()), count));
  const started = performance.now();
  const results: SimResult[] = [];
  let cpuMs = 0;
  await Promise.all(
    [...Array(workers).keys()].map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          const seeds = [...Array(count).keys()].map((i) => from + i).filter((_, i) => i % workers === w);
          const worker = new Worker(new URL(import.meta.url), { workerData: { seeds } satisfies Job });
          worker.on("message", ({ result, ms }: { result: SimResult; ms: number }) => {
            results.push(result);
            cpuMs += ms;
            if (result.violations.length > 0) console.log(`seed ${result.seed}: ${result.violations.length} violation(s) — ${replayHint(result.seed)}`);
            if (results.length % 500 === 0) console.log(`${results.length}/${count} seeds, ${((performance.now() - started) / 1000).toFixed(0)} s`);
          });
          worker.on("error", reject);
          worker.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`worker exited with ${code}`))));
        }),
    ),
  );
  printSummary(results, performance.now() - started, cpuMs, workers);
  process.exit(results.some((r) => r.violations.length > 0) ? 1 : 0);
}

function printSummary(results: SimResult[], wallMs: number, runMs: number, workers: number): void {
  const stats = results.map((r) => r.stats);
  const runsWith = (pick: (s: SimStats) => number) => stats.filter((s) => pick(s) > 0).length;
  const sum = (pick: (s: SimStats) => number) => stats.reduce((a, s) => a + pick(s), 0);
  const rows: [string, (s: SimStats) => number][] = [
    ["message loss (messages lost)", (s) => s.network.lost],
    ["duplicated messages", (s) => s.network.duplicated],
    ["reordering (delay spread >= 200 ms, messages delivered)", (s) => (s.maxDelayMs >= 200 ? s.network.delivered : 0)],
    ["partitions", (s) => s.partitions],
    ["messages blocked by partitions", (s) => s.network.blockedByPartition],
    ["crashes and restarts (WAL replay)", (s) => s.crashes],
    ["...right after signing, before the WAL had the message", (s) => s.signCrashes],
    ["power-loss crashes (unsynced WAL tail lost)", (s) => s.powerLossCrashes],
    ["torn WAL records truncated on restart", (s) => s.tornWalRecords],
    ["equivocating proposers", (s) => s.byzantine["equivocating-proposer"]],
    ["equivocated proposals sent", (s) => s.equivocatedProposals],
    ["...of which the other block was invalid", (s) => s.invalidAlternatives],
    ["double-signing voters", (s) => s.byzantine["double-signer"]],
    ["double-signed votes sent", (s) => s.doubleSignedVotes],
    ["duplicate-vote evidence recorded by honest nodes", (s) => s.evidenceSeen],
    ["mute validators", (s) => s.byzantine.mute],
    ["block sync requests (node behind)", (s) => s.syncRequests],
    ["blocks applied by block sync", (s) => s.syncedBlocks],
    ["lying sync peers' blocks rejected", (s) => s.syncRejected],
    ["double-sign guard refusals", (s) => s.guardRefusals],
    ["rounds beyond 0 (max round reached)", (s) => s.maxRound],
  ];
  console.log(`\nconsensus soak: ${results.length} seeds in ${(wallMs / 1000).toFixed(1)} s wall on ${workers} worker(s), ${(runMs / results.length).toFixed(0)} ms per seed`);
  console.log(`committee sizes: ${[4, 5, 6, 7].map((n) => `${n}: ${stats.filter((s) => s.validators === n).length}`).join(", ")}`);
  console.log(`heights committed (lowest honest node, summed): ${sum((s) => s.finalHeight)}; simulated time: ${(sum((s) => s.simulatedMs) / 3_600_000).toFixed(1)} h; highest round: ${Math.max(...stats.map((s) => s.maxRound))}`);
  console.log("\nfault kind".padEnd(62) + "runs".padStart(8) + "total".padStart(12));
  for (const [name, pick] of rows) console.log(name.padEnd(61) + String(runsWith(pick)).padStart(8) + String(sum(pick)).padStart(12));
  const kinds = ["agreement", "validity", "signed two different", "liveness", "engine error", "failed to start", "bad commit", "rejected a synced block", "ran out of events"];
  console.log("\nviolations");
  for (const kind of kinds) console.log(`  ${kind}: ${results.reduce((a, r) => a + r.violations.filter((v) => v.includes(kind)).length, 0)}`);
  const failed = results.filter((r) => r.violations.length > 0).sort((a, b) => a.seed - b.seed);
  console.log(`  failing seeds: ${failed.length}${failed.length > 0 ? ` (${failed.map((r) => r.seed).join(", ")})` : ""}`);
  for (const r of failed.slice(0, 10)) console.log(`  ${replayHint(r.seed)}\n    ${r.violations[0]}`);
}
