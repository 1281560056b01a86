// Creating a devnet home: development accounts, four validators sharing one genesis, a relayer home,
// and the rollup nodes' homes with the same accounts funded in every rollup genesis. devnet.json is
// written last, so its presence means the home is complete.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { toBech32 } from "@cosmjs/encoding";
import { DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import { initTestnet } from "../sequencer/init.ts";
import { homePaths } from "../sequencer/config.ts";
import { ADDRESS_PREFIX, DEFAULT_PARAMS } from "../sequencer/params.ts";
import { parseAddress } from "../sequencer/tx/address.ts";
import { initRollupHome, rollupHomePaths } from "../lazy-rollup-node/config.ts";
import { DEVNET_ROLLUPS, SEQUENCER_CHAIN_ID, type DevnetLayout } from "./layout.ts";
import type { DevnetFile } from "../cli/context.ts";

export const DEV_ACCOUNT_NAMES = ["alice", "bob", "carol", "dave"] as const;
/** umetro each development account holds on the sequencer. */
export const SEQUENCER_BALANCE = 1_000_000_000_000n;
/** Token units each development account holds on every rollup. */
export const ROLLUP_BALANCE = 1_000_000_000n;

export interface DevnetSettings {
  blockTimeMs: number;
  daBlockTimeMs: number;
  /** A celestia-node to use instead of starting the local DA server. */
  externalDa?: { url: string; token?: string };
}

export const DEFAULT_DEVNET_SETTINGS: DevnetSettings = { blockTimeMs: 1000, daBlockTimeMs: 1000 };

export interface CreateDevnetOptions extends DevnetSettings {
  /** More Metro addresses to fund on both layers (load generators); not listed in devnet.json. */
  extraAddresses?: string[];
}

/** The same 20 bytes under another bech32 prefix: one key is one account on every layer. */
export function addressWithPrefix(address: string, prefix: string): string {
  return toBech32(prefix, parseAddress(address));
}

export function urls(layout: DevnetLayout) {
  return {
    da: `http://127.0.0.1:${layout.da.port}`,
    rpc: layout.validators.map((v) => `http://127.0.0.1:${v.rpcPort}`),
    websocket: layout.validators.map((v) => `ws://127.0.0.1:${v.rpcPort}/websocket`),
    metrics: layout.validators.map((v) => `http://127.0.0.1:${v.metricsPort}/metrics`),
    relayerMetrics: `http://127.0.0.1:${layout.relayer.metricsPort}/metrics`,
    relayerStatus: `http://127.0.0.1:${layout.relayer.metricsPort}/v1/da-status`,
    rollupApi: (port: number) => `http://127.0.0.1:${port}`,
  };
}

export async function createDevnet(layout: DevnetLayout, o: CreateDevnetOptions): Promise<DevnetFile> {
  mkdirSync(layout.home, { recursive: true });
  const accounts = await Promise.all(
    DEV_ACCOUNT_NAMES.map(async (name) => {
      const wallet = await DirectSecp256k1HdWallet.generate(24, { prefix: ADDRESS_PREFIX });
      const [{ address }] = await wallet.getAccounts();
      const rollupAddresses = Object.fromEntries(DEVNET_ROLLUPS.map((r) => [r.secondaryChainId, addressWithPrefix(address, r.addressPrefix)]));
      return { name, mnemonic: wallet.mnemonic, address, rollupAddresses };
    }),
  );
  const funded = [...accounts.map((a) => a.address), ...(o.extraAddresses ?? [])];

  initTestnet({
    homes: layout.validators.map((v) => v.home),
    chainId: SEQUENCER_CHAIN_ID,
    accounts: funded.map((address) => ({ address, balance: SEQUENCER_BALANCE })),
    rpcPort: (i) => layout.validators[i].rpcPort,
    p2pPort: (i) => layout.validators[i].p2pPort,
    blockTimeMs: o.blockTimeMs,
  });
  const sequencerGenesis = homePaths(layout.validators[0].home).genesis;
  for (const node of layout.rollupNodes) {
    initRollupHome({
      home: node.home,
      chainId: node.rollup.secondaryChainId,
      addressPrefix: node.rollup.addressPrefix,
      accounts: funded.map((address) => ({ address: addressWithPrefix(address, node.rollup.addressPrefix), balance: ROLLUP_BALANCE })),
      sequencerGenesis,
    });
  }
  mkdirSync(layout.relayer.home, { recursive: true });

  const u = urls(layout);
  const file: DevnetFile = {
    home: layout.home,
    da: o.externalDa ?? { url: u.da },
    sequencer: { chainId: SEQUENCER_CHAIN_ID, minGasPrice: DEFAULT_PARAMS.minGasPrice, rpc: u.rpc, websocket: u.websocket, metrics: u.metrics },
    relayer: { metrics: u.relayerMetrics, status: u.relayerStatus },
    rollups: DEVNET_ROLLUPS.map((rollup) => ({
      secondaryChainId: rollup.secondaryChainId,
      addressPrefix: rollup.addressPrefix,
      nodes: layout.rollupNodes.filter((n) => n.rollup === rollup).map((n) => u.rollupApi(n.apiPort)),
    })),
    accounts,
    settings: { basePort: layout.basePort, blockTimeMs: o.blockTimeMs, daBlockTimeMs: o.daBlockTimeMs, localDa: o.externalDa === undefined },
  };
  writeFileSync(layout.devnetFile, JSON.stringify(file, null, 2) + "\n", { mode: 0o600 });
  return file;
}

/** The header key a rollup node signs with: its peers compare its headers with their own. */
export function headerSignerOf(home: string): string {
  return (JSON.parse(readFileSync(rollupHomePaths(home).headerKey, "utf8")) as { pub_key: string }).pub_key;
}
