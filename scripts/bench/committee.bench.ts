// Four validators on this machine (real processes, BFT over libp2p): open-loop load of 250-byte
// rollup transactions spread over the validators' RPCs, committed rollup tx/s and the latency from
// broadcast_tx_sync to the commit that includes it (seen as a NewBlock event), at 1 s and 500 ms
// block times, then other offered rates at 1 s blocks to find where the committee saturates.
//
// `COMMITTEE_BENCH="blockMs:rate:seconds,..."` runs chosen points instead; `COMMITTEE_BENCH_KEEP=1`
// keeps the validators' homes and logs.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import { WebSocket } from "ws";
import { initTestnet } from "../../sequencer/init.ts";
import { Secp256k1Signer } from "../../sequencer/client/signer.ts";
import { submitRollupTxMsg } from "../../sequencer/client/registry.ts";
import { DEFAULT_PARAMS, requiredFee } from "../../sequencer/params.ts";
import { Supervisor } from "../../devnet/supervisor.ts";
import type { BenchReport, BenchRow } from "./report.ts";

const VALIDATORS = 4;
const SIGNERS = 400;
/** How long to wait for the last transactions after the load stops before calling the rest lost. */
const DRAIN_MS = 30_000;
/** The load generator wakes this often and sends everything due. */
const TICK_MS = 2;
/** The targets: a point meets them when it commits what it was offered at this p50 or better. */
const TARGET_P50_MS = 1500;
/** Saturation: committed below this share of offered, or p50 over the target. */
const SATURATED_SHARE = 0.95;

/** Keep-alive connections, a bounded number per validator, as a real load balancer would keep. */
const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

/** POSTs a prepared JSON-RPC body; resolves with the response's `result.code` (or -1 without one). */
function post(port: number, body: Buffer): Promise<{ code: number; log: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, method: "POST", path: "/", agent, headers: { "Content-Type": "application/json", "Content-Length": body.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const reply = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { result?: { code: number; log: string }; error?: { message: string } };
          resolve(reply.result ?? { code: -1, log: reply.error?.message ?? "no result" });
        });
        res.on("error", reject);
      },
    );
    req.on("error", (error: NodeJS.ErrnoException) => {
      // The server may close an idle keep-alive connection just as a request goes out on it; such a
      // request is sent again (Node's documented remedy, req.reusedSocket). Had it arrived after all,
      // the copy is refused as already in the mempool, and the transaction still commits once.
      if (req.reusedSocket && error.code === "ECONNRESET") post(port, body).then(resolve, reject);
      // Any other failure counts as refused, with the reason, rather than ending the run.
      else resolve({ code: -1, log: `request failed: ${error.message}` });
    });
    req.end(body);
  });
}

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  // utime and stime are fields 14 and 15 of stat, 12 and 13 after the command name.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function quantile(sorted: number[], q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.floor(q * (sorted.length - 1))];
}

interface Point {
  blockTimeMs: number;
  rate: number;
  seconds: number;
}

