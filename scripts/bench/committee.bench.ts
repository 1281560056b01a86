// Four validators on this machine (real processes, BFT over libp2p): open-loop load of 250-byte
// rollup transactions spread over the validators' RPCs, sustained rollup tx/s and the latency from
// broadcast_tx_sync to the commit that includes it (seen as a NewBlock event), at 1 s and 500 ms
// block times.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
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
/** Keep-alive connections, a bounded number per validator, as a real load balancer would keep. */
const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

function post(port: number, body: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method: "POST", path: "/", agent, headers: { "Content-Type": "application/json" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve(JSON.parse(Buffer.concat(chunks).toString("utf8"))));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}
const SIGNERS = 400;

async function measure(blockTimeMs: number, rate: number, seconds: number): Promise<BenchRow> {
  const root = mkdtempSync(join(tmpdir(), "metro-bench-committee-"));
  const base = 36000 + Math.floor(Math.random() * 100) * 20;
  const homes = Array.from({ length: VALIDATORS }, (_, i) => join(root, `validator-${i}`));
  const signers = Array.from({ length: SIGNERS }, () => Secp256k1Signer.random());
  const chainId = "metro-bench-committee";
  initTestnet({ homes, chainId, accounts: signers.map((s) => ({ address: s.address, balance: 10n ** 15n })), rpcPort: (i) => base + i, p2pPort: (i) => base + 10 + i, blockTimeMs });
  const supervisor = new Supervisor(join(root, "logs"));
  try {
    await Promise.all(homes.map((home, i) => supervisor.start({ name: `validator-${i}`, args: ["sequencer", "start", "--home", home, "--metrics", "off"], readyEvent: "listening" })));
    const gasLimit = 40_000n;
    const total = rate * seconds;
    const txs = Array.from({ length: total }, (_, n) => {
      const s = n % SIGNERS;
      const bytes = signers[s].sign([submitRollupTxMsg(signers[s].address, { secondaryChainId: `rollup-${n % 4}`, data: randomBytes(250) })], {
        chainId,
        accountNumber: BigInt(s),
        sequence: BigInt(Math.floor(n / SIGNERS)),
        gasLimit,
        fee: requiredFee(DEFAULT_PARAMS, gasLimit),
      });
      return { bytes, hash: createHash("sha256").update(bytes).digest("hex").toUpperCase() };
    });
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    let firstCommit = 0;
    let lastCommit = 0;
    const ws = new WebSocket(`ws://127.0.0.1:${base}/websocket`, { maxPayload: 256 * 1024 * 1024 });
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    ws.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "subscribe", params: { query: "tm.event='NewBlock'" } }));
    const allCommitted = new Promise<void>((resolve) =>
      ws.on("message", (raw) => {
        const now = performance.now();
        const data = JSON.parse(String(raw)) as { result?: { data?: { value?: { block?: { data?: { txs?: string[] } } } } } };
        for (const tx of data.result?.data?.value?.block?.data?.txs ?? []) {
          const hash = createHash("sha256").update(Buffer.from(tx, "base64")).digest("hex").toUpperCase();
          const at = sentAt.get(hash);
          if (at === undefined) continue;
          latencies.push(now - at);
          firstCommit ||= now;
          lastCommit = now;
          if (latencies.length === total) resolve();
        }
      }),
    );
    // Open loop: each transaction goes out at its scheduled time, whatever happened to the others.
    const start = performance.now();
    const rejected: string[] = [];
    await Promise.all(
      txs.map(async (tx, n) => {
        const due = start + (n * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        sentAt.set(tx.hash, performance.now());
        const r = (await post(base + (n % VALIDATORS), { jsonrpc: "2.0", id: n, method: "broadcast_tx_sync", params: { tx: Buffer.from(tx.bytes).toString("base64") } })) as {
          result?: { code: number; log: string };
        };
        if (r.result?.code !== 0) rejected.push(r.result?.log ?? "no result");
      }),
    );
    if (rejected.length > 0) throw new Error(`${rejected.length} transactions refused, e.g. ${rejected[0]}`);
    await Promise.race([allCommitted, new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${latencies.length} of ${total} committed`)), 60_000))]);
    ws.close();
    latencies.sort((a, b) => a - b);
    const q = (x: number) => Math.round(latencies[Math.floor(x * (latencies.length - 1))]);
    return {
      blockTimeMs,
      "offered tx/s": rate,
      txs: total,
      "committed tx/s": Math.round(total / ((lastCommit - start) / 1000)),
      "p50 ms": q(0.5),
      "p99 ms": q(0.99),
    };
  } finally {
    await supervisor.stopAll();
    rmSync(root, { recursive: true, force: true });
  }
}

export async function run(): Promise<BenchReport> {
  const rows = [await measure(1000, 1000, 15), await measure(500, 1000, 15), await measure(1000, 1500, 15)];
  return {
    name: "committee",
    title: "Four validators (processes, BFT over libp2p) on one 2-core machine: rollup tx/s and broadcast-to-commit latency",
    rows,
    notes: [
      "Open loop: transactions are sent at the offered rate, round-robin over the four validators' RPCs, from the benchmark process on the same 2 cores; latency runs from sending broadcast_tx_sync to receiving the NewBlock event that includes the transaction.",
      "Committed tx/s = transactions / time from the first send to the last commit.",
    ],
  };
}
