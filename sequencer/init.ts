// `metro sequencer init`: a home directory with a fresh validator key, a config and a genesis.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { formatRfc3339Nano, timestampFromMs } from "../cometbft/time.ts";
import { DEFAULT_CONFIG, homePaths, type NodeConfig } from "./config.ts";
import { genesisToJson, type Genesis, type GenesisAccount } from "./genesis.ts";
import { DEFAULT_PARAMS, type ChainParams } from "./params.ts";
import { generateKeyFile, keyFromJson, type PrivValidatorKeyJson } from "../cometbft/key-file.ts";
import type { Ed25519Key } from "../cometbft/ed25519.ts";
import { loadOrCreateNodeKey, peerIdOfNodeKeyFile } from "./p2p/node-key.ts";

export interface InitOptions {
  home: string;
  chainId: string;
  moniker?: string;
  accounts?: GenesisAccount[];
  params?: Partial<ChainParams>;
  config?: Partial<NodeConfig>;
  genesisTimeMs?: number;
}

function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(value, null, 2) + "\n", { mode: 0o600 });
}

/** Creates the validator key (kept if present) and the config; returns the key. */
export function initNodeFiles(home: string, config: Partial<NodeConfig> = {}): Ed25519Key {
  const paths = homePaths(home);
  mkdirSync(dirname(paths.privValidatorKey), { recursive: true });
  mkdirSync(paths.data, { recursive: true });
  const key = existsSync(paths.privValidatorKey)
    ? keyFromJson(JSON.parse(readFileSync(paths.privValidatorKey, "utf8")) as PrivValidatorKeyJson)
    : generateKeyFile(paths.privValidatorKey);
  if (!existsSync(paths.config)) writeJson(paths.config, { ...DEFAULT_CONFIG, ...config });
  return key;
}

export function writeGenesis(home: string, genesis: Genesis): void {
  writeJson(homePaths(home).genesis, genesisToJson(genesis, formatRfc3339Nano(genesis.genesisTime)));
}

/** A single-validator chain in `home`. Refuses to overwrite an existing genesis. */
export function initHome(o: InitOptions): Genesis {
  const paths = homePaths(o.home);
  if (existsSync(paths.genesis)) throw new Error(`${paths.genesis} already exists; choose another --home or remove it`);
  const moniker = o.moniker ?? "validator-0";
  const key = initNodeFiles(o.home, { ...o.config, moniker });
  const genesis: Genesis = {
    chainId: o.chainId,
    genesisTime: timestampFromMs(o.genesisTimeMs ?? Date.now()),
    initialHeight: 1n,
    validators: [{ name: moniker, pubKey: key.publicKey, votingPower: 10n }],
    params: { ...DEFAULT_PARAMS, ...o.params },
    accounts: o.accounts ?? [],
  };
  writeGenesis(o.home, genesis);
  return genesis;
}

export interface TestnetOptions {
  /** One home per validator. */
  homes: string[];
  chainId: string;
  accounts?: GenesisAccount[];
  params?: Partial<ChainParams>;
  /** Validator i listens for RPC on rpcPort(i) and for p2p on p2pPort(i), on 127.0.0.1. */
  rpcPort: (i: number) => number;
  p2pPort: (i: number) => number;
  blockTimeMs?: number;
  genesisTimeMs?: number;
}

/**
 * A committee of validators on this machine: a key and node key per home, one genesis with every
 * validator, and configs in which each validator dials all the others and admits only them.
 */
export function initTestnet(o: TestnetOptions): Genesis {
  const members = o.homes.map((home, i) => {
    if (existsSync(homePaths(home).genesis)) throw new Error(`${homePaths(home).genesis} already exists; choose empty homes or remove them`);
    const key = initNodeFiles(home);
    loadOrCreateNodeKey(homePaths(home).nodeKey);
    return { home, i, key, peerId: peerIdOfNodeKeyFile(homePaths(home).nodeKey) };
  });
  const genesis: Genesis = {
    chainId: o.chainId,
    genesisTime: timestampFromMs(o.genesisTimeMs ?? Date.now()),
    initialHeight: 1n,
    validators: members.map((m) => ({ name: `validator-${m.i}`, pubKey: m.key.publicKey, votingPower: 10n })),
    params: { ...DEFAULT_PARAMS, ...o.params },
    accounts: o.accounts ?? [],
  };
  for (const m of members) {
    const config: NodeConfig = {
      ...DEFAULT_CONFIG,
      moniker: `validator-${m.i}`,
      rpc: { ...DEFAULT_CONFIG.rpc, listen: `127.0.0.1:${o.rpcPort(m.i)}` },
      metricsListen: "",
      blockTimeMs: o.blockTimeMs ?? DEFAULT_CONFIG.blockTimeMs,
      p2p: {
        listen: `/ip4/127.0.0.1/tcp/${o.p2pPort(m.i)}`,
        persistentPeers: members.filter((p) => p !== m).map((p) => `/ip4/127.0.0.1/tcp/${o.p2pPort(p.i)}/p2p/${p.peerId}`),
        allowlist: members.filter((p) => p !== m).map((p) => p.peerId),
      },
    };
    writeJson(homePaths(m.home).config, config);
    writeGenesis(m.home, genesis);
  }
  return genesis;
}
