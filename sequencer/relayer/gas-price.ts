// The gas price of a submission: start from the configured price, and when the network answers that
// the fee is too low, read what it requires from its answer and raise the price to that (never above
// the operator's cap). Hard-coded fees broke other shared sequencers when the network's minimum moved.

/** What a fee-too-low answer says. Celestia words it two ways, depending on which check refused. */
export interface FeeTooLow {
  /** Fee offered and required, in utia. */
  offered?: number;
  required?: number;
  /** The network's minimum gas price, utia/gas, when the answer names it. */
  minGasPrice?: number;
}

const AMOUNT = String.raw`(\d+(?:\.\d+)?)(?:utia)?`;
// celestia-app: "insufficient gas price for the network; got: 80utia, required: 320utia (min gas price: 0.004 utia/gas): insufficient fee"
// and the node's own floor: "insufficient minimum gas price for this node; got: 80 required at least: 320: insufficient fee".
const GOT = new RegExp(String.raw`got:\s*${AMOUNT}`);
const REQUIRED = new RegExp(String.raw`required(?: at least)?:\s*${AMOUNT}`);
const MIN_GAS_PRICE = /min gas price:\s*(\d+(?:\.\d+)?)/;

export function parseFeeTooLow(message: string): FeeTooLow | undefined {
  if (!/insufficient fee|insufficient (minimum )?gas price/.test(message)) return undefined;
  const number = (re: RegExp) => {
    const match = re.exec(message);
    return match ? Number(match[1]) : undefined;
  };
  return { offered: number(GOT), required: number(REQUIRED), minGasPrice: number(MIN_GAS_PRICE) };
}

/** Head room over the required price, so rounding of gas x price does not fall a utia short. */
const MARGIN = 1.02;

/**
 * The price to retry with after a fee-too-low answer, or undefined when the cap allows no raise.
 * Without numbers in the answer, the price doubles.
 */
export function raiseGasPrice(current: number, answer: FeeTooLow, cap: number): number | undefined {
  const byRatio = answer.offered && answer.required ? (current * answer.required) / answer.offered : undefined;
  const needed = Math.max(answer.minGasPrice ?? 0, byRatio ?? 0);
  // The network said the current price is too low, so the next one is higher even if the numbers round to it.
  const next = Math.min(cap, needed > 0 ? Math.max(needed, current) * MARGIN : current * 2);
  return next > current ? next : undefined;
}
