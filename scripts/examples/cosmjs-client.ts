// Submitting rollup transactions to a Metro sequencer with nothing but published packages
// (@cosmjs/proto-signing, @cosmjs/stargate, cosmjs-types): Metro's two messages are defined here by
// hand, as any third-party app would, and used with SigningStargateClient and fee "auto".
//
//   node scripts/examples/cosmjs-client.ts http://127.0.0.1:26657 "<24-word mnemonic of a funded account>"
//
// It submits one rollup transaction and a bundle across three rollups, reads both back with getTx and
// searchTx, and checks that the balance fell by exactly the fees paid.
import { DirectSecp256k1HdWallet, Registry, decodeTxRaw, type GeneratedType } from "@cosmjs/proto-signing";
import { defaultRegistryTypes, GasPrice, SigningStargateClient } from "@cosmjs/stargate";
import { BinaryReader, BinaryWriter } from "cosmjs-types/binary";

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

// metro.sequencer.v1.MsgSubmitBundle { string signer = 1; repeated RollupTx txs = 2; }: all or nothing, in one block.
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

const MSG_SUBMIT_ROLLUP_TX = "/metro.sequencer.v1.MsgSubmitRollupTx";
const MSG_SUBMIT_BUNDLE = "/metro.sequencer.v1.MsgSubmitBundle";

const metroRegistry = () =>
  new Registry([...defaultRegistryTypes, [MSG_SUBMIT_ROLLUP_TX, MsgSubmitRollupTxType as GeneratedType], [MSG_SUBMIT_BUNDLE, MsgSubmitBundleType as GeneratedType]]);

async function main(rpcUrl: string, mnemonic: string): Promise<void> {
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(mnemonic, { prefix: "metro" });
  const [{ address }] = await wallet.getAccounts();
  // cosmjs polls for inclusion every 3 s by default; Metro blocks come every second.
  const client = await SigningStargateClient.connectWithSigner(rpcUrl, wallet, { registry: metroRegistry(), gasPrice: GasPrice.fromString("0.025umetro"), broadcastPollIntervalMs: 500 });
  try {
    const balance = async () => BigInt((await client.getBalance(address, "umetro")).amount);
    const before = await balance();
    console.log(`chain ${await client.getChainId()} at height ${await client.getHeight()}; ${address} holds ${before}umetro`);

    const utf8 = new TextEncoder();
    const rollupTx: MsgSubmitRollupTx = { signer: address, secondaryChainId: "example-rollup", data: utf8.encode(`hello at ${new Date().toISOString()}`) };
    const bundle: MsgSubmitBundle = {
      signer: address,
      txs: ["example-a", "example-b", "example-c"].map((id) => ({ secondaryChainId: id, data: utf8.encode(`bundle member for ${id}`) })),
    };
    const results = [
      await client.signAndBroadcast(address, [{ typeUrl: MSG_SUBMIT_ROLLUP_TX, value: rollupTx }], "auto"),
      await client.signAndBroadcast(address, [{ typeUrl: MSG_SUBMIT_BUNDLE, value: bundle }], "auto"),
    ];

    let fees = 0n;
    for (const r of results) {
      if (r.code !== 0) throw new Error(`tx ${r.transactionHash} failed with code ${r.code}: ${r.rawLog}`);
      const found = await client.getTx(r.transactionHash);
      if (!found) throw new Error(`tx ${r.transactionHash} not found by getTx`);
      const fee = decodeTxRaw(found.tx).authInfo.fee?.amount.find((c) => c.denom === "umetro");
      fees += BigInt(fee?.amount ?? "0");
      console.log(`included ${r.transactionHash} at height ${r.height}: gas ${r.gasUsed}/${r.gasWanted}, fee ${fee?.amount}umetro`);
    }
    const mine = await client.searchTx(`message.sender='${address}'`);
    console.log(`searchTx finds ${mine.length} transactions from ${address}`);

    const after = await balance();
    console.log(`balance ${before} -> ${after}umetro; fees paid ${fees}umetro`);
    if (before - after !== fees) throw new Error(`balance fell by ${before - after}umetro, not by the ${fees}umetro of fees`);
  } finally {
    client.disconnect();
  }
}

const [rpcUrl, mnemonic] = process.argv.slice(2);
if (!rpcUrl || !mnemonic) {
  console.error('usage: node scripts/examples/cosmjs-client.ts <rpc-url> "<mnemonic>"');
  process.exitCode = 2;
} else {
  main(rpcUrl, mnemonic).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
