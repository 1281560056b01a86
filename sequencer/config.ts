// A sequencer node's home directory (CometBFT's layout) and its config/config.json.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_MEMPOOL_LIMITS, type MempoolLimits } from "./mempool/mempool.ts";
import { DEFAULT_INDEXED_EVENTS } from "./store/chain-store.ts";
import type { P2pConfig } from "./consensus/committee.ts";
import type { TimeoutConfig } from "./consensus/timeouts.ts";

export interface NodeConfig {
  moniker: string;
  rpc: {
    /** host:port; loopback unless an operator says otherwise. */
    listen: string;
    maxBodyBytes: number;
    /** Requests per second per client address, averaged over a burst of the same size. */
    rateLimitPerSecond: number;
    maxSubscriptionsPerClient: number;
  };
  /** host:port for Prometheus metrics, or "" for none. */
  metricsListen: string;
  blockTimeMs: number;
  mempool: MempoolLimits;
  /** Event attributes (`type.key`) that tx_search can find; tx.hash and tx.height always work. */
  indexedEvents: string[];
  /** The validator network (used when the genesis has more than one validator). */
  p2p: P2pConfig;
  /** Consensus timeouts (CometBFT's defaults); the commit timeout is blockTimeMs, counted from the start of each height. */
  consensus: Partial<TimeoutConfig>;
}

export const DEFAULT_CONFIG: NodeConfig = {
  moniker: "metro-node",
  rpc: { listen: "127.0.0.1:26657", maxBodyBytes: 2 * 1024 * 1024, rateLimitPerSecond: 2_000, maxSubscriptionsPerClient: 16 },
  metricsListen: "127.0.0.1:26660",
  blockTimeMs: 1000,
  mempool: DEFAULT_MEMPOOL_LIMITS,
  indexedEvents: [...DEFAULT_INDEXED_EVENTS],
  p2p: { listen: "/ip4/127.0.0.1/tcp/26656", persistentPeers: [], allowlist: [] },
  consensus: {},
};

export function homePaths(home: string) {
  return {
    config: join(home, "config", "config.json"),
    genesis: join(home, "config", "genesis.json"),
    privValidatorKey: join(home, "config", "priv_validator_key.json"),
    nodeKey: join(home, "config", "node_key.json"),
    data: join(home, "data"),
    chainDb: join(home, "data", "chain"),
    privValidatorState: join(home, "data", "priv_validator_state.json"),
    soloWal: join(home, "data", "solo-wal.bin"),
    consensusWal: join(home, "data", "cs.wal"),
  };
}

export function loadConfig(home: string): NodeConfig {
  const path = homePaths(home).config;
  if (!existsSync(path)) return DEFAULT_CONFIG;
  const file = JSON.parse(readFileSync(path, "utf8")) as Partial<NodeConfig>;
  return {
    ...DEFAULT_CONFIG,
    ...file,
    rpc: { ...DEFAULT_CONFIG.rpc, ...file.rpc },
    mempool: { ...DEFAULT_CONFIG.mempool, ...file.mempool },
    p2p: { ...DEFAULT_CONFIG.p2p, ...file.p2p },
    consensus: { ...DEFAULT_CONFIG.consensus, ...file.consensus },
  };
}

/** "host:port" -> parts; a bare port means loopback. */
export function parseListen(listen: string): { host: string; port: number } {
  const match = /^(?:(.*):)?(\d+)$/.exec(listen);
  if (!match) throw new Error(`invalid listen address ${JSON.stringify(listen)}: use host:port`);
  return { host: match[1] || "127.0.0.1", port: Number(match[2]) };
}
