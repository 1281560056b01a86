// Firm confirmation: reads Celestia height by height from the persisted DA cursor (catch-up), then
// follows new heights as header.Subscribe announces them, polling the DA node's head as well in case
// the subscription is down. At each height it fetches the sequencer's and the rollup's namespaces in
// one blob.GetAll, hands the blobs to the assembler, and applies every block that is complete, in
// sequencer height order. The cursor moves only past heights whose data has all been applied. Each
// block's header is followed before the block is applied (the next height's validator set fetched and
// stored when it hands over to another), which lets the assembler verify the blocks it held for that.
// A header that names another next set than the one already followed is an equivocation of the
// validator set: confirmation stops there with an alarm.
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { DaClient } from "../celestia/da-client.ts";
import { namespaceFromSecondaryChainId, type Namespace } from "../celestia/namespace.ts";
import { toHexUpper } from "../cometbft/hash.ts";
import type { RollupTxsProof } from "../sequencer/block/rollup-data.ts";
import { backoffDelay, type Backoff } from "../sequencer/relayer/submitter.ts";
import { FirmAssembler, type FirmBlock, type HeldOutcome } from "./firm-assembler.ts";
import type { RollupMetrics } from "./metrics.ts";
import type { RollupNode } from "./node.ts";
import { ValidatorSetConflictError } from "./validator-sets.ts";

export interface FirmFollowerOptions {
  da: DaClient;
  node: RollupNode<any>;
  /** The sequencer's chain id; its validator sets are the node's (node.validatorSets). */
  sequencerChainId: string;
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
  const sequencerNamespace: Namespace = namespaceFromSecondaryChainId(o.sequencerChainId);
  const rollupNamespace: Namespace = namespaceFromSecondaryChainId(rollupId);
  // Only sets that Celestia's own headers named: a set the soft path followed past the firm height may
  // be a fork's, and Celestia's blocks checked against it would be refused. Blocks beyond are held.
  const firmSets = { at: (height: number) => (height <= node.nextFirmSequencerHeight ? node.validatorSets.at(height) : undefined) };
  const assembler = new FirmAssembler({ chainId: o.sequencerChainId, validatorSets: firmSets, rollupId, sequencerNamespace, rollupNamespace });
  const retry = o.retry ?? { baseDelayMs: 500, maxDelayMs: 10_000 };
  const pollIntervalMs = o.pollIntervalMs ?? 2_000;
  const head = watchDaHead(da, logger, signal);
  assembler.forget(node.nextFirmSequencerHeight - 1);

  /** Equivocations raised, blocks at heights already confirmed compared with the firm ones. */
  const check = async (outcome: Omit<HeldOutcome, "refused">, daHeight: number) => {
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
  };
  const checkHeld = async (daHeight: number) => {
    const outcome = assembler.verifyHeld();
    for (const error of outcome.refused) {
      metrics.daRejected.inc({ reason: "verification" });
      logger.warn({ daHeight, err: error.message }, "refused a sequencer block read from the DA layer");
    }
    await check(outcome, daHeight);
  };

  // Celestia's headers decide the sets: one that conflicts with a set the soft path followed means the
  // soft blocks from its height on are another chain's.
  const followFirmHeader = async (header: { height: bigint; nextValidatorsHash: Uint8Array }) => {
    try {
      await node.validatorSets.follow(header, signal);
    } catch (error) {
      if (!(error instanceof ValidatorSetConflictError)) throw error;
      await node.disownSoftFrom(Number(header.height), `Celestia's sequencer header ${header.height} disagrees with the one executed soft (${error.message}); rolled back and following Celestia`);
      await node.validatorSets.follow(header, signal);
    }
  };

  const readHeight = async (daHeight: number) => {
    const blobs = await da.getAll(daHeight, [sequencerNamespace, rollupNamespace], { signal });
    for (const blob of blobs) {
      const outcome = assembler.add(blob, daHeight);
      await checkHeld(daHeight);
      if (!outcome.accepted) {
        metrics.daRejected.inc({ reason: outcome.reason });
        logger.warn({ daHeight, commitment: toHexUpper(blob.commitment), reason: outcome.reason, err: outcome.error.message }, "refused a blob from the DA layer");
        continue;
      }
      await check(outcome, daHeight);
    }
    for (let firm = assembler.ready(node.nextFirmSequencerHeight); firm !== undefined; firm = assembler.ready(node.nextFirmSequencerHeight)) {
      await followFirmHeader(firm.block.header);
      await node.applyFirm(firm, o.bundleMembers ? await o.bundleMembers(firm) : []);
      assembler.forget(firm.block.height);
      await checkHeld(daHeight);
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
      if (error instanceof ValidatorSetConflictError) {
        await node.raiseAlarm("equivocation", `firm confirmation stopped: ${error.message}`, { sequencerHeight: node.nextFirmSequencerHeight });
        return;
      }
      metrics.daErrors.inc();
      const delayMs = backoffDelay(++failures, retry);
      logger.warn({ daHeight: next, delayMs, err: (error as Error).message }, "reading the DA layer failed; retrying");
      await sleep(delayMs, undefined, { signal }).catch(() => {});
    }
  }
}
