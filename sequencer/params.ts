// Chain parameters, fixed in genesis. Gas is a pure function of the transaction's size, so anyone can
// compute a transaction's gas, and `Simulate` answers without touching state.

export const FEE_DENOM = "umetro";
export const ADDRESS_PREFIX = "metro";

export interface ChainParams {
  /** Gas every transaction pays. */
  gasBase: number;
  /** Gas per byte of the encoded TxRaw. */
  gasPerByte: number;
  /** Minimum price per unit of gas, in umetro, as a decimal string ("0.025"). */
  minGasPrice: string;
  maxTxBytes: number;
  maxRollupDataBytes: number;
  maxBundleTxs: number;
  maxMemoChars: number;
  /** Upper bound on the sum of TxRaw sizes in one block. */
  maxBlockBytes: number;
}

export const DEFAULT_PARAMS: ChainParams = {
  gasBase: 10_000,
  gasPerByte: 10,
  minGasPrice: "0.025",
  maxTxBytes: 256 * 1024,
  maxRollupDataBytes: 128 * 1024,
  maxBundleTxs: 32,
  maxMemoChars: 256,
  maxBlockBytes: 8 * 1024 * 1024,
};

/** gas_used = base + per_byte x len(TxRaw). */
export function gasUsed(params: ChainParams, txBytes: number): bigint {
  return BigInt(params.gasBase) + BigInt(params.gasPerByte) * BigInt(txBytes);
}

interface Decimal {
  numerator: bigint;
  scale: bigint;
}

const decimalCache = new Map<string, Decimal>();

function parseDecimal(text: string): Decimal {
  let parsed = decimalCache.get(text);
  if (!parsed) {
    const match = /^(\d+)(?:\.(\d+))?$/.exec(text);
    if (!match) throw new Error(`invalid decimal ${JSON.stringify(text)}`);
    const fraction = match[2] ?? "";
    parsed = { numerator: BigInt(match[1] + fraction), scale: 10n ** BigInt(fraction.length) };
    decimalCache.set(text, parsed);
  }
  return parsed;
}

/** ceil(gasLimit x minGasPrice): the least fee a transaction with this gas limit must offer. */
export function requiredFee(params: ChainParams, gasLimit: bigint): bigint {
  const { numerator, scale } = parseDecimal(params.minGasPrice);
  return (gasLimit * numerator + scale - 1n) / scale;
}

export function validateParams(params: ChainParams): void {
  parseDecimal(params.minGasPrice);
  for (const key of ["gasBase", "gasPerByte", "maxTxBytes", "maxRollupDataBytes", "maxBundleTxs", "maxMemoChars", "maxBlockBytes"] as const) {
    if (!Number.isSafeInteger(params[key]) || params[key] < 0) throw new Error(`params.${key} must be a non-negative integer`);
  }
}
