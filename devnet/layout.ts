// Where every devnet component lives: its home directory under the devnet home and its ports, all
// derived from one base port so that a second devnet (or a test) only needs another base.
import { join } from "node:path";

export const DEFAULT_DEVNET_HOME = ".metro/devnet";
/** With this base the usual ports come out: DA 26658, sequencer RPC 26657, rollup API 26670. */
export const DEFAULT_BASE_PORT = 26650;
export const VALIDATORS = 4;
export const SEQUENCER_CHAIN_ID = "metro-devnet-1";

export interface RollupLayout {
  secondaryChainId: string;
  addressPrefix: string;
  /** How many full nodes run this rollup. */
  nodes: number;
}

/** Two token rollups; the first has two nodes so that their headers are compared over gossip. */
export const DEVNET_ROLLUPS: readonly RollupLayout[] = [
  { secondaryChainId: "alpha-1", addressPrefix: "alpha", nodes: 2 },
  { secondaryChainId: "beta-1", addressPrefix: "beta", nodes: 1 },
];

export interface RollupNodeLayout {
  /** e.g. alpha-1-node-0 */
  name: string;
  rollup: RollupLayout;
  index: number;
  home: string;
  apiPort: number;
  p2pPort: number;
}

export interface DevnetLayout {
  home: string;
  basePort: number;
  devnetFile: string;
  lockFile: string;
  logDir: string;
  da: { home: string; port: number };
  validators: { name: string; home: string; rpcPort: number; p2pPort: number; metricsPort: number }[];
  relayer: { home: string; metricsPort: number };
  rollupNodes: RollupNodeLayout[];
}

export function devnetLayout(home: string, basePort = DEFAULT_BASE_PORT): DevnetLayout {
  const rollupNodes = DEVNET_ROLLUPS.flatMap((rollup) => Array.from({ length: rollup.nodes }, (_, index) => ({ rollup, index })));
  return {
    home,
    basePort,
    devnetFile: join(home, "devnet.json"),
    lockFile: join(home, "devnet.pid"),
    logDir: join(home, "logs"),
    da: { home: join(home, "da"), port: basePort + 8 },
    validators: Array.from({ length: VALIDATORS }, (_, i) => ({
      name: `validator-${i}`,
      home: join(home, `validator-${i}`),
      rpcPort: basePort + 7 + 100 * i,
      p2pPort: basePort + 6 + 100 * i,
      metricsPort: basePort + 10 + 100 * i,
    })),
    relayer: { home: join(home, "relayer"), metricsPort: basePort + 11 },
    rollupNodes: rollupNodes.map(({ rollup, index }, k) => ({
      name: `${rollup.secondaryChainId}-node-${index}`,
      rollup,
      index,
      home: join(home, `${rollup.secondaryChainId}-node-${index}`),
      apiPort: basePort + 20 + k,
      p2pPort: basePort + 30 + k,
    })),
  };
}

/** Every port the devnet listens on (the DA's only when it runs the local DA server). */
export function allPorts(layout: DevnetLayout, localDa = true): number[] {
  return [
    ...(localDa ? [layout.da.port] : []),
    ...layout.validators.flatMap((v) => [v.rpcPort, v.p2pPort, v.metricsPort]),
    layout.relayer.metricsPort,
    ...layout.rollupNodes.flatMap((n) => [n.apiPort, n.p2pPort]),
  ];
}
