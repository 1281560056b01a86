// Commands for users of a Metro network: keys, sending umetro, submitting rollup transactions and
// atomic bundles, balances, and following a transaction.
import { Command, InvalidArgumentError } from "commander";
import { DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import { ADDRESS_PREFIX, FEE_DENOM } from "../sequencer/params.ts";
import { submitBundleMsg, submitRollupTxMsg } from "../sequencer/client/registry.ts";
import { addressOf, queryClient, readDevnet, signingClient, wallet, type NetworkOptions } from "./context.ts";

const networkOptions = (cmd: Command) =>
  cmd
    .option("--node <url>", "sequencer RPC URL (default: the devnet's)")
    .option("--devnet <file>", "devnet file to read endpoints and accounts from", ".metro/devnet/devnet.json")
    .option("--from <name|mnemonic>", "signer: a devnet account name or a mnemonic (or set METRO_MNEMONIC)")
    .option("--gas-price <price>", "gas price, e.g. 0.025umetro (default: the network's minimum)");

/** Rollup data from the command line: text, or hex with a 0x prefix. */
function rollupData(text: string): Uint8Array {
  if (/^0x([0-9a-fA-F]{2})+$/.test(text)) return new Uint8Array(Buffer.from(text.slice(2), "hex"));
  return new TextEncoder().encode(text);
}

function amount(text: string): bigint {
  const match = /^(\d+)(umetro)?$/.exec(text);
  if (!match) throw new InvalidArgumentError(`amount must be a whole number of ${FEE_DENOM}, e.g. 1000 or 1000umetro`);
  return BigInt(match[1]);
}

function bundleEntry(value: string, previous: { secondaryChainId: string; data: Uint8Array }[] = []) {
  const at = value.indexOf("=");
  if (at <= 0) throw new InvalidArgumentError(`bundle entries look like <secondary-chain-id>=<data>, got ${JSON.stringify(value)}`);
  return [...previous, { secondaryChainId: value.slice(0, at), data: rollupData(value.slice(at + 1)) }];
}

function printResult(r: { transactionHash: string; height: number; gasUsed: bigint; gasWanted: bigint; code: number; rawLog?: string }): void {
  if (r.code !== 0) throw new Error(`transaction ${r.transactionHash} failed (code ${r.code}): ${r.rawLog}`);
  console.log(JSON.stringify({ hash: r.transactionHash, height: r.height, gasUsed: String(r.gasUsed), gasWanted: String(r.gasWanted) }));
}

export function userCommands(): Command[] {
  const keys = new Command("keys").description("keys: make one, or list the devnet's");
  keys
    .command("new")
    .description("generate a 24-word mnemonic and print its Metro address (the same key works on every rollup)")
    .action(async () => {
      const w = await DirectSecp256k1HdWallet.generate(24, { prefix: ADDRESS_PREFIX });
      const [{ address }] = await w.getAccounts();
      console.log(JSON.stringify({ address, mnemonic: w.mnemonic }));
    });
  keys
    .command("list")
    .description("the devnet's development accounts")
    .option("--devnet <file>", "devnet file", ".metro/devnet/devnet.json")
    .action((o: NetworkOptions) => {
      const devnet = readDevnet(o.devnet);
      if (!devnet) throw new Error(`no devnet file at ${o.devnet}; start one with \`npm start\``);
      for (const a of devnet.accounts) console.log(`${a.name.padEnd(10)} ${a.address}`);
    });

  const send = networkOptions(new Command("send"))
    .description("send umetro on the sequencer chain")
    .argument("<to>", "recipient address or devnet account name")
    .argument("<amount>", "amount in umetro", amount)
    .action(async (to: string, value: bigint, o: NetworkOptions) => {
      const { client, address } = await signingClient(o);
      try {
        printResult(await client.sendTokens(address, addressOf(to, o), [{ denom: FEE_DENOM, amount: String(value) }], "auto"));
      } finally {
        client.disconnect();
      }
    });

  const rollupTx = networkOptions(new Command("rollup-tx"))
    .description("submit one rollup transaction (the sequencer orders it; the rollup executes it)")
    .argument("<secondary-chain-id>", "the rollup's id")
    .argument("<data>", "the transaction: text, or hex as 0x...")
    .action(async (chainId: string, data: string, o: NetworkOptions) => {
      const { client, address } = await signingClient(o);
      try {
        printResult(await client.signAndBroadcast(address, [submitRollupTxMsg(address, { secondaryChainId: chainId, data: rollupData(data) })], "auto"));
      } finally {
        client.disconnect();
      }
    });

  const bundle = networkOptions(new Command("bundle"))
    .description("submit an atomic bundle: all entries land in one block, in order, or none does")
    .requiredOption("--tx <chain-id=data>", "a bundle entry (repeat for each rollup transaction)", bundleEntry, [])
    .action(async (o: NetworkOptions & { tx: { secondaryChainId: string; data: Uint8Array }[] }) => {
      const { client, address } = await signingClient(o);
      try {
        printResult(await client.signAndBroadcast(address, [submitBundleMsg(address, o.tx)], "auto"));
      } finally {
        client.disconnect();
      }
    });

  const balance = networkOptions(new Command("balance"))
    .description("umetro balance on the sequencer chain")
    .argument("[address]", "address or devnet account name (default: --from)")
    .action(async (who: string | undefined, o: NetworkOptions) => {
      const address = who ? addressOf(who, o) : (await wallet(o)).address;
      const client = await queryClient(o);
      try {
        const coin = await client.getBalance(address, FEE_DENOM);
        const account = await client.getAccount(address);
        console.log(JSON.stringify({ address, balance: coin.amount, denom: coin.denom, sequence: account?.sequence ?? 0 }));
      } finally {
        client.disconnect();
      }
    });

  return [keys, send, rollupTx, bundle, balance];
}
