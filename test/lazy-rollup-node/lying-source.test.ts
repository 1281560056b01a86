// Soft execution against a lying sequencer RPC (a real WebSocket server that tampers with the blocks
// it streams): a block with a broken commit, with data the commit does not sign, or validly signed but
// with rollup roots that its transactions do not give, is refused and counted, and the node carries on
// from the next endpoint, or from a retry of the same one, executing exactly the blocks the sequencer
// committed.
import { afterAll, expect, it } from "vitest";
import { getJson, initHome, ROLLUP, startEnv, startNode, stopAll, submit, transfer, until, type Env } from "./node-harness.ts";
import { badRoots, breakCommit, dropTxs, hasRollupTxs, resigned, startTamperingRpc, type Tamper } from "./tampering-rpc.ts";
import { sha256 } from "../../celestia/sha256.ts";
import { addressOfKey, testKey } from "./harness.ts";

afterAll(stopAll);

/** Tampers the blocks holding the rollup's transactions, `times` times at most. */
function tamperRollupBlocks(env: Env, change: Tamper, times = Infinity): Tamper & { count: number } {
  const tamper = Object.assign(
    (json: Parameters<Tamper>[0]) => {
      if (tamper.count >= times || !hasRollupTxs(env.seq.node, json, ROLLUP)) return json;
      tamper.count++;
      return change(json);
    },
    { count: 0 },
  );
  return tamper;
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(new RegExp(`^${name.replace(/[{}]/g, "\\$&")} (\\d+)`, "m").exec(text)?.[1] ?? 0);
}

/** Submits a transfer, waits for the node to execute it, and checks the block it executed is the one the sequencer committed. */
async function transferLandsAsCommitted(env: Env, rollup: Awaited<ReturnType<typeof startNode>>, nonce: bigint): Promise<void> {
  const t = transfer(0, addressOfKey(testKey(1), "tok"), 10n, nonce);
  await submit(env, t.data);
  let height = 0n;
  await until(rollup.node, async () => {
    const [record] = await rollup.node.txs.lookup(t.hash);
    height = record?.height ?? 0n;
    return record !== undefined;
  }, "the transfer to execute");
  const executed = (await rollup.node.store.block(height))!;
  const committed = (await env.seq.node.store.block(Number(executed.sequencerHeight)))!;
  expect(Buffer.from(executed.sequencerBlockHash).toString("hex")).toBe(Buffer.from(committed.blockId.hash).toString("hex"));
}

it("refuses a block with a broken commit and carries on from the next endpoint", async () => {
  const env = await startEnv({ chainId: "metro-rollup-lie-1", relayer: false });
  const tamper = tamperRollupBlocks(env, breakCommit);
  const liar = await startTamperingRpc(env.seq.node, tamper);
  const rollup = await startNode(env, initHome(env).home, { sequencerRpc: [liar.url, env.rpc.websocketUrl] });
  await transferLandsAsCommitted(env, rollup, 0n);
  expect(tamper.count).toBeGreaterThanOrEqual(1);
  expect(await metric(rollup.api.url, 'metro_rollup_sequencer_blocks_rejected_total{reason="commit"}')).toBeGreaterThanOrEqual(1);
  expect(await metric(rollup.api.url, "metro_rollup_sequencer_failovers_total")).toBeGreaterThanOrEqual(1);
});

it("refuses a block whose data is not what the commit signs, and takes it again from a retry", async () => {
  const env = await startEnv({ chainId: "metro-rollup-lie-2", relayer: false });
  const tamper = tamperRollupBlocks(env, dropTxs, 1);
  const liar = await startTamperingRpc(env.seq.node, tamper);
  const rollup = await startNode(env, initHome(env).home, { sequencerRpc: [liar.url] });
  await transferLandsAsCommitted(env, rollup, 0n);
  expect(tamper.count).toBe(1);
  // The part set (over the whole encoded block, transactions included) is in the signed block id.
  expect(await metric(rollup.api.url, 'metro_rollup_sequencer_blocks_rejected_total{reason="commit"}')).toBe(1);
  // The stream goes on after the retry.
  await transferLandsAsCommitted(env, rollup, 1n);
});

it("refuses a validly signed block whose rollup roots are not those of its transactions", async () => {
  const env = await startEnv({ chainId: "metro-rollup-lie-3", relayer: false });
  const tamper = tamperRollupBlocks(env, (json) => badRoots(json, env.seq.node.privval.key), 1);
  const liar = await startTamperingRpc(env.seq.node, tamper);
  const rollup = await startNode(env, initHome(env).home, { sequencerRpc: [liar.url, env.rpc.websocketUrl] });
  await transferLandsAsCommitted(env, rollup, 0n);
  expect(tamper.count).toBe(1);
  expect(await metric(rollup.api.url, 'metro_rollup_sequencer_blocks_rejected_total{reason="txs"}')).toBe(1);
});

it("fails over from an endpoint that does not answer", async () => {
  const env = await startEnv({ chainId: "metro-rollup-lie-4", relayer: false });
  const rollup = await startNode(env, initHome(env).home, { sequencerRpc: ["ws://127.0.0.1:1/websocket", env.rpc.websocketUrl] });
  await transferLandsAsCommitted(env, rollup, 0n);
});

it("stops soft execution with an alarm when a committed header hands over to another validator set; firm goes on", async () => {
  const env = await startEnv({ chainId: "metro-rollup-lie-5" });
  const handover = (json: Parameters<Tamper>[0]) =>
    Number(json.height) === 3 ? resigned(json, env.seq.node.privval.key, (block) => ({ ...block, header: { ...block.header, nextValidatorsHash: sha256(new TextEncoder().encode("another set")) } })) : json;
  const liar = await startTamperingRpc(env.seq.node, handover);
  const rollup = await startNode(env, initHome(env).home, { sequencerRpc: [liar.url] });
  await until(rollup.node, () => rollup.node.alarms.count > 0, "the alarm");
  const [alarm] = (await getJson(`${rollup.api.url}/v1/alarms`)).body.alarms;
  expect(alarm).toMatchObject({ kind: "validator-set-change", details: { sequencerHeight: 3 } });
  // Soft execution stopped before block 3; the blocks on Celestia (the real chain) are executed firm.
  await transferLandsAsCommitted(env, rollup, 0n);
  expect(await metric(rollup.api.url, 'metro_rollup_blocks_executed_total{path="soft"}')).toBe(2);
  expect(await metric(rollup.api.url, 'metro_rollup_blocks_executed_total{path="firm"}')).toBeGreaterThanOrEqual(1);
});
