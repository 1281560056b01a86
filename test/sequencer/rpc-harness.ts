// A sequencer node with its RPC server on an ephemeral loopback port, for tests that talk to it over
// real HTTP and WebSocket. Everything started here is stopped by stopAll().
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino, { type Logger } from "pino";
import { initHome } from "../../sequencer/init.ts";
import { SequencerNode } from "../../sequencer/node.ts";
import type { NodeConfig } from "../../sequencer/config.ts";
import type { ChainParams } from "../../sequencer/params.ts";
import { startRpcServer, type RpcServer, type RpcServerOptions } from "../../sequencer/rpc/server.ts";

export const CHAIN_ID = "metro-rpc-test-1";
export const BLOCK_TIME_MS = 100;

const cleanups: (() => Promise<void>)[] = [];

export async function stopAll(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
}

export interface TestChain {
  node: SequencerNode;
  rpc: RpcServer;
  home: string;
}

export async function startChain(o: {
  accounts: { address: string; balance: bigint }[];
  config?: Partial<NodeConfig>;
  params?: Partial<ChainParams>;
  rpc?: RpcServerOptions;
  logger?: Logger;
}): Promise<TestChain> {
  const home = mkdtempSync(join(tmpdir(), "metro-rpc-"));
  cleanups.push(async () => rmSync(home, { recursive: true, force: true }));
  initHome({ home, chainId: CHAIN_ID, accounts: o.accounts, params: o.params });
  const node = await SequencerNode.open(home, { logger: o.logger ?? pino({ level: "silent" }), config: { blockTimeMs: BLOCK_TIME_MS, ...o.config } });
  cleanups.push(() => node.stop());
  await node.start();
  const rpc = await startRpcServer(node, { listen: "127.0.0.1:0", ...o.rpc });
  cleanups.push(() => rpc.close());
  // cosmjs's status decoder needs a latest block hash, which exists from height 1.
  await waitForHeight(node, 1);
  return { node, rpc, home };
}

/** Another RPC server on the same node (for tests of limits that must not affect other tests). */
export async function extraServer(node: SequencerNode, options: RpcServerOptions): Promise<RpcServer> {
  const rpc = await startRpcServer(node, { listen: "127.0.0.1:0", ...options });
  cleanups.push(() => rpc.close());
  return rpc;
}

/** Resolves once the node's head reaches `height` (at once if it already has). */
export function waitForHeight(node: SequencerNode, height: number, timeoutMs = 10_000): Promise<number> {
  if (node.head.height >= height) return Promise.resolve(node.head.height);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`height ${height} not reached within ${timeoutMs} ms (at ${node.head.height})`));
    }, timeoutMs);
    const off = node.onCommitted(({ head }) => {
      if (head.height < height) return;
      clearTimeout(timer);
      off();
      resolve(head.height);
    });
  });
}

/** The next block after now. */
export const nextBlock = (node: SequencerNode) => waitForHeight(node, node.head.height + 1);

/** A raw JSON-RPC call by POST; returns the whole response object. */
export async function rpcCall(url: string, method: string, params?: unknown, id: number | string = 1): Promise<{ result?: any; error?: { code: number; message: string; data?: string }; id: unknown }> {
  const res = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id, method, params }) });
  if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
  return (await res.json()) as any;
}

/** A raw call that must succeed; returns its result. */
export async function rpcResult(url: string, method: string, params?: unknown): Promise<any> {
  const response = await rpcCall(url, method, params);
  if (response.error) throw new Error(`${method} failed: ${JSON.stringify(response.error)}`);
  return response.result;
}
