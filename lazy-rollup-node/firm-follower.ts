// Firm confirmation: reads Celestia height by height from the persisted DA cursor (catch-up), then
// follows new heights as header.Subscribe announces them, polling the DA node's head as well in case
// the subscription is down. At each height it fetches the sequencer's and the rollup's namespaces in
// one blob.GetAll, hands the blobs to the assembler, and applies every block that is complete, in
// sequencer height order. The cursor moves only past heights whose data has all been applied. A
// block whose header hands over to another validator set is not applied: validator set changes are
// not implemented, so confirmation stops there with an alarm.
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { DaClient } from "../celestia/da-client.ts";
import { namespaceFromSecondaryChainId, type Namespace } from "../celestia/namespace.ts";
import { toHexUpper } from "../cometbft/hash.ts";
import { validatorSetHash } from "../cometbft/validator-set.ts";
import type { SequencerChain } from "../sequencer/relayer/reader.ts";
import type { RollupTxsProof } from "../sequencer/block/rollup-data.ts";
import { backoffDelay, type Backoff } from "../sequencer/relayer/submitter.ts";
import { FirmAssembler, type FirmBlock } from "./firm-assembler.ts";
import type { RollupMetrics } from "./metrics.ts";
import type { RollupNode } from "./node.ts";
import { ValidatorSetChangeError } from "./sequencer-feed.ts";

export interface FirmFollowerOptions {
  da: DaClient;
  node: RollupNode<any>;
  /** The sequencer chain (id and validator set) the batches are verified against. */
  chain: SequencerChain;
  /** The first DA height to read when the node has read none yet. Default 1. */
  startDaHeight?: number;
  /** How often to ask the DA node for its head besides the subscription. Default 2 s. */
  pollIntervalMs?: number;
  /** Reads the entries of a bundle's other members in a firm block (for bundle proofs); optional. */
  bundleMembers?: (firm: FirmBlock) => Promise<RollupTxsProof[]>;
  logger: Logger;
  metrics: RollupMetrics;
  retry?: Backoff;
}

/** The newest DA height announced by header.Subscribe, resubscribing after failures, with a way to wait for the next one. */
function watchDaHead(da: DaClient, logger: Logger, signal: AbortSignal): { wait(beyond: number, timeoutMs: number): Promise<void> } {
  let latest = 0;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of waiters) w();
    waiters.clear();
  };
  void (async () => {
    for (let failures = 0; !signal.aborted; ) {
      try {
        const sub = await da.subscribeHeaders();
        const cancel = () => void sub.cancel().catch(() => {});
        signal.addEventListener("abort", cancel, { once: true });
        try {
          for await (const header of sub) {
            failures = 0;
            if (header.height > latest) {
              latest = header.height;
              wake();
            }
          }
        } finally {
          signal.removeEventListener("abort", cancel);
        }
      } catch (error) {
        if (!signal.aborted) logger.debug({ err: (error as Error).message }, "DA header subscription failed; polling until it is back");
      }
      await sleep(backoffDelay(++failures, { baseDelayMs: 500, maxDelayMs: 10_000 }), undefined, { signal }).catch(() => {});
    }
  })();
  return {
    wait(beyond, timeoutMs) {
      if (latest > beyond) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(finish, timeoutMs);
        function finish() {
          clearTimeout(timer);
          waiters.delete(finish);
          signal.removeEventListener("abort", finish);
          resolve();
        }
        waiters.add(finish);
        signal.addEventListener("abort", finish, { once: true });
      });
    },
  };
}

export async function followFirm(o: FirmFollowerOptions, signal: AbortSignal): Promise<void> {
  const { node, da, logger, metrics } = o;
  const rollupId = node.chain.chainId;
  const sequencerNamespace: Namespace = namespaceFromSecondaryChainId(o.chain.chainId);
  const rollupNamespace: Namespace = namespaceFromSecondaryChainId(rollupId);
  const assembler = new FirmAssembler({ chain: o.chain, rollupId, sequencerNamespace, rollupNamespace });
  const trustedHash = validatorSetHash(o.chain.validators);
  const retry = o.retry ?? { baseDelayMs: 500, maxDelayMs: 10_000 };
  const pollIntervalMs = o.pollIntervalMs ?? 2_000;
  const head = watchDaHead(da, logger, signal);
  assembler.forget(node.nextFirmSequencerHeight - 1);

  const readHeight = async (daHeight: number) => {
    const blobs = await da.getAll(daHeight, [sequencerNamespace, rollupNamespace], { signal });
    for (const blob of blobs) {
      const outcome = assembler.add(blob, daHeight);
      if (!outcome.accepted) {
        metrics.daRejected.inc({ reason: outcome.reason });
        logger.warn({ daHeight, commitment: toHexUpper(blob.commitment), reason: outcome.reason, err: outcome.error.message }, "refused a blob from the DA layer");
        continue;
      }
      for (const { kept, other } of outcome.equivocations) {
        await node.raiseAlarm("equivocation", `two committed sequencer blocks at height ${kept.height} on Celestia: ${toHexUpper(kept.hash)} (read first, kept) and ${toHexUpper(other.hash)}`, {
          sequencerHeight: kept.height,
          keptBlockHash: toHexUpper(kept.hash),
          otherBlockHash: toHexUpper(other.hash),
          daHeight,
        });
      }
      // A block at a height already confirmed is either the same block again or an equivocation.
      for (const block of outcome.verified) if (block.height < node.nextFirmSequencerHeight) await node.checkFirmBlock(block);
    }
    for (let firm = assembler.ready(node.nextFirmSequencerHeight); firm !== undefined; firm = assembler.ready(node.nextFirmSequencerHeight)) {
      const { header } = firm.block;
      if (Buffer.compare(header.nextValidatorsHash, trustedHash) !== 0) throw new ValidatorSetChangeError(firm.block.height, header.nextValidatorsHash);
      await node.applyFirm(firm, o.bundleMembers ? await o.bundleMembers(firm) : []);
      assembler.forget(firm.block.height);
    }
    assembler.expire(daHeight);
    await node.saveDaCursor(assembler.resumeDaHeight(daHeight));
  };

  let next = Math.max(node.firm.daCursor + 1, o.startDaHeight ?? 1);
  let failures = 0;
  while (!signal.aborted) {
    try {
      const { height: daHead } = await da.localHead({ signal });
      for (; next <= daHead && !signal.aborted; next++) await readHeight(next);
      failures = 0;
      await head.wait(daHead, pollIntervalMs);
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ValidatorSetChangeError) {
        await node.raiseAlarm("validator-set-change", `firm confirmation stopped: ${error.message}`, { sequencerHeight: error.height, nextValidatorsHash: toHexUpper(error.nextValidatorsHash) });
        return;
      }
      metrics.daErrors.inc();
      const delayMs = backoffDelay(++failures, retry);
      logger.warn({ daHeight: next, delayMs, err: (error as Error).message }, "reading the DA layer failed; retrying");
      await sleep(delayMs, undefined, { signal }).catch(() => {});
    }
  }
}
