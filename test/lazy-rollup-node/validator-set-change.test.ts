// The rollup node across a sequencer validator set change, end to end: scripted RPC servers (real
// WebSocket and HTTP servers) serve a real sequencer's blocks re-signed as a chain whose set changes
// at CHANGE (changing-validators.ts), and the relayer posts that chain to the local DA. The node
// fetches the new set from the RPC, accepts it only with the hash the old set signed, executes the
// new set's blocks soft, confirms them firm, proves bundles with the set of their height, refuses the
// old set's blocks after the change, and resumes with the stored set after a restart.
import { afterAll, expect, it } from "vitest";
import { decodeBundleProof, verifyBundleProof } from "../../lazy-rollup-node/index.ts";
import type { RollupService } from "../../lazy-rollup-node/service.ts";
import { startRelayer } from "../../sequencer/relayer/relayer.ts";
import { fromBase64 } from "../../cometbft/hash.ts";
import type { StreamedBlockJson } from "../../sequencer/rpc/block-stream.ts";
import { decodeBlock, decodeCommit } from "../../sequencer/block/block.ts";
import { addressOfKey, testKey } from "./harness.ts";
import { changingChain, NEW_SET, signedBy, streamedJson, type ChangingChain } from "./changing-validators.ts";
import { getJson, initHome, logger, metric, onStop, PREFIX, ROLLUP, startEnv, startNode, stopAll, tempDir, transfer, transferLands, until, type Env } from "./node-harness.ts";
import { hasRollupTxs, startTamperingRpc } from "./tampering-rpc.ts";

afterAll(stopAll);

const CHANGE = 4;
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const pubKeys = (set: readonly { pubKey: Uint8Array }[]) => set.map((v) => hex(v.pubKey));

async function setup(chainId: string, o: { relayer?: boolean } = {}): Promise<{ env: Env; chain: ChangingChain; honest: Awaited<ReturnType<typeof startTamperingRpc>> }> {
  const env = await startEnv({ chainId, relayer: false });
  const chain = changingChain(env.seq.node, CHANGE);
  if (o.relayer) {
    const relayer = await startRelayer({ source: chain.source(), da: { url: env.da.url }, home: tempDir("metro-valset-relayer-"), logger, flushIntervalMs: 150 });
    onStop(() => relayer.close());
  }
  const honest = await startTamperingRpc(env.seq.node, chain.rewrite, { validators: chain.validatorsAt, pageSize: 2 });
  return { env, chain, honest };
}

/** A server of the same chain whose `validators` serves a set of two of the new three. */
function lyingSets(env: Env, chain: ChangingChain) {
  return startTamperingRpc(env.seq.node, chain.rewrite, { validators: (h) => (h < CHANGE ? env.seq.node.genesis.validators : NEW_SET.slice(0, 2)) });
}

/** Waits until the rollup node has executed sequencer blocks through `height`. */
const pastSequencerHeight = (rollup: RollupService, height: number) => until(rollup.node, () => rollup.node.nextSoftSequencerHeight > height, `the node to pass sequencer height ${height}`);

/** A transfer of 5 from test key `from` lands; its rollup block. */
const transferFrom = (env: Env, rollup: RollupService, from: number, nonce: bigint) => transferLands(env, rollup.node, transfer(from, addressOfKey(testKey(3), PREFIX), 5n, nonce));

function recordPaths(rollup: RollupService): Map<bigint, string> {
  const paths = new Map<bigint, string>();
  rollup.node.on("executed", ({ block, path }) => paths.set(block.height, path));
  return paths;
}

