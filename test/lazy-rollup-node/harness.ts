// A token rollup on a fresh LevelDB per test, deterministic keys, and the entry/block plumbing the
// tests share.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Level } from "level";
import { toBech32 } from "@cosmjs/encoding";
import { sha256 } from "../../celestia/sha256.ts";
import { encodeEntry } from "../../sequencer/block/rollup-data.ts";
import { addressBytes } from "../../sequencer/tx/address.ts";
import { executeRollupBlock, initRollup, RollupStore, tokenRollup, type ExecutedRollupBlock, type RollupBlockInput, type TokenGenesis } from "../../lazy-rollup-node/index.ts";
import { publicKeyOf } from "../../lazy-rollup-node/secp256k1-key.ts";

export const CHAIN_ID = "tokens-1";
export const PREFIX = "tok";
export const CONFIG = { chainId: CHAIN_ID, addressPrefix: PREFIX };
export const MACHINE = tokenRollup(CONFIG);

/** Deterministic private keys, so a failing test names the same accounts on every run. */
export function testKey(i: number): Uint8Array {
  return sha256(new TextEncoder().encode(`lazy-rollup-node test key ${i}`));
}

export function addressOfKey(key: Uint8Array, prefix = PREFIX): string {
  return toBech32(prefix, addressBytes(publicKeyOf(key)));
}

export const entry = (data: Uint8Array) => encodeEntry({ data });

export function blockHashAt(height: bigint): Uint8Array {
  return sha256(new TextEncoder().encode(`sequencer block ${height}`));
}

export class Node {
  readonly dir = mkdtempSync(join(tmpdir(), "lazy-rollup-node-"));
  db!: Level<string, string>;
  store!: RollupStore;

  async open(cacheEntries?: number): Promise<RollupStore> {
    this.db = new Level(this.dir);
    this.store = await RollupStore.open(this.db.sublevel("rollup"), { cacheEntries });
    return this.store;
  }

  async reopen(cacheEntries?: number): Promise<RollupStore> {
    await this.db.close();
    return this.open(cacheEntries);
  }

  async init(genesis: TokenGenesis, sequencerStartHeight = 1n): Promise<RollupStore> {
    await this.open();
    await initRollup(this.store, { chainId: CHAIN_ID, sequencerStartHeight }, MACHINE, genesis);
    return this.store;
  }

  /** Executes the next block with `txs` (token Tx bytes, wrapped as plain entries). */
  async next(txs: Uint8Array[], timeMs = 1_700_000_000_000): Promise<ExecutedRollupBlock> {
    return executeRollupBlock(this.store, MACHINE, this.input(txs.map(entry), timeMs));
  }

  input(entries: Uint8Array[], timeMs = 1_700_000_000_000): RollupBlockInput {
    const rollupHeight = this.store.head!.height + 1n;
    const sequencerHeight = this.store.chain!.sequencerStartHeight + rollupHeight - 1n;
    return { rollupHeight, sequencerHeight, sequencerBlockHash: blockHashAt(sequencerHeight), blockTimeMs: timeMs + Number(rollupHeight) * 1000, entries };
  }

  async dispose(): Promise<void> {
    await this.db?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
