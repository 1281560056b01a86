// The rollup node among real parts: a sequencer node in-process with its RPC server, the local DA
// server over HTTP, the relayer posting the sequencer's blocks to it, and token rollup nodes on their
// own homes and LevelDBs. Waits are on events with timeouts, never sleeps. Everything started here is
// stopped by stopAll() (from ../relayer/harness.ts).
import { join } from "node:path";
import { WebSocket } from "ws";
import { sha256 } from "../../celestia/sha256.ts";
import { startRpcServer, type RpcServer } from "../../sequencer/rpc/server.ts";
import { nodeSource } from "../../sequencer/relayer/node-source.ts";
import { startRelayer, type Relayer } from "../../sequencer/relayer/relayer.ts";
import { initRollupHome } from "../../lazy-rollup-node/config.ts";
import { startRollupService, type RollupServiceOptions, type RollupService } from "../../lazy-rollup-node/service.ts";
import type { RollupNode, RollupNodeEvents } from "../../lazy-rollup-node/node.ts";
import type { BlockRecord } from "../../lazy-rollup-node/rollup-store.ts";
import { signTokenTransfer } from "../../lazy-rollup-node/index.ts";
import { logger, onStop, startDa, startSequencer, tempDir, type TestSequencer } from "../relayer/harness.ts";
import { addressOfKey, testKey } from "./harness.ts";

export { logger, onStop, stopAll, tempDir } from "../relayer/harness.ts";

export const ROLLUP = "tokens-1";
export const PREFIX = "tok";

export interface Env {
  seq: TestSequencer;
  rpc: RpcServer;
  da: Awaited<ReturnType<typeof startDa>>;
  relayer?: Relayer;
  genesisPath: string;
}

/** A sequencer (with RPC), the local DA and, unless told otherwise, the relayer between them. */
export async function startEnv(o: { chainId: string; blockTimeMs?: number; daBlockTimeMs?: number; relayer?: boolean }): Promise<Env> {
  const seq = await startSequencer({ chainId: o.chainId, blockTimeMs: o.blockTimeMs ?? 100 });
  const rpc = await startRpcServer(seq.node, { listen: "127.0.0.1:0" });
  onStop(() => rpc.close());
  const da = await startDa({ blockTimeMs: o.daBlockTimeMs ?? 200 });
  const env: Env = { seq, rpc, da, genesisPath: join(seq.home, "config", "genesis.json") };
  if (o.relayer !== false) env.relayer = await startTestRelayer(env);
  return env;
}

export async function startTestRelayer(env: Env): Promise<Relayer> {
  const relayer = await startRelayer({ source: nodeSource(env.seq.node), da: { url: env.da.url }, home: tempDir("metro-rollup-relayer-"), logger, flushIntervalMs: 150 });
  onStop(() => relayer.close());
  return relayer;
}

/** Test accounts 0..n-1, each funded with `balance`. */
export function accounts(n: number, balance = 1_000_000n): { address: string; balance: bigint }[] {
  return Array.from({ length: n }, (_, i) => ({ address: addressOfKey(testKey(i), PREFIX), balance }));
}

export function initHome(env: Env, o: { accounts?: { address: string; balance: bigint }[]; sequencerStartHeight?: bigint } = {}): { home: string; headerSigner: Uint8Array; peerId: string } {
  const home = tempDir("metro-rollup-home-");
  const init = initRollupHome({ home, chainId: ROLLUP, addressPrefix: PREFIX, accounts: o.accounts ?? accounts(4), sequencerGenesis: env.genesisPath, sequencerStartHeight: o.sequencerStartHeight });
  return { home, ...init };
}

export async function startNode(env: Env, home: string, o: Partial<RollupServiceOptions> = {}): Promise<RollupService> {
  const service = await startRollupService({ home, sequencerRpc: [env.rpc.websocketUrl], da: { url: env.da.url }, api: "127.0.0.1:0", daPollIntervalMs: 500, logger, ...o });
  let closed = false;
  onStop(async () => {
    if (!closed) await service.close();
  });
  const close = service.close;
  return {
    ...service,
    close: async () => {
      closed = true;
      await close();
    },
  };
}

const EVENTS: (keyof RollupNodeEvents)[] = ["executed", "firm", "header", "rollback", "alarm"];

/** Resolves once `condition` holds, checking now and after node events; rejects after `timeoutMs`. */
export function until(node: RollupNode<any>, condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = false;
    const offs: (() => void)[] = [];
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      for (const off of offs) off();
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (soft ${node.softHeight}, firm ${node.firmHeight})`)), timeoutMs);
    // One check at a time (an event during a check runs another after it), so a slow check never
    // finishes after a newer one and leaves older answers in the caller's variables.
    let running = false;
    let again = false;
    const check = () => {
      if (done) return;
      if (running) {
        again = true;
        return;
      }
      running = true;
      Promise.resolve(condition()).then(
        (ok) => {
          running = false;
          if (ok) return finish();
          if (again) {
            again = false;
            check();
          }
        },
        (error: Error) => finish(error),
      );
    };
    for (const event of EVENTS) offs.push(node.on(event, check));
    check();
  });
}

/** A signed transfer from test key `from`; returns the rollup tx bytes and hash (sha256 of the bytes). */
export function transfer(from: number, to: string, amount: bigint, nonce: bigint, chainId = ROLLUP): { data: Uint8Array; hash: Uint8Array } {
  const data = signTokenTransfer(testKey(from), { chainId, nonce, to, amount });
  return { data, hash: sha256(data) };
}

/** Submits a transfer (from `transfer`), waits for the node to execute it, and returns the rollup block it is in. */
export async function transferLands(env: Env, node: RollupNode<any>, t: { data: Uint8Array; hash: Uint8Array }): Promise<BlockRecord> {
  await submit(env, t.data);
  let height = 0n;
  await until(node, async () => {
    const [record] = await node.txs.lookup(t.hash);
    height = record?.height ?? 0n;
    return record !== undefined;
  }, "the transfer to execute");
  return (await node.store.block(height))!;
}

/** Submits rollup tx bytes to the sequencer; returns the rollup tx hash in hex. */
export async function submit(env: Env, data: Uint8Array, chainId = ROLLUP): Promise<string> {
  await env.seq.submit({ secondaryChainId: chainId, data });
  return Buffer.from(sha256(data)).toString("hex").toUpperCase();
}

/** A counter or gauge from the node's /metrics (0 when absent); `name` may carry labels. */
export async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(new RegExp(`^${name.replace(/[{}]/g, "\\$&")} (\\d+)`, "m").exec(text)?.[1] ?? 0);
}

export async function getJson(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

/** A WebSocket client that keeps every message and can wait for one. */
export async function wsClient(url: string) {
  const socket = new WebSocket(url);
  const messages: any[] = [];
  const waiters = new Set<() => void>();
  socket.on("message", (data) => {
    messages.push(JSON.parse(data.toString()));
    for (const w of waiters) w();
  });
  await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
  return {
    messages,
    send: (m: unknown) => socket.send(JSON.stringify(m)),
    close: () => socket.close(),
    /** Resolves once `predicate` holds for the messages received so far. */
    until(predicate: (messages: any[]) => boolean, what: string, timeoutMs = 20_000): Promise<void> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate(messages)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => (waiters.delete(check), reject(new Error(`timed out waiting for ${what}: ${JSON.stringify(messages)}`))), timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}
