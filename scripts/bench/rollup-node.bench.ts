// The rollup node's latency: from a sequencer block's commit to its soft execution by a token rollup
// node following the sequencer's RPC stream (metro_subscribe_blocks over WebSocket), and to its firm
// confirmation from the local DA server (1 s blocks) after the relayer in the sequencer posted it.
// Everything runs in this one process, so the times are on one clock: the commit is the moment the
// sequencer node reports it, soft and firm the moments the rollup node reports them.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { startLocalDa } from "../../celestia/local-da/server.ts";
import { Secp256k1Signer } from "../../sequencer/client/signer.ts";
import { submitRollupTxMsg } from "../../sequencer/client/registry.ts";
import { initHome } from "../../sequencer/init.ts";
import { SequencerNode } from "../../sequencer/node.ts";
import { DEFAULT_PARAMS, gasUsed, requiredFee } from "../../sequencer/params.ts";
import { nodeSource } from "../../sequencer/relayer/node-source.ts";
import { startRelayer } from "../../sequencer/relayer/relayer.ts";
import { startRpcServer } from "../../sequencer/rpc/server.ts";
import { initRollupHome } from "../../lazy-rollup-node/config.ts";
import { startRollupService } from "../../lazy-rollup-node/service.ts";
import { signTokenTransfer } from "../../lazy-rollup-node/index.ts";
import { toBech32 } from "@cosmjs/encoding";
import { addressBytes } from "../../sequencer/tx/address.ts";
import { publicKeyOf } from "../../lazy-rollup-node/secp256k1-key.ts";
import { sha256 } from "../../celestia/sha256.ts";
import type { BenchReport, BenchRow } from "./report.ts";

const SEQUENCER_CHAIN = "metro-bench-rollup-node";
const ROLLUP = "bench-tokens";
const PREFIX = "btok";
const SEQUENCER_BLOCK_MS = 500;
const DA_BLOCK_MS = 1_000;
const SENDERS = 10;
const LOADED_BLOCKS = 60;
const silent = pino({ level: "silent" });

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function row(measure: string, samples: number[]): BenchRow {
  const sorted = [...samples].sort((a, b) => a - b);
  return { measure, samples: sorted.length, p50_ms: +percentile(sorted, 50).toFixed(1), p99_ms: +percentile(sorted, 99).toFixed(1), max_ms: +sorted.at(-1)!.toFixed(1) };
}

