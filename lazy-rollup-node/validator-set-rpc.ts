// A validator set named by a committed header, from the sequencer RPC endpoints: the CometBFT
// `validators` method at that height, every page. Nothing an endpoint says is trusted: a set whose hash
// is not the named one is refused (logged, counted) and the next endpoint asked; after a whole round
// of failures the fetcher waits (backoff) and starts again, until it has the set or is aborted.
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { toHexUpper } from "../cometbft/hash.ts";
import { validatorFromJson, validatorSetHash, type Validator, type ValidatorJson } from "../cometbft/validator-set.ts";
import { rpcCall, rpcUrls } from "../sequencer/relayer/rpc-source.ts";
import { backoffDelay, type Backoff } from "../sequencer/relayer/submitter.ts";
import type { RollupMetrics } from "./metrics.ts";
import type { NeededValidatorSet } from "./validator-sets.ts";

export type FetchValidatorSet = (needed: NeededValidatorSet, signal: AbortSignal) => Promise<Validator[]>;

export interface ValidatorSetFetcherOptions {
  /** Sequencer RPC endpoints in order of preference (ws:// or http://; the HTTP JSON-RPC is used). */
  endpoints: readonly string[];
  logger: Logger;
  metrics: RollupMetrics;
  retry?: Backoff;
  /** Per request. Default 10 s. */
  timeoutMs?: number;
}

/** CometBFT's largest page. */
const PER_PAGE = 100;
/** More validators than any CometBFT chain may have: a server paging forever is cut off. */
const MAX_VALIDATORS = 100_000;

class WrongValidatorSetError extends Error {
  override name = "WrongValidatorSetError";
}

async function call(httpUrl: string, params: Record<string, string>, signal: AbortSignal): Promise<{ validators?: ValidatorJson[]; total?: string }> {
  const result = (await rpcCall(httpUrl, "validators", params, signal)) as { validators?: ValidatorJson[]; total?: string } | undefined;
  if (result === undefined) throw new Error("validators: no result");
  return result;
}

/** The set one endpoint serves for `height`, all pages, in the order served (the hash depends on it). */
export async function fetchValidatorsAt(url: string, height: number, signal: AbortSignal): Promise<Validator[]> {
  const { httpUrl } = rpcUrls(url);
  const validators: Validator[] = [];
  for (let page = 1; ; page++) {
    const result = await call(httpUrl, { height: String(height), page: String(page), per_page: String(PER_PAGE) }, signal);
    const total = Number(result.total);
    if (!Number.isSafeInteger(total) || total < 1 || total > MAX_VALIDATORS) throw new WrongValidatorSetError(`validators: total ${JSON.stringify(result.total)}`);
    const served = result.validators ?? [];
    if (served.length === 0) throw new WrongValidatorSetError(`validators: page ${page} is empty with ${validators.length} of ${total} read`);
    try {
      validators.push(...served.map(validatorFromJson));
    } catch (error) {
      throw new WrongValidatorSetError(`validators: ${(error as Error).message}`);
    }
    if (validators.length >= total) return validators;
  }
}

export function validatorSetFetcher(o: ValidatorSetFetcherOptions): FetchValidatorSet {
  if (o.endpoints.length === 0) throw new Error("at least one sequencer RPC endpoint is needed");
  const retry = o.retry ?? { baseDelayMs: 250, maxDelayMs: 10_000 };
  let current = 0;
  return async (needed, signal) => {
    for (let failedRounds = 0, failuresThisRound = 0; ; ) {
      signal.throwIfAborted();
      const url = o.endpoints[current];
      const where = { endpoint: url, height: needed.height, hash: toHexUpper(needed.hash) };
      try {
        const validators = await fetchValidatorsAt(url, needed.height, AbortSignal.any([signal, AbortSignal.timeout(o.timeoutMs ?? 10_000)]));
        const hash = validatorSetHash(validators);
        if (Buffer.compare(hash, needed.hash) !== 0) throw new WrongValidatorSetError(`the served set hashes to ${toHexUpper(hash)}`);
        o.logger.info({ ...where, validators: validators.length }, "fetched the sequencer validator set a committed header hands over to");
        return validators;
      } catch (error) {
        signal.throwIfAborted();
        if (error instanceof WrongValidatorSetError) {
          o.metrics.validatorSetsRejected.inc();
          o.logger.error({ ...where, err: error.message }, "sequencer endpoint served a validator set that is not the one the committed header names; refused, trying the next endpoint");
        } else {
          o.logger.warn({ ...where, err: (error as Error).message }, "fetching the sequencer validator set failed; trying the next endpoint");
        }
        current = (current + 1) % o.endpoints.length;
        if (++failuresThisRound < o.endpoints.length) continue;
        failuresThisRound = 0;
        await sleep(backoffDelay(++failedRounds, retry), undefined, { signal }).catch(() => {});
      }
    }
  };
}
