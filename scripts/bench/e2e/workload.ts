// The end-to-end load: accounts funded in the devnet's genesis, and every transaction of a step signed
// before its clock starts, so that sending costs the generator only the HTTP request.
import { randomBytes } from "node:crypto";
import { Secp256k1Signer } from "../../../sequencer/client/signer.ts";
import { submitBundleMsg, submitRollupTxMsg } from "../../../sequencer/client/registry.ts";
import { DEFAULT_PARAMS, requiredFee } from "../../../sequencer/params.ts";
import { signTokenTransfer } from "../../../lazy-rollup-node/token/client.ts";
import { addressWithPrefix } from "../../../devnet/create.ts";
import type { DevnetRollup } from "../../../cli/context.ts";

/**
 * What a rollup transaction carries. `raw`: 250 random bytes, the size the target is stated
 * in; the token rollup executes them as a revert (malformed), so they pass every level but cost the
 * rollup nodes no signature check or state write. `transfer`: a signed token transfer (about 200
 * bytes; the format has no field to pad), executed for real.
 */
export type Payload = "raw" | "transfer";
export const RAW_DATA_BYTES = 250;
/** Gas is 10,000 + 10 per TxRaw byte; a two-member bundle of 250-byte transactions is about 16,600. */
const GAS_LIMIT = 40_000n;

export interface LoadAccount {
  signer: Secp256k1Signer;
  accountNumber: bigint;
  /** The next sequencer sequence. */
  sequence: bigint;
  /** The next token nonce on each rollup. */
  nonces: Map<string, bigint>;
}

/** Fresh keys; `firstAccountNumber` is where they come in the genesis account list. */
export function loadAccounts(count: number, firstAccountNumber: number): LoadAccount[] {
  return Array.from({ length: count }, (_, i) => ({ signer: Secp256k1Signer.random(), accountNumber: BigInt(firstAccountNumber + i), sequence: 0n, nonces: new Map() }));
}

export interface LoadTx {
  /** The broadcast_tx_sync JSON-RPC request. */
  body: Buffer;
  /** The TxRaw as NewBlock events list it (base64): how the commit watcher recognises it. */
  base64: string;
  /** The rollups it carries a transaction for: one, or both for a bundle. */
  rollups: string[];
}

export interface WorkloadOptions {
  chainId: string;
  rollups: readonly DevnetRollup[];
  payload: Payload;
  /** Share of the sequencer transactions that are atomic bundles with one transaction on every rollup. */
  bundleShare: number;
}

/**
 * `count` transactions; transaction n is signed by account n mod accounts.length, so with a
 * multiple of four accounts sent round-robin over four validators each account always uses the same
 * validator and its sequences arrive in order.
 */
export function presign(accounts: LoadAccount[], o: WorkloadOptions, count: number): LoadTx[] {
  let singles = 0;
  return Array.from({ length: count }, (_, n) => {
    const account = accounts[n % accounts.length];
    const recipient = accounts[(n + 1) % accounts.length];
    const rollupTx = (rollup: DevnetRollup) => ({ secondaryChainId: rollup.secondaryChainId, data: rollupData(account, recipient, rollup, o.payload) });
    // Bundles evenly spread: transaction n is one when the running count of bundles ticks over.
    const bundle = Math.floor((n + 1) * o.bundleShare) > Math.floor(n * o.bundleShare);
    const members = bundle ? o.rollups : [o.rollups[singles++ % o.rollups.length]];
    const address = account.signer.address;
    const message = bundle ? submitBundleMsg(address, members.map(rollupTx)) : submitRollupTxMsg(address, rollupTx(members[0]));
    const bytes = account.signer.sign([message], { chainId: o.chainId, accountNumber: account.accountNumber, sequence: account.sequence++, gasLimit: GAS_LIMIT, fee: requiredFee(DEFAULT_PARAMS, GAS_LIMIT) });
    const base64 = Buffer.from(bytes).toString("base64");
    return { body: Buffer.from(JSON.stringify({ jsonrpc: "2.0", id: n, method: "broadcast_tx_sync", params: { tx: base64 } })), base64, rollups: members.map((r) => r.secondaryChainId) };
  });
}

function rollupData(from: LoadAccount, to: LoadAccount, rollup: DevnetRollup, payload: Payload): Uint8Array {
  if (payload === "raw") return randomBytes(RAW_DATA_BYTES);
  const nonce = from.nonces.get(rollup.secondaryChainId) ?? 0n;
  from.nonces.set(rollup.secondaryChainId, nonce + 1n);
  return signTokenTransfer(from.signer, { chainId: rollup.secondaryChainId, nonce, to: addressWithPrefix(to.signer.address, rollup.addressPrefix), amount: 1n });
}
