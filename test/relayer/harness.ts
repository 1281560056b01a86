// A sequencer node, a local DA server over HTTP and helpers to drive and watch a relayer between
// them, for the relayer's integration tests. Everything started here is stopped by stopAll().
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { DaClient } from "../../celestia/da-client.ts";
import { startLocalDa, type LocalDaServer, type LocalDaServerOptions } from "../../celestia/local-da/server.ts";
import { Secp256k1Signer } from "../../sequencer/client/signer.ts";
import { submitBundleMsg, submitRollupTxMsg } from "../../sequencer/client/registry.ts";
import { initHome } from "../../sequencer/init.ts";
import { SequencerNode } from "../../sequencer/node.ts";
import { DEFAULT_PARAMS, gasUsed, requiredFee } from "../../sequencer/params.ts";
import type { Relayer, RelayerEvents } from "../../sequencer/relayer/relayer.ts";
import type { RollupTx } from "../../sequencer/tx/messages.ts";
import { committedStreams, readDaHeights, StreamReader } from "./stream-reader.ts";

export const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
const cleanups: (() => Promise<void>)[] = [];

export async function stopAll(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
}

/** Runs `cleanup` in stopAll(), after everything started later. */
export function onStop(cleanup: () => Promise<void>): void {
  cleanups.push(cleanup);
}

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onStop(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface TestSequencer {
  node: SequencerNode;
  home: string;
  /** Submits one sequencer tx (one rollup tx, or a bundle of several); returns its hash. */
  submit(tx: RollupTx | RollupTx[]): Promise<string>;
}

export async function startSequencer(o: { chainId: string; blockTimeMs: number }): Promise<TestSequencer> {
  const home = tempDir("metro-relayer-seq-");
  const signer = Secp256k1Signer.random();
  initHome({ home, chainId: o.chainId, accounts: [{ address: signer.address, balance: 10n ** 15n }] });
  const node = await SequencerNode.open(home, { logger, config: { blockTimeMs: o.blockTimeMs } });
  onStop(() => node.stop());
  await node.start();
  let sequence = 0n;
  return {
    node,
    home,
    async submit(tx) {
      const msg = Array.isArray(tx) ? submitBundleMsg(signer.address, tx) : submitRollupTxMsg(signer.address, tx);
      const size = (Array.isArray(tx) ? tx : [tx]).reduce((n, t) => n + t.data.length, 0);
      const gasLimit = gasUsed(DEFAULT_PARAMS, size + 1024);
      const bytes = signer.sign([msg], { chainId: o.chainId, accountNumber: 0n, sequence: sequence++, gasLimit, fee: requiredFee(DEFAULT_PARAMS, gasLimit) });
      const checked = await node.checkTx(bytes);
      if (checked.code !== 0) throw new Error(`tx refused: ${checked.log}`);
      return checked.hash;
    },
  };
}

export async function startDa(o: Partial<LocalDaServerOptions> = {}): Promise<LocalDaServer & { home: string; port: number }> {
  const home = o.home ?? tempDir("metro-relayer-da-");
  const server = await startLocalDa({ port: 0, blockTimeMs: 200, ...o, home, logger });
  let closed = false;
  onStop(async () => {
    if (!closed) await server.close();
  });
  return {
    ...server,
    home,
    port: Number(new URL(server.url).port),
    close: async () => {
      closed = true;
      await server.close();
    },
  };
}

/** Resolves with the first `event` for which `predicate` holds (emitted from now on), or rejects after `timeoutMs`. */
export function nextEvent<E extends keyof RelayerEvents>(
  relayer: Relayer,
  event: E,
  predicate: (...args: RelayerEvents[E]) => boolean = () => true,
  timeoutMs = 20_000,
): Promise<RelayerEvents[E]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no "${event}" event in ${timeoutMs} ms`));
    }, timeoutMs);
    const off = relayer.on(event, (...args) => {
      if (!predicate(...args)) return;
      clearTimeout(timer);
      off();
      resolve(args);
    });
  });
}

/** Resolves once the relayer has posted `height` (at once if it has). */
export async function postedThrough(relayer: Relayer, height: number, timeoutMs = 20_000): Promise<void> {
  if (relayer.postedHeight >= height) return;
  await nextEvent(relayer, "posted", (e) => e.lastHeight >= height, timeoutMs);
}

/** Resolves with the height of the next block the node commits. */
export function nextBlock(node: SequencerNode, timeoutMs = 10_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no block in time")), timeoutMs);
    const off = node.onCommitted(({ head }) => {
      clearTimeout(timer);
      off();
      resolve(head.height);
    });
  });
}

/**
 * Reads the whole DA chain as a rollup node would and checks that every rollup's stream through
 * `height` is exactly what the sequencer committed. Returns the reader (for its duplicate counts).
 */
export async function expectStreamsMatch(seq: TestSequencer, daUrl: string, height: number, rollupIds: readonly string[]): Promise<StreamReader> {
  const da = new DaClient({ url: daUrl });
  try {
    const reader = new StreamReader({ chainId: seq.node.chainId, validators: seq.node.genesis.validators });
    await readDaHeights(da, reader, rollupIds, 1, (await da.localHead()).height);
    if (reader.rejected.length > 0) throw new Error(`the reader refused blobs: ${reader.rejected.map((e) => e.message).join("; ")}`);
    if (!reader.completeTo(height)) throw new Error(`the DA layer does not hold every block through ${height}`);
    const committed = await committedStreams(seq.node.store, seq.node.genesis.params, height, rollupIds);
    const rebuilt = reader.streams(height, rollupIds);
    for (const id of rollupIds) {
      const hex = (s: Uint8Array[][]) => s.map((entries) => entries.map((e) => Buffer.from(e).toString("hex")).join(",")).join(";");
      if (hex(rebuilt.get(id)!) !== hex(committed.get(id)!)) throw new Error(`rollup ${id}: the stream rebuilt from the DA layer differs from what the sequencer committed`);
    }
    return reader;
  } finally {
    await da.close();
  }
}
