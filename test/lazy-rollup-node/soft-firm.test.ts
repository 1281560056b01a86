// A token rollup node following a real sequencer (over its RPC) and the local DA (over HTTP) with the
// real relayer between them: transfers are executed soft as soon as their sequencer block commits,
// then confirmed firm from Celestia with the DA height and commitment that blob.Get confirms; every
// kind of invalid transaction reverts with its reason, as the API says.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DaClient } from "../../celestia/da-client.ts";
import { sha256 } from "../../celestia/sha256.ts";
import { encodeTokenTx } from "../../lazy-rollup-node/token/tx.ts";
import { signDigest } from "../../lazy-rollup-node/secp256k1-key.ts";
import { encodeTransferBody } from "../../lazy-rollup-node/token/tx.ts";
import { publicKeyOf } from "../../lazy-rollup-node/secp256k1-key.ts";
import { verifyAccountProof } from "../../lazy-rollup-node/index.ts";
import { addressOfKey, testKey } from "./harness.ts";
import { getJson, initHome, PREFIX, ROLLUP, startEnv, startNode, stopAll, submit, transfer, until, type Env } from "./node-harness.ts";
import type { RollupService } from "../../lazy-rollup-node/service.ts";

afterAll(stopAll);

describe("soft then firm", () => {
  let env: Env;
  let rollup: RollupService;
  const alice = addressOfKey(testKey(0), PREFIX);
  const bob = addressOfKey(testKey(1), PREFIX);

  beforeAll(async () => {
    env = await startEnv({ chainId: "metro-rollup-soft-1" });
    rollup = await startNode(env, initHome(env).home);
  });

  it("executes a transfer soft, then confirms it firm with its DA location, then under a header", async () => {
    const { node, api } = rollup;
    const t = transfer(0, bob, 250n, 0n);
    const hash = await submit(env, t.data);
    let tx = { status: 404, body: {} as any };
    await until(node, async () => (tx = await getJson(`${api.url}/v1/txs/${hash}`)).status === 200, "the transfer to execute");
    expect(tx.body).toMatchObject({ hash, result: { ok: true }, index: 0 });
    expect(["soft", "firm"]).toContain(tx.body.status);
    expect(tx.body.sequencer_height).toBe(tx.body.rollup_height);
    expect(tx.body.result.events[0]).toMatchObject({ type: "transfer", attributes: expect.arrayContaining([{ key: "amount", value: "250" }]) });

    await until(node, async () => (tx = await getJson(`${api.url}/v1/txs/${hash}`)).body.status === "firm" && tx.body.header_hash !== undefined, "the transfer to be firm under a header");
    const da = new DaClient({ url: env.da.url });
    try {
      const blob = await da.get(tx.body.da.height, Buffer.from(tx.body.da.namespace, "base64"), Buffer.from(tx.body.da.commitment, "base64"));
      expect(blob.data.length).toBeGreaterThan(0);
    } finally {
      await da.close();
    }
    const header = await getJson(`${api.url}/v1/headers/${tx.body.rollup_height}`);
    expect(header.body.header).toMatchObject({ chain_id: ROLLUP, height: tx.body.rollup_height, hash: tx.body.header_hash, da_height: tx.body.da.height, da_commitment: tx.body.da.commitment });

    const account = await getJson(`${api.url}/v1/token/accounts/${bob}`);
    expect(account.body).toMatchObject({ address: bob, balance: "1000250", nonce: "0" });
    const proof = { ...account.body, balance: BigInt(account.body.balance), nonce: BigInt(account.body.nonce), proof: { siblings: account.body.proof.siblings.map((s: string) => Buffer.from(s, "hex")), leaf: account.body.proof.leaf && { keyHash: Buffer.from(account.body.proof.leaf.key_hash, "hex"), valueHash: Buffer.from(account.body.proof.leaf.value_hash, "hex") } } };
    expect(verifyAccountProof(Buffer.from(account.body.state_root, "hex"), proof, PREFIX)).toBe(true);
    const sender = await getJson(`${api.url}/v1/token/accounts/${alice}`);
    expect(sender.body).toMatchObject({ balance: "999750", nonce: "1" });
  });

  it("reverts every kind of invalid transaction with its reason", async () => {
    const { node, api } = rollup;
    const key = testKey(2);
    const sign = (body: { chainId: string; nonce: bigint; to: string; amount: bigint }) => {
      const bodyBytes = encodeTransferBody(body);
      return encodeTokenTx({ bodyBytes, pubkey: publicKeyOf(key), signature: signDigest(key, sha256(bodyBytes)) });
    };
    const forged = (() => {
      const bodyBytes = encodeTransferBody({ chainId: ROLLUP, nonce: 0n, to: bob, amount: 1n });
      return encodeTokenTx({ bodyBytes, pubkey: publicKeyOf(key), signature: signDigest(testKey(3), sha256(bodyBytes)) });
    })();
    const cases: [Uint8Array, string | RegExp][] = [
      [new Uint8Array([0xff, 0x01]), /^malformed tx: /],
      [sign({ chainId: "other-1", nonce: 0n, to: bob, amount: 1n }), 'wrong chain id: expected "tokens-1", got "other-1"'],
      [sign({ chainId: ROLLUP, nonce: 0n, to: bob, amount: 0n }), "zero amount"],
      [sign({ chainId: ROLLUP, nonce: 0n, to: "tok1notanaddress", amount: 1n }), /^invalid recipient: /],
      [sign({ chainId: ROLLUP, nonce: 0n, to: addressOfKey(testKey(1), "metro"), amount: 1n }), /has prefix "metro", expected "tok"/],
      [forged, "bad signature"],
      [sign({ chainId: ROLLUP, nonce: 5n, to: bob, amount: 1n }), "wrong nonce: expected 0, got 5"],
      [sign({ chainId: ROLLUP, nonce: 0n, to: bob, amount: 2_000_000n }), "insufficient balance: have 1000000, need 2000000"],
    ];
    const hashes: string[] = [];
    for (const [data] of cases) hashes.push(await submit(env, data));
    let results: any[] = [];
    await until(node, async () => {
      results = await Promise.all(hashes.map(async (hash) => (await getJson(`${api.url}/v1/txs/${hash}`)).body));
      return results.every((r) => r.result !== undefined);
    }, "every invalid transaction to execute");
    cases.forEach(([, reason], i) => {
      expect(results[i].result.ok).toBe(false);
      if (typeof reason === "string") expect(results[i].result.reason).toBe(reason);
      else expect(results[i].result.reason).toMatch(reason);
    });
    const account = await getJson(`${api.url}/v1/token/accounts/${addressOfKey(key, PREFIX)}`);
    expect(account.body).toMatchObject({ balance: "1000000", nonce: "0" });
  });

  it("serves status, headers, alarms and metrics; refuses bad input", async () => {
    const { node, api } = rollup;
    await until(node, () => node.headers.latest !== undefined, "a header");
    const status = (await getJson(`${api.url}/v1/status`)).body;
    expect(status).toMatchObject({ chain_id: ROLLUP, alarms: 0 });
    expect(status.soft.height).toBeGreaterThanOrEqual(status.firm.height);
    expect(status.latest_header.height).toBeGreaterThan(0);
    expect((await getJson(`${api.url}/v1/headers/latest`)).body.signer).toBe(status.header_signer);
    expect((await getJson(`${api.url}/v1/alarms`)).body).toEqual({ alarms: [] });
    expect((await getJson(`${api.url}/v1/txs/xyz`)).status).toBe(400);
    expect((await getJson(`${api.url}/v1/txs/${"AB".repeat(32)}`)).status).toBe(404);
    expect((await getJson(`${api.url}/v1/headers/999999999`)).status).toBe(404);
    expect((await getJson(`${api.url}/v1/token/accounts/metro1xyz`)).status).toBe(400);
    const metrics = await (await fetch(`${api.url}/metrics`)).text();
    expect(metrics).toMatch(/metro_rollup_firm_height \d+/);
    expect(metrics).toMatch(/metro_rollup_blocks_executed_total\{path="soft"\} \d+/);
  });
});
