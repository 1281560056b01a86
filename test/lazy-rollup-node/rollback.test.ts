// Celestia wins. A node's only sequencer endpoint serves, at the height of a transfer, a different
// block that verifies (signed with the sequencer's validator key, as an equivocating validator set
// would): the node executes it soft. When the block that landed on Celestia says otherwise, the node
// raises the alarm, rolls back to the last firm state and executes the firm data, and ends with the
// same state roots and headers as a node that followed the honest endpoint.
import { afterAll, expect, it } from "vitest";
import { toHexUpper } from "../../cometbft/hash.ts";
import { addressOfKey, testKey } from "./harness.ts";
import { getJson, initHome, PREFIX, ROLLUP, startEnv, startNode, startTestRelayer, stopAll, submit, transfer, until } from "./node-harness.ts";
import { divergentBlock, hasRollupTxs, startTamperingRpc } from "./tampering-rpc.ts";

afterAll(stopAll);

it("rolls back a soft block that Celestia contradicts and re-executes the firm data", async () => {
  const env = await startEnv({ chainId: "metro-rollup-rollback-1", relayer: false });
  let divergedAt = 0;
  const liar = await startTamperingRpc(env.seq.node, (json) => {
    if (divergedAt !== 0 || !hasRollupTxs(env.seq.node, json, ROLLUP)) return json;
    divergedAt = Number(json.height);
    return divergentBlock(json, env.seq.node.privval.key);
  });
  const fooled = await startNode(env, initHome(env).home, { sequencerRpc: [liar.url] });
  const honest = await startNode(env, initHome(env).home);

  const t = transfer(0, addressOfKey(testKey(1), PREFIX), 500n, 0n);
  const hash = await submit(env, t.data);
  await until(fooled.node, () => divergedAt > 0 && fooled.node.nextSoftSequencerHeight > divergedAt, "the divergent block to execute soft");
  const h = BigInt(divergedAt);
  const soft = (await fooled.node.store.block(h))!;
  const real = (await env.seq.node.store.block(divergedAt))!;
  expect(toHexUpper(soft.sequencerBlockHash)).not.toBe(toHexUpper(real.blockId.hash));
  expect(soft.txCount).toBe(0);
  expect((await getJson(`${fooled.api.url}/v1/txs/${hash}`)).status).toBe(404);

  // Only now does anything reach Celestia.
  await startTestRelayer(env);
  await until(fooled.node, () => fooled.node.firmHeight >= h, "the divergent height to become firm");
  await until(honest.node, () => honest.node.firmHeight >= h, "the honest node to confirm the same height");

  const alarms = (await getJson(`${fooled.api.url}/v1/alarms`)).body.alarms;
  expect(alarms).toHaveLength(1);
  expect(alarms[0]).toMatchObject({ kind: "soft-firm-mismatch", height: divergedAt, details: { softBlockHash: toHexUpper(soft.sequencerBlockHash), firmBlockHash: toHexUpper(real.blockId.hash) } });
  expect((await getJson(`${fooled.api.url}/v1/status`)).body.alarms).toBe(1);
  expect(await (await fetch(`${fooled.api.url}/metrics`)).text()).toMatch(/metro_rollup_rollbacks_total 1/);

  const tx = (await getJson(`${fooled.api.url}/v1/txs/${hash}`)).body;
  expect(tx).toMatchObject({ status: "firm", result: { ok: true }, rollup_height: divergedAt });
  for (let i = 1n; i <= h; i++) {
    const [a, b] = await Promise.all([fooled.node.store.block(i), honest.node.store.block(i)]);
    expect(toHexUpper(a!.stateRoot)).toBe(toHexUpper(b!.stateRoot));
    const [ha, hb] = await Promise.all([fooled.node.headers.header(i), honest.node.headers.header(i)]);
    expect(ha).toEqual(hb);
  }
  expect((await getJson(`${honest.api.url}/v1/alarms`)).body.alarms).toEqual([]);
});
