// Sequencer throughput on one core: transaction admission (decode, verify, check) next to the raw
// libsecp256k1 verification rate measured in the same run, then sustained block production for
// 250-byte rollup transactions with a single validator.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hash, randomBytes } from "node:crypto";
import pino from "pino";
import secp256k1 from "secp256k1";
import { TxRaw } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import { initHome } from "../../sequencer/init.ts";
import { SequencerNode } from "../../sequencer/node.ts";
import { Secp256k1Signer } from "../../sequencer/client/signer.ts";
import { submitRollupTxMsg } from "../../sequencer/client/registry.ts";
import { DEFAULT_PARAMS, requiredFee } from "../../sequencer/params.ts";
import { signDocBytes } from "../../sequencer/tx/signature.ts";
import { decodeTx } from "../../sequencer/tx/decode.ts";
import { jsMerkleRoot, merkleRoot } from "../../celestia/merkle.ts";
import { nmtHasherKind } from "../../celestia/nmt-hasher.ts";
import type { BenchReport } from "./report.ts";

const CHAIN_ID = "metro-bench-1";
const ACCOUNTS = 2_000;
const GAS_LIMIT = 40_000n;
const FEE = requiredFee(DEFAULT_PARAMS, GAS_LIMIT);

interface Fixture {
  home: string;
  signers: Secp256k1Signer[];
}

function fixture(blockTimeMs: number): Fixture {
  const home = mkdtempSync(join(tmpdir(), "metro-bench-seq-"));
  const signers = Array.from({ length: ACCOUNTS }, () => Secp256k1Signer.random());
  initHome({
    home,
    chainId: CHAIN_ID,
    accounts: signers.map((s) => ({ address: s.address, balance: 10n ** 15n })),
    config: { blockTimeMs, mempool: { maxTxs: 1_000_000, maxBytes: 1 << 30, maxFutureSequences: 1_000, futureTtlBlocks: 1_000 } },
  });
  return { home, signers };
}

/** `perAccount` rollup txs of 250 random bytes from every account, interleaved across accounts. */
function signTxs(f: Fixture, perAccount: number, firstSequence = 0): Uint8Array[] {
  const txs: Uint8Array[] = [];
  for (let seq = firstSequence; seq < firstSequence + perAccount; seq++) {
    f.signers.forEach((s, i) => {
      const msg = submitRollupTxMsg(s.address, { secondaryChainId: `rollup-${i % 4}`, data: randomBytes(250) });
      txs.push(s.sign([msg], { chainId: CHAIN_ID, accountNumber: BigInt(i), sequence: BigInt(seq), gasLimit: GAS_LIMIT, fee: FEE }));
    });
  }
  return txs;
}

function rawVerifyRate(txs: readonly Uint8Array[]): number {
  // The same work a verification needs and nothing else: sha256 of the SignDoc is excluded.
  const items = txs.map((bytes, i) => {
    const tx = decodeTx(bytes, DEFAULT_PARAMS);
    const digest = hash("sha256", signDocBytes(tx, CHAIN_ID, BigInt(i % ACCOUNTS)), "buffer");
    return { digest, sig: TxRaw.decode(bytes).signatures[0], pub: tx.pubKey! };
  });
  const start = performance.now();
  let ok = 0;
  for (const it of items) if (secp256k1.ecdsaVerify(it.sig, it.digest, it.pub)) ok++;
  const seconds = (performance.now() - start) / 1000;
  if (ok !== items.length) throw new Error("benchmark signatures do not verify");
  return items.length / seconds;
}

/** Offers `txs` with up to `inFlight` outstanding, as an RPC server with many clients would. */
async function admitAll(node: SequencerNode, txs: readonly Uint8Array[], inFlight = 256): Promise<void> {
  for (let i = 0; i < txs.length; i += inFlight) {
    const results = await Promise.all(txs.slice(i, i + inFlight).map((tx) => node.checkTx(tx)));
    const failed = results.find((r) => r.code !== 0);
    if (failed) throw new Error(`admission failed: ${failed.log}`);
  }
}

/**
 * Steady-state admission: every account's first transaction is admitted untimed (it loads the account
 * from LevelDB, I/O rather than CPU), then the rest are timed.
 */
async function admissionRate(f: Fixture, warmup: readonly Uint8Array[], txs: readonly Uint8Array[]): Promise<number> {
  const node = await SequencerNode.open(f.home, { logger: pino({ level: "silent" }) });
  try {
    await admitAll(node, warmup);
    const start = performance.now();
    await admitAll(node, txs);
    return txs.length / ((performance.now() - start) / 1000);
  } finally {
    await node.stop();
  }
}

