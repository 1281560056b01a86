// A client built from published packages only (@cosmjs/*, cosmjs-types): Metro's messages defined by
// hand with cosmjs-types' BinaryWriter/BinaryReader, the way any third-party app would. It funds a new
// account from the genesis account, submits a rollup tx and a 3-rollup bundle with fee "auto", reads
// them back with getTx/searchTx, and checks that balances fell by exactly the fees paid.
// The node runs in-process (project code); nothing on the client side imports the project.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { DirectSecp256k1HdWallet, Registry, decodeTxRaw, type GeneratedType } from "@cosmjs/proto-signing";
import { defaultRegistryTypes, GasPrice, SigningStargateClient, type DeliverTxResponse } from "@cosmjs/stargate";
import { BinaryReader, BinaryWriter } from "cosmjs-types/binary";
import { startChain, stopAll, type TestChain } from "./rpc-harness.ts";

// ---- Client side: published packages only from here on. ----

interface RollupTx {
  secondaryChainId: string;
  data: Uint8Array;
}

interface MsgSubmitRollupTx extends RollupTx {
  signer: string;
}

interface MsgSubmitBundle {
  signer: string;
  txs: RollupTx[];
}

const readerOf = (input: BinaryReader | Uint8Array) => (input instanceof BinaryReader ? input : new BinaryReader(input));

// metro.sequencer.v1.RollupTx { string secondary_chain_id = 1; bytes data = 2; }
const RollupTxType = {
  encode(m: RollupTx, w: BinaryWriter = BinaryWriter.create()): BinaryWriter {
    if (m.secondaryChainId !== "") w.uint32(10).string(m.secondaryChainId);
    if (m.data.length > 0) w.uint32(18).bytes(m.data);
    return w;
  },
  decode(input: BinaryReader | Uint8Array, length?: number): RollupTx {
    const r = readerOf(input);
    const end = length === undefined ? r.len : r.pos + length;
    const m: RollupTx = { secondaryChainId: "", data: new Uint8Array() };
    while (r.pos < end) {
      const tag = r.uint32();
      if (tag >>> 3 === 1) m.secondaryChainId = r.string();
      else if (tag >>> 3 === 2) m.data = r.bytes();
      else r.skipType(tag & 7);
    }
    return m;
  },
  fromPartial: (o: Partial<RollupTx>): RollupTx => ({ secondaryChainId: o.secondaryChainId ?? "", data: o.data ?? new Uint8Array() }),
};

// metro.sequencer.v1.MsgSubmitRollupTx { string signer = 1; string secondary_chain_id = 2; bytes data = 3; }
const MsgSubmitRollupTxType = {
  encode(m: MsgSubmitRollupTx, w: BinaryWriter = BinaryWriter.create()): BinaryWriter {
    if (m.signer !== "") w.uint32(10).string(m.signer);
    if (m.secondaryChainId !== "") w.uint32(18).string(m.secondaryChainId);
    if (m.data.length > 0) w.uint32(26).bytes(m.data);
    return w;
  },
  decode(input: BinaryReader | Uint8Array, length?: number): MsgSubmitRollupTx {
    const r = readerOf(input);
    const end = length === undefined ? r.len : r.pos + length;
    const m: MsgSubmitRollupTx = { signer: "", secondaryChainId: "", data: new Uint8Array() };
    while (r.pos < end) {
      const tag = r.uint32();
      if (tag >>> 3 === 1) m.signer = r.string();
      else if (tag >>> 3 === 2) m.secondaryChainId = r.string();
      else if (tag >>> 3 === 3) m.data = r.bytes();
      else r.skipType(tag & 7);
    }
    return m;
  },
  fromPartial: (o: Partial<MsgSubmitRollupTx>): MsgSubmitRollupTx => ({ signer: o.signer ?? "", ...RollupTxType.fromPartial(o) }),
};

// metro.sequencer.v1.MsgSubmitBundle { string signer = 1; repeated RollupTx txs = 2; }
const MsgSubmitBundleType = {
  encode(m: MsgSubmitBundle, w: BinaryWriter = BinaryWriter.create()): BinaryWriter {
    if (m.signer !== "") w.uint32(10).string(m.signer);
    for (const tx of m.txs) RollupTxType.encode(tx, w.uint32(18).fork()).ldelim();
    return w;
  },
  decode(input: BinaryReader | Uint8Array, length?: number): MsgSubmitBundle {
    const r = readerOf(input);
    const end = length === undefined ? r.len : r.pos + length;
    const m: MsgSubmitBundle = { signer: "", txs: [] };
    while (r.pos < end) {
      const tag = r.uint32();
      if (tag >>> 3 === 1) m.signer = r.string();
      else if (tag >>> 3 === 2) m.txs.push(RollupTxType.decode(r, r.uint32()));
      else r.skipType(tag & 7);
    }
    return m;
  },
  fromPartial: (o: Partial<MsgSubmitBundle>): MsgSubmitBundle => ({ signer: o.signer ?? "", txs: (o.txs ?? []).map(RollupTxType.fromPartial) }),
};

/** MsgSubmitRollupTxResponse { bytes rollup_tx_hash = 1 } and MsgSubmitBundleResponse { repeated bytes rollup_tx_hashes = 1 }. */
function responseHashes(value: Uint8Array): string[] {
  const r = new BinaryReader(value);
  const hashes: string[] = [];
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === 1) hashes.push(Buffer.from(r.bytes()).toString("hex"));
    else r.skipType(tag & 7);
  }
  return hashes;
}

const MSG_SUBMIT_ROLLUP_TX = "/metro.sequencer.v1.MsgSubmitRollupTx";
const MSG_SUBMIT_BUNDLE = "/metro.sequencer.v1.MsgSubmitBundle";
const registry = new Registry([...defaultRegistryTypes, [MSG_SUBMIT_ROLLUP_TX, MsgSubmitRollupTxType as GeneratedType], [MSG_SUBMIT_BUNDLE, MsgSubmitBundleType as GeneratedType]]);
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

// ---- End of client definitions. ----

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
