// Commands for users of a Metro network: keys, sending umetro, submitting rollup transactions and
// atomic bundles, and balances on the sequencer and every rollup. (Token transfers: token.ts;
// following a transaction: follow.ts.)
import { Command, InvalidArgumentError } from "commander";
import { toBech32 } from "@cosmjs/encoding";
import { DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import { ADDRESS_PREFIX, FEE_DENOM } from "../sequencer/params.ts";
import { submitBundleMsg, submitRollupTxMsg, type RollupTxInput } from "../sequencer/client/registry.ts";
import { addressBytesOf, addressOf, queryClient, readDevnet, wallet, type NetworkOptions } from "./context.ts";
import { emit, label, outputOption, type OutputOptions } from "./output.ts";
import { connectRollup, knownRollups, tokenAccount, type RollupOptions } from "./rollup-api.ts";
import { submit, submitOptions, type SubmitOptions } from "./submit.ts";

/** Rollup data from the command line: text, or hex with a 0x prefix. */
function rollupData(text: string): Uint8Array {
  if (/^0x([0-9a-fA-F]{2})+$/.test(text)) return new Uint8Array(Buffer.from(text.slice(2), "hex"));
  return new TextEncoder().encode(text);
}

function amount(text: string): bigint {
  const match = /^(\d+)(umetro)?$/.exec(text);
  if (!match || BigInt(match[1]) === 0n) throw new InvalidArgumentError(`amount must be a positive whole number of ${FEE_DENOM}, e.g. 1000 or 1000umetro`);
  return BigInt(match[1]);
}

function bundleEntry(value: string, previous: RollupTxInput[] = []): RollupTxInput[] {
  const at = value.indexOf("=");
  if (at <= 0) throw new InvalidArgumentError(`bundle entries look like <secondary-chain-id>=<data>, got ${JSON.stringify(value)}`);
  return [...previous, { secondaryChainId: value.slice(0, at), data: rollupData(value.slice(at + 1)) }];
}

const devnetOption = (cmd: Command) => cmd.option("--devnet <file>", "devnet file to read endpoints and accounts from", ".metro/devnet/devnet.json");

/** The addresses of one key: Metro's, and each devnet rollup's (the same 20 bytes). */
function addressesText(address: string, o: NetworkOptions): { rollups: { rollup: string; address: string }[]; text: string } {
  const bytes = addressBytesOf(address)!;
  const rollups = (readDevnet(o.devnet)?.rollups ?? []).map((r) => ({ rollup: r.secondaryChainId, address: toBech32(r.addressPrefix, bytes) }));
  return { rollups, text: rollups.map((r) => `  ${r.rollup}: ${r.address}`).join("\n") };
}

function keysCommand(): Command {
  const keys = new Command("keys").description("keys: make one, show one (devnet account or mnemonic), or list the devnet's");
  outputOption(
    keys
      .command("new")
      .description("generate a 24-word mnemonic and print its Metro address (the same key is an account on every rollup)"),
  ).action(async (o: OutputOptions) => {
    const w = await DirectSecp256k1HdWallet.generate(24, { prefix: ADDRESS_PREFIX });
    const [{ address }] = await w.getAccounts();
    emit(o, { address, mnemonic: w.mnemonic }, `address   ${address}\nmnemonic  ${w.mnemonic}\nKeep the mnemonic secret; use it with --from "<words>" or METRO_MNEMONIC.`);
  });
  outputOption(devnetOption(keys.command("list").description("the devnet's development accounts, with their address on each rollup"))).action((o: NetworkOptions & OutputOptions) => {
    const devnet = readDevnet(o.devnet);
    if (!devnet) throw new Error(`no devnet file at ${o.devnet}; start one with \`npm start\` or pass --devnet <file>`);
    for (const a of devnet.accounts) {
      const { rollups, text } = addressesText(a.address, o);
      emit(o, { name: a.name, address: a.address, rollups }, `${a.name.padEnd(10)} ${a.address}${text ? `\n${text}` : ""}`);
    }
  });
  outputOption(
    devnetOption(
      keys
        .command("show")
        .description("the addresses and public key of a devnet account or a mnemonic (or METRO_MNEMONIC)")
        .argument("[name|mnemonic]", "a devnet account name or a quoted mnemonic (default: --from)")
        .option("--from <name|mnemonic>", "same as the argument"),
    ),
  ).action(async (who: string | undefined, o: NetworkOptions & OutputOptions) => {
    const signer = await wallet({ ...o, from: who ?? o.from });
    const { rollups, text } = addressesText(signer.address, o);
    const pubkey = Buffer.from(signer.publicKey).toString("hex");
    emit(o, { name: signer.name, address: signer.address, pubkey, rollups }, `${signer.name.padEnd(10)} ${signer.address}\n  pubkey: ${pubkey}${text ? `\n${text}` : ""}`);
  });
  return keys;
}

interface BalanceOptions extends RollupOptions, OutputOptions {}

/**
 * For each account, the sequencer balance, then the token balance and nonce on each rollup; a rollup
 * that cannot be read is reported and makes the command fail at the end.
 */
async function printBalances(who: string[], o: BalanceOptions): Promise<void> {
  const addresses = who.length > 0 ? who.map((w) => addressOf(w, o)) : [(await wallet(o)).address];
  const client = await queryClient(o);
  const failures: string[] = [];
  try {
    for (const address of addresses) {
      const coin = await client.getBalance(address, FEE_DENOM);
      const account = await client.getAccount(address);
      const sequence = account?.sequence ?? 0;
      emit(o, { layer: "sequencer", address, balance: coin.amount, denom: coin.denom, sequence }, `${label("sequencer")} ${address}  ${coin.amount}${coin.denom}  (sequence ${sequence})`);
      await printRollupBalances(address, o, failures);
    }
  } finally {
    client.disconnect();
  }
  if (failures.length > 0) throw new Error(`could not read ${failures.length === 1 ? "a rollup" : `${failures.length} rollups`}:\n  ${failures.join("\n  ")}`);
}

async function printRollupBalances(address: string, o: BalanceOptions, failures: string[]): Promise<void> {
  for (const known of knownRollups(o)) {
    try {
      const rollup = await connectRollup(known);
      const a = await tokenAccount(rollup, toBech32(rollup.addressPrefix, addressBytesOf(address)!));
      const at = `height ${a.height}, ${a.firm ? "firm" : "soft"}`;
      emit(o, { layer: "rollup", rollup: rollup.secondaryChainId, address: a.address, balance: a.balance, nonce: a.nonce, height: a.height, firm: a.firm }, `${label(rollup.secondaryChainId)} ${a.address}  ${a.balance}  (nonce ${a.nonce}; ${at})`);
    } catch (error) {
      const id = known.secondaryChainId || known.nodes.join(", ");
      failures.push(`${id}: ${(error as Error).message}`);
      emit(o, { layer: "rollup", rollup: id, error: (error as Error).message }, `${label(id)} unavailable: ${(error as Error).message}`);
    }
  }
}

export function userCommands(): Command[] {
  const send = submitOptions(
    new Command("send")
      .description("send umetro on the sequencer chain; prints the tx, its C0 receipt and its block (--follow: also when the block is on Celestia)")
      .argument("<to>", "recipient address or devnet account name")
      .argument("<amount>", "amount in umetro", amount),
    "committed",
  ).action(async (to: string, value: bigint, o: SubmitOptions) => {
    const signer = await wallet(o);
    const recipient = addressOf(to, o);
    const msg = { typeUrl: "/cosmos.bank.v1beta1.MsgSend", value: { fromAddress: signer.address, toAddress: recipient, amount: [{ denom: FEE_DENOM, amount: String(value) }] } };
    await submit(o, [msg], [], { record: { to: recipient, amount: `${value}${FEE_DENOM}` }, text: `: ${value}${FEE_DENOM} to ${recipient}` }, signer);
  });

  const rollupTx = submitOptions(
    new Command("rollup-tx")
      .description("submit one rollup transaction (the sequencer orders it; the rollup executes it)")
      .argument("<secondary-chain-id>", "the rollup's id")
      .argument("<data>", "the transaction: text, or hex as 0x..."),
    "committed",
  ).action(async (chainId: string, data: string, o: SubmitOptions) => {
    const signer = await wallet(o);
    const tx = { secondaryChainId: chainId, data: rollupData(data) };
    await submit(o, [submitRollupTxMsg(signer.address, tx)], [tx], {}, signer);
  });

  const bundle = submitOptions(
    new Command("bundle")
      .description("submit an atomic bundle: all entries land in one block, in order, or none does")
      .requiredOption("--tx <chain-id=data>", "a bundle entry (repeat for each rollup transaction; data is text or 0x-hex)", bundleEntry, []),
    "committed",
  ).action(async (o: SubmitOptions & { tx: RollupTxInput[] }) => {
    const signer = await wallet(o);
    await submit(o, [submitBundleMsg(signer.address, o.tx)], o.tx, {}, signer);
  });

  const balance = outputOption(
    devnetOption(
      new Command("balance")
        .description("balances on both layers: umetro on the sequencer, and the token balance and nonce on each rollup of the devnet (or --rollup-node)")
        .argument("[accounts...]", "addresses (metro1… or a rollup's) or devnet account names (default: --from)")
        .option("--node <url>", "sequencer RPC URL (default: the devnet's)")
        .option("--from <name|mnemonic>", "the account, when no argument is given")
        .option("--rollup <id>", "only this rollup of the devnet")
        .option("--rollup-node <url>", "a rollup node's API URL (instead of the devnet's rollups)"),
    ),
  ).action((who: string[], o: BalanceOptions) => printBalances(who, o));

  return [keysCommand(), send, rollupTx, bundle, balance];
}
