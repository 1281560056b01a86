// Committed sequencer blocks for soft execution, from a list of sequencer RPC endpoints: the
// metro_subscribe_blocks stream (catch-up, then live) of one endpoint at a time, each block verified
// before it is handed out. The commit must carry +2/3 of the voting power of the validator set of the
// block's height for exactly this block, the header must name that set, and the block's transactions
// must give its data_hash and rollup roots. The header is then followed: when it hands over to another
// set, that set is fetched and stored before the block is handed out. An endpoint that fails, sends a
// block that does not check out, or sends nothing for the stall timeout (a node cut off from its
// peers), is left for the next one in the list; after a whole round of failures the feed waits
// (backoff).
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { toHexUpper } from "../cometbft/hash.ts";
import type { Genesis } from "../sequencer/genesis.ts";
import { DEFAULT_STALL_TIMEOUT_MS, rpcUrls, streamFrom, StreamStalledError, verifyStreamedBlock } from "../sequencer/relayer/rpc-source.ts";
import type { StreamedBlockJson } from "../sequencer/rpc/block-stream.ts";
import { SourceBlockError, type SourceBlock } from "../sequencer/relayer/source.ts";
import { backoffDelay, type Backoff } from "../sequencer/relayer/submitter.ts";
import type { RollupMetrics } from "./metrics.ts";
import type { SequencerValidatorSets } from "./sequencer-validator-sets.ts";
import { ValidatorSetConflictError } from "./validator-sets.ts";

export interface SequencerFeedOptions {
  /** Sequencer RPC endpoints in order of preference: ws://host:port/websocket or http://host:port. */
  endpoints: readonly string[];
  /** The sequencer's chain id and params, from its genesis. */
  genesis: Pick<Genesis, "chainId" | "params">;
  /** The validator set of each height, followed as blocks are verified. */
  validatorSets: SequencerValidatorSets;
  logger: Logger;
  metrics: RollupMetrics;
  /** Wait between rounds in which every endpoint failed. */
  retry?: Backoff;
  /** Drop an endpoint's stream after waiting this long for its next block. Default DEFAULT_STALL_TIMEOUT_MS. */
  stallTimeoutMs?: number;
}

/**
 * Verified blocks from `resumeFrom()` on, in order. The height is asked again at every reconnect: a
 * block an endpoint keeps getting wrong is skipped once the node has it from elsewhere (Celestia).
 */
export type SequencerFeed = (resumeFrom: () => number, signal: AbortSignal) => AsyncGenerator<SourceBlock>;

/** A streamed block verified against the set of its height, and its header followed. */
async function verifyAndFollow(json: StreamedBlockJson, o: SequencerFeedOptions, signal: AbortSignal): Promise<SourceBlock> {
  const height = Number(json.height);
  const validators = o.validatorSets.at(height);
  // The feed runs from the node's next height, whose set is always known: a bug if not.
  if (validators === undefined) throw new Error(`block ${height}: its validator set is not known (known through ${o.validatorSets.knownThrough})`);
  const block = verifyStreamedBlock(json, { chainId: o.genesis.chainId, params: o.genesis.params, validators });
  const { header } = block.block;
  const trustedHash = o.validatorSets.hashAt(height)!;
  if (Buffer.compare(header.validatorsHash, trustedHash) !== 0) {
    throw new SourceBlockError(`block ${height}: validators_hash ${toHexUpper(header.validatorsHash)} is not that of the set of its height, ${toHexUpper(trustedHash)}`, "header");
  }
  try {
    await o.validatorSets.follow(header, signal);
  } catch (error) {
    if (error instanceof ValidatorSetConflictError) throw new SourceBlockError(`block ${height}: ${error.message}`, "header");
    throw error;
  }
  return block;
}

export function sequencerFeed(o: SequencerFeedOptions): SequencerFeed {
  if (o.endpoints.length === 0) throw new Error("at least one sequencer RPC endpoint is needed");
  const endpoints = o.endpoints.map((url) => ({ url, wsUrl: rpcUrls(url).wsUrl }));
  const retry = o.retry ?? { baseDelayMs: 250, maxDelayMs: 10_000 };
  const stallTimeoutMs = o.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  // Shared by every stream this feed opens: a restart (the node's head moved) keeps the working endpoint.
  let current = 0;

  return async function* blocks(resumeFrom, signal) {
    let next: number;
    let failedRounds = 0;
    let failuresThisRound = 0;
    while (!signal.aborted) {
      const endpoint = endpoints[current];
      next = resumeFrom();
      try {
        for await (const json of streamFrom(endpoint.wsUrl, next, signal, stallTimeoutMs)) {
          const height = Number(json.height);
          if (height < next) continue;
          if (height > next) throw new SourceBlockError(`the block stream skipped from ${next} to ${height}`, "header");
          const block = await verifyAndFollow(json, o, signal);
          failedRounds = 0;
          failuresThisRound = 0;
          yield block;
          next++;
        }
        if (signal.aborted) return;
        throw new Error("the block stream ended");
      } catch (error) {
        if (signal.aborted) return;
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
