// Pay-for-blobs gas and fees as Celestia charges them, so a client that handles fee errors against
// the local server handles them against mainnet.
import { SHARE_SIZE } from "../share.ts";
import type { TxConfigJson } from "../tx-config.ts";

export const GAS_PER_BLOB_BYTE = 8;
const TX_SIZE_COST_PER_BYTE = 10;
const BYTES_PER_BLOB_INFO = 70;
const PFB_GAS_FIXED_COST = 75_000;

/** Celestia's DefaultEstimateGas: gas for a pay-for-blobs over blobs of these share counts. */
export function estimatePfbGas(shareCounts: readonly number[]): number {
  const blobGas = shareCounts.reduce((sum, n) => sum + n * SHARE_SIZE * GAS_PER_BLOB_BYTE, 0);
  return blobGas + TX_SIZE_COST_PER_BYTE * BYTES_PER_BLOB_INFO * shareCounts.length + PFB_GAS_FIXED_COST;
}


export interface FeeQuote {
  gas: number;
  gasPrice: number;
  fee: bigint;
}

/** Applies a TxConfig to the network's minimum gas price; throws with Celestia's texts. */
export function quoteFee(shareCounts: readonly number[], config: TxConfigJson, minGasPrice: number): FeeQuote {
  const needed = estimatePfbGas(shareCounts);
  const gas = config.gas && config.gas > 0 ? config.gas : needed;
  if (gas < needed) throw new Error(`out of gas; gasWanted: ${gas}, gasUsed: ${needed}: out of gas`);
  const gasPrice = config.is_gas_price_set ? (config.gas_price ?? 0) : minGasPrice;
  const maxGasPrice = config.max_gas_price && config.max_gas_price > 0 ? config.max_gas_price : minGasPrice * 100;
  if (!config.is_gas_price_set && gasPrice > maxGasPrice) {
    throw new Error("state: estimated gas price exceeds max gas price in tx config");
  }
  const fee = BigInt(Math.ceil(gas * gasPrice));
  const required = BigInt(Math.ceil(gas * minGasPrice));
  if (fee < required) {
    throw new Error(
      `insufficient gas price for the network; got: ${fee}utia, required: ${required}utia (min gas price: ${minGasPrice} utia/gas): insufficient fee`,
    );
  }
  return { gas, gasPrice, fee };
}
