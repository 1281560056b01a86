// Reads the devnet's live state from its components' own endpoints (the same ones users call), each
// with a short timeout: a component that does not answer shows as unknown, it never stalls the view.
import type { DevnetLayout } from "./layout.ts";

export interface RollupNodeStatus {
  name: string;
  secondaryChainId: string;
  api: string;
  soft?: number;
  firm?: number;
  header?: number;
  stateRoot?: string;
  alarms?: number;
}

export interface DevnetStatus {
  /** Latest height per validator, in validator order. */
  sequencerHeights: (number | undefined)[];
  daHeight?: number;
  relayerPostedHeight?: number;
  rollupNodes: RollupNodeStatus[];
}

const TIMEOUT_MS = 1_000;

async function getJson(url: string, init?: RequestInit): Promise<any> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

const settle = <T>(p: Promise<T>): Promise<T | undefined> => p.catch(() => undefined);

async function sequencerHeight(rpcPort: number): Promise<number> {
  const body = await getJson(`http://127.0.0.1:${rpcPort}/status`);
  return Number(body.result.sync_info.latest_block_height);
}

async function daHeight(da: { url: string; token?: string }): Promise<number> {
  const body = await getJson(da.url, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(da.token ? { Authorization: `Bearer ${da.token}` } : {}) },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "header.LocalHead", params: [] }),
  });
  return Number(body.result.header.height);
}

async function relayerPosted(port: number): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  const match = /^metro_relayer_posted_height(?:\{[^}]*\})? (\d+)/m.exec(await response.text());
  if (!match) throw new Error("no metro_relayer_posted_height in the relayer's metrics");
  return Number(match[1]);
}

async function rollupNode(name: string, secondaryChainId: string, port: number): Promise<RollupNodeStatus> {
  const api = `http://127.0.0.1:${port}`;
  const body = await settle(getJson(`${api}/v1/status`));
  if (body === undefined) return { name, secondaryChainId, api };
  return {
    name,
    secondaryChainId,
    api,
    soft: body.soft.height,
    firm: body.firm.height,
    header: body.latest_header?.height === undefined ? 0 : Number(body.latest_header.height),
    stateRoot: body.soft.state_root,
    alarms: body.alarms,
  };
}

export async function readDevnetStatus(layout: DevnetLayout, da: { url: string; token?: string }): Promise<DevnetStatus> {
  const [sequencerHeights, daHead, posted, rollupNodes] = await Promise.all([
    Promise.all(layout.validators.map((v) => settle(sequencerHeight(v.rpcPort)))),
    settle(daHeight(da)),
    settle(relayerPosted(layout.relayer.metricsPort)),
    Promise.all(layout.rollupNodes.map((n) => rollupNode(n.name, n.rollup.secondaryChainId, n.apiPort))),
  ]);
  return { sequencerHeights, daHeight: daHead, relayerPostedHeight: posted, rollupNodes };
}
