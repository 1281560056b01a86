// A client built from published packages only (@cosmjs/*, cosmjs-types): Metro's messages defined by
// hand with cosmjs-types' BinaryWriter/BinaryReader, the way any third-party app would. It funds a new
// account from the genesis account, submits a rollup tx and a 3-rollup bundle with fee "auto", reads
// them back with getTx/searchTx, and checks that balances fell by exactly the fees paid.
// The node runs in-process (project code); nothing on the client side imports the project.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { DirectSecp256k1HdWallet, decodeTxRaw } from "@cosmjs/proto-signing";
import { GasPrice, SigningStargateClient, type DeliverTxResponse } from "@cosmjs/stargate";
// The client side: published packages, plus Metro's messages defined with them alone.
import { metroRegistry, MSG_SUBMIT_BUNDLE, MSG_SUBMIT_ROLLUP_TX, responseHashes, type MsgSubmitBundle, type MsgSubmitRollupTx } from "../../scripts/examples/metro-messages.ts";
import { startChain, stopAll, type TestChain } from "./rpc-harness.ts";

const registry = metroRegistry();
const options = { registry, gasPrice: GasPrice.fromString("0.025umetro"), broadcastPollIntervalMs: 100 };
const FAUCET_MNEMONIC = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

async function paidFee(client: SigningStargateClient, hash: string): Promise<bigint> {
  const tx = await client.getTx(hash);
  const [coin] = decodeTxRaw(tx!.tx).authInfo.fee!.amount;
  expect(coin.denom).toBe("umetro");
  return BigInt(coin.amount);
}

const balance = async (client: SigningStargateClient, address: string) => BigInt((await client.getBalance(address, "umetro")).amount);
const sha256Hex = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

const FAUCET_BALANCE = 1_000_000_000n;
const FUNDING = 5_000_000n;
let chain: TestChain;

beforeAll(async () => {
  const [faucet] = await (await DirectSecp256k1HdWallet.fromMnemonic(FAUCET_MNEMONIC, { prefix: "metro" })).getAccounts();
  chain = await startChain({ accounts: [{ address: faucet.address, balance: FAUCET_BALANCE }] });
});

afterAll(stopAll);

describe("a client made of published packages only", () => {
  it("funds an account, submits a rollup tx and a bundle, reads them back, pays exactly the fees", async () => {
    const faucetWallet = await DirectSecp256k1HdWallet.fromMnemonic(FAUCET_MNEMONIC, { prefix: "metro" });
    const [faucet] = await faucetWallet.getAccounts();
    const userWallet = await DirectSecp256k1HdWallet.generate(24, { prefix: "metro" });
    const [user] = await userWallet.getAccounts();
    const faucetClient = await SigningStargateClient.connectWithSigner(chain.rpc.url, faucetWallet, options);
    const userClient = await SigningStargateClient.connectWithSigner(chain.rpc.url, userWallet, options);
    try {
      const funding = await faucetClient.sendTokens(faucet.address, user.address, [{ denom: "umetro", amount: String(FUNDING) }], "auto");
      expect(funding.code).toBe(0);
      expect(await balance(userClient, user.address)).toBe(FUNDING);

      const rollupTx: MsgSubmitRollupTx = { signer: user.address, secondaryChainId: "rollup-a", data: new TextEncoder().encode("hello rollup") };
      const bundle: MsgSubmitBundle = {
        signer: user.address,
        txs: ["rollup-a", "rollup-b", "rollup-c"].map((id, i) => ({ secondaryChainId: id, data: Uint8Array.of(i, i, i) })),
      };
      const submitted: DeliverTxResponse[] = [
        await userClient.signAndBroadcast(user.address, [{ typeUrl: MSG_SUBMIT_ROLLUP_TX, value: rollupTx }], "auto"),
        await userClient.signAndBroadcast(user.address, [{ typeUrl: MSG_SUBMIT_BUNDLE, value: bundle }], "auto"),
      ];
      expect(submitted.map((r) => r.code)).toEqual([0, 0]);
      expect(responseHashes(submitted[0].msgResponses[0].value)).toEqual([sha256Hex(rollupTx.data)]);
      expect(responseHashes(submitted[1].msgResponses[0].value)).toEqual(bundle.txs.map((t) => sha256Hex(t.data)));

      // Read back: by hash, and everything the user sent.
      for (const r of submitted) expect((await userClient.getTx(r.transactionHash))?.height).toBe(r.height);
      const found = await userClient.searchTx(`message.sender='${user.address}'`);
      expect(found.map((t) => t.hash)).toEqual(submitted.map((r) => r.transactionHash));
      const decoded = registry.decode(decodeTxRaw(found[1].tx).body.messages[0]) as MsgSubmitBundle;
      expect(decoded.txs.map((t) => t.secondaryChainId)).toEqual(["rollup-a", "rollup-b", "rollup-c"]);

      const userFees = (await Promise.all(submitted.map((r) => paidFee(userClient, r.transactionHash)))).reduce((a, b) => a + b, 0n);
      expect(await balance(userClient, user.address)).toBe(FUNDING - userFees);
      expect(await balance(faucetClient, faucet.address)).toBe(FAUCET_BALANCE - FUNDING - (await paidFee(faucetClient, funding.transactionHash)));
      expect((await userClient.getAccount(user.address))?.sequence).toBe(2);
    } finally {
      faucetClient.disconnect();
      userClient.disconnect();
    }
  });
});