async function measure({ blockTimeMs, rate, seconds }: Point): Promise<BenchRow> {
  const root = mkdtempSync(join(tmpdir(), "metro-bench-committee-"));
  const base = 36000 + Math.floor(Math.random() * 100) * 20;
  const homes = Array.from({ length: VALIDATORS }, (_, i) => join(root, `validator-${i}`));
  const signers = Array.from({ length: SIGNERS }, () => Secp256k1Signer.random());
  const chainId = "metro-bench-committee";
  initTestnet({ homes, chainId, accounts: signers.map((s) => ({ address: s.address, balance: 10n ** 15n })), rpcPort: (i) => base + i, p2pPort: (i) => base + 10 + i, blockTimeMs });
  // Before the validators start: the load the rest of the machine puts on it.
  const load = loadavg()[0];
  const supervisor = new Supervisor(join(root, "logs"));
  try {
    await Promise.all(homes.map((home, i) => supervisor.start({ name: `validator-${i}`, args: ["sequencer", "start", "--home", home, "--metrics", "off"], readyEvent: "listening" })));
    const pids = supervisor.states().map((s) => s.pid!);
    const gasLimit = 40_000n;
    const total = rate * seconds;
    // Everything a request needs is prepared before the clock starts, so sending costs only the request.
    const txs = Array.from({ length: total }, (_, n) => {
      const s = n % SIGNERS;
      const bytes = signers[s].sign([submitRollupTxMsg(signers[s].address, { secondaryChainId: `rollup-${n % 4}`, data: randomBytes(250) })], {
        chainId,
        accountNumber: BigInt(s),
        sequence: BigInt(Math.floor(n / SIGNERS)),
        gasLimit,
        fee: requiredFee(DEFAULT_PARAMS, gasLimit),
      });
      const body = Buffer.from(JSON.stringify({ jsonrpc: "2.0", id: n, method: "broadcast_tx_sync", params: { tx: Buffer.from(bytes).toString("base64") } }));
      return { body, hash: createHash("sha256").update(bytes).digest("hex").toUpperCase() };
    });
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    const blocks: { at: number; txs: number; consensusMs: number }[] = [];
    /** Heights decided after round 0 (a proposal that came too late, a lost vote): seen in the next block's last commit. */
    let laterRounds = 0;
    const ws = new WebSocket(`ws://127.0.0.1:${base}/websocket`, { maxPayload: 256 * 1024 * 1024 });
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    ws.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "subscribe", params: { query: "tm.event='NewBlock'" } }));
    let onAllCommitted = () => {};
    const allCommitted = new Promise<void>((resolve) => (onAllCommitted = resolve));
    ws.on("message", (raw) => {
      const now = performance.now();
      const data = JSON.parse(String(raw)) as { result?: { data?: { value?: { block?: { header: { time: string }; data?: { txs?: string[] }; last_commit?: { round: number } } } } } };
      const block = data.result?.data?.value?.block;
      const blockTxs = block?.data?.txs;
      if (Number(block?.last_commit?.round ?? 0) > 0) laterRounds += 1;
      if (!blockTxs) return;
      let ours = 0;
      for (const tx of blockTxs) {
        const hash = createHash("sha256").update(Buffer.from(tx, "base64")).digest("hex").toUpperCase();
        const at = sentAt.get(hash);
        if (at === undefined) continue;
        latencies.push(now - at);
        ours += 1;
      }
      if (ours === 0) return;
      // The header's time is when the proposer built the block, on this machine's clock.
      blocks.push({ at: now, txs: ours, consensusMs: Date.now() - Date.parse(block!.header.time) });
      if (latencies.length === total) onAllCommitted();
    });
    const cpuBefore = pids.map(cpuSeconds);
    const clientBefore = process.cpuUsage();

    // Open loop: transaction n goes out at start + n/rate whatever happened to the others. A
    // generator that falls behind its schedule shows up as send lag, reported with the figures.
    const rejected: string[] = [];
    const lags: number[] = [];
    const answered: number[] = [];
    const replies: Promise<void>[] = [];
    const start = performance.now();
    let next = 0;
    await new Promise<void>((done) => {
      const tick = () => {
        const now = performance.now();
        while (next < total && start + (next * 1000) / rate <= now) {
          const n = next++;
          lags.push(now - (start + (n * 1000) / rate));
          sentAt.set(txs[n].hash, now);
          replies.push(
            post(base + (n % VALIDATORS), txs[n].body).then((r) => {
              answered.push(performance.now() - now);
              if (r.code !== 0) rejected.push(r.log);
            }),
          );
        }
        if (next < total) setTimeout(tick, TICK_MS);
        else done();
      };
      tick();
    });
    const lastSend = performance.now();
    await Promise.all(replies);
    await Promise.race([allCommitted, new Promise((resolve) => setTimeout(resolve, DRAIN_MS))]);
    const cpuAfter = pids.map(cpuSeconds);
    const client = process.cpuUsage(clientBefore);
    const cpuElapsed = (performance.now() - start) / 1000;
    ws.close();
    latencies.sort((a, b) => a - b);
    lags.sort((a, b) => a - b);
    answered.sort((a, b) => a - b);
    const validatorCpu = cpuAfter.reduce((sum, after, i) => sum + after - cpuBefore[i], 0);
    // Throughput between the first and the last block with load: what the blocks after the first
    // carried over the time they took, so neither end's latency counts as lost throughput.
    const span = blocks.length > 1 ? (blocks.at(-1)!.at - blocks[0].at) / 1000 : NaN;
    const committedRate = blocks.slice(1).reduce((n, b) => n + b.txs, 0) / span;
    const p50 = quantile(latencies, 0.5);
    return {
      blockTimeMs,
      "offered tx/s": Math.round(total / ((lastSend - start) / 1000)),
      txs: total,
      committed: latencies.length,
      refused: rejected.length,
      "committed tx/s": Math.round(committedRate),
      "p50 ms": Math.round(p50),
      "p99 ms": Math.round(quantile(latencies, 0.99)),
      "answer p50/p99 ms": `${Math.round(quantile(answered, 0.5))}/${Math.round(quantile(answered, 0.99))}`,
      "block interval ms": Math.round((span * 1000) / (blocks.length - 1)),
      "build→seen p50 ms": Math.round(quantile(blocks.map((b) => b.consensusMs).sort((a, b) => a - b), 0.5)),
      "txs/block": Math.round(latencies.length / Math.max(1, blocks.length)),
      "rounds > 0": laterRounds,
      "validator CPU ms/tx": Number(((validatorCpu * 1000) / Math.max(1, latencies.length)).toFixed(2)),
      "CPU used (of 2 cores)": Number(((validatorCpu + (client.user + client.system) / 1e6) / cpuElapsed).toFixed(2)),
      "client CPU %": Math.round(((client.user + client.system) / 1e6 / cpuElapsed) * 100),
      "send lag p99 ms": Math.round(quantile(lags, 0.99)),
      "load avg": Number(load.toFixed(1)),
      verdict: latencies.length === total && committedRate >= rate * SATURATED_SHARE && p50 <= TARGET_P50_MS ? "keeps up" : "saturated",
      ...(rejected.length > 0 ? { "refused e.g.": rejected[0].slice(0, 60) } : {}),
    };
  } finally {
    await supervisor.stopAll();
    if (process.env.COMMITTEE_BENCH_KEEP) console.log(`kept ${root}`);
    else rmSync(root, { recursive: true, force: true });
  }
}

