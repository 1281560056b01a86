// Soft execution against a lying sequencer RPC (a real WebSocket server that tampers with the blocks
// it streams): a block with a broken commit, with data the commit does not sign, or validly signed but
// with rollup roots that its transactions do not give, is refused and counted, and the node carries on
// from the next endpoint, or from a retry of the same one, executing exactly the blocks the sequencer
// committed.
import { afterAll, expect, it } from "vitest";
import { initHome, metric, ROLLUP, startEnv, startNode, stopAll, transfer, transferLands, until, type Env } from "./node-harness.ts";
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

/** Submits a transfer, waits for the node to execute it, and checks the block it executed is the one the sequencer committed. */
async function transferLandsAsCommitted(env: Env, rollup: Awaited<ReturnType<typeof startNode>>, nonce: bigint): Promise<void> {
  const executed = await transferLands(env, rollup.node, transfer(0, addressOfKey(testKey(1), "tok"), 10n, nonce));
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

it("holds soft execution at a header handing over to a set no endpoint serves, refusing the sets served; refuses that header once firm passes it", async () => {
  const env = await startEnv({ chainId: "metro-rollup-lie-5" });
  let tampered = 0;
  // Once: the feed retries the height it failed at, and this server would serve the same block again.
  const handover = (json: Parameters<Tamper>[0]) =>
    Number(json.height) === 3 && tampered++ === 0 ? resigned(json, env.seq.node.privval.key, (block) => ({ ...block, header: { ...block.header, nextValidatorsHash: sha256(new TextEncoder().encode("another set")) } })) : json;
  const liar = await startTamperingRpc(env.seq.node, handover, { validators: () => env.seq.node.genesis.validators });
  const rollup = await startNode(env, initHome(env).home, { sequencerRpc: [liar.url] });
  // The genesis set, served for height 4, is not the set header 3 names.
  await until(rollup.node, async () => (await metric(rollup.api.url, "metro_rollup_validator_sets_rejected_total")) >= 1, "a served set to be refused");
  expect(liar.validatorRequests).toContain(4);
  // Block 3 on Celestia (the real chain) keeps the genesis set: executed firm, after which header 3 conflicts.
  await until(rollup.node, async () => (await metric(rollup.api.url, 'metro_rollup_sequencer_blocks_rejected_total{reason="header"}')) >= 1, "the tampered header to be refused");
  const block3 = (await rollup.node.store.block(3n))!;
  expect(Buffer.from(block3.sequencerBlockHash)).toEqual(Buffer.from((await env.seq.node.store.block(3))!.blockId.hash));
  expect(rollup.node.validatorSets.changes).toEqual([]);
  // Soft execution goes on past it.
  await until(rollup.node, async () => (await metric(rollup.api.url, 'metro_rollup_blocks_executed_total{path="soft"}')) > 2, "soft execution to go on");
  await transferLandsAsCommitted(env, rollup, 0n);
});

it("skips a block its only endpoint always gets wrong once Celestia gave it, and goes on executing soft after it", async () => {
  const env = await startEnv({ chainId: "metro-rollup-lie-6" });
  const BROKEN = 3;
  let served = 0;
  const liar = await startTamperingRpc(env.seq.node, (json) => {
    if (Number(json.height) !== BROKEN) return json;
    served++;
    return breakCommit(json);
  });
  const rollup = await startNode(env, initHome(env).home, { sequencerRpc: [liar.url] });
  const { node } = rollup;
  // Soft execution stops before the broken block; the firm path executes it (and more) from Celestia.
  await until(node, () => node.firmHeight >= BigInt(BROKEN) && served >= 2, "the firm path to pass the broken block");
  const softBlocks = await metric(rollup.api.url, 'metro_rollup_blocks_executed_total{path="soft"}');
  expect(softBlocks).toBe(BROKEN - 1);
  // The stream is asked again from the node's head, past the broken block: soft execution resumes.
  await transferLandsAsCommitted(env, rollup, 0n);
  await until(node, async () => (await metric(rollup.api.url, 'metro_rollup_blocks_executed_total{path="soft"}')) > softBlocks, "soft execution after the broken block");
});
