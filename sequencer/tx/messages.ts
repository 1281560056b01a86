// The three messages the sequencer accepts, decoded from their Any and checked on their own (no
// state): MsgSend moves umetro; MsgSubmitRollupTx and MsgSubmitBundle carry rollup data it only orders.
import { MsgSend } from "cosmjs-types/cosmos/bank/v1beta1/tx";
import type { Any } from "cosmjs-types/google/protobuf/any";
import { metro } from "../../proto/index.ts";
import type { ChainParams } from "../params.ts";
import { FEE_DENOM } from "../params.ts";
import { sdkError, sequencerError } from "./errors.ts";
import { parseAddress } from "./address.ts";

export const MSG_SEND = "/cosmos.bank.v1beta1.MsgSend";
export const MSG_SUBMIT_ROLLUP_TX = "/metro.sequencer.v1.MsgSubmitRollupTx";
export const MSG_SUBMIT_BUNDLE = "/metro.sequencer.v1.MsgSubmitBundle";

const { MsgSubmitRollupTx, MsgSubmitBundle } = metro.sequencer.v1;

export interface RollupTx {
  secondaryChainId: string;
  data: Uint8Array;
}

export type SequencerMsg =
  | { type: typeof MSG_SEND; signer: string; to: string; amount: bigint }
  | { type: typeof MSG_SUBMIT_ROLLUP_TX; signer: string; tx: RollupTx }
  | { type: typeof MSG_SUBMIT_BUNDLE; signer: string; txs: RollupTx[] };

const SECONDARY_CHAIN_ID = /^[a-z0-9-]{1,64}$/;

export function validateSecondaryChainId(id: string): void {
  if (!SECONDARY_CHAIN_ID.test(id)) {
    throw sequencerError("invalidSecondaryChainId", `${JSON.stringify(id)} must be 1 to 64 characters of [a-z0-9-]`);
  }
}

function checkRollupTx(tx: RollupTx, params: ChainParams): RollupTx {
  validateSecondaryChainId(tx.secondaryChainId);
  if (tx.data.length === 0) throw sequencerError("emptyRollupData", `rollup ${tx.secondaryChainId}`);
  if (tx.data.length > params.maxRollupDataBytes) {
    throw sequencerError("rollupDataTooLarge", `${tx.data.length} bytes for rollup ${tx.secondaryChainId} exceeds the limit of ${params.maxRollupDataBytes}`);
  }
  return tx;
}

function decodeOrThrow<T>(typeUrl: string, decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    throw sdkError("txDecode", `decoding ${typeUrl}: ${(error as Error).message}`);
  }
}

export function checkAddress(address: string, role: string): string {
  try {
    parseAddress(address);
  } catch (error) {
    throw sdkError("invalidAddress", `${role}: ${(error as Error).message}`);
  }
  return address;
}

/**
 * Decodes and checks one message. The signer's address is checked by the caller, which compares it
 * with the address of the signing key (cheaper than a bech32 decode, and stricter).
 */
export function decodeMessage(any: Any, params: ChainParams): SequencerMsg {
  const msg = decodeUnchecked(any, params);
  if (msg.type === MSG_SEND) checkAddress(msg.to, "recipient");
  return msg;
}

function decodeUnchecked(any: Any, params: ChainParams): SequencerMsg {
  switch (any.typeUrl) {
    case MSG_SEND: {
      const msg = decodeOrThrow(any.typeUrl, () => MsgSend.decode(any.value));
      if (msg.amount.length !== 1 || msg.amount[0].denom !== FEE_DENOM || !/^\d+$/.test(msg.amount[0].amount)) {
        throw sdkError("invalidCoins", `MsgSend must move exactly one ${FEE_DENOM} amount`);
      }
      const amount = BigInt(msg.amount[0].amount);
      if (amount === 0n) throw sdkError("invalidCoins", "MsgSend amount must be positive");
      return { type: MSG_SEND, signer: msg.fromAddress, to: msg.toAddress, amount };
    }
    case MSG_SUBMIT_ROLLUP_TX: {
      const msg = decodeOrThrow(any.typeUrl, () => MsgSubmitRollupTx.decode(any.value));
      return { type: MSG_SUBMIT_ROLLUP_TX, signer: msg.signer, tx: checkRollupTx({ secondaryChainId: msg.secondaryChainId, data: msg.data }, params) };
    }
    case MSG_SUBMIT_BUNDLE: {
      const msg = decodeOrThrow(any.typeUrl, () => MsgSubmitBundle.decode(any.value));
      if (msg.txs.length === 0) throw sequencerError("emptyBundle", "a bundle needs at least one transaction");
      if (msg.txs.length > params.maxBundleTxs) {
        throw sequencerError("bundleTooLarge", `${msg.txs.length} transactions exceed the limit of ${params.maxBundleTxs}`);
      }
      const txs = msg.txs.map((tx) => checkRollupTx({ secondaryChainId: tx.secondaryChainId ?? "", data: tx.data ?? new Uint8Array() }, params));
      return { type: MSG_SUBMIT_BUNDLE, signer: msg.signer, txs };
    }
    default:
      throw sdkError("txDecode", `unable to resolve type URL ${any.typeUrl}`);
  }
}

/** The rollup transactions a message carries, in order. */
export function rollupTxsOf(msg: SequencerMsg): RollupTx[] {
  switch (msg.type) {
    case MSG_SUBMIT_ROLLUP_TX:
      return [msg.tx];
    case MSG_SUBMIT_BUNDLE:
      return msg.txs;
    default:
      return [];
  }
}
