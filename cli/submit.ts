// Signing and broadcasting a user's sequencer transaction with cosmjs, then following it: the submit
// commands (send, rollup-tx, bundle, token transfer) all end here.
import type { Command } from "commander";
import type { EncodeObject } from "@cosmjs/proto-signing";
import { BroadcastTxError } from "@cosmjs/stargate";
import { hash } from "node:crypto";
import type { RollupTxInput } from "../sequencer/client/registry.ts";
import { signingClient, type NetworkOptions, type Signer } from "./context.ts";
import { followOptions, followSequencerTx, type FollowOptions, type Level } from "./follow.ts";
import { emit, label } from "./output.ts";

export interface SubmitOptions extends FollowOptions, NetworkOptions {
  follow?: boolean;
}

/** --node, --devnet, --from, --gas-price, and following: --follow, --until, --timeout, --rollup-node, --json. */
export function submitOptions(cmd: Command, defaultUntil: Level): Command {
  return followOptions(
    cmd
      .option("--node <url>", "sequencer RPC URL (default: the devnet's)")
      .option("--devnet <file>", "devnet file to read endpoints and accounts from", ".metro/devnet/devnet.json")
      .option("--from <name|mnemonic>", "signer: a devnet account name or a mnemonic (or set METRO_MNEMONIC)")
      .option("--gas-price <price>", "gas price, e.g. 0.025umetro (default: the network's minimum)")
      .option("--follow", "follow it through every level: soft, firm and header too (same as --until header)"),
    defaultUntil,
  );
}

export const rollupTxHash = (data: Uint8Array): string => hash("sha256", data, "hex").toUpperCase();

/**
 * Signs `messages` as the --from account (or `signer`), broadcasts them, prints what was sent (with
 * `extra`) and follows the transaction up to --until.
 */
export async function submit(o: SubmitOptions, messages: EncodeObject[], rollupTxs: readonly RollupTxInput[], extra: { record?: Record<string, unknown>; text?: string } = {}, signer?: Signer): Promise<void> {
  const { client, address, url } = await signingClient(o, signer);
  try {
    let txHash: string;
    try {
      txHash = await client.signAndBroadcastSync(address, messages, "auto");
    } catch (error) {
      if (error instanceof BroadcastTxError) throw new Error(`the sequencer refused the transaction (code ${error.code}): ${error.log ?? error.message}`);
      throw error;
    }
    const rollups = rollupTxs.map((r) => ({ rollup: r.secondaryChainId, hash: rollupTxHash(r.data) }));
    emit(
      o,
      { event: "submitted", tx: txHash, from: address, ...(rollups.length > 0 ? { rollup_txs: rollups } : {}), ...extra.record },
      [`${label("submitted")}sequencer tx ${txHash}${extra.text ?? ""}`, ...rollups.map((r) => `${label("")}rollup tx ${r.hash} (${r.rollup})`)].join("\n"),
    );
    await followSequencerTx({ ...o, until: o.follow ? "header" : o.until }, { hash: txHash, client, rpcs: [url] });
  } finally {
    client.disconnect();
  }
}