it("follows the chain across the change: the new set's blocks execute soft, confirm firm, and prove bundles with the set of their height", async () => {
  const { env, chain, honest } = await setup("metro-valset-1", { relayer: true });
  const rollup = await startNode(env, initHome(env).home, { sequencerRpc: [honest.url] });
  const paths = recordPaths(rollup);
  await pastSequencerHeight(rollup, CHANGE);
  expect(rollup.node.validatorSets.changes.map((c) => ({ height: c.height, keys: pubKeys(c.validators) }))).toEqual([{ height: CHANGE, keys: pubKeys(NEW_SET) }]);
  expect(honest.validatorRequests).toContain(CHANGE);

  const block = await transferFrom(env, rollup, 0, 0n);
  expect(Number(block.sequencerHeight)).toBeGreaterThan(CHANGE);
  expect(paths.get(block.height)).toBe("soft");
  expect(hex(block.sequencerBlockHash).toUpperCase()).toBe(await chain.blockHash(Number(block.sequencerHeight)));

  // A bundle with another rollup, after the change.
  const t = transfer(1, addressOfKey(testKey(3), PREFIX), 7n, 0n);
  const bundleId = (await env.seq.submit([{ secondaryChainId: "other-rollup", data: new TextEncoder().encode("other half") }, { secondaryChainId: ROLLUP, data: t.data }])).toUpperCase();
  const hash = hex(t.hash).toUpperCase();
  await until(rollup.node, async () => (await getJson(`${rollup.api.url}/v1/txs/${hash}`)).body.status === "firm", "the bundled transfer to be firm");
  const proof = decodeBundleProof(Buffer.from((await getJson(`${rollup.api.url}/v1/bundles/${bundleId}/proof`)).body.proof, "base64"));
  expect(Number(proof.sequencerHeader.height)).toBeGreaterThan(CHANGE);
  expect(() => verifyBundleProof(proof, env.seq.node.chainId, rollup.node.validatorSets)).not.toThrow();
  expect(() => verifyBundleProof(proof, env.seq.node.chainId, { at: () => env.seq.node.genesis.validators })).toThrow(/validators_hash/);

  // Celestia has the same chain: every block confirmed as executed, no alarm.
  await until(rollup.node, () => rollup.node.firmHeight >= block.height, "the transfer's block to be firm");
  expect(rollup.node.alarms.count).toBe(0);
  expect(await metric(rollup.api.url, "metro_rollup_validator_sets_rejected_total")).toBe(0);
});

it("follows the change on the firm path alone, fetching the set itself", async () => {
  const { env, chain } = await setup("metro-valset-2", { relayer: true });
  const setsOnly = await startTamperingRpc(env.seq.node, chain.rewrite, { validators: chain.validatorsAt, pageSize: 2, blocks: false });
  const rollup = await startNode(env, initHome(env).home, { sequencerRpc: [setsOnly.url] });
  await pastSequencerHeight(rollup, CHANGE);
  const block = await transferFrom(env, rollup, 0, 0n);
  expect(Number(block.sequencerHeight)).toBeGreaterThan(CHANGE);
  expect(hex(block.sequencerBlockHash).toUpperCase()).toBe(await chain.blockHash(Number(block.sequencerHeight)));
  expect(rollup.node.firmHeight).toBeGreaterThanOrEqual(block.height);
  expect(setsOnly.validatorRequests).toContain(CHANGE);
  expect(rollup.node.validatorSets.changes.map((c) => c.height)).toEqual([CHANGE]);
  expect(await metric(rollup.api.url, 'metro_rollup_blocks_executed_total{path="soft"}')).toBe(0);
});

it("refuses a set whose hash is not the one the header names, and takes it from an honest endpoint", async () => {
  const { env, chain, honest } = await setup("metro-valset-3");
  const liar = await lyingSets(env, chain);
  const rollup = await startNode(env, initHome(env).home, { sequencerRpc: [liar.url, honest.url] });
  await pastSequencerHeight(rollup, CHANGE);
  const block = await transferFrom(env, rollup, 0, 0n);
  expect(Number(block.sequencerHeight)).toBeGreaterThan(CHANGE);
  expect(liar.validatorRequests).toContain(CHANGE);
  expect(honest.validatorRequests).toContain(CHANGE);
  expect(await metric(rollup.api.url, "metro_rollup_validator_sets_rejected_total")).toBeGreaterThanOrEqual(1);
  expect(rollup.node.validatorSets.changes.map((c) => pubKeys(c.validators))).toEqual([pubKeys(NEW_SET)]);
});