export async function run(): Promise<BenchReport> {
  const dir = mkdtempSync(join(tmpdir(), "metro-bench-rollup-node-"));
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const payer = Secp256k1Signer.random();
    initHome({ home: join(dir, "seq"), chainId: SEQUENCER_CHAIN, accounts: [{ address: payer.address, balance: 10n ** 15n }] });
    const da = await startLocalDa({ home: join(dir, "da"), port: 0, blockTimeMs: DA_BLOCK_MS, logger: silent });
    cleanups.push(() => da.close());
    const seq = await SequencerNode.open(join(dir, "seq"), { logger: silent, config: { blockTimeMs: SEQUENCER_BLOCK_MS } });
    cleanups.push(() => seq.stop());
    await seq.start();
    const rpc = await startRpcServer(seq, { listen: "127.0.0.1:0" });
    cleanups.push(() => rpc.close());
    // The relayer as in `metro sequencer start --da-url`, flushing at the DA's block time (given: a DA
    // started a moment ago has too few headers for the relayer to measure it).
    const relayer = await startRelayer({ source: nodeSource(seq), da: { url: da.url }, home: join(dir, "seq"), logger: silent, flushIntervalMs: DA_BLOCK_MS });
    cleanups.unshift(() => relayer.close());

    const keys = Array.from({ length: SENDERS }, (_, i) => sha256(new TextEncoder().encode(`rollup node bench key ${i}`)));
    const address = (key: Uint8Array) => toBech32(PREFIX, addressBytes(publicKeyOf(key)));
    initRollupHome({ home: join(dir, "rollup"), chainId: ROLLUP, addressPrefix: PREFIX, accounts: keys.map((k) => ({ address: address(k), balance: 10n ** 12n })), sequencerGenesis: join(dir, "seq", "config", "genesis.json") });
    const rollup = await startRollupService({ home: join(dir, "rollup"), sequencerRpc: [rpc.websocketUrl], da: { url: da.url }, api: "127.0.0.1:0", daPollIntervalMs: 500, logger: silent });
    cleanups.unshift(() => rollup.close());

    // Sequencer height -> when it committed, and how many of the rollup's transfers it holds.
    const committedAt = new Map<number, number>();
    const transfersIn = new Map<number, number>();
    const soft: number[] = [];
    const firm: number[] = [];
    const header: number[] = [];
    cleanups.unshift(async () => offCommitted());
    const offCommitted = seq.onCommitted(({ head }) => committedAt.set(head.height, performance.now()));
    const sample = (into: number[], sequencerHeight: number) => {
      const at = committedAt.get(sequencerHeight);
      const n = transfersIn.get(sequencerHeight) ?? 0;
      if (at !== undefined) for (let i = 0; i < n; i++) into.push(performance.now() - at);
    };
    rollup.node.on("executed", ({ block, results }) => {
      transfersIn.set(Number(block.sequencerHeight), results.length);
      sample(soft, Number(block.sequencerHeight));
    });
    rollup.node.on("firm", ({ height }) => sample(firm, Number(height)));
    rollup.node.on("header", (signed) => sample(header, Number(signed.header.sequencerHeight)));

    let sequence = 0n;
    const nonces = keys.map(() => 0n);
    const to = address(keys[0]);
    let lastLoaded = 0;
    for (let b = 0; b < LOADED_BLOCKS; b++) {
      for (const [i, key] of keys.entries()) {
        const data = signTokenTransfer(key, { chainId: ROLLUP, nonce: nonces[i]++, to, amount: 1n });
        const gasLimit = gasUsed(DEFAULT_PARAMS, data.length + 1024);
        const tx = payer.sign([submitRollupTxMsg(payer.address, { secondaryChainId: ROLLUP, data })], { chainId: SEQUENCER_CHAIN, accountNumber: 0n, sequence: sequence++, gasLimit, fee: requiredFee(DEFAULT_PARAMS, gasLimit) });
        const checked = await seq.checkTx(tx);
        if (checked.code !== 0) throw new Error(`tx refused: ${checked.log}`);
      }
      lastLoaded = await new Promise<number>((resolve) => {
        const off = seq.onCommitted(({ head }) => (off(), resolve(head.height)));
      });
    }
    // Every loaded block confirmed and under a header.
    await new Promise<void>((resolve) => {
      const check = () => rollup.node.headers.latest !== undefined && rollup.node.headers.latest.sequencerHeight >= BigInt(lastLoaded) && (off(), resolve());
      const off = rollup.node.on("header", check);
      check();
    });

    const rows = [row("sequencer commit -> soft execution", soft), row("sequencer commit -> firm (read back from the DA layer)", firm), row("sequencer commit -> signed header", header)];
    const softP50 = rows[0].p50_ms as number;
    return {
      name: "rollup-node",
      title: `Rollup node latency: ${SENDERS} token transfers per ${SEQUENCER_BLOCK_MS} ms sequencer block, local DA at ${DA_BLOCK_MS / 1000} s blocks, one process`,
      rows,
      notes: [
        `soft: the node follows metro_subscribe_blocks over WebSocket, verifies each block (commit signatures, data hash, rollup roots) and executes it; target p50 <= 200 ms: ${softP50 <= 200 ? "met" : "NOT met"} (${softP50} ms)`,
        "firm: the relayer flushes at the DA block time (1 s), the DA includes the blob in its next block, the node reads it after header.Subscribe announces the height; so about one to two DA blocks plus the flush",
        "the sequencer, its RPC, the relayer, the DA server and the rollup node share one event loop here, so each latency includes the others' work; separate processes would see less",
      ],
    };
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}
