// One submission (one pay-for-blobs) until it lands: a timeout per attempt, after which the blobs are
// submitted again rather than waited on forever (a tx evicted from Celestia's mempool never answers);
// backoff while the DA node is unreachable or refuses; a higher gas price, within the cap, when the fee
// was too low. A retry after a lost answer can post the same blobs twice; readers dedupe by block hash.
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { DaClient } from "../../celestia/da-client.ts";
import { AuthError, RpcError, TimeoutError, TransportError } from "../../celestia/json-rpc/index.ts";
import type { CelestiaBlob } from "../../celestia/share.ts";
import { parseFeeTooLow, raiseGasPrice } from "./gas-price.ts";

export type DaSubmit = Pick<DaClient, "submit">;

export type FailureReason = "fee" | "timeout" | "unavailable" | "too_large" | "rejected";

/** The DA refused the submission as too large: the batch must be planned smaller. */
export class SubmissionTooLargeError extends Error {
  override name = "SubmissionTooLargeError";
}

export function classifySubmitError(error: unknown): FailureReason {
  if (error instanceof TimeoutError) return "timeout";
  if (error instanceof TransportError) return "unavailable";
  if (error instanceof AuthError) return "rejected";
  if (error instanceof RpcError) {
    if (parseFeeTooLow(error.message)) return "fee";
    if (/too large|exceeds the max/i.test(error.message)) return "too_large";
  }
  return "rejected";
}

export interface Backoff {
  baseDelayMs: number;
  maxDelayMs: number;
}

/** The wait before retry `failures` (1, 2, ...): doubling from the base, capped, with jitter of 50-100%. */
export function backoffDelay(failures: number, b: Backoff, random: () => number = Math.random): number {
  const full = Math.min(b.maxDelayMs, b.baseDelayMs * 2 ** Math.min(30, failures - 1));
  return Math.round(full * (0.5 + random() / 2));
}

export interface SubmitterOptions {
  da: DaSubmit;
  /** utia per gas to start from. */
  gasPrice: number;
  /** The most the relayer pays per gas, whatever the network asks. */
  maxGasPrice: number;
  /** How long one attempt may wait for inclusion before the blobs are submitted again. */
  timeoutMs: number;
  backoff: Backoff;
  logger: Logger;
  /** Called on every failed attempt (metrics). */
  onFailure?: (reason: FailureReason, error: unknown) => void;
  /** Called when the gas price changes. */
  onGasPrice?: (price: number) => void;
}

export class Submitter {
  readonly #o: SubmitterOptions;
  #gasPrice: number;

  constructor(o: SubmitterOptions) {
    if (!(o.gasPrice > 0) || !(o.maxGasPrice >= o.gasPrice)) throw new RangeError(`need 0 < gas price (${o.gasPrice}) <= max gas price (${o.maxGasPrice})`);
    this.#o = o;
    this.#gasPrice = o.gasPrice;
  }

  get gasPrice(): number {
    return this.#gasPrice;
  }

  /** Submits until the blobs land; resolves with the DA height. Throws SubmissionTooLargeError, or when `signal` aborts. */
  async submit(blobs: readonly CelestiaBlob[], signal: AbortSignal): Promise<number> {
    const { da, logger } = this.#o;
    let failures = 0;
    for (;;) {
      signal.throwIfAborted();
      try {
        return await da.submit(blobs, { gas_price: this.#gasPrice, is_gas_price_set: true }, { timeoutMs: this.#o.timeoutMs, signal, retry: false });
      } catch (error) {
        signal.throwIfAborted();
        const reason = classifySubmitError(error);
        this.#o.onFailure?.(reason, error);
        const message = (error as Error).message;
        if (reason === "too_large") throw new SubmissionTooLargeError(message);
        if (reason === "timeout") {
          logger.warn({ timeoutMs: this.#o.timeoutMs, blobs: blobs.length }, "submission did not land in time; submitting again");
          continue;
        }
        if (reason === "fee") {
          const raised = raiseGasPrice(this.#gasPrice, parseFeeTooLow(message)!, this.#o.maxGasPrice);
          if (raised !== undefined) {
            logger.warn({ from: this.#gasPrice, to: raised, answer: message }, "fee too low; raising the gas price");
            this.#gasPrice = raised;
            this.#o.onGasPrice?.(raised);
            continue;
          }
          logger.error({ gasPrice: this.#gasPrice, maxGasPrice: this.#o.maxGasPrice, answer: message }, "the network wants more than the gas price cap; waiting");
        }
        failures++;
        const delayMs = backoffDelay(failures, this.#o.backoff);
        const log = reason === "unavailable" ? logger.warn.bind(logger) : logger.error.bind(logger);
        log({ reason, failures, delayMs, err: message }, "submission failed; retrying");
        await sleep(delayMs, undefined, { signal });
      }
    }
  }
}
