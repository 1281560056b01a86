// Published cosmjs (SigningStargateClient, fee "auto") against the sequencer's RPC over real HTTP:
// sends, rollup txs and a 3-rollup bundle, read back with getTx/searchTx/getBlock/getAccount, and
// balances that drop by exactly the fees cosmjs paid plus the amounts sent.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeTxRaw } from "@cosmjs/proto-signing";
import { GasPrice, SigningStargateClient, StargateClient, type DeliverTxResponse } from "@cosmjs/stargate";
import { createHash } from "node:crypto";
import { metroRegistry, submitBundleMsg, submitRollupTxMsg } from "../../sequencer/client/registry.ts";
import { metro } from "../../proto/index.ts";
import { DEFAULT_INDEXED_EVENTS } from "../../sequencer/store/chain-store.ts";
import { CHAIN_ID, rpcResult, startChain, stopAll, type TestChain } from "./rpc-harness.ts";
import { testSigner, TEST_MNEMONICS, type TestSigner } from "./signing.ts";

const INITIAL = 1_000_000_000n;
const SENT = 1_234_567n;

let chain: TestChain;
let alice: TestSigner;
let bob: TestSigner;
let client: SigningStargateClient;

beforeAll(async () => {
  alice = await testSigner(TEST_MNEMONICS[0]);
  bob = await testSigner(TEST_MNEMONICS[1]);
  chain = await startChain({
    accounts: [{ address: alice.address, balance: INITIAL }],
    config: { indexedEvents: [...DEFAULT_INDEXED_EVENTS, "rollup_tx.secondary_chain_id"] },
  });
  client = await SigningStargateClient.connectWithSigner(chain.rpc.url, alice.wallet, {
    registry: metroRegistry(),
    gasPrice: GasPrice.fromString("0.025umetro"),
    // cosmjs polls tx_search every 3 s by default; blocks here come every 100 ms.
    broadcastPollIntervalMs: 100,
  });
});

afterAll(async () => {
  client?.disconnect();
  await stopAll();
});

/** The fee a committed transaction paid, read from its signed AuthInfo. */
async function feeOf(hash: string): Promise<bigint> {
  const found = await client.getTx(hash);
  expect(found).not.toBeNull();
  const fee = decodeTxRaw(found!.tx).authInfo.fee;
  expect(fee?.amount).toHaveLength(1);
  return BigInt(fee!.amount[0].amount);
}

const sha256 = (data: Uint8Array) => new Uint8Array(createHash("sha256").update(data).digest());

