// merkle-store: the cost of a block's commit (1,000 updated accounts) in a tree of 10k, 100k and 1M
// accounts. A commit rehashes and rewrites the paths to the updated keys only, so its cost should
// grow with log(accounts), not with accounts.
import { hash } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Level } from "level";
import { MerkleStore } from "../../merkle-store/index.ts";
import { jmtHasherKind } from "../../merkle-store/native.ts";
import type { BenchReport, BenchRow } from "./report.ts";

const SIZES = [10_000, 100_000, 1_000_000];
const POPULATE_PER_COMMIT = 250_000;
const UPDATES_PER_BLOCK = 1_000;
const BLOCKS = 30;
// LevelDB's block cache (classic-level's default is 8 MiB). At a million accounts the tree's lower
// levels are read from disk on every commit, and a cache this size cuts the commit time by a third.
const LEVELDB_CACHE_BYTES = 256 * 2 ** 20;

export async function run(): Promise<BenchReport> {
  const dir = mkdtempSync(join(tmpdir(), "merkle-store-bench-"));
  try {
    const sha256PerSecond = measureSha256();
    const rows: BenchRow[] = [];
    for (const accounts of SIZES) rows.push(await measure(join(dir, String(accounts)), accounts, sha256PerSecond));
    const [small, large] = [rows[0], rows[rows.length - 1]].map((row) => Number(row["commit ms (median)"]));
    const [smallNodes, largeNodes] = [rows[0], rows[rows.length - 1]].map((row) => Number(row["nodes hashed per update"]));
    return {
      name: "merkle-store",
      title: `merkle-store: commit of a ${UPDATES_PER_BLOCK}-account block (20-byte keys, 80-byte values), median of ${BLOCKS}`,
      rows,
      notes: [
        `Tree nodes hashed with: ${jmtHasherKind}. sha256 of 64-byte inputs through node:crypto's hash: ${Math.round(sha256PerSecond).toLocaleString("en")} calls/s on one core.`,
        `LevelDB opened with a ${LEVELDB_CACHE_BYTES / 2 ** 20} MiB block cache; populated in commits of ${POPULATE_PER_COMMIT.toLocaleString("en")} accounts, then compacted. The store's default node cache (2^21 nodes).`,
        `1M vs 10k accounts (100× the state): ${(largeNodes / smallNodes).toFixed(2)}× the nodes built and hashed per update (log2 n - log2 ${UPDATES_PER_BLOCK} + ~2.4), ${(large / small).toFixed(2)}× the commit time.`,
        `"LevelDB entries per update": pages written (4 tree levels each) plus the value. "node:crypto hash floor" is what the commit's node, key and value hashes would take one node:crypto call each; the native hasher takes a fraction of it.`,
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measure(dir: string, accounts: number, sha256PerSecond: number): Promise<BenchRow> {
  const db = new Level(dir, { cacheSize: LEVELDB_CACHE_BYTES });
  try {
    const store = await MerkleStore.open(db.sublevel("state"));
    const populateStart = performance.now();
    for (let start = 0; start < accounts; start += POPULATE_PER_COMMIT) {
      for (let n = start; n < Math.min(accounts, start + POPULATE_PER_COMMIT); n++) store.set(address(n), accountValue(n, 0));
      await store.commit();
    }
    const populateSeconds = (performance.now() - populateStart) / 1000;
    // Bulk loading leaves LevelDB a compaction backlog that would slow the first minutes of blocks
    // down by half; a node that has been running a while is past it.
    const compactStart = performance.now();
    await (db as unknown as Compactable).compactRange("\u0000", "\uffff");
    const compactSeconds = (performance.now() - compactStart) / 1000;

    const millis: number[] = [];
    const nodesWritten: number[] = [];
    const pagesWritten: number[] = [];
    for (let block = 1; block <= BLOCKS; block++) {
      const updated = pickAccounts(accounts, block);
      const start = performance.now();
      for (const n of updated) store.set(address(n), accountValue(n, block));
      const result = await store.commit();
      millis.push(performance.now() - start);
      nodesWritten.push(result.nodesWritten);
      pagesWritten.push(result.pagesWritten);
    }
    const commitMs = median(millis);
    const nodesPerUpdate = median(nodesWritten) / UPDATES_PER_BLOCK;
    const entriesPerUpdate = median(pagesWritten) / UPDATES_PER_BLOCK + 1;
    // Every node built is hashed once; every update also hashes its key and its value.
    const hashesPerUpdate = nodesPerUpdate + 2;
    return {
      accounts: accounts.toLocaleString("en"),
      "populate s": populateSeconds.toFixed(1),
      "compact s": compactSeconds.toFixed(1),
      "disk MB": (directorySize(dir) / 2 ** 20).toFixed(0),
      "commit ms (median)": commitMs.toFixed(1),
      "commit ms (p90)": percentile(millis, 0.9).toFixed(1),
      "µs per updated key": ((commitMs * 1000) / UPDATES_PER_BLOCK).toFixed(1),
      "nodes hashed per update": nodesPerUpdate.toFixed(2),
      "LevelDB entries per update": entriesPerUpdate.toFixed(2),
      "hashes per update": hashesPerUpdate.toFixed(2),
      "node:crypto hash floor ms": ((hashesPerUpdate * UPDATES_PER_BLOCK * 1000) / sha256PerSecond).toFixed(1),
    };
  } finally {
    await db.close();
  }
}

/** Under Node, `Level` is classic-level's ClassicLevel, whose compactRange the `level` typings leave out. */
interface Compactable {
  compactRange(start: string, end: string): Promise<void>;
}

/** A 20-byte account address. */
function address(n: number): Uint8Array {
  const bytes = new Uint8Array(20);
  new DataView(bytes.buffer).setUint32(16, n);
  bytes[0] = 0xa1;
  return bytes;
}

/** An ~80-byte account record. */
function accountValue(n: number, block: number): Uint8Array {
  return new TextEncoder().encode(`{"balance":"${n * 1000 + block}","sequence":${block},"pubkey":"${"ab".repeat(20)}"}`.padEnd(80, " "));
}

/** UPDATES_PER_BLOCK distinct accounts, spread over the whole key space as real traffic would be. */
function pickAccounts(accounts: number, block: number): number[] {
  const picked = new Set<number>();
  let state = block * 0x9e3779b1;
  while (picked.size < UPDATES_PER_BLOCK) {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    picked.add(state % accounts);
  }
  return [...picked];
}

function measureSha256(): number {
  const input = new Uint8Array(64).fill(7);
  const count = 1_000_000;
  for (let i = 0; i < 100_000; i++) hash("sha256", input, "buffer");
  const start = performance.now();
  for (let i = 0; i < count; i++) hash("sha256", input, "buffer");
  return count / ((performance.now() - start) / 1000);
}

function median(values: number[]): number {
  return percentile(values, 0.5);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function directorySize(dir: string): number {
  // LevelDB may still be compacting: a file listed can be gone by the time it is looked at.
  return readdirSync(dir).reduce((sum, name) => sum + (statSync(join(dir, name), { throwIfNoEntry: false })?.size ?? 0), 0);
}
