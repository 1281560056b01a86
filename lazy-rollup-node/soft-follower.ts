// Soft execution: every committed sequencer block, verified by the feed, executed at once, one
// rollup block per sequencer block. The stream restarts at the node's next height whenever the head
// moved under it (the firm path executed ahead, or rolled back), and stops while the node is too far
// ahead of firm, so a paused stream never holds a server's socket.
import type { Logger } from "pino";
import type { RollupMetrics } from "./metrics.ts";
import type { RollupNode } from "./node.ts";
import type { SequencerFeed } from "./sequencer-feed.ts";

export interface SoftFollowerOptions {
  node: RollupNode<any>;
  feed: SequencerFeed;
  logger: Logger;
  metrics: RollupMetrics;
}

/** Runs until `signal` aborts. */
export async function followSoft(o: SoftFollowerOptions, signal: AbortSignal): Promise<void> {
  const { node } = o;
  while (!signal.aborted) {
    if (node.softAhead) {
      o.metrics.softPaused.set(1);
      o.logger.info({ softHeight: node.softHeight, firmHeight: node.firmHeight, maxSoftAheadBlocks: node.maxSoftAheadBlocks }, "soft execution paused: waiting for firm confirmation");
      await node.waitForFirm(signal);
      continue;
    }
    o.metrics.softPaused.set(0);
    for await (const block of o.feed(() => node.nextSoftSequencerHeight, signal)) {
      if (!(await node.executeSoft(block))) break;
    }
  }
}