describe("cosmjs SigningStargateClient against the sequencer RPC", () => {
  const results: DeliverTxResponse[] = [];

  it("reads chain id, height, missing accounts and zero balances", async () => {
    expect(await client.getChainId()).toBe(CHAIN_ID);
    expect(await client.getHeight()).toBeGreaterThanOrEqual(1);
    expect(await client.getAccount(bob.address)).toBeNull();
    expect(await client.getBalance(bob.address, "umetro")).toEqual({ denom: "umetro", amount: "0" });
    expect(await client.getAllBalances(bob.address)).toEqual([]);
    const account = await client.getAccount(alice.address);
    expect(account).toMatchObject({ address: alice.address, accountNumber: 0n, sequence: 0, pubkey: null });
  });

  it("sends, submits a rollup tx and a 3-rollup bundle with fee auto", async () => {
    const send = { typeUrl: "/cosmos.bank.v1beta1.MsgSend", value: { fromAddress: alice.address, toAddress: bob.address, amount: [{ denom: "umetro", amount: String(SENT) }] } };
    results.push(await client.signAndBroadcast(alice.address, [send], "auto"));
    results.push(await client.signAndBroadcast(alice.address, [submitRollupTxMsg(alice.address, { secondaryChainId: "rollup-a", data: Uint8Array.of(1, 2, 3) })], "auto"));
    const bundle = [
      { secondaryChainId: "rollup-a", data: Uint8Array.of(4) },
      { secondaryChainId: "rollup-b", data: Uint8Array.of(5, 5) },
      { secondaryChainId: "rollup-c", data: Uint8Array.of(6, 6, 6) },
    ];
    results.push(await client.signAndBroadcast(alice.address, [submitBundleMsg(alice.address, bundle)], "auto"));
    for (const r of results) expect(r.code).toBe(0);

    // Message responses carry the rollup tx hashes (sha256 of the data).
    const rollupResponse = metro.sequencer.v1.MsgSubmitRollupTxResponse.decode(results[1].msgResponses[0].value);
    expect(Buffer.from(rollupResponse.rollupTxHash)).toEqual(Buffer.from(sha256(Uint8Array.of(1, 2, 3))));
    const bundleResponse = metro.sequencer.v1.MsgSubmitBundleResponse.decode(results[2].msgResponses[0].value);
    expect(bundleResponse.rollupTxHashes.map((h) => Buffer.from(h).toString("hex"))).toEqual(bundle.map((t) => Buffer.from(sha256(t.data)).toString("hex")));
  });

  it("charges exactly the fees cosmjs paid plus the amount sent", async () => {
    const fees = await Promise.all(results.map((r) => feeOf(r.transactionHash)));
    for (const [i, r] of results.entries()) {
      // The tx event names the same fee the signed AuthInfo offers.
      const txEvent = r.events.find((e) => e.type === "tx" && e.attributes.some((a) => a.key === "fee"));
      expect(txEvent?.attributes.find((a) => a.key === "fee")?.value).toBe(`${fees[i]}umetro`);
      expect(r.gasUsed).toBeLessThanOrEqual(r.gasWanted);
    }
    const totalFees = fees.reduce((a, b) => a + b, 0n);
    expect(BigInt((await client.getBalance(alice.address, "umetro")).amount)).toBe(INITIAL - totalFees - SENT);
    expect(await client.getBalance(bob.address, "umetro")).toEqual({ denom: "umetro", amount: String(SENT) });
    expect(await client.getAllBalances(bob.address)).toEqual([{ denom: "umetro", amount: String(SENT) }]);
    const account = await client.getAccount(alice.address);
    expect(account?.sequence).toBe(3);
    expect(account?.pubkey?.type).toBe("tendermint/PubKeySecp256k1");
    expect(await client.getAccount(bob.address)).toMatchObject({ accountNumber: 1n, sequence: 0, pubkey: null });
  });

  it("finds the transactions with getTx and searchTx", async () => {
    const tx = await client.getTx(results[1].transactionHash);
    expect(tx).toMatchObject({ hash: results[1].transactionHash, height: results[1].height, code: 0 });

    const bySender = await client.searchTx(`message.sender='${alice.address}'`);
    expect(bySender.map((t) => t.hash)).toEqual(results.map((r) => r.transactionHash));

    const atHeight = await client.searchTx([{ key: "tx.height", value: results[2].height }]);
    expect(atHeight.map((t) => t.hash)).toContain(results[2].transactionHash);
    expect(atHeight.every((t) => t.height === results[2].height)).toBe(true);

    const byRollup = await client.searchTx("rollup_tx.secondary_chain_id='rollup-b'");
    expect(byRollup.map((t) => t.hash)).toEqual([results[2].transactionHash]);
  });

  it("reads blocks, including the rollup roots cosmjs ignores", async () => {
    const height = results[2].height;
    const block = await client.getBlock(height);
    expect(block.header.height).toBe(height);
    expect(block.header.chainId).toBe(CHAIN_ID);
    expect(block.txs.map((t) => Buffer.from(sha256(t)).toString("hex").toUpperCase())).toContain(results[2].transactionHash);
    const latest = await client.getBlock();
    expect(latest.header.height).toBeGreaterThanOrEqual(height);

    const raw = await rpcResult(chain.rpc.url, "block", { height: String(height) });
    expect(raw.block.header.rollup_txs_root).toMatch(/^[0-9A-F]{64}$/);
    expect(raw.block.header.rollup_ids_root).toMatch(/^[0-9A-F]{64}$/);
    expect(raw.block_id.hash).toBe(block.id);
  });

  it("works with a read-only StargateClient too", async () => {
    const reader = await StargateClient.connect(chain.rpc.url);
    try {
      expect(await reader.getChainId()).toBe(CHAIN_ID);
      expect((await reader.getSequence(alice.address)).sequence).toBe(3);
    } finally {
      reader.disconnect();
    }
  });
});
