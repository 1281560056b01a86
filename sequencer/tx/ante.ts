// The stateful checks a transaction must pass to be admitted to the mempool and again to be
// included, in the Cosmos SDK ante handler's order and wording: gas, fee, account, sequence,
// signature, balance.
import type { ChainParams } from "../params.ts";
import { FEE_DENOM, gasUsed, requiredFee } from "../params.ts";
import type { DecodedTx } from "./decode.ts";
import { sdkError } from "./errors.ts";
import { MSG_SEND } from "./messages.ts";
import { verifyTxSignature } from "./signature.ts";

export interface Account {
  address: string;
  accountNumber: bigint;
  /** The sequence the account's next transaction must carry. */
  sequence: bigint;
  balance: bigint;
  pubKey?: Uint8Array;
}

export interface AnteContext {
  chainId: string;
  params: ChainParams;
}

export interface AnteResult {
  gasUsed: bigint;
  fee: bigint;
  /** umetro the transaction moves out of the account besides the fee. */
  spend: bigint;
}

// The required fee for the last gas limit and price seen: most transactions ask for one of a few
// gas limits, and BigInt division is not free.
let feeMinGasPrice = "";
let feeGasLimit = -1n;
let feeRequired = 0n;

function requiredFeeFor(params: ChainParams, gasLimit: bigint): bigint {
  if (gasLimit !== feeGasLimit || params.minGasPrice !== feeMinGasPrice) {
    feeRequired = requiredFee(params, gasLimit);
    feeMinGasPrice = params.minGasPrice;
    feeGasLimit = gasLimit;
  }
  return feeRequired;
}

// Gas used by recent transaction sizes (mempool entries keep it, so one BigInt serves many).
const GAS_CACHE_SIZE = 64;
let gasBase = -1;
let gasPerByte = -1;
const gasSizes = new Int32Array(GAS_CACHE_SIZE).fill(-1);
const gasValues: bigint[] = new Array<bigint>(GAS_CACHE_SIZE).fill(0n);

function gasUsedFor(params: ChainParams, txBytes: number): bigint {
  if (params.gasBase !== gasBase || params.gasPerByte !== gasPerByte) {
    gasSizes.fill(-1);
    gasBase = params.gasBase;
    gasPerByte = params.gasPerByte;
  }
  const slot = txBytes % GAS_CACHE_SIZE;
  if (gasSizes[slot] !== txBytes) {
    gasValues[slot] = gasUsed(params, txBytes);
    gasSizes[slot] = txBytes;
  }
  return gasValues[slot];
}

/** Checks that need no account: gas and fee against the gas limit. */
export function checkGasAndFee(tx: DecodedTx, params: ChainParams): bigint {
  const used = gasUsedFor(params, tx.bytes.length);
  if (tx.gasLimit < used) throw sdkError("outOfGas", `out of gas in location: txSize; gasWanted: ${tx.gasLimit}, gasUsed: ${used}`);
  const required = requiredFeeFor(params, tx.gasLimit);
  if (tx.fee < required) throw sdkError("insufficientFee", `insufficient fees; got: ${tx.fee}${FEE_DENOM} required: ${required}${FEE_DENOM}`);
  return used;
}

export function spendOf(tx: DecodedTx): bigint {
  let spend = 0n;
  for (const m of tx.messages) if (m.type === MSG_SEND) spend += m.amount;
  return spend;
}

/**
 * Every check against the signer's account. `verifySignature` is false only when the caller has
 * already verified this exact transaction against the same account number and chain id.
 */
export function checkTx(tx: DecodedTx, account: Account | undefined, ctx: AnteContext, verifySignature = true): AnteResult {
  const used = checkGasAndFee(tx, ctx.params);
  if (!account) throw sdkError("unknownAddress", `account ${tx.signer} not found`);
  if (tx.sequence !== account.sequence) {
    throw sdkError("wrongSequence", `account sequence mismatch, expected ${account.sequence}, got ${tx.sequence}`);
  }
  if (verifySignature && !verifyTxSignature(tx, ctx.chainId, account.accountNumber)) {
    throw sdkError("unauthorized", `signature verification failed; please verify account number (${account.accountNumber}) and chain-id (${ctx.chainId})`);
  }
  const spend = spendOf(tx);
  if (account.balance < tx.fee + spend) {
    throw sdkError("insufficientFunds", `spendable balance ${account.balance}${FEE_DENOM} is smaller than ${tx.fee + spend}${FEE_DENOM}`);
  }
  return { gasUsed: used, fee: tx.fee, spend };
}
