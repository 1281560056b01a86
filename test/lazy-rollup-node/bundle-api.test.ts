// Bundle proofs from the API: a transfer that came in an atomic bundle with another rollup's
// transaction names its bundle, and GET /v1/bundles/{id}/proof returns a proof that the sequencer's
// validator set alone verifies. Built from the whole sequencer block on the soft path, and from the
// members' namespaces on Celestia when the block was executed from firm data.
import { afterAll, expect, it } from "vitest";
import { decodeBundleProof, verifyBundleProof } from "../../lazy-rollup-node/index.ts";
import { addressOfKey, testKey } from "./harness.ts";
import { getJson, initHome, PREFIX, ROLLUP, startEnv, startNode, stopAll, transfer, until, type Env } from "./node-harness.ts";
import type { RollupService } from "../../lazy-rollup-node/service.ts";

afterAll(stopAll);

async function bundledTransfer(env: Env): Promise<{ hash: string; bundleId: string }> {
  const t = transfer(0, addressOfKey(testKey(1), PREFIX), 42n, 0n);
  const bundleId = await env.seq.submit([
    { secondaryChainId: "other-rollup", data: new TextEncoder().encode("the other half") },
    { secondaryChainId: ROLLUP, data: t.data },
  ]);
  return { hash: Buffer.from(t.hash).toString("hex").toUpperCase(), bundleId: bundleId.toUpperCase() };
}

async function expectProof(env: Env, rollup: RollupService, hash: string, bundleId: string): Promise<void> {
  let tx: any;
  await until(rollup.node, async () => (tx = (await getJson(`${rollup.api.url}/v1/txs/${hash}`)).body).status === "firm", "the bundled transfer to be firm");
  expect(tx).toMatchObject({ result: { ok: true }, bundle: { bundle_id: bundleId, member_chain_ids: ["other-rollup", ROLLUP] } });
  const response = await getJson(`${rollup.api.url}/v1/bundles/${bundleId}/proof`);
  expect(response.status).toBe(200);
  expect(response.body).toMatchObject({ bundle_id: bundleId, sequencer_height: tx.sequencer_height, members: [{ secondary_chain_id: "other-rollup", entries: 1 }, { secondary_chain_id: ROLLUP, entries: 1 }] });
  const proof = decodeBundleProof(Buffer.from(response.body.proof, "base64"));
  expect(() => verifyBundleProof(proof, env.seq.node.chainId, rollup.node.validatorSets)).not.toThrow();
  expect((await getJson(`${rollup.api.url}/v1/bundles/${"00".repeat(32)}/proof`)).status).toBe(404);
}

it("proves a bundle from the sequencer block it executed soft", async () => {
  const env = await startEnv({ chainId: "metro-rollup-bundle-1" });
  const rollup = await startNode(env, initHome(env).home);
  const { hash, bundleId } = await bundledTransfer(env);
  await expectProof(env, rollup, hash, bundleId);
});

it("proves a bundle from the members' blobs when the block was executed from firm data", async () => {
  const env = await startEnv({ chainId: "metro-rollup-bundle-2" });
  // No sequencer endpoint answers: every block is executed from Celestia.
  const rollup = await startNode(env, initHome(env).home, { sequencerRpc: ["ws://127.0.0.1:1/websocket"] });
  const { hash, bundleId } = await bundledTransfer(env);
  await expectProof(env, rollup, hash, bundleId);
  expect(await (await fetch(`${rollup.api.url}/metrics`)).text()).toMatch(/metro_rollup_blocks_executed_total\{path="firm"\} [1-9]/);
});
