// `metro token ...`: the token rollup for users. A transfer is a metro.rollup.token.v1.Tx signed with
// the same key as the sender's Metro account (secp256k1 over sha256(body), low-S), wrapped in a
// MsgSubmitRollupTx that the sequencer orders and charges gas for; the rollup node executes it.
import { Command, InvalidArgumentError } from "commander";
import { toBech32 } from "@cosmjs/encoding";
import { signTokenTransfer } from "../lazy-rollup-node/token/client.ts";
import { MAX_UINT64 } from "../lazy-rollup-node/uint64.ts";
import { submitRollupTxMsg } from "../sequencer/client/registry.ts";
import { addressBytesOf, addressOf, wallet } from "./context.ts";
import { connectRollup, oneRollup, tokenAccount } from "./rollup-api.ts";
import { rollupTxHash, submit, submitOptions, type SubmitOptions } from "./submit.ts";

function uint64(what: string, min: bigint) {
  return (value: string): bigint => {
    if (!/^\d+$/.test(value) || BigInt(value) < min || BigInt(value) > MAX_UINT64) throw new InvalidArgumentError(`${what} must be a whole number from ${min} to 2^64 - 1, got ${JSON.stringify(value)}`);
    return BigInt(value);
  };
}

interface TransferOptions extends SubmitOptions {
  to: string;
  amount: bigint;
  nonce?: bigint;
}

export function tokenCommand(): Command {
  const token = new Command("token").description("the token rollup: transfers signed with your Metro key");

  submitOptions(
    token
      .command("transfer")
      .description("sign a token transfer and submit it through the sequencer; prints the sequencer tx, the rollup tx, its C0 receipt and how far it got (default: soft, the rollup's result)")
      .requiredOption("--to <address|name>", "recipient: a rollup address, a Metro address (the same key) or a devnet account name")
      .requiredOption("--amount <n>", "amount of the rollup's token", uint64("--amount", 1n))
      .option("--rollup <id>", "the rollup's secondary chain id in the devnet file (default: the devnet's only rollup)")
      .option("--nonce <n>", "the sender's nonce (default: the next one, read from the rollup node)", uint64("--nonce", 0n)),
    "soft",
  ).action(async (o: TransferOptions) => {
    const signer = await wallet(o);
    const rollup = await connectRollup(oneRollup(o));
    const from = toBech32(rollup.addressPrefix, addressBytesOf(signer.address)!);
    const to = addressOf(o.to, o, rollup.addressPrefix);
    const account = await tokenAccount(rollup, from);
    const nonce = o.nonce ?? BigInt(account.nonce);
    if (BigInt(account.balance) < o.amount) {
      console.error(`warning: ${from} holds ${account.balance} on ${rollup.secondaryChainId} (soft height ${account.height}), less than ${o.amount}: the transfer will revert unless funds arrive first`);
    }
    const data = signTokenTransfer(signer.privateKey, { chainId: rollup.secondaryChainId, nonce, to, amount: o.amount });
    const rollupTx = { secondaryChainId: rollup.secondaryChainId, data };
    await submit(
      o,
      [submitRollupTxMsg(signer.address, rollupTx)],
      [rollupTx],
      {
        record: { rollup: rollup.secondaryChainId, rollup_from: from, rollup_to: to, amount: String(o.amount), nonce: String(nonce) },
        text: `: ${o.amount} from ${from} to ${to} on ${rollup.secondaryChainId} (nonce ${nonce})`,
      },
      signer,
    );
    // The follow stops at --until; without it, say where the rest can be watched.
    if (!o.follow && o.until !== "header") console.error(`(follow it further: metro follow ${rollupTxHash(data)} --rollup ${rollup.secondaryChainId})`);
  });

  return token;
}
