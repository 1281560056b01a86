// The sequencer node in-process: cosmjs-signed transactions through CheckTx, blocks from the solo
// engine, balances and sequences after commit, and restart from disk.
import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { initHome } from "../../sequencer/init.ts";
import { SequencerNode } from "../../sequencer/node.ts";
import { submitBundleMsg, submitRollupTxMsg } from "../../sequencer/client/registry.ts";
import { requiredFee, DEFAULT_PARAMS, gasUsed } from "../../sequencer/params.ts";
import { signTx, testSigner, TEST_MNEMONICS } from "./signing.ts";

const logger = pino({ level: "silent" });
const homes: string[] = [];
const nodes: SequencerNode[] = [];

afterEach(async () => {
  for (const node of nodes.splice(0)) await node.stop().catch(() => {});
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

async function startChain() {
  const alice = await testSigner(TEST_MNEMONICS[0]);
  const bob = await testSigner(TEST_MNEMONICS[1]);
  const home = mkdtempSync(join(tmpdir(), "metro-seq-"));
  homes.push(home);
  initHome({ home, chainId: "metro-test-1", accounts: [{ address: alice.address, balance: 10_000_000n }] });
  const node = await SequencerNode.open(home, { logger, config: { blockTimeMs: 50 } });
  nodes.push(node);
  await node.start();
  return { node, home, alice, bob };
}

function nextCommit(node: SequencerNode, predicate: (height: number) => boolean = () => true, timeoutMs = 10_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no commit in time")), timeoutMs);
    const off = node.onCommitted(({ head }) => {
      if (!predicate(head.height)) return;
      clearTimeout(timer);
      off();
      resolve(head.height);
    });
  });
}

describe("sequencer node", () => {
  it("orders rollup txs and bundles, charges exactly the fee, and moves funds", async () => {
    const { node, alice, bob } = await startChain();
    const gasLimit = 200_000n;
    const fee = requiredFee(DEFAULT_PARAMS, gasLimit);
    const send = { typeUrl: "/cosmos.bank.v1beta1.MsgSend", value: { fromAddress: alice.address, toAddress: bob.address, amount: [{ denom: "umetro", amount: "1234" }] } };
    const txs = [
      await signTx(alice, [submitRollupTxMsg(alice.address, { secondaryChainId: "rollup-a", data: new Uint8Array([1, 2, 3]) })], { chainId: node.chainId, accountNumber: 0n, sequence: 0n, gasLimit, fee }),
      await signTx(alice, [submitBundleMsg(alice.address, [{ secondaryChainId: "rollup-a", data: Uint8Array.of(4) }, { secondaryChainId: "rollup-b", data: Uint8Array.of(5) }])], { chainId: node.chainId, accountNumber: 0n, sequence: 1n, gasLimit, fee }),
      await signTx(alice, [send], { chainId: node.chainId, accountNumber: 0n, sequence: 2n, gasLimit, fee }),
    ];
    const results = [];
    for (const tx of txs) results.push(await node.checkTx(tx));
    expect(results.map((r) => r.code)).toEqual([0, 0, 0]);
    const heights = await Promise.all(results.map((r) => node.waitForTx(r.hash, 10_000)));
    expect(heights.every((h) => typeof h === "number")).toBe(true);
    const after = await node.store.account(alice.address);
    expect(after?.sequence).toBe(3n);
    expect(after?.balance).toBe(10_000_000n - 3n * fee - 1234n);
    expect((await node.store.account(bob.address))?.balance).toBe(1234n);
    expect(gasUsed(DEFAULT_PARAMS, txs[0].length)).toBeLessThanOrEqual(gasLimit);
  });

  it("rejects a replayed transaction and keeps state", async () => {
    const { node, alice } = await startChain();
    const gasLimit = 200_000n;
    const tx = await signTx(alice, [submitRollupTxMsg(alice.address, { secondaryChainId: "rollup-a", data: Uint8Array.of(9) })], { chainId: node.chainId, accountNumber: 0n, sequence: 0n, gasLimit, fee: requiredFee(DEFAULT_PARAMS, gasLimit) });
    const first = await node.checkTx(tx);
    expect(first.code).toBe(0);
    await node.waitForTx(first.hash, 10_000);
    const before = await node.store.account(alice.address);
    const replay = await node.checkTx(tx);
    expect(replay).toMatchObject({ code: 32, codespace: "sdk" });
    expect(replay.log).toBe("account sequence mismatch, expected 1, got 0: incorrect account sequence");
    await nextCommit(node);
    expect(await node.store.account(alice.address)).toEqual(before);
  });

  it("resumes from disk after a restart", async () => {
    const { node, home } = await startChain();
    const height = await nextCommit(node, (h) => h >= 3);
    await node.stop();
    nodes.splice(nodes.indexOf(node), 1);
    const reopened = await SequencerNode.open(home, { logger, config: { blockTimeMs: 50 } });
    nodes.push(reopened);
    expect(reopened.head.height).toBeGreaterThanOrEqual(height);
    await reopened.start();
    const next = await nextCommit(reopened);
    expect(next).toBeGreaterThan(height);
    const block = await reopened.store.block(next);
    expect(Buffer.compare(block!.block.header.lastBlockId.hash, (await reopened.store.block(next - 1))!.blockId.hash)).toBe(0);
  });
});

