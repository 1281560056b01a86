// Soft execution when a sequencer endpoint stalls: a real WebSocket server that accepts the block
// subscription and then sends nothing, as a node cut off from its peers does (it keeps its socket
// open and has no new block to give). The node drops it after the stall timeout, counts it, and
// carries on from the next endpoint.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { afterAll, expect, it } from "vitest";
import { addressOfKey, testKey } from "./harness.ts";
import { initHome, startEnv, startNode, stopAll, submit, transfer, until } from "./node-harness.ts";
import { onStop } from "../relayer/harness.ts";

afterAll(stopAll);

/** Answers metro_subscribe_blocks with the subscription's confirmation, then with silence. */
async function startStalledRpc(): Promise<{ url: string; subscriptions: () => number }> {
  let subscriptions = 0;
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server, path: "/websocket" });
  wss.on("connection", (socket) =>
    socket.on("message", (data) => {
      const request = JSON.parse(data.toString()) as { id: number; method: string };
      if (request.method !== "metro_subscribe_blocks") return;
      subscriptions++;
      socket.send(JSON.stringify({ jsonrpc: "2.0", id: request.id, result: {} }));
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onStop(async () => {
    for (const client of wss.clients) client.terminate();
    await new Promise((resolve) => server.close(resolve));
  });
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/websocket`, subscriptions: () => subscriptions };
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\d+)`, "m").exec(text)?.[1] ?? 0);
}

it("leaves an endpoint that subscribes and then sends no block, and executes from the next one", async () => {
  const env = await startEnv({ chainId: "metro-rollup-stall-1", relayer: false });
  const stalled = await startStalledRpc();
  const rollup = await startNode(env, initHome(env).home, { sequencerRpc: [stalled.url, env.rpc.websocketUrl], sequencerStallTimeoutMs: 300 });
  const t = transfer(0, addressOfKey(testKey(1), "tok"), 10n, 0n);
  await submit(env, t.data);
  await until(rollup.node, async () => (await rollup.node.txs.lookup(t.hash)).length > 0, "the transfer to execute soft");
  expect(stalled.subscriptions()).toBeGreaterThanOrEqual(1);
  expect(await metric(rollup.api.url, "metro_rollup_sequencer_stalls_total")).toBeGreaterThanOrEqual(1);
  expect(await metric(rollup.api.url, "metro_rollup_sequencer_failovers_total")).toBeGreaterThanOrEqual(1);
  expect(await metric(rollup.api.url, 'metro_rollup_blocks_executed_total{path="soft"}')).toBeGreaterThanOrEqual(1);
});
