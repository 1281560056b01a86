// Where every devnet component lives: its home directory under the devnet home and its ports, all
// derived from one base port so that a second devnet (or a test) only needs another base.
import { createServer } from "node:net";
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

/** Every port the devnet listens on, named (the DA's only when it runs the local DA server). */
export function namedPorts(layout: DevnetLayout, localDa = true): { port: number; name: string }[] {
  return [
    ...(localDa ? [{ port: layout.da.port, name: "DA" }] : []),
    ...layout.validators.flatMap((v) => [
      { port: v.rpcPort, name: `${v.name} RPC` },
      { port: v.p2pPort, name: `${v.name} p2p` },
      { port: v.metricsPort, name: `${v.name} metrics` },
    ]),
    { port: layout.relayer.metricsPort, name: "relayer metrics" },
    ...layout.rollupNodes.flatMap((n) => [
      { port: n.apiPort, name: `${n.name} API` },
      { port: n.p2pPort, name: `${n.name} p2p` },
    ]),
  ];
}

function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer()
      .once("error", () => done(false))
      .listen(port, "127.0.0.1", () => server.close(() => done(true)));
  });
}

/** The devnet's ports that something on 127.0.0.1 already listens on. */
export async function busyPorts(layout: DevnetLayout, localDa = true): Promise<{ port: number; name: string }[]> {
  const ports = namedPorts(layout, localDa);
  const free = await Promise.all(ports.map((p) => portFree(p.port)));
  return ports.filter((_, i) => !free[i]);
}