describe("SignDoc encoding", () => {
  it("matches cosmjs's makeSignDoc byte for byte", async () => {
    const { makeSignDoc } = await import("@cosmjs/proto-signing");
    const { SignDoc } = await import("cosmjs-types/cosmos/tx/v1beta1/tx");
    const { signDocBytes } = await import("../../sequencer/tx/signature.ts");
    for (const accountNumber of [0n, 1n, 127n, 128n, 300n, 2n ** 40n]) {
      const tx = { bodyBytes: Uint8Array.of(1, 2, 3), authInfoBytes: new Uint8Array(200).fill(7) };
      const expected = SignDoc.encode(makeSignDoc(tx.bodyBytes, tx.authInfoBytes, "metro-1", Number(accountNumber))).finish();
      expect(Buffer.from(signDocBytes(tx, "metro-1", accountNumber)).toString("hex")).toBe(Buffer.from(expected).toString("hex"));
    }
  });
});

describe("results encoding", () => {
  it("TxMsgData and the results hash match cosmjs-types' encoders", async () => {
    const { TxMsgData } = await import("cosmjs-types/cosmos/base/abci/v1beta1/abci");
    const { ExecTxResult } = await import("cosmjs-types/tendermint/abci/types");
    const { txMsgData, resultsHash } = await import("../../sequencer/state/results.ts");
    const { merkleRoot } = await import("../../celestia/merkle.ts");
    const { MSG_SEND, MSG_SUBMIT_BUNDLE, MSG_SUBMIT_ROLLUP_TX } = await import("../../sequencer/tx/messages.ts");
    const hashes = [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2), new Uint8Array(32).fill(3)];
    const messages = [
      { type: MSG_SEND, signer: "a", to: "b", amount: 1n },
      { type: MSG_SUBMIT_ROLLUP_TX, signer: "a", tx: { secondaryChainId: "x", data: Uint8Array.of(1) } },
      { type: MSG_SUBMIT_BUNDLE, signer: "a", txs: [{ secondaryChainId: "y", data: Uint8Array.of(2) }, { secondaryChainId: "z", data: Uint8Array.of(3) }] },
    ] as const;
    const data = txMsgData(messages as never, hashes);
    const decoded = TxMsgData.decode(data);
    expect(decoded.msgResponses.map((r) => r.typeUrl)).toEqual(["/cosmos.bank.v1beta1.MsgSendResponse", "/metro.sequencer.v1.MsgSubmitRollupTxResponse", "/metro.sequencer.v1.MsgSubmitBundleResponse"]);
    expect(Buffer.from(TxMsgData.encode(decoded).finish())).toEqual(Buffer.from(data));
    const results = [{ data, gasWanted: 200_000n, gasUsed: 14_000n }, { data: new Uint8Array(), gasWanted: 0n, gasUsed: 1n }];
    const expected = merkleRoot(results.map((r) => ExecTxResult.encode({ code: 0, data: r.data, log: "", info: "", gasWanted: r.gasWanted, gasUsed: r.gasUsed, events: [], codespace: "" }).finish()));
    expect(Buffer.from(resultsHash(results))).toEqual(Buffer.from(expected));
  });
});