/**
 * Sustained block production: every transaction is offered as fast as admission takes it (sharing
 * the one thread with block production, as in a real node), and the rate is the count committed
 * divided by the time from the first offer to the block that commits the last one.
 */
async function blockProduction(blockTimeMs: number, perAccount: number): Promise<{ txPerSec: number; mbPerSec: number; blocks: number; medianBlockTxs: number; seconds: number }> {
  const f = fixture(blockTimeMs);
  try {
    const txs = signTxs(f, perAccount);
    const node = await SequencerNode.open(f.home, { logger: pino({ level: "silent" }) });
    const blocks: number[] = [];
    let committedTxs = 0;
    const allCommitted = new Promise<number>((resolve) =>
      node.onCommitted(({ executed }) => {
        if (executed.txs.length === 0) return;
        blocks.push(executed.txs.length);
        committedTxs += executed.txs.length;
        if (committedTxs === txs.length) resolve(performance.now());
      }),
    );
    await node.start();
    const start = performance.now();
    for (let next = 0; next < txs.length; next += 256) {
      await admitAll(node, txs.slice(next, next + 256));
      await new Promise((r) => setImmediate(r));
    }
    const end = await allCommitted;
    await node.stop();
    const seconds = (end - start) / 1000;
    const sorted = [...blocks].sort((a, b) => a - b);
    return { txPerSec: txs.length / seconds, mbPerSec: (txs.length * 250) / seconds / 1e6, blocks: blocks.length, medianBlockTxs: sorted[Math.floor(sorted.length / 2)], seconds };
  } finally {
    rmSync(f.home, { recursive: true, force: true });
  }
}

/**
 * Milliseconds for the RFC 6962 roots a block of `count` 250-byte rollup txs needs: the data hash
 * over the tx hashes, the rollup's entries root and the part set root (64 KiB parts), median of 9.
 */
function blockRootsMs(root: (items: readonly Uint8Array[]) => Uint8Array, count: number): number {
  const txs = Array.from({ length: count }, (_, i) => randomBytes(250 + (i % 7)));
  const hashes = txs.map((tx) => hash("sha256", tx, "buffer"));
  const data = Buffer.concat(txs);
  const parts = Array.from({ length: Math.ceil(data.length / 65536) }, (_, i) => data.subarray(65536 * i, 65536 * (i + 1)));
  const times = Array.from({ length: 9 }, () => {
    const start = performance.now();
    root(hashes);
    root(txs);
    root(parts);
    return performance.now() - start;
  }).sort((a, b) => a - b);
  return times[4];
}

export async function run(): Promise<BenchReport> {
  const f = fixture(1000);
  let raw: number;
  let admission: number;
  try {
    const warmup = signTxs(f, 1);
    const txs = signTxs(f, 10, 1);
    raw = rawVerifyRate(txs);
    admission = await admissionRate(f, warmup, txs);
  } finally {
    rmSync(f.home, { recursive: true, force: true });
  }
  const production = await blockProduction(1000, 30);
  const rootsJs = blockRootsMs(jsMerkleRoot, 5000);
  const roots = blockRootsMs(merkleRoot, 5000);
  const rows: BenchReport["rows"] = [
    { measure: "raw secp256k1 verify (libsecp256k1, 1 core)", rate: Math.round(raw), unit: "verify/s", ratio: 1 },
    { measure: "admission: decode + verify + check + receipt (1 core)", rate: Math.round(admission), unit: "tx/s", ratio: +(admission / raw).toFixed(2) },
    {
      measure: `block production, ${ACCOUNTS * 30} rollup txs of 250 B, 1 s blocks`,
      rate: Math.round(production.txPerSec),
      unit: "tx/s",
      mbPerSec: +production.mbPerSec.toFixed(2),
      blocks: production.blocks,
      medianBlockTxs: production.medianBlockTxs,
    },
    { measure: "block roots of 5,000 txs: data hash, entries root, part set (ms)", rate: +roots.toFixed(2), unit: `ms (${merkleRoot === jsMerkleRoot ? "js" : nmtHasherKind})`, ratio: +(roots / rootsJs).toFixed(3) },
    { measure: "the same roots, one node:crypto call per node (ms)", rate: +rootsJs.toFixed(2), unit: "ms (js)", ratio: 1 },
  ];
  return {
    name: "sequencer",
    title: "Sequencer admission and block production (single validator)",
    rows,
    notes: [
      `admission / raw verification = ${(admission / raw).toFixed(2)} (target >= 0.7)`,
      `block production sustained ${Math.round(production.txPerSec)} rollup tx/s (target >= 5,000), admission and block production sharing one Node.js thread`,
    ],
  };
}
