// Submitting rollup transactions to a Metro sequencer with nothing but published packages
// (@cosmjs/proto-signing, @cosmjs/stargate, cosmjs-types): Metro's two messages are defined here by
// hand, as any third-party app would, and used with SigningStargateClient and fee "auto".
//
//   node scripts/examples/cosmjs-client.ts http://127.0.0.1:26657 "<24-word mnemonic of a funded account>"
//
// It submits one rollup transaction and a bundle across three rollups, reads both back with getTx and
// searchTx, and checks that the balance fell by exactly the fees paid.
import { DirectSecp256k1HdWallet, decodeTxRaw } from "@cosmjs/proto-signing";
import { GasPrice, SigningStargateClient } from "@cosmjs/stargate";
import { metroRegistry, MSG_SUBMIT_BUNDLE, MSG_SUBMIT_ROLLUP_TX, type MsgSubmitBundle, type MsgSubmitRollupTx } from "./metro-messages.ts";

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
