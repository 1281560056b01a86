// Soft execution when a sequencer endpoint stalls (test/relayer/stalled-rpc.ts): the node drops it
// after the stall timeout, counts it, and carries on from the next endpoint.
import { afterAll, expect, it } from "vitest";
import { addressOfKey, testKey } from "./harness.ts";
import { initHome, metric, startEnv, startNode, stopAll, submit, transfer, until } from "./node-harness.ts";
import { startStalledRpc } from "../relayer/stalled-rpc.ts";

afterAll(stopAll);

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