it("refuses blocks the old set signs after the change", async () => {
  const { env, chain, honest } = await setup("metro-valset-4");
  const oldKey = env.seq.node.privval.key;
  /** A server of this chain that, once, serves `fork` instead of the first block after the change with the rollup's transactions. */
  const forker = async (fork: (real: StreamedBlockJson, honestJson: StreamedBlockJson) => StreamedBlockJson) => {
    const server = Object.assign(await startTamperingRpc(env.seq.node, (json) => {
      const honestJson = chain.rewrite(json);
      if (Number(json.height) < CHANGE || server.forks > 0 || !hasRollupTxs(env.seq.node, json, ROLLUP)) return honestJson;
      server.forks++;
      return fork(json, honestJson);
    }, { validators: chain.validatorsAt }), { forks: 0 });
    return server;
  };
  // The real block (the old set's header and commit); this chain's header signed by the old set.
  const oldBlock = await forker((real) => real);
  const oldCommit = await forker((_, honestJson) => streamedJson(signedBy(decodeBlock(fromBase64(honestJson.block)), decodeCommit(fromBase64(honestJson.commit)), [oldKey])));
  const rollup = await startNode(env, initHome(env).home, { sequencerRpc: [oldBlock.url, oldCommit.url, honest.url] });
  await pastSequencerHeight(rollup, CHANGE);
  const block = await transferFrom(env, rollup, 0, 0n);
  expect(hex(block.sequencerBlockHash).toUpperCase()).toBe(await chain.blockHash(Number(block.sequencerHeight)));
  expect([oldBlock.forks, oldCommit.forks]).toEqual([1, 1]);
  // Both fail the commit check against the new set (one signature for three validators) before any header check.
  expect(await metric(rollup.api.url, 'metro_rollup_sequencer_blocks_rejected_total{reason="commit"}')).toBe(2);
});

it("resumes after a restart with the stored set, asking no endpoint for it", async () => {
  const { env, chain, honest } = await setup("metro-valset-5");
  const { home } = initHome(env);
  const first = await startNode(env, home, { sequencerRpc: [honest.url] });
  await pastSequencerHeight(first, CHANGE + 1);
  await first.close();

  // Only an endpoint whose sets are wrong: the node cannot have the new set from it.
  const liar = await lyingSets(env, chain);
  const again = await startNode(env, home, { sequencerRpc: [liar.url] });
  expect(again.node.validatorSets.changes.map((c) => ({ height: c.height, keys: pubKeys(c.validators) }))).toEqual([{ height: CHANGE, keys: pubKeys(NEW_SET) }]);
  const paths = recordPaths(again);
  const block = await transferFrom(env, again, 0, 0n);
  expect(paths.get(block.height)).toBe("soft");
  expect(hex(block.sequencerBlockHash).toUpperCase()).toBe(await chain.blockHash(Number(block.sequencerHeight)));
  expect(liar.validatorRequests).toEqual([]);
});

it("rolls back soft blocks of a fork that handed over to another set when Celestia's header keeps the old one, and goes on firm", async () => {
  // Celestia has the real chain (the relayer posts the sequencer's own blocks); the only RPC endpoint
  // serves the changing chain: a fork from CHANGE - 1 on, signed by the old set's key there.
  const env = await startEnv({ chainId: "metro-valset-6" });
  const chain = changingChain(env.seq.node, CHANGE);
  const fork = await startTamperingRpc(env.seq.node, chain.rewrite, { validators: chain.validatorsAt });
  const rollup = await startNode(env, initHome(env).home, { sequencerRpc: [fork.url] });
  const rollbacks: { fromHeight: bigint; toHeight: bigint }[] = [];
  rollup.node.on("rollback", (r) => rollbacks.push(r));

  // Soft execution follows the fork across the handover; the firm path meets Celestia's header at CHANGE - 1.
  await until(rollup.node, () => rollup.node.firmHeight >= BigInt(CHANGE + 2), "firm confirmation past the fork point");
  expect(fork.validatorRequests).toContain(CHANGE);
  expect(rollbacks.length).toBeGreaterThanOrEqual(1);
  expect(rollbacks[0].toHeight).toBe(BigInt(CHANGE - 2));
  // Celestia's chain never changed its set: nothing of the fork's is kept.
  expect(rollup.node.validatorSets.changes).toEqual([]);
  const confirmed = (await rollup.node.store.block(BigInt(CHANGE)))!;
  expect(hex(confirmed.sequencerBlockHash)).toBe(hex((await env.seq.node.store.block(CHANGE))!.blockId.hash));
  const { alarms } = (await getJson(`${rollup.api.url}/v1/alarms`)).body;
  expect(alarms.map((a: { kind: string }) => a.kind)).toContain("soft-firm-mismatch");
  expect(alarms.map((a: { kind: string }) => a.kind)).not.toContain("equivocation");
});
