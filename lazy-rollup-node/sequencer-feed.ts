// Committed sequencer blocks for soft execution, from a list of sequencer RPC endpoints: the
// metro_subscribe_blocks stream (catch-up, then live) of one endpoint at a time, each block verified
// before it is handed out. The commit must carry +2/3 of the tracked validator set's voting power for
// exactly this block, the header must name that set, and the block's transactions must give its
// data_hash and rollup roots. An endpoint that fails, sends a block that does not check out, or sends
// nothing for the stall timeout (a node cut off from its peers), is left for the next one in the
// list; after a whole round of failures the feed waits (backoff).
//
// The tracked set is the sequencer genesis's: validator set changes are not implemented. A committed
// header whose next_validators_hash names another set ends the feed with ValidatorSetChangeError.
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { toHexUpper } from "../cometbft/hash.ts";
import { validatorSetHash } from "../cometbft/validator-set.ts";
import type { Genesis } from "../sequencer/genesis.ts";
import { DEFAULT_STALL_TIMEOUT_MS, rpcUrls, streamFrom, StreamStalledError, verifyStreamedBlock } from "../sequencer/relayer/rpc-source.ts";
import { SourceBlockError, type SourceBlock } from "../sequencer/relayer/source.ts";
import { backoffDelay, type Backoff } from "../sequencer/relayer/submitter.ts";
import type { RollupMetrics } from "./metrics.ts";

export interface SequencerFeedOptions {
  /** Sequencer RPC endpoints in order of preference: ws://host:port/websocket or http://host:port. */
  endpoints: readonly string[];
  /** The sequencer's genesis: chain id, validator set and params. */
  genesis: Pick<Genesis, "chainId" | "validators" | "params">;
  logger: Logger;
  metrics: RollupMetrics;
  /** Wait between rounds in which every endpoint failed. */
  retry?: Backoff;
  /** Drop an endpoint's stream after waiting this long for its next block. Default DEFAULT_STALL_TIMEOUT_MS. */
  stallTimeoutMs?: number;
}

export class ValidatorSetChangeError extends Error {
  override name = "ValidatorSetChangeError";
  readonly height: number;
  readonly nextValidatorsHash: Uint8Array;

  constructor(height: number, nextValidatorsHash: Uint8Array) {
    super(`sequencer block ${height} hands over to validator set ${toHexUpper(nextValidatorsHash)}; validator set changes are not implemented`);
    this.height = height;
    this.nextValidatorsHash = nextValidatorsHash;
  }
}

export type SequencerFeed = (fromHeight: number, signal: AbortSignal) => AsyncGenerator<SourceBlock>;

/** Beyond what verifyStreamedBlock checks: the header names the tracked validator set, now and next. */
function checkValidatorSet(block: SourceBlock, trustedHash: Uint8Array): void {
  const { header } = block.block;
  if (Buffer.compare(header.validatorsHash, trustedHash) !== 0) {
    throw new SourceBlockError(`block ${block.height}: validators_hash ${toHexUpper(header.validatorsHash)} is not the tracked set's`, "header");
  }
  if (Buffer.compare(header.nextValidatorsHash, trustedHash) !== 0) throw new ValidatorSetChangeError(block.height, header.nextValidatorsHash);
}

export function sequencerFeed(o: SequencerFeedOptions): SequencerFeed {
  if (o.endpoints.length === 0) throw new Error("at least one sequencer RPC endpoint is needed");
  const endpoints = o.endpoints.map((url) => ({ url, wsUrl: rpcUrls(url).wsUrl }));
  const trustedHash = validatorSetHash(o.genesis.validators);
  const retry = o.retry ?? { baseDelayMs: 250, maxDelayMs: 10_000 };
  const stallTimeoutMs = o.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  // Shared by every stream this feed opens: a restart (the node's head moved) keeps the working endpoint.
  let current = 0;

  return async function* blocks(fromHeight, signal) {
    let next = fromHeight;
    let failedRounds = 0;
    let failuresThisRound = 0;
    while (!signal.aborted) {
      const endpoint = endpoints[current];
      try {
        for await (const json of streamFrom(endpoint.wsUrl, next, signal, stallTimeoutMs)) {
          const height = Number(json.height);
          if (height < next) continue;
          if (height > next) throw new SourceBlockError(`the block stream skipped from ${next} to ${height}`, "header");
          const block = verifyStreamedBlock(json, o.genesis);
          checkValidatorSet(block, trustedHash);
          failedRounds = 0;
          failuresThisRound = 0;
          yield block;
          next++;
        }
        if (signal.aborted) return;
        throw new Error("the block stream ended");
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof ValidatorSetChangeError) throw error;
        if (error instanceof SourceBlockError) {
          o.metrics.sourceRejected.inc({ reason: error.fault });
          o.logger.error({ endpoint: endpoint.url, height: next, fault: error.fault, err: error.message }, "sequencer endpoint sent a block that does not verify; refused, trying the next endpoint");
        } else {
          if (error instanceof StreamStalledError) o.metrics.sourceStalls.inc();
          o.logger.warn({ endpoint: endpoint.url, height: next, err: (error as Error).message }, "sequencer block stream failed; trying the next endpoint");
        }
        current = (current + 1) % endpoints.length;
        if (endpoints.length > 1) o.metrics.sourceFailovers.inc();
        if (++failuresThisRound < endpoints.length) continue;
        failuresThisRound = 0;
        await sleep(backoffDelay(++failedRounds, retry), undefined, { signal }).catch(() => {});
      }
    }
  };
}