export async function run(): Promise<BenchReport> {
  const chosen = process.env.COMMITTEE_BENCH;
  const rows: BenchRow[] = [];
  if (chosen) {
    for (const point of chosen.split(",")) {
      const [blockTimeMs, rate, seconds = 15] = point.split(":").map(Number);
      rows.push(await measure({ blockTimeMs, rate, seconds }));
    }
  } else {
    // The target at both block times, then the saturation point at 1 s blocks: rising rates until
    // one no longer keeps up.
    rows.push(await measure({ blockTimeMs: 1000, rate: 1000, seconds: 20 }));
    rows.push(await measure({ blockTimeMs: 500, rate: 1000, seconds: 20 }));
    for (const rate of rows[0].verdict === "keeps up" ? [1500, 2000, 2500, 3000] : [750, 500, 250]) {
      const row = await measure({ blockTimeMs: 1000, rate, seconds: 15 });
      rows.push(row);
      // Going up, stop at the first that saturates; going down, at the first that keeps up.
      if ((row.verdict === "keeps up") !== (rows[0].verdict === "keeps up")) break;
    }
  }
  return {
    name: "committee",
    title: "Four validators (processes, BFT over libp2p) on one 2-core machine: rollup tx/s and broadcast-to-commit latency",
    rows,
    notes: [
      "Open loop: transaction n is sent at start + n/rate, round-robin over the four validators' RPCs (broadcast_tx_sync, keep-alive HTTP), from the benchmark process on the same 2 cores; request bodies are prepared before the clock starts. Send lag p99 = how late the generator sent against its schedule.",
      "Latency: from sending broadcast_tx_sync to receiving the NewBlock event (validator 0's WebSocket) that includes the transaction. Committed tx/s = the transactions of the blocks after the first one with load / the time from that block to the last one (the sustained rate, with neither end's latency counted as lost throughput).",
      `Verdict: keeps up = every transaction committed (within ${DRAIN_MS / 1000} s of the last send), at least ${SATURATED_SHARE * 100}% of the offered rate sustained, and p50 <= ${TARGET_P50_MS} ms.`,
      "Answer: broadcast_tx_sync's round trip (admission at the validator it was sent to).",
      "Build→seen: from the proposer building a block (its header time) to the NewBlock event, per block: consensus and commit, the part of the latency that is not waiting for the next block.",
      "Validator CPU ms/tx = CPU time (user + system, /proc) of all four validator processes during the run, per committed transaction; CPU used = validators and client together, in cores; load avg = the 1-minute load average just before the validators started (what the rest of the machine was doing).",
    ],
  };
}
