// merkle-store: the cost of a block's commit (1,000 updated accounts) in a tree of 10k, 100k and 1M
// accounts. A commit rehashes and rewrites the paths to the updated keys only, so its cost should
// grow with log(accounts), not with accounts. First, the token rollup's workload: 2,000 keys per
// block (1,000 transfers) in 100k accounts of 21-byte keys and ~10-byte values, with the time split.
import { hash } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Level } from "level";
import { MerkleStore } from "../../merkle-store/index.ts";
import { jmtHasherKind } from "../../merkle-store/native.ts";
import { commitProfile } from "../../merkle-store/store.ts";
import type { BenchReport, BenchRow } from "./report.ts";

const SIZES = [10_000, 100_000, 1_000_000];
const POPULATE_PER_COMMIT = 250_000;
const UPDATES_PER_BLOCK = 1_000;
const BLOCKS = 30;
// LevelDB's block cache (classic-level's default is 8 MiB). At a million accounts the tree's lower
// levels are read from disk on every commit, and a cache this size cuts the commit time by a third.
const LEVELDB_CACHE_BYTES = 256 * 2 ** 20;
const TOKEN_ACCOUNTS = 100_000;
const TOKEN_KEYS_PER_BLOCK = 2_000;
const TOKEN_BLOCKS = 40;

export async function run(): Promise<BenchReport> {
  const dir = mkdtempSync(join(tmpdir(), "merkle-store-bench-"));
  try {
    const sha256PerSecond = measureSha256();
    const token = await measureToken(join(dir, "token"));
    const rows: BenchRow[] = [];
    for (const accounts of SIZES) rows.push(await measure(join(dir, String(accounts)), accounts, sha256PerSecond));
    const [small, large] = [rows[0], rows[rows.length - 1]].map((row) => Number(row["commit ms (median)"]));
    const [smallNodes, largeNodes] = [rows[0], rows[rows.length - 1]].map((row) => Number(row["nodes hashed per update"]));
    return {
      name: "merkle-store",
      title: `merkle-store: commit of a ${UPDATES_PER_BLOCK}-account block (20-byte keys, 80-byte values), median of ${BLOCKS}`,
      rows: [token, ...rows],
      notes: [
        `First row: the token rollup's block, ${TOKEN_KEYS_PER_BLOCK.toLocaleString("en")} distinct random keys (21 bytes, ~10-byte values) in ${TOKEN_ACCOUNTS.toLocaleString("en")}, median of ${TOKEN_BLOCKS}; "stage", "apply", "batch" and "write wait" split its main thread's time (set() calls; commit: tree work, building the LevelDB batch, awaiting its write), as means.`,
        `Tree nodes hashed with: ${jmtHasherKind}. sha256 of 64-byte inputs through node:crypto's hash: ${Math.round(sha256PerSecond).toLocaleString("en")} calls/s on one core.`,
        `LevelDB opened with a ${LEVELDB_CACHE_BYTES / 2 ** 20} MiB block cache; populated in commits of ${POPULATE_PER_COMMIT.toLocaleString("en")} accounts, then compacted. The store's default node cache (2^21 nodes).`,
        `1M vs 10k accounts (100× the state): ${(largeNodes / smallNodes).toFixed(2)}× the nodes built and hashed per update (log2 n - log2 ${UPDATES_PER_BLOCK} + ~2.4), ${(large / small).toFixed(2)}× the commit time.`,
        `"LevelDB entries per update": the commit's batch (pages of 4 tree levels, values stored apart, the stale list and root record) per updated key. "node:crypto hash floor" is what the commit's node, key and value hashes would take one node:crypto call each; the native hasher takes a fraction of it.`,
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
    const entries: number[] = [];
    for (let block = 1; block <= BLOCKS; block++) {
      const updated = pickAccounts(accounts, block);
      const start = performance.now();
      for (const n of updated) store.set(address(n), accountValue(n, block));
      const result = await store.commit((batch) => entries.push(batch.length));
      millis.push(performance.now() - start);
      nodesWritten.push(result.nodesWritten);
    }
    const commitMs = median(millis);
    const nodesPerUpdate = median(nodesWritten) / UPDATES_PER_BLOCK;
    const entriesPerUpdate = median(entries) / UPDATES_PER_BLOCK;
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

/** The token rollup's block: TOKEN_KEYS_PER_BLOCK distinct random keys set to small values, in a tree of TOKEN_ACCOUNTS. */
export async function measureToken(dir: string, blocks = TOKEN_BLOCKS): Promise<BenchRow> {
  const db = new Level(dir, { cacheSize: LEVELDB_CACHE_BYTES });
  try {
    const store = await MerkleStore.open(db.sublevel("state"));
    for (let n = 0; n < TOKEN_ACCOUNTS; n++) store.set(tokenKey(n), tokenValue(n, 0));
    await store.commit();
    await (db as unknown as Compactable).compactRange("\u0000", "\uffff");
    const millis: number[] = [];
    const entries: number[] = [];
    let stageMs = 0;
    const before = { ...commitProfile };
    for (let block = 1; block <= blocks; block++) {
      const keys = pickAccounts(TOKEN_ACCOUNTS, block, TOKEN_KEYS_PER_BLOCK).map(tokenKey);
      const values = keys.map((_, i) => tokenValue(i, block));
      const start = performance.now();
      for (let i = 0; i < keys.length; i++) store.set(keys[i], values[i]);
      const staged = performance.now();
      await store.commit((batch) => entries.push(batch.length));
      millis.push(performance.now() - start);
      stageMs += staged - start;
    }
    const perBlock = (ms: number) => (ms / blocks).toFixed(2);
    const commitMs = median(millis);
    return {
      accounts: `${TOKEN_ACCOUNTS.toLocaleString("en")} (token, ${TOKEN_KEYS_PER_BLOCK.toLocaleString("en")}-key blocks)`,
      "commit ms (median)": commitMs.toFixed(1),
      "commit ms (p90)": percentile(millis, 0.9).toFixed(1),
      "µs per updated key": ((commitMs * 1000) / TOKEN_KEYS_PER_BLOCK).toFixed(2),
      "LevelDB entries per update": (median(entries) / TOKEN_KEYS_PER_BLOCK).toFixed(2),
      "stage ms": perBlock(stageMs),
      "apply ms": perBlock(commitProfile.applyMs - before.applyMs),
      "batch ms": perBlock(commitProfile.batchMs - before.batchMs),
      "write wait ms": perBlock(commitProfile.writeMs - before.writeMs),
    };
  } finally {
    await db.close();
  }
}

/** A token account's key: 0x01 and a 20-byte address. */
function tokenKey(n: number): Uint8Array {
  const key = new Uint8Array(21);
  key[0] = 0x01;
  key.set(hash("sha256", String(n), "buffer").subarray(0, 20), 1);
  return key;
}

/** A token account's ~10 bytes: two varint fields (balance, nonce). */
function tokenValue(n: number, block: number): Uint8Array {
  return Uint8Array.of(0x08, 0x80 | (n & 0x7f), 0x80 | ((n >> 7) & 0x7f), 0x80 | block, 0x80 | (n >> 14), 0x01, 0x10, block & 0x7f, 0x80, 0x01);
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
function pickAccounts(accounts: number, block: number, count = UPDATES_PER_BLOCK): number[] {
  const picked = new Set<number>();
  let state = block * 0x9e3779b1;
  while (picked.size < count) {
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
