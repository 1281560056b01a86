// A block's effect on accounts, as a pure function: re-check every transaction against the state as
// the block has changed it so far, charge the fee, bump the sequence, move MsgSend amounts. A block
// with a transaction that fails is invalid as a whole (a proposer must never include one).
import { hash } from "node:crypto";
import type { Account, AnteContext } from "../tx/ante.ts";
import { checkTx } from "../tx/ante.ts";
import type { DecodedTx } from "../tx/decode.ts";
import { TxError } from "../tx/errors.ts";
import { MSG_SEND, rollupTxsOf } from "../tx/messages.ts";
import { FEE_DENOM } from "../params.ts";

export interface TxEvent {
  type: string;
  attributes: { key: string; value: string }[];
}

export interface TxOutcome {
  gasUsed: bigint;
  gasWanted: bigint;
  fee: bigint;
  events: TxEvent[];
  /** sha256 of each rollup transaction's data, in message order. */
  rollupTxHashes: Uint8Array[];
}

export interface ExecutionContext extends AnteContext {
  nextAccountNumber: bigint;
  /** True when this transaction's signature was already verified for this account number. */
  alreadyVerified?: (tx: DecodedTx, accountNumber: bigint) => boolean;
}

export interface ExecutionResult {
  outcomes: TxOutcome[];
  /** Final state of every account the block touched. */
  changed: Map<string, Account>;
  nextAccountNumber: bigint;
}

export class InvalidBlockError extends Error {
  readonly txIndex: number;
  override readonly cause: TxError;

  constructor(txIndex: number, cause: TxError) {
    super(`transaction ${txIndex} is invalid: ${cause.message}`);
    this.name = "InvalidBlockError";
    this.txIndex = txIndex;
    this.cause = cause;
  }
}

const attribute = (key: string, value: string) => ({ key, value });

// Built attribute by attribute: this runs for every transaction of every block.
function txEvents(tx: DecodedTx, fee: bigint, rollupTxHashes: Uint8Array[]): TxEvent[] {
  const events: TxEvent[] = [
    { type: "tx", attributes: [attribute("fee", `${fee}${FEE_DENOM}`), attribute("fee_payer", tx.signer)] },
    { type: "tx", attributes: [attribute("acc_seq", `${tx.signer}/${tx.sequence}`)] },
  ];
  let rollupIndex = 0;
  for (const msg of tx.messages) {
    const module = msg.type === MSG_SEND ? "bank" : "sequencer";
    events.push({ type: "message", attributes: [attribute("action", msg.type), attribute("sender", msg.signer), attribute("module", module)] });
    if (msg.type === MSG_SEND) {
      events.push({ type: "transfer", attributes: [attribute("recipient", msg.to), attribute("sender", msg.signer), attribute("amount", `${msg.amount}${FEE_DENOM}`)] });
    }
    for (const rollupTx of rollupTxsOf(msg)) {
      const hex = Buffer.from(rollupTxHashes[rollupIndex].buffer, rollupTxHashes[rollupIndex].byteOffset, 32).toString("hex").toUpperCase();
      rollupIndex++;
      events.push({ type: "rollup_tx", attributes: [attribute("secondary_chain_id", rollupTx.secondaryChainId), attribute("hash", hex)] });
    }
  }
  return events;
}

/**
 * Applies `txs` in order on top of `read` (the committed state). Throws InvalidBlockError naming the
 * first transaction that does not pass.
 */
export function executeTxs(txs: readonly DecodedTx[], read: (address: string) => Account | undefined, ctx: ExecutionContext): ExecutionResult {
  const changed = new Map<string, Account>();
  const current = (address: string) => changed.get(address) ?? read(address);
  let nextAccountNumber = ctx.nextAccountNumber;
  const outcomes = txs.map((tx, index) => {
    const account = current(tx.signer);
    let ante;
    try {
      const verify = !(account && ctx.alreadyVerified?.(tx, account.accountNumber));
      ante = checkTx(tx, account, ctx, verify);
    } catch (error) {
      if (error instanceof TxError) throw new InvalidBlockError(index, error);
      throw error;
    }
    changed.set(tx.signer, { ...account!, sequence: account!.sequence + 1n, balance: account!.balance - ante.fee - ante.spend, pubKey: tx.pubKey });
    for (const msg of tx.messages) {
      if (msg.type !== MSG_SEND) continue;
      const recipient = current(msg.to) ?? { address: msg.to, accountNumber: nextAccountNumber++, sequence: 0n, balance: 0n };
      changed.set(msg.to, { ...recipient, balance: recipient.balance + msg.amount });
    }
    const rollupTxHashes = tx.messages.flatMap(rollupTxsOf).map((r) => new Uint8Array(hash("sha256", r.data, "buffer")));
    return { gasUsed: ante.gasUsed, gasWanted: tx.gasLimit, fee: ante.fee, events: txEvents(tx, ante.fee, rollupTxHashes), rollupTxHashes };
  });
  return { outcomes, changed, nextAccountNumber };
}
