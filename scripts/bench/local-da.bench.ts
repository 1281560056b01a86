// The local DA server's submit-to-included rate over real HTTP: concurrent clients submitting blobs
// for a fixed time, counting what was included and how long blob.Submit took to answer.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import pino from "pino";
import { startLocalDa } from "../../celestia/local-da/server.ts";
import { DaClient } from "../../celestia/da-client.ts";
import { namespaceFromSecondaryChainId } from "../../celestia/namespace.ts";
import type { BenchReport, BenchRow } from "./report.ts";

async function measure(blockTimeMs: number, blobBytes: number, clients: number, seconds: number): Promise<BenchRow> {
  const home = mkdtempSync(join(tmpdir(), "metro-bench-da-"));
  const server = await startLocalDa({ home, port: 0, blockTimeMs, logger: pino({ level: "silent" }) });
  const latencies: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  try {
    await Promise.all(
      Array.from({ length: clients }, async (_, i) => {
        const client = new DaClient({ url: server.url, retry: false });
        const namespace = namespaceFromSecondaryChainId(`bench-${i}`);
        while (performance.now() < deadline) {
          const sent = performance.now();
          await client.submit([{ namespace, data: randomBytes(blobBytes), shareVersion: 0 }]);
          latencies.push(performance.now() - sent);
        }
        await client.close();
      }),
    );
  } finally {
    await server.close();
    rmSync(home, { recursive: true, force: true });
  }
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]);
  return {
    blockTimeMs,
    blobKB: blobBytes / 1024,
    clients,
    "included/s": +(latencies.length / elapsed).toFixed(1),
    "MB/s": +((latencies.length * blobBytes) / elapsed / 1e6).toFixed(2),
    "p50 ms": at(0.5),
    "p99 ms": at(0.99),
  };
}

export async function run(): Promise<BenchReport> {
  const rows = [
    await measure(1000, 1024, 256, 6),
    await measure(1000, 100 * 1024, 64, 6),
    await measure(250, 100 * 1024, 64, 6),
    await measure(1000, 1024 * 1024, 16, 6),
  ];
  return {
    name: "local-da",
    title: "Local DA server: blob.Submit to inclusion over HTTP (one process)",
    rows,
    notes: [
      "Closed loop: each client submits again as soon as it is answered, i.e. just after a block, so it waits about one block time; p50 above one block time means the square was full and the submission waited for the next.",
      "A 128 x 128 square holds about 7.8 MB of blob data, so 1 MB blobs saturate it at about 7 per block.",
    ],
  };
}
